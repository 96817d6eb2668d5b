"""Signals other apps listen to, sent by the services in ``services.py``.

``visit_changed`` is sent inside the transaction of the change, once per change, with:

- ``visit``: the Visit after the change;
- ``by``: the Member who made it (None for the system);
- ``change``: one of ``VISIT_CHANGES``;
- ``before`` / ``after``: ``{"start": datetime|None, "end": datetime|None,
  "crew": list[int] (member ids), "status": str}``; ``before`` is empty for "added".

Notifications (who is told what) and live updates listen to it; a receiver that raises rolls the
change back, so receivers must only write rows, never send mail or call out (use tasks).

``entry_visibility_changed`` is sent inside the transaction when a note, photo or file of a job
is shared with the customer or made internal, with ``entry`` (the TimelineEntry after the
change), ``by`` and ``before`` (the visibility it had). The job report listens: a new version
follows.
"""

from django.dispatch import Signal

VISIT_CHANGES = ("added", "assigned", "moved", "resized", "crew_changed", "cancelled",
                 "status")

visit_changed = Signal()
entry_visibility_changed = Signal()
