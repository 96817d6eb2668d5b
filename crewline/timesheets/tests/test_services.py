from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from crewline.core.models import AuditLog
from crewline.timesheets.models import TimeEntry, TimeKind
from crewline.timesheets.services import break_end, break_start, clock_in, clock_out

pytestmark = pytest.mark.django_db


def test_it_clocks_a_shift_with_a_break_and_audits_it(technician):
    start = timezone.now() - dt.timedelta(hours=3)
    shift = clock_in(member=technician, by=technician, at=start, latitude=41.5, longitude=-87.2)
    brk = break_start(member=technician, by=technician, at=start + dt.timedelta(hours=1))
    clock_out(member=technician, by=technician, at=start + dt.timedelta(hours=2))
    shift.refresh_from_db()
    brk.refresh_from_db()
    assert shift.end == start + dt.timedelta(hours=2) and brk.end == shift.end
    assert list(AuditLog.objects.order_by("seq").values_list("action", flat=True)) == [
        "time.clock_in", "time.break_start", "time.clock_out"]


def test_it_is_idempotent_by_client_id(technician):
    cid, out_id = uuid.uuid4(), uuid.uuid4()
    assert clock_in(member=technician, by=technician, client_id=cid) == \
        clock_in(member=technician, by=technician, client_id=cid)
    clock_out(member=technician, by=technician, client_id=out_id)
    clock_out(member=technician, by=technician, client_id=out_id)
    assert TimeEntry.objects.filter(kind=TimeKind.SHIFT).count() == 1


def test_it_refuses_what_does_not_follow(technician, office):
    with pytest.raises(ValidationError):
        clock_out(member=technician, by=technician)
    with pytest.raises(ValidationError):
        break_start(member=technician, by=technician)
    clock_in(member=technician, by=technician)
    with pytest.raises(ValidationError):
        clock_in(member=technician, by=technician)
    with pytest.raises(ValidationError):
        break_end(member=technician, by=technician)
    with pytest.raises(ValidationError):
        clock_out(member=technician, by=technician,
                  at=timezone.now() - dt.timedelta(days=1))
    with pytest.raises(ValidationError):
        clock_out(member=technician, by=technician,
                  at=timezone.now() + dt.timedelta(hours=1))
    with pytest.raises(PermissionDenied):
        clock_in(member=office, by=technician)
    clock_out(member=technician, by=office)  # the office may record it
    with pytest.raises(ValidationError):
        clock_in(member=technician, by=technician, latitude=120, longitude=0)
