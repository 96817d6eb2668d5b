"""Signals the portal's services send, inside the transaction of the change.

``work_requested``: someone sent the organization's public request form
(``work_request_submit``), with ``request`` (the WorkRequest, its work order made).
Notifications listen: the office is told.
"""

from django.dispatch import Signal

work_requested = Signal()
