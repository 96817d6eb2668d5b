"""A technician's position on the way to a visit, as their phone reports it: kept only while
the visit is on the way (see ``TravelPosition``)."""

from __future__ import annotations

import datetime as dt
import math

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crewline.core.models import Member
from crewline.field.models import TravelPosition
from crewline.workorders.models import Visit, VisitStatus


def _check(latitude: float, longitude: float) -> None:
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
               for v in (latitude, longitude)):
        raise ValidationError(_("The location must be numbers."))
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise ValidationError(_("The location is not on Earth."))


@transaction.atomic
def travel_position_record(*, visit: Visit, member: Member, latitude: float,
                           longitude: float, at: dt.datetime | None = None
                           ) -> TravelPosition | None:
    """Keep ``member``'s position on the way to ``visit`` (``at``: the phone's time of it).

    Only while the visit is on the way: a position for a visit in any other status is not
    kept (None), nor one older than the position already kept. The first position of the
    trip is also kept as its start, so that the customer's map waits until the van has left
    it. ``member`` must be on the visit's crew. One transaction (a savepoint within the push's).
    """
    _check(latitude, longitude)
    if at is not None and timezone.is_naive(at):
        raise ValueError("Times must be timezone-aware.")
    now = timezone.now()
    at = min(at or now, now)
    status = (Visit.objects.filter(organization_id=member.organization_id, pk=visit.pk)
              .values_list("status", flat=True).first())
    if status != VisitStatus.EN_ROUTE:
        return None
    if not Visit.crew.through.objects.filter(visit_id=visit.pk, member_id=member.pk).exists():
        raise PermissionDenied(_("You are not on this visit's crew."))
    kept = (TravelPosition.objects.select_for_update(no_key=True)
            .filter(organization_id=member.organization_id, visit_id=visit.pk).first())
    if kept is None:
        return TravelPosition.objects.create(
            organization_id=member.organization_id, visit_id=visit.pk, member=member,
            latitude=latitude, longitude=longitude, start_latitude=latitude,
            start_longitude=longitude, reported_at=at)
    if at < kept.reported_at:
        return kept
    kept.member, kept.latitude, kept.longitude, kept.reported_at = (member, latitude,
                                                                    longitude, at)
    kept.save(update_fields=["member", "latitude", "longitude", "reported_at"])
    return kept


def travel_positions_forget(*, visit: Visit) -> None:
    """The visit is no longer on the way: its positions go (raw positions are not kept)."""
    TravelPosition.objects.filter(organization_id=visit.organization_id,
                                  visit_id=visit.pk).delete()
