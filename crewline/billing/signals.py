"""Signals the billing services send, inside the transaction of the change.

``quote_approved``: the customer approved a quote on its public page (``quote_approve``), with
``quote`` (the Quote after the change). Notifications listen: the office is told.
"""

from django.dispatch import Signal

quote_approved = Signal()
