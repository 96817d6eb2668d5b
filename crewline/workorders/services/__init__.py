"""Writes to work orders, visits and the job timeline: ``work_orders`` (raising, editing, the
business status transitions), ``visits`` (scheduling and the dispatch status) and
``crewline.workorders.timeline`` (every entry of the timeline), gathered here so that callers
import from one place."""

from crewline.workorders.services.visits import (
    CLOSED_VISIT_MESSAGE,
    VISIT_EVENT_LABELS,
    VISIT_FIELDS,
    VISIT_TRANSITIONS,
    ConflictError,
    technician_closes_jobs,
    visit_add,
    visit_arrive,
    visit_cancel,
    visit_complete,
    visit_completion_problems,
    visit_en_route,
    visit_incomplete,
    visit_is_paused,
    visit_lock_set,
    visit_pause,
    visit_resume,
    visit_schedule,
)
from crewline.workorders.services.work_orders import (
    EDITABLE_FIELDS,
    REASON_MAX_LENGTH,
    REASON_REQUIRED,
    TRANSITIONS,
    Transition,
    TransitionError,
    allowed_transitions,
    work_order_cancel,
    work_order_complete,
    work_order_create,
    work_order_hold,
    work_order_invoice,
    work_order_reopen,
    work_order_resume,
    work_order_schedule,
    work_order_start,
    work_order_transition,
    work_order_update,
)
from crewline.workorders.timeline import (
    SHAREABLE_KINDS,
    attachment_add,
    checklist_answer_add,
    entry_visibility_set,
    labor_set,
    note_add,
    part_add,
    photo_add,
    signature_add,
    visit_check_appendable,
)

__all__ = [
    "CLOSED_VISIT_MESSAGE", "EDITABLE_FIELDS", "REASON_MAX_LENGTH", "REASON_REQUIRED",
    "SHAREABLE_KINDS", "TRANSITIONS", "VISIT_EVENT_LABELS", "VISIT_FIELDS", "VISIT_TRANSITIONS",
    "ConflictError", "Transition", "TransitionError", "allowed_transitions", "attachment_add",
    "checklist_answer_add", "entry_visibility_set", "labor_set", "note_add", "part_add",
    "photo_add", "signature_add", "technician_closes_jobs", "visit_add", "visit_arrive",
    "visit_cancel", "visit_lock_set",
    "visit_check_appendable", "visit_complete", "visit_completion_problems",
    "visit_en_route", "visit_incomplete", "visit_is_paused", "visit_pause", "visit_resume",
    "visit_schedule", "work_order_cancel", "work_order_complete", "work_order_create",
    "work_order_hold", "work_order_invoice", "work_order_reopen", "work_order_resume",
    "work_order_schedule", "work_order_start", "work_order_transition", "work_order_update",
]
