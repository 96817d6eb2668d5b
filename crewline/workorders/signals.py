"""Signals the work order services send, inside the transaction of the change.

These are the named steps "after a write" (DEVELOPERS.md) that other apps take part in; a
receiver that raises rolls the change back, so receivers only write rows, and anything that
sends mail, renders or calls out waits for the commit (``transaction.on_commit``, a task).
The change log (``crewline.live.services``) is written by the services themselves, not here.

``visit_changed``: once per change of a visit, with

- ``visit``: the Visit after the change;
- ``by``: the Member who made it (None for the system);
- ``change``: one of ``VISIT_CHANGES``;
- ``before`` / ``after``: ``{"start": datetime|None, "end": datetime|None,
  "crew": list[int] (member ids), "status": str}``; ``before`` is empty for "added".

Notifications listen (who is told what).

``work_order_completed``: a work order became completed (``work_order_complete``, whoever
called it), with ``work_order`` and ``by``. The job report listens: one is made.

``work_order_ready_to_close``: the last open visit of a work order was done and the job waits
for the office to close it, with ``work_order``, ``visit`` and ``by``. Notifications listen.

``visit_follow_up``: a visit could not be completed (``visit_incomplete``), with ``visit``,
``by``, ``reason`` and ``entry`` (the system entry on the timeline). Notifications listen.

``timeline_file_added``: an entry with a file (a photo, a signature, an attachment) was written
on a job's timeline (``timeline.append``), with ``entry``. The documents app listens: photos
and signatures are scaled for reports.

``entry_visibility_changed``: a note, photo or file was shared with the customer or made
internal, with ``entry`` (after the change), ``by`` and ``before`` (the visibility it had). The
job report listens: a new version follows.
"""

from django.dispatch import Signal

VISIT_CHANGES = ("added", "assigned", "moved", "resized", "crew_changed", "cancelled",
                 "status")

visit_changed = Signal()
work_order_completed = Signal()
work_order_ready_to_close = Signal()
visit_follow_up = Signal()
timeline_file_added = Signal()
entry_visibility_changed = Signal()
