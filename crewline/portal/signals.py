"""Signals the portal's services send, inside the transaction of the change.

``work_requested``: someone sent the organization's public request form
(``work_request_submit``), with ``request`` (the WorkRequest, its work order made).
Notifications listen: the office is told.
"""

from django.dispatch import Signal

work_requested = Signal()

# ``window_picked``: the customer picked one of the times offered (``window_pick``), with
# ``offer`` (its ``visit`` scheduled). ``window_taken``: the time they picked was no longer
# free and the offer was withdrawn, with ``offer``. Notifications listen: the office is told.
window_picked = Signal()
window_taken = Signal()
