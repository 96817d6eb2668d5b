"""Loaded by pytest (``-p crewline.testing_env``) before Django's settings are imported."""

import os

os.environ.setdefault("CREWLINE_TESTING", "1")
