"""Which messages a visit's life plans, and when they go: the confirmation, the reminder the
day before (re-planned when the visit moves, withdrawn when it is cancelled), "on my way",
"completed" and the feedback request. Email here (Django's locmem outbox)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail

from crewline.messaging.models import Message, MessageKind, MessageStatus
from crewline.messaging.sending import send_due
from crewline.messaging.services import messaging_settings
from crewline.workorders.models import EntryKind, TimelineEntry
from crewline.workorders.services import visits as visit_services
from crewline.workorders.services.work_orders import work_order_complete

from .conftest import CHICAGO, local

MONDAY = local(2026, 11, 23, 10, 0)


@pytest.fixture
def clock():
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


def book(wo, office, technician, start, hours=2):
    return visit_services.visit_add(work_order=wo, by=office, start=start,
                                    end=start + dt.timedelta(hours=hours), crew=[technician],
                                    override=True)


def sent_entries(wo):
    return list(TimelineEntry.objects.filter(work_order=wo, kind=EntryKind.SYSTEM,
                                             data__event="message_sent").order_by("pk"))


def test_it_confirms_a_booking_at_once_by_email(wo, office, technician, clock, settings,
                                                django_capture_on_commit_callbacks):
    settings.SITE_URL = "https://crew.example.com"
    with django_capture_on_commit_callbacks(execute=True):
        visit = book(wo, office, technician, local(2026, 11, 25, 9, 0))
    # The commit woke the worker (the tests' backend runs it at once): sent, one email.
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["frontdesk@maple.test"]
    assert email.subject == ("[Northside Heating & Air] Your visit is booked: "
                             "Wednesday 25 November, 09:00–11:00")
    assert "your visit is booked for Wednesday 25 November, 09:00–11:00" in email.body
    assert "12 Maple St" in email.body
    confirmation = Message.objects.get(kind=MessageKind.CONFIRMATION)
    assert (confirmation.status, confirmation.channel, confirmation.visit) == (
        "sent", "email", visit)
    [entry] = sent_entries(wo)
    assert entry.body.startswith("Booking confirmation sent by email to frontdesk@maple.test")
    assert entry.data["message"] == confirmation.pk
    # The reminder waits for 17:00 the day before, in the company's zone.
    reminder = Message.objects.get(kind=MessageKind.REMINDER)
    assert reminder.status == "queued"
    assert reminder.scheduled_for == local(2026, 11, 24, 17, 0)


def test_it_sends_the_reminder_at_the_set_time_and_not_before(wo, office, technician, clock):
    s = messaging_settings(wo.organization)
    s.reminder_time = dt.time(16, 30)
    s.save()
    book(wo, office, technician, local(2026, 11, 25, 9, 0))
    assert send_due() == {"sent": 1}  # the confirmation
    clock.move_to(local(2026, 11, 24, 16, 29))
    assert send_due() == {}
    clock.move_to(local(2026, 11, 24, 16, 30))
    assert send_due() == {"sent": 1}
    assert len(mail.outbox) == 2
    assert mail.outbox[1].subject.endswith("Reminder: your visit Wednesday 25 November, "
                                           "09:00–11:00")
    clock.move_to(local(2026, 11, 24, 18, 0))
    assert send_due() == {}
    assert len(mail.outbox) == 2


def test_a_new_reminder_time_moves_the_waiting_reminders(wo, office, owner, technician,
                                                         clock):
    from crewline.messaging.services import messaging_settings_update

    book(wo, office, technician, local(2026, 11, 25, 9, 0))
    messaging_settings_update(organization=wo.organization, by=owner,
                              values={"reminder_time": dt.time(12, 0)})
    reminder = Message.objects.get(kind=MessageKind.REMINDER)
    assert reminder.scheduled_for == local(2026, 11, 24, 12, 0)


def test_it_withdraws_the_reminder_of_a_cancelled_visit(wo, office, technician, clock):
    visit = book(wo, office, technician, local(2026, 11, 25, 9, 0))
    send_due()
    visit_services.visit_cancel(visit=visit, by=office, reason="Customer away")
    reminder = Message.objects.get(kind=MessageKind.REMINDER)
    assert (reminder.status, reminder.error) == ("withdrawn", "visit cancelled")
    clock.move_to(local(2026, 11, 24, 17, 0))
    send_due()
    # The customer, told of the visit, is told it is off; never reminded of it.
    assert [m.subject.split("] ")[1] for m in mail.outbox] == [
        "Your visit is booked: Wednesday 25 November, 09:00–11:00",
        "Your visit is cancelled: Wednesday 25 November, 09:00–11:00"]


def test_a_reminder_that_finds_its_visit_cancelled_is_withdrawn_when_due(
        wo, office, technician, clock):
    """Whatever planned it, the reminder checks the visit when it is due."""
    visit = book(wo, office, technician, local(2026, 11, 25, 9, 0))
    send_due()
    type(visit).objects.filter(pk=visit.pk).update(status="cancelled")
    clock.move_to(local(2026, 11, 24, 17, 0))
    assert send_due() == {"withdrawn": 1}
    assert len(mail.outbox) == 1


def test_a_moved_visit_moves_its_reminder_instead_of_adding_one(wo, office, technician,
                                                                clock):
    visit = book(wo, office, technician, local(2026, 11, 25, 9, 0))
    send_due()
    visit_services.visit_schedule(visit=visit, start=local(2026, 11, 27, 13, 0),
                                  end=local(2026, 11, 27, 15, 0), by=office, override=True)
    [reminder] = Message.objects.filter(kind=MessageKind.REMINDER)
    assert reminder.status == "queued"
    assert reminder.scheduled_for == local(2026, 11, 26, 17, 0)
    send_due()  # the new time confirmed
    assert mail.outbox[-1].subject.endswith("Your visit has moved: Friday 27 November, "
                                            "13:00–15:00")
    clock.move_to(local(2026, 11, 24, 17, 0))
    assert send_due() == {}  # the old reminder time: nothing
    clock.move_to(local(2026, 11, 26, 17, 0))
    assert send_due() == {"sent": 1}
    assert "Friday 27 November, 13:00–15:00" in mail.outbox[-1].body
    assert len(mail.outbox) == 3


def test_a_visit_moved_to_another_crew_moves_its_reminder_too(wo, office, technician, clock):
    from crewline.core.models import Role
    from crewline.factories import MemberFactory

    other = MemberFactory(organization=wo.organization, role=Role.TECHNICIAN)
    visit = book(wo, office, technician, local(2026, 11, 25, 9, 0))
    visit_services.visit_schedule(visit=visit, start=local(2026, 11, 27, 13, 0),
                                  end=local(2026, 11, 27, 15, 0), crew=[other], by=office,
                                  override=True)
    [reminder] = Message.objects.filter(kind=MessageKind.REMINDER)
    assert reminder.scheduled_for == local(2026, 11, 26, 17, 0)


def test_a_visit_moved_inside_the_reminder_window_sends_one_corrected_message(
        wo, office, technician, clock):
    visit = book(wo, office, technician, local(2026, 11, 25, 9, 0))
    send_due()
    clock.move_to(local(2026, 11, 24, 17, 0))
    send_due()  # reminded of 09:00
    assert len(mail.outbox) == 2
    clock.move_to(local(2026, 11, 24, 18, 30))
    visit_services.visit_schedule(visit=visit, start=local(2026, 11, 25, 14, 0),
                                  end=local(2026, 11, 25, 16, 0), by=office, override=True)
    assert send_due() == {"sent": 1}
    assert len(mail.outbox) == 3
    corrected = mail.outbox[2]
    assert corrected.subject.endswith("Your visit has moved: Wednesday 25 November, "
                                      "14:00–16:00")
    assert "your visit has moved. We will now see you Wednesday 25 November, 14:00–16:00" in (
        corrected.body)
    assert not Message.objects.filter(status="queued").exists()


def test_a_visit_moved_before_its_confirmation_went_is_confirmed_once_at_its_new_time(
        wo, office, technician, clock):
    visit = book(wo, office, technician, local(2026, 11, 25, 9, 0))
    visit_services.visit_schedule(visit=visit, start=local(2026, 11, 25, 14, 0),
                                  end=local(2026, 11, 25, 16, 0), by=office, override=True)
    assert send_due() == {"sent": 1}
    assert mail.outbox[0].subject.endswith("Your visit is booked: Wednesday 25 November, "
                                           "14:00–16:00")
    assert Message.objects.filter(kind=MessageKind.CONFIRMATION).count() == 1


def test_a_visit_booked_after_the_reminder_time_gets_the_confirmation_only(
        wo, office, technician, clock):
    clock.move_to(local(2026, 11, 24, 18, 0))
    book(wo, office, technician, local(2026, 11, 25, 9, 0))
    assert send_due() == {"sent": 1}
    assert not Message.objects.filter(kind=MessageKind.REMINDER, status="queued").exists()


def test_switched_off_kinds_are_not_sent(wo, office, technician, clock):
    s = messaging_settings(wo.organization)
    s.confirmation = s.reminder = False
    s.save()
    book(wo, office, technician, local(2026, 11, 25, 9, 0))
    assert Message.objects.count() == 0


def test_on_my_way_is_sent_once_with_an_eta_and_a_link_from_the_caller(
        wo, office, technician, clock):
    from crewline.messaging.services import message_on_my_way

    visit = book(wo, office, technician, local(2026, 11, 23, 11, 0))
    visit_services.visit_en_route(visit=visit, by=technician)
    send_due()
    body = mail.outbox[-1].body
    assert "Tara is on the way to you." in body
    assert "Expected" not in body
    # Marked again (back and forth through the office): still one message. A caller with an
    # ETA and a link (the tracking page) passes them.
    assert message_on_my_way(visit=visit, eta=local(2026, 11, 23, 10, 40),
                             link="https://crew.example.com/t/abc") == []
    visit2 = book(wo, office, technician, local(2026, 11, 23, 13, 0))
    type(visit2).objects.filter(pk=visit2.pk).update(status="en_route")
    message_on_my_way(visit=visit2, eta=local(2026, 11, 23, 12, 40),
                      link="https://crew.example.com/t/abc")
    send_due()
    [on_my_way] = [m for m in mail.outbox if m.subject.endswith("We are on our way")
                   and "12:40" in m.body]
    assert "Expected at about 12:40. Follow us: https://crew.example.com/t/abc" in (
        on_my_way.body)


def test_completion_sends_the_report_link_and_later_asks_for_feedback(
        wo, office, technician, clock, settings):
    settings.SITE_URL = "https://crew.example.com"
    visit = book(wo, office, technician, local(2026, 11, 23, 11, 0))
    visit_services.visit_en_route(visit=visit, by=technician)
    visit_services.visit_arrive(visit=visit, by=technician)
    work_order_complete(work_order=wo, by=office)
    send_due()
    completed = mail.outbox[-1]
    assert completed.subject.endswith("Job completed: WO-1042")
    assert "Your job report: https://crew.example.com/p/" in completed.body
    feedback = Message.objects.get(kind=MessageKind.FEEDBACK)
    assert feedback.scheduled_for == MONDAY + dt.timedelta(hours=2)
    clock.shift(dt.timedelta(hours=2))
    assert send_due() == {"sent": 1}
    assert "/feedback/1042/" in mail.outbox[-1].body
    statuses = set(Message.objects.values_list("status", flat=True))
    assert statuses <= {MessageStatus.SENT, MessageStatus.WITHDRAWN}


def test_the_office_reads_what_was_sent_on_the_timeline(wo, office, technician, clock,
                                                         office_client, tech_client):
    from django.urls import reverse

    book(wo, office, technician, local(2026, 11, 25, 9, 0))
    send_due()
    message = Message.objects.get(kind=MessageKind.CONFIRMATION)
    page = office_client.get(reverse("workorders:detail", args=[wo.number])).content.decode()
    assert "Booking confirmation sent by email to frontdesk@maple.test" in page
    assert reverse("messaging:detail", args=[message.pk]) in page
    detail = office_client.get(reverse("messaging:detail", args=[message.pk])).content.decode()
    assert "Sent" in detail and "your visit is booked for Wednesday 25 November" in detail


def test_a_failure_to_plan_never_undoes_the_visit(wo, office, technician, clock, monkeypatch,
                                                  caplog):
    from crewline.messaging import services

    def broken(**kwargs):
        Message.objects.create(organization=wo.organization, kind="reminder", work_order=wo,
                               customer=wo.customer, channel="email", to="x@example.test",
                               scheduled_for=MONDAY)
        raise RuntimeError("the planner broke")

    monkeypatch.setattr(services, "_plan", lambda **kwargs: broken(**kwargs))
    visit = book(wo, office, technician, local(2026, 11, 25, 9, 0))
    visit.refresh_from_db()
    assert visit.start == local(2026, 11, 25, 9, 0)
    assert not Message.objects.exists()  # what the planner wrote went with it
    assert "could not be planned after visit" in caplog.text


def test_a_customer_without_a_number_is_texted_at_their_primary_contacts(
        wo, office, technician, clock, sms):
    from crewline.factories import ContactFactory

    wo.customer.phone = ""
    wo.customer.save()
    ContactFactory(customer=wo.customer, name="Dana Reyes", phone="312-555-0177",
                   is_primary=True)
    book(wo, office, technician, local(2026, 11, 25, 9, 0))
    send_due()
    assert [sent["To"] for sent in sms.sent] == ["+13125550177"]


def test_on_my_way_from_the_service_carries_the_eta_from_the_last_site_and_a_tracking_link(
        wo, office, technician, clock, settings, client):
    """Marked en route after a visit elsewhere that day: the text has the arrival estimate
    from that site (0.1 degree north: 11.12 km, x1.30 at 52 km/h = 16.7 minutes) and a link
    that opens the visit's tracking page."""
    from decimal import Decimal

    from crewline.factories import SiteFactory, WorkOrderFactory

    settings.SITE_URL = "http://testserver"
    site = wo.site
    site.latitude, site.longitude = Decimal("41.900000"), Decimal("-87.650000")
    site.save()
    before = WorkOrderFactory(customer=wo.customer, title="Filter change", number=1041,
                              site=SiteFactory(customer=wo.customer,
                                               latitude=Decimal("41.800000"),
                                               longitude=Decimal("-87.650000")))
    first = book(before, office, technician, local(2026, 11, 23, 9, 0), hours=1)
    clock.move_to(local(2026, 11, 23, 9, 0))
    visit_services.visit_en_route(visit=first, by=technician)
    visit_services.visit_arrive(visit=first, by=technician)
    visit = book(wo, office, technician, local(2026, 11, 23, 10, 30))
    clock.move_to(local(2026, 11, 23, 10, 0))
    send_due()
    visit_services.visit_en_route(visit=visit, by=technician)
    send_due()
    # The first visit's own "on my way" went at 09:00; this one is the last.
    on_my_way = [m for m in mail.outbox if m.subject.endswith("We are on our way")][-1]
    assert "Expected at about 10:16." in on_my_way.body or (
        "Expected at about 10:17." in on_my_way.body), on_my_way.body
    link = on_my_way.body.split("Follow us: ", 1)[1].split()[0]
    assert link.startswith("http://testserver/p/track/")
    page = client.get(link.removeprefix("http://testserver"))
    assert page.status_code == 200
    assert "Tara" in page.content.decode()


def test_a_site_in_another_zone_gets_its_reminder_and_its_times_in_that_zone(
        wo, office, technician, clock):
    """The company is in Chicago; the site is in Denver, an hour behind. The reminder goes at
    17:00 Denver time the day before and the message says the visit's time as Denver reads it;
    quiet hours (20:00-08:00) are Denver's too."""
    import zoneinfo

    denver = zoneinfo.ZoneInfo("America/Denver")
    wo.site.time_zone = "America/Denver"
    wo.site.save()
    s = messaging_settings(wo.organization)
    s.quiet_start, s.quiet_end = dt.time(20, 0), dt.time(8, 0)
    s.save()
    # 09:00 in Denver is 10:00 in Chicago.
    book(wo, office, technician, dt.datetime(2026, 11, 25, 9, 0, tzinfo=denver))
    send_due()
    assert "Wednesday 25 November, 09:00–11:00" in mail.outbox[-1].body
    reminder = Message.objects.get(kind=MessageKind.REMINDER)
    assert reminder.scheduled_for == dt.datetime(2026, 11, 24, 17, 0, tzinfo=denver)
    clock.move_to(dt.datetime(2026, 11, 24, 17, 30, tzinfo=CHICAGO))  # 16:30 in Denver
    assert send_due() == {}
    clock.move_to(dt.datetime(2026, 11, 24, 17, 0, tzinfo=denver))
    assert send_due() == {"sent": 1}
    assert "Wednesday 25 November, 09:00–11:00" in mail.outbox[-1].body
    from crewline.messaging.services import in_quiet_hours, site_zone

    # 21:00 in Chicago is 20:00 in Denver: quiet there; 20:30 Chicago is 19:30 Denver: not.
    assert in_quiet_hours(s, dt.datetime(2026, 11, 24, 21, 0, tzinfo=CHICAGO), site_zone(wo))
    assert not in_quiet_hours(s, dt.datetime(2026, 11, 24, 20, 30, tzinfo=CHICAGO),
                              site_zone(wo))
