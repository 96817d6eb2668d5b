"""Who is told what, listening to the signals the services send (rows only: emails and pushes
go by task once the change's transaction commits, ``services._written``):

- a visit changed (``workorders.signals.visit_changed``) → its crew;
- a visit could not be completed (``visit_follow_up``) → the office;
- a job's last visit is done and the office closes jobs (``work_order_ready_to_close``) → the
  office;
- a quote approved by the customer (``billing.signals.quote_approved``) → the office;
- a request from the public form (``portal.signals.work_requested``) → the office;
- a customer chose an offered time (``portal.signals.window_picked``), or one no longer free
  (``window_taken``) → the office.

A change from a phone that was rejected is told to the office by the field app itself
(``notify_office``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.dispatch import receiver
from django.urls import reverse
from django.utils.translation import gettext as _

from crewline.notifications.models import NotificationKind
from crewline.notifications.services import notify_office, notify_visit_changed
from crewline.workorders.signals import visit_changed, visit_follow_up, work_order_ready_to_close


@receiver(visit_changed, dispatch_uid="notifications.visit_changed")
def on_visit_changed(sender: Any, *, visit, by, change, before, after, **kwargs: Any) -> None:
    notify_visit_changed(visit=visit, by=by, change=change, before=before, after=after)


@receiver(visit_follow_up, dispatch_uid="notifications.visit_follow_up")
def on_visit_follow_up(sender: Any, *, visit, by, reason: str, **kwargs: Any) -> None:
    wo = visit.work_order
    who = by.name if by is not None else None
    notify_office(
        organization_id=visit.organization_id, kind=NotificationKind.JOB_INCOMPLETE,
        words=lambda: (_("%(who)s could not complete %(ref)s %(title)s")
                       % {"who": who or _("A technician"), "ref": wo.reference,
                          "title": wo.title}, reason),
        url=reverse("workorders:detail", kwargs={"number": wo.number}),
        data={"work_order": wo.number, "visit": visit.pk}, exclude=by)


@receiver(work_order_ready_to_close, dispatch_uid="notifications.work_order_ready_to_close")
def on_ready_to_close(sender: Any, *, work_order, visit, by, **kwargs: Any) -> None:
    who = by.name if by is not None else None
    notify_office(
        organization_id=work_order.organization_id, kind=NotificationKind.JOB_READY,
        words=lambda: (_("%(ref)s %(title)s is ready to close")
                       % {"ref": work_order.reference, "title": work_order.title},
                       _("%(who)s finished the last visit.") % {"who": who}
                       if who else _("The last visit is done.")),
        url=reverse("workorders:detail", kwargs={"number": work_order.number}),
        data={"work_order": work_order.number, "visit": visit.pk}, exclude=by)


def on_quote_approved(sender: Any, *, quote, **kwargs: Any) -> None:
    name = quote.approved_by_name or quote.customer.name
    notify_office(
        organization_id=quote.organization_id, kind=NotificationKind.QUOTE_APPROVED,
        words=lambda: (_("%(ref)s %(title)s approved by %(name)s")
                       % {"ref": quote.reference, "title": quote.title, "name": name}, ""),
        url=reverse("billing:quote", kwargs={"pk": quote.pk}), data={"quote": quote.pk})


def on_work_requested(sender: Any, *, request, **kwargs: Any) -> None:
    work_order = request.work_order
    confirm = request.needs_confirmation
    notify_office(
        organization_id=request.organization_id, kind=NotificationKind.WORK_REQUESTED,
        words=lambda: (_("%(ref)s requested by %(name)s: %(title)s")
                       % {"ref": work_order.reference, "name": request.name,
                          "title": work_order.title},
                       _("Matched to an existing customer: confirm it is them.")
                       if confirm else ""),
        url=reverse("workorders:detail", kwargs={"number": work_order.number}),
        data={"work_order": work_order.number, "request": request.pk})


def _window_notice(offer, title: Callable[[], str]) -> None:
    work_order = offer.work_order
    notify_office(
        organization_id=offer.organization_id, kind=NotificationKind.WINDOW_PICKED,
        words=lambda: (title(), ""),
        url=reverse("workorders:detail", kwargs={"number": work_order.number}),
        data={"work_order": work_order.number, "offer": offer.pk})


def _when(offer) -> str:
    from django.utils import timezone
    from django.utils.formats import date_format

    start = timezone.localtime(offer.start, offer.work_order.organization.tzinfo)
    end = timezone.localtime(offer.end, offer.work_order.organization.tzinfo)
    return f"{date_format(start, 'D j M')} {start:%H:%M}–{end:%H:%M}"


def on_window_picked(sender: Any, *, offer, **kwargs: Any) -> None:
    wo = offer.work_order
    _window_notice(offer, lambda: _("%(ref)s: the customer chose %(when)s")
                   % {"ref": wo.reference, "when": _when(offer)})


def on_window_taken(sender: Any, *, offer, **kwargs: Any) -> None:
    wo = offer.work_order
    _window_notice(offer, lambda: _("%(ref)s: the customer chose %(when)s, which is no longer "
                                    "free: offer another time")
                   % {"ref": wo.reference, "when": _when(offer)})


if apps.is_installed("crewline.portal"):
    from crewline.portal.signals import window_picked, window_taken, work_requested

    work_requested.connect(on_work_requested, dispatch_uid="notifications.work_requested")
    window_picked.connect(on_window_picked, dispatch_uid="notifications.window_picked")
    window_taken.connect(on_window_taken, dispatch_uid="notifications.window_taken")


if apps.is_installed("crewline.billing"):
    from crewline.billing.signals import quote_approved

    quote_approved.connect(on_quote_approved, dispatch_uid="notifications.quote_approved")
