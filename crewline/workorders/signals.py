"""Signals other apps listen to, sent by the services in ``services.py``.

``visit_changed`` is sent inside the transaction of the change, once per change, with:

- ``visit``: the Visit after the change;
- ``by``: the Member who made it (None for the system);
- ``change``: one of ``VISIT_CHANGES``;
- ``before`` / ``after``: ``{"start": datetime|None, "end": datetime|None,
  "crew": list[int] (member ids), "status": str}``; ``before`` is empty for "added".

Notifications (who is told what) and live updates listen to it; a receiver that raises rolls the
change back, so receivers must only write rows, never send mail or call out (use tasks).
"""

from django.dispatch import Signal

VISIT_CHANGES = ("added", "assigned", "moved", "resized", "crew_changed", "cancelled",
                 "status")

visit_changed = Signal()
