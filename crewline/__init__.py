"""Crewline: the one shared job record for field service contractors."""

__version__ = "0.1.0"
