"""The job timeline: one record of what happened to a work order, one entry per fact.

This module owns it. For each kind of entry it holds the schema of what ``TimelineEntry.data``
keeps (checked on every write: an entry that does not fit is never stored) and the one service
that appends it, which the office's pages, the phone's push and the API call alike. Readers go
through ``entry_data`` (the typed data of an entry); the reads of the timeline, the labor that
counts among them, are in ``crewline.workorders.selectors``.

Entries are append-only. The one change an entry takes after it is written is who may see it
(``entry_visibility_set``). A labor entry is corrected by a later one: a member's latest labor
entry on a visit is their labor there.

Every service writes its entry, an audit record and the change's effects in the caller's
transaction; an entry with a ``client_id`` (made by a phone) is written once however often it is
sent, and a ``client_id`` of someone else's entry is refused.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from django.apps import apps as django_apps
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from crewline.core.audit import audit_record, organization_write_lock
from crewline.core.db import holds_savepoint
from crewline.core.models import Member
from crewline.live import services as live
from crewline.workorders.models import (
    EntryKind,
    TimelineEntry,
    Visibility,
    Visit,
    VisitStatus,
    WorkOrder,
)
from crewline.workorders.signals import entry_visibility_changed, timeline_file_added

# --- What each kind of entry holds --------------------------------------------------------------

Text = Annotated[str, Field(max_length=500)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
# A quantity as invoices keep it: at most four decimals, stored as its shortest text ("2.5").
Quantity = Annotated[Decimal, Field(gt=0, le=100000, decimal_places=4),
                     PlainSerializer(lambda d: format(d.normalize(), "f"), return_type=str)]


class EntryData(BaseModel):
    """What an entry of one kind holds in ``data``; free text lives in the entry's ``body``."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    # Only what differs from the defaults is stored (kinds whose fields apply case by case).
    compact: ClassVar[bool] = False

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_defaults=self.compact)


class NoteData(EntryData):
    """A note: its text is the body."""


class FileData(EntryData):
    """A file the office attached: the entry's attachment."""


class PhotoData(EntryData):
    """A photo (the attachment; its caption is the body), and the phone's upload it came from."""

    upload: uuid.UUID | None = None


class SignatureData(EntryData):
    """The customer's signature (a PNG attachment) and who signed."""

    signer_name: Name


CHECKLIST_KINDS = ("yes_no", "number", "text", "photo")


class ChecklistData(EntryData):
    """The answer to item ``index`` of the work order's checklist (``label`` as it read then).
    A later answer to the same item on the visit replaces the earlier one."""

    index: int = Field(ge=0)
    label: Text = ""
    kind: Literal["yes_no", "number", "text", "photo", "other"] = "yes_no"
    answer: bool | int | float | Annotated[str, Field(max_length=2000)] | None = None


class PartData(EntryData):
    """A part or material used: from the price book (its id and code) or typed on site."""

    name: Name
    quantity: Quantity
    unit: Annotated[str, Field(max_length=20)] = ""
    price_book_item_id: int | None = None
    code: Annotated[str, Field(max_length=40)] = ""

    @property
    def is_free_text(self) -> bool:
        return self.price_book_item_id is None


class LaborData(EntryData):
    """A member's labor time on a visit (what they did is the body); see ``labor_that_counts``."""

    minutes: int = Field(ge=0, le=24 * 60)
    # Whose labor: the member the app or the office named. None only on entries kept from
    # before every labor entry named one and without an author (counted for no one by name).
    member_id: int | None


class StatusData(EntryData):
    """The work order's status changed, by transition ``action``."""

    from_: str = Field(alias="from")
    to: str
    action: str = ""


VisitEvent = Literal["en_route", "arrive", "pause", "resume", "complete", "incomplete", "cancel"]


class VisitStatusData(EntryData):
    """A visit's dispatch status changed (``event``); pause and resume keep it on site."""

    event: VisitEvent
    from_: str = Field(alias="from")
    to: str
    paused: bool = False  # completed while paused
    outcome: str = ""  # what the technician said of the job on its last visit


class ScheduleData(EntryData):
    """A visit was added, or given another time or crew (``event``: visit_added,
    visit_assigned, visit_moved, visit_resized, visit_crew_changed)."""

    event: str
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    crew: list[str] = []
    from_start: dt.datetime | None = None
    from_end: dt.datetime | None = None


SystemEvent = Literal["created", "edited", "visibility", "follow_up", "report_created",
                      "report_emailed", "report_email_failed", "windows_offered",
                      "window_picked", "window_taken",
                      # Messages to the customer (crewline.messaging): sent, failed or not
                      # sent; a text the customer sent back; the feedback they gave.
                      "message_sent", "message_failed", "message_skipped", "message_reply",
                      "feedback"]


class SystemData(EntryData):
    """Something the system or the office did to the job (``event``), with what it concerns."""

    compact: ClassVar[bool] = True
    event: SystemEvent
    fields: list[str] = []  # edited: the fields that changed
    entry: int | None = None  # visibility: the entry shared or made internal
    kind: str = ""
    from_: str = Field("", alias="from")
    to: Annotated[str, Field(max_length=320)] = ""  # visibility: the audience; report: whom
    # follow_up: the visit that could not be completed
    follow_up_visit: int | None = Field(None, alias="visit")
    report: int | None = None  # report_*: the job report and its version
    version: int | None = None
    attempts: int | None = None
    error: Text = ""
    # message_*: the message (crewline.messaging.models.Message) and its channel
    message: int | None = None
    channel: Annotated[str, Field(max_length=8)] = ""
    rating: int | None = Field(None, ge=1, le=5)  # feedback: the stars given


SCHEMAS: dict[str, type[EntryData]] = {
    EntryKind.NOTE: NoteData,
    EntryKind.FILE: FileData,
    EntryKind.PHOTO: PhotoData,
    EntryKind.SIGNATURE: SignatureData,
    EntryKind.CHECKLIST: ChecklistData,
    EntryKind.PART: PartData,
    EntryKind.LABOR: LaborData,
    EntryKind.STATUS: StatusData,
    EntryKind.VISIT_STATUS: VisitStatusData,
    EntryKind.SCHEDULE: ScheduleData,
    EntryKind.SYSTEM: SystemData,
}


def entry_data(entry: TimelineEntry) -> Any:
    """The entry's ``data`` as its kind's schema (``LaborData``, ``PartData``, ...). Kept on
    the entry after the first read."""
    parsed = getattr(entry, "_typed_data", None)
    if parsed is None:
        parsed = SCHEMAS[entry.kind].model_validate(entry.data)
        entry._typed_data = parsed
    return parsed


# --- Writing ------------------------------------------------------------------------------------

def visit_check_appendable(*, visit: Visit, by: Member | None) -> None:
    """Refuse appends to a cancelled visit and appends by a technician who is not on its crew.

    Appends to a visit that is done or could not be completed are kept: the technician may add
    a note or a photo after marking it.
    """
    if visit.status == VisitStatus.CANCELLED:
        raise ValidationError(_("This visit was cancelled."), code="visit_cancelled")
    if by is None or by.is_office:
        return
    on_crew = getattr(visit, "on_crew", None)  # annotated by the push, for one query less
    if on_crew is None:
        on_crew = visit.crew.filter(pk=by.pk).exists()
    if not on_crew:
        raise PermissionDenied(_("You are not on this visit's crew."))


def _schema_error(exc: Exception) -> ValidationError:
    return ValidationError(_("This entry's details are not valid: %(problem)s")
                           % {"problem": str(exc).splitlines()[-1][:200]}, code="bad_entry")


def _sent_before(*, organization_id: int, client_id: uuid.UUID, kind: str,
                 visit: Visit | None, by: Member | None) -> TimelineEntry | None:
    """The entry this member made before under ``client_id``; a ``client_id`` of another
    kind of entry, another visit or another member's entry is refused."""
    entry = TimelineEntry.objects.filter(organization_id=organization_id,
                                         client_id=client_id).first()
    if entry is not None and (entry.kind != kind
                              or entry.visit_id != (visit.pk if visit else None)
                              or entry.author_id != (by.pk if by else None)):
        raise ValidationError(_("This change's id is already used by another entry."),
                              code="client_id_taken")
    return entry


def append(*, work_order: WorkOrder, kind: str, data: EntryData, by: Member | None,
           visit: Visit | None = None, body: str = "", visibility: str = Visibility.INTERNAL,
           client_id: uuid.UUID | None = None, device_time: dt.datetime | None = None,
           created_at: dt.datetime | None = None, file: ContentFile | UploadedFile | None = None,
           file_name: str = "", content_type: str = "", stored_name: str = "",
           audit: str = "", audit_changes: dict | None = None) -> TimelineEntry:
    """Write one entry: the one place every entry of every kind is inserted.

    ``data`` must be the kind's schema. With ``client_id``, an entry the same member sent
    before is the answer (once per ``client_id``). ``file`` is stored as the attachment, or
    ``stored_name`` names a file already in storage. With ``audit``, an audit record of that
    action is written too (transitions write their own). Inside a caller's savepoint
    (``crewline.core.db.caller_savepoint``) an IntegrityError is left to the caller.
    """
    if type(data) is not SCHEMAS[kind]:
        raise TypeError(f"A {kind} entry holds {SCHEMAS[kind].__name__}, not "
                        f"{type(data).__name__}.")
    if device_time is not None and device_time.tzinfo is None:
        raise ValueError("Times must be timezone-aware.")
    own_savepoint = client_id is not None and not holds_savepoint()
    # Insert first and look for an earlier copy only when the unique client id refuses it:
    # resends are rare, so the usual case costs no query for it.
    try:
        with transaction.atomic(savepoint=own_savepoint):
            entry = TimelineEntry(
                organization_id=work_order.organization_id, work_order=work_order, visit=visit,
                kind=kind, author=by, body=body, visibility=visibility, data=data.dump(),
                client_id=client_id, device_time=device_time)
            if created_at is not None:
                entry.created_at = created_at
            if file is not None:
                entry.attachment.save(file_name, file, save=False)
            elif stored_name:
                entry.attachment.name = stored_name
            if file is not None or stored_name:
                entry.attachment_name = file_name[:200]
                entry.attachment_size = entry.attachment.size
                entry.attachment_type = content_type[:100]
            entry.save(force_insert=True)
            entry._typed_data = data
            live.timeline_changed(entry=entry, added=True)
            if entry.attachment:
                timeline_file_added.send(sender=TimelineEntry, entry=entry)
            if audit:
                audit_record(organization=work_order.organization, actor=by, action=audit,
                             obj=work_order, changes={"entry": [None, entry.pk],
                                                      **(audit_changes or {})})
    except IntegrityError:
        if not own_savepoint:
            raise
        existing = _sent_before(organization_id=work_order.organization_id,
                                client_id=client_id, kind=kind, visit=visit, by=by)
        if existing is None:
            raise
        return existing
    return entry


def _visit_append(*, visit: Visit, by: Member | None, kind: str, data: EntryData,
                  client_id: uuid.UUID | None, device_time: dt.datetime | None,
                  audit: str, audit_changes: dict | None = None, **fields: Any
                  ) -> TimelineEntry:
    """An entry a crew member adds to a visit (a photo, a part, labor, ...)."""
    visit_check_appendable(visit=visit, by=by)
    return append(work_order=visit.work_order, visit=visit, kind=kind, data=data, by=by,
                  client_id=client_id, device_time=device_time, audit=audit,
                  audit_changes={"visit": [None, visit.pk], **(audit_changes or {})}, **fields)


def note_add(*, work_order: WorkOrder, by: Member | None, body: str,
             visibility: str = Visibility.INTERNAL, visit: Visit | None = None,
             client_id: uuid.UUID | None = None,
             device_time: dt.datetime | None = None) -> TimelineEntry:
    """A note on the job (on one of its visits when ``visit``), internal or for the customer."""
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": _("Write something before adding the note.")})
    if len(body) > 10000:
        raise ValidationError({"body": _("A note may be at most 10,000 characters.")})
    if visibility not in Visibility.values:
        raise ValidationError({"visibility": _("Choose who may see the note.")})
    if visit is not None:
        visit_check_appendable(visit=visit, by=by)
    return append(work_order=work_order, visit=visit, kind=EntryKind.NOTE, data=NoteData(),
                  by=by, body=body, visibility=visibility, client_id=client_id,
                  device_time=device_time, audit="note.add",
                  audit_changes={"note": [None, body[:500]], "visibility": [None, visibility]})


def attachment_add(*, work_order: WorkOrder, by: Member | None, file: UploadedFile,
                   visibility: str = Visibility.INTERNAL, caption: str = "") -> TimelineEntry:
    """A file the office attaches to the job; images become photo entries."""
    if file.size is not None and file.size > settings.MAX_ATTACHMENT_BYTES:
        raise ValidationError({"file": _("Files may be at most %(mb)d MB.")
                               % {"mb": settings.MAX_ATTACHMENT_BYTES // (1024 * 1024)}})
    if visibility not in Visibility.values:
        raise ValidationError({"visibility": _("Choose who may see the file.")})
    content_type = getattr(file, "content_type", "") or ""
    is_image = content_type.startswith("image/")
    name = (file.name or "file").rsplit("/", 1)[-1][:200]
    return append(work_order=work_order, kind=EntryKind.PHOTO if is_image else EntryKind.FILE,
                  data=PhotoData() if is_image else FileData(), by=by,
                  body=(caption or "").strip()[:500], visibility=visibility, file=file,
                  file_name=name, content_type=content_type, audit="attachment.add",
                  audit_changes={"file": [None, name]})


def photo_add(*, visit: Visit, by: Member | None, client_id: uuid.UUID | None,
              visibility: str, jpeg: bytes | None = None, stored_name: str = "",
              upload: uuid.UUID | None = None, caption: str = "",
              device_time: dt.datetime | None = None) -> TimelineEntry:
    """A photo taken at the visit: ``jpeg`` bytes, or ``stored_name``, a JPEG already in
    storage (the phone's ``upload``)."""
    if visibility not in Visibility.values:
        raise ValidationError({"visibility": _("Choose who may see the photo.")})
    if jpeg is None and not stored_name:
        raise ValidationError(_("The photo is missing."), code="photo_missing")
    name = f"photo-{client_id.hex[:8]}.jpg" if client_id else "photo.jpg"
    return _visit_append(
        visit=visit, by=by, kind=EntryKind.PHOTO, data=PhotoData(upload=upload),
        client_id=client_id, device_time=device_time, audit="photo.add",
        body=(caption or "").strip()[:500], visibility=visibility,
        file=ContentFile(jpeg) if jpeg is not None else None, stored_name=stored_name,
        file_name=name, content_type="image/jpeg")


MAX_SIGNATURE_BYTES = 512 * 1024


def signature_add(*, visit: Visit, by: Member | None, client_id: uuid.UUID | None,
                  signer_name: str, png: bytes,
                  device_time: dt.datetime | None = None) -> TimelineEntry:
    """The customer's signature (a PNG drawn on the phone) with the signer's name; the customer
    may always see it."""
    from PIL import Image, UnidentifiedImageError

    signer_name = (signer_name or "").strip()
    if not signer_name:
        raise ValidationError({"signer_name": _("Write the name of the person signing.")})
    if len(png) > MAX_SIGNATURE_BYTES:
        raise ValidationError(_("The signature image is too large."), code="too_large")
    try:
        with Image.open(io.BytesIO(png)) as image:
            image.verify()
            if image.format != "PNG":
                raise ValidationError(_("The signature must be a PNG image."), code="not_png")
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise ValidationError(_("The signature image could not be read."),
                              code="not_png") from exc
    data = SignatureData(signer_name=signer_name[:200])
    return _visit_append(visit=visit, by=by, kind=EntryKind.SIGNATURE, data=data,
                         client_id=client_id, device_time=device_time, audit="signature.add",
                         audit_changes={"signer_name": [None, data.signer_name]},
                         body=data.signer_name, visibility=Visibility.CUSTOMER,
                         file=ContentFile(png), file_name="signature.png",
                         content_type="image/png")


def _answer_fits(kind: str, answer: Any) -> bool:
    if answer is None:
        return True
    if kind == "yes_no":
        return isinstance(answer, bool)
    if kind == "number":
        return isinstance(answer, int | float) and not isinstance(answer, bool)
    if kind == "text":
        return isinstance(answer, str) and len(answer) <= 2000
    if kind == "photo":
        try:
            uuid.UUID(answer)
        except (ValueError, TypeError, AttributeError):
            return False
        return True
    return (isinstance(answer, str) and len(answer) <= 2000) or isinstance(answer,
                                                                            int | float | bool)


def checklist_answer_add(*, visit: Visit, by: Member | None, client_id: uuid.UUID | None,
                         index: int | None = None, label: str = "", answer: Any,
                         device_time: dt.datetime | None = None) -> TimelineEntry:
    """Answer item ``index`` (or the item called ``label``) of the work order's checklist.

    Answers by kind: yes/no a boolean, number a number, text a string, photo the client id of a
    photo entry. A later answer to the same item replaces the earlier one."""
    checklist = visit.work_order.checklist or []
    if index is None:
        matches = [i for i, item in enumerate(checklist) if item.get("label") == label]
        if not matches:
            raise ValidationError(_("The checklist has no item called “%(label)s”.")
                                  % {"label": label}, code="no_item")
        index = matches[0]
    if not (isinstance(index, int) and 0 <= index < len(checklist)):
        raise ValidationError(_("The checklist has no such item."), code="no_item")
    item = checklist[index]
    kind = item.get("kind", "yes_no")
    if not _answer_fits(kind, answer):
        raise ValidationError(_("“%(label)s” needs a %(kind)s answer.")
                              % {"label": item.get("label", ""),
                                 "kind": kind.replace("_", "/")}, code="bad_answer")
    data = ChecklistData(index=index, label=str(item.get("label", ""))[:500],
                         kind=kind if kind in CHECKLIST_KINDS else "other", answer=answer)
    return _visit_append(visit=visit, by=by, kind=EntryKind.CHECKLIST, data=data,
                         client_id=client_id, device_time=device_time,
                         audit="checklist.answer",
                         audit_changes={"index": [None, index], "answer": [None, answer]})


def _price_book_item(organization_id: int, pk: int):
    """The price book item ``pk`` of the organization (billing owns the price book)."""
    if not django_apps.is_installed("crewline.billing"):
        return None
    return (django_apps.get_model("billing", "PriceBookItem").objects
            .filter(organization_id=organization_id, pk=pk).first())


def part_add(*, visit: Visit, by: Member | None, quantity: Decimal, name: str = "",
             unit: str = "", price_book_item_id: int | None = None,
             client_id: uuid.UUID | None = None,
             device_time: dt.datetime | None = None) -> TimelineEntry:
    """A part or material used on the visit: a price book item (its name, unit and code unless
    given) or free text, which the invoice draft marks for the office to price."""
    name, unit, code = (name or "").strip(), (unit or "").strip(), ""
    if price_book_item_id is not None:
        item = _price_book_item(visit.organization_id, price_book_item_id)
        if item is None:
            raise ValidationError({"price_book_item_id": _("This price book item does not "
                                                           "exist.")}, code="no_item")
        name, unit, code = name or item.name, unit or item.unit, item.code
    if not name:
        raise ValidationError({"name": _("Name the part.")})
    if not (isinstance(quantity, Decimal) and quantity.is_finite()
            and Decimal(0) < quantity <= Decimal(100000)):
        raise ValidationError({"quantity": _("The quantity must be more than zero.")})
    if quantity.normalize().as_tuple().exponent < -4:
        # Invoices keep four decimal places: a finer quantity would change on its way there.
        raise ValidationError({"quantity": _("Give the quantity with at most four decimals.")})
    data = PartData(name=name[:200], quantity=quantity, unit=unit[:20],
                    price_book_item_id=price_book_item_id, code=code[:40])
    return _visit_append(visit=visit, by=by, kind=EntryKind.PART, data=data,
                         client_id=client_id, device_time=device_time, audit="part.add",
                         audit_changes={"name": [None, data.name],
                                        "quantity": [None, str(quantity)]},
                         body=data.name)


def labor_set(*, visit: Visit, by: Member | None, minutes: int, member: Member | None = None,
              description: str = "", client_id: uuid.UUID | None = None,
              device_time: dt.datetime | None = None) -> TimelineEntry:
    """Set ``member``'s labor time on the visit (``by``'s own unless the office sets it for a
    crew member). A later entry replaces an earlier one: see ``labor_that_counts``."""
    member = member or by
    if member is None:
        raise ValidationError(_("Say whose labor it is."), code="no_member")
    if by is not None and member.pk != by.pk:
        if not by.is_office:
            raise PermissionDenied(_("Only the office may set someone else's labor."))
        if member.organization_id != visit.organization_id:
            raise ValidationError({"member": _("Choose a member of this organization.")})
    if not (isinstance(minutes, int) and not isinstance(minutes, bool)
            and 0 <= minutes <= 24 * 60):
        raise ValidationError({"minutes": _("Labor must be between 0 and 24 hours.")})
    description = (description or "").strip()
    if len(description) > 500:
        raise ValidationError({"description": _("Describe the work in at most 500 "
                                                "characters.")})
    return _visit_append(visit=visit, by=by, kind=EntryKind.LABOR,
                         data=LaborData(minutes=minutes, member_id=member.pk),
                         client_id=client_id, device_time=device_time, audit="labor.set",
                         audit_changes={"minutes": [None, minutes],
                                        "member": [None, member.pk]},
                         body=description)


# Written by the services whose change they record (work orders, visits, documents).

def status_recorded(*, work_order: WorkOrder, by: Member | None, before: str, action: str,
                    reason: str = "") -> TimelineEntry:
    """The work order's status changed from ``before`` to its status now, by ``action``."""
    return append(work_order=work_order, kind=EntryKind.STATUS, by=by, body=reason,
                  data=StatusData(from_=before, to=work_order.status, action=action))


def visit_status_recorded(*, visit: Visit, by: Member | None, event: str, before: str,
                          reason: str = "", device_time: dt.datetime | None = None,
                          created_at: dt.datetime | None = None, paused: bool = False,
                          outcome: str = "") -> TimelineEntry:
    """The visit's dispatch status changed from ``before`` to its status now (``event``)."""
    return append(work_order=visit.work_order, visit=visit, kind=EntryKind.VISIT_STATUS,
                  by=by, body=reason, device_time=device_time, created_at=created_at,
                  data=VisitStatusData(event=event, from_=before, to=visit.status,
                                       paused=paused, outcome=outcome))


def schedule_recorded(*, visit: Visit, by: Member | None, event: str, crew: list[str],
                      body: str = "", from_start: dt.datetime | None = None,
                      from_end: dt.datetime | None = None) -> TimelineEntry:
    """The visit was added (``visit_added``) or given another time or crew."""
    return append(work_order=visit.work_order, visit=visit, kind=EntryKind.SCHEDULE, by=by,
                  body=body, data=ScheduleData(event=event, start=visit.start, end=visit.end,
                                               crew=crew, from_start=from_start,
                                               from_end=from_end))


def system_recorded(*, work_order: WorkOrder, by: Member | None, event: str, body: str = "",
                    visit: Visit | None = None, **data: Any) -> TimelineEntry:
    """Something the office or the system did to the job (``SystemData``)."""
    return append(work_order=work_order, visit=visit, kind=EntryKind.SYSTEM, by=by,
                  body=body[:2000], data=SystemData(event=event, **data))


# Entries whose audience the office may change; signatures are always the customer's.
SHAREABLE_KINDS = (EntryKind.NOTE, EntryKind.PHOTO, EntryKind.FILE)
VISIBILITY_EVENTS = {
    (EntryKind.NOTE, Visibility.CUSTOMER): gettext_noop("shared a note with the customer"),
    (EntryKind.NOTE, Visibility.INTERNAL): gettext_noop("made a note internal"),
    (EntryKind.PHOTO, Visibility.CUSTOMER): gettext_noop("shared a photo with the customer"),
    (EntryKind.PHOTO, Visibility.INTERNAL): gettext_noop("made a photo internal"),
    (EntryKind.FILE, Visibility.CUSTOMER): gettext_noop("shared a file with the customer"),
    (EntryKind.FILE, Visibility.INTERNAL): gettext_noop("made a file internal"),
}


def entry_visibility_set(*, entry: TimelineEntry, visibility: str,
                         by: Member | None) -> TimelineEntry:
    """Let the customer see a note, photo or file of the job, or keep it internal again.

    The one change an entry takes after it is written: the timeline records who changed it
    (a system entry), the audit log the before and after, and ``entry_visibility_changed``
    is sent (the job report makes a new version). Setting what it already is changes nothing.
    """
    if entry.kind not in SHAREABLE_KINDS:
        raise ValidationError(_("Only notes, photos and files can be shared with the customer "
                                "or kept internal."), code="not_shareable")
    if visibility not in Visibility.values:
        raise ValidationError({"visibility": _("Choose who may see it.")})
    with transaction.atomic():
        organization_write_lock(entry.organization_id)
        locked = (TimelineEntry.objects.select_for_update(of=("self",), no_key=True)
                  .select_related("work_order__organization").get(pk=entry.pk))
        before = locked.visibility
        if before != visibility:
            locked.visibility = visibility
            locked.save(update_fields=["visibility"])
            wo = locked.work_order
            system_recorded(work_order=wo, by=by, visit=locked.visit,
                            body=_(VISIBILITY_EVENTS[(locked.kind, visibility)]),
                            event="visibility", entry=locked.pk, kind=locked.kind,
                            from_=before, to=visibility)
            audit_record(organization=wo.organization, actor=by, action="timeline.visibility",
                         obj=wo, changes={"entry": [None, locked.pk],
                                          "visibility": [before, visibility]})
            live.timeline_changed(entry=locked)
            entry_visibility_changed.send(sender=TimelineEntry, entry=locked, by=by,
                                          before=before)
    entry.visibility = visibility
    return entry
