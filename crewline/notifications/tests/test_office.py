"""Office notifications: a job that could not be completed, a change from a phone that was
rejected, a quote approved — each to every owner and office member, by email when wanted."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image, ImageDraw

from crewline.billing import services as billing
from crewline.billing.models import Quote, QuoteStatus
from crewline.factories import CustomerFactory, SiteFactory
from crewline.field.models import Device
from crewline.field.services import rejected_record
from crewline.notifications.models import Notification, NotificationPreference
from crewline.workorders.services import (
    visit_add,
    visit_arrive,
    visit_incomplete,
    work_order_create,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(org):
    return CustomerFactory(organization=org, name="Maple Dental")


@pytest.fixture
def on_site_visit(org, office, technician, customer):
    wo = work_order_create(organization=org, by=office, title="Boiler service",
                           customer=customer, site=SiteFactory(customer=customer))
    start = (timezone.now() + dt.timedelta(days=1)).replace(hour=15, minute=0, second=0,
                                                           microsecond=0)
    visit = visit_add(work_order=wo, by=office, start=start, end=start + dt.timedelta(hours=2),
                      crew=[technician], override=True)
    visit_arrive(visit=visit, by=technician)
    return visit


def office_notes(kind):
    return Notification.objects.filter(kind=kind).select_related("recipient")


def test_it_tells_the_office_when_a_job_could_not_be_completed(
        on_site_visit, owner, office, technician, other_org, mailoutbox,
        django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        visit_incomplete(visit=on_site_visit, by=technician, reason="Needs a new pump")
    wo = on_site_visit.work_order
    notes = list(office_notes("job_incomplete"))
    assert {n.recipient for n in notes} == {owner, office}
    note = notes[0]
    assert note.title == f"{technician.name} could not complete {wo.reference} Boiler service"
    assert note.body == "Needs a new pump"
    assert note.url == reverse("workorders:detail", kwargs={"number": wo.number})
    assert not Notification.objects.filter(recipient=technician, kind="job_incomplete").exists()
    # Both office members have email on by default.
    assert sorted(m.to[0] for m in mailoutbox) == sorted([owner.user.email, office.user.email])
    assert all("could not complete" in m.subject for m in mailoutbox)


def test_it_emails_only_the_kinds_a_member_keeps_on(
        on_site_visit, owner, office, technician, mailoutbox,
        django_capture_on_commit_callbacks):
    NotificationPreference.objects.create(organization=office.organization, member=office,
                                          kind="job_incomplete", email=False)
    with django_capture_on_commit_callbacks(execute=True):
        visit_incomplete(visit=on_site_visit, by=technician, reason="No access")
    # Still in the app for both; by email only to the owner.
    assert office_notes("job_incomplete").count() == 2
    assert [m.to for m in mailoutbox] == [[owner.user.email]]


def test_it_emails_the_office_about_a_rejected_change_without_a_second_notification(
        org, owner, office, technician, mailoutbox, django_capture_on_commit_callbacks):
    device = Device.objects.create(id=uuid.uuid4(), organization=org, member=technician)
    with django_capture_on_commit_callbacks(execute=True):
        rejected = rejected_record(device=device, seq=7, name="visit.complete", args={},
                                   client_time=None, reason="The visit was cancelled.",
                                   work_order_id=None)
    notes = list(office_notes("sync_rejected"))
    assert {n.recipient for n in notes} == {owner, office}  # one each, the field app's own
    assert all(n.data["rejected"] == rejected.pk for n in notes)
    assert sorted(m.to[0] for m in mailoutbox) == sorted([owner.user.email, office.user.email])
    assert "was not applied" in mailoutbox[0].subject


def signature_png() -> bytes:
    image = Image.new("RGB", (300, 100), "white")
    ImageDraw.Draw(image).line((10, 80, 120, 20, 290, 70), fill="black", width=3)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def test_it_tells_the_office_when_a_quote_is_approved_once(
        org, owner, office, customer, mailoutbox, django_capture_on_commit_callbacks):
    quote = billing.quote_create(organization=org, by=owner, customer=customer,
                                 title="New boiler")
    billing.quote_line_add(quote=quote, by=owner, description="Boiler", unit_price=Decimal(10))
    Quote.objects.filter(pk=quote.pk).update(status=QuoteStatus.SENT)
    quote.refresh_from_db()
    assert not office_notes("quote_approved").exists()  # drafting and sending say nothing
    with django_capture_on_commit_callbacks(execute=True):
        billing.quote_approve(quote=quote, name="Rosa Diaz", signature_png=signature_png())
    notes = list(office_notes("quote_approved"))
    assert {n.recipient for n in notes} == {owner, office}
    assert notes[0].title == f"{quote.reference} New boiler approved by Rosa Diaz"
    assert notes[0].url == reverse("billing:quote", kwargs={"pk": quote.pk})
    assert len(mailoutbox) == 2
    # Saving the approved quote again is not a second approval.
    quote.refresh_from_db()
    quote.save()
    assert office_notes("quote_approved").count() == 2


def test_it_words_a_message_made_without_a_request_in_each_members_language(org, owner, office):
    from django.utils import translation

    from crewline.notifications.services import notify_office

    office.language = "es"
    office.save(update_fields=["language"])
    calls = []

    def words():
        calls.append(translation.get_language())
        return f"title in {translation.get_language()}", "body"

    notes = notify_office(organization_id=org.pk, kind="job_late", words=words)
    assert {n.recipient.pk: n.title for n in notes} == {owner.pk: "title in en",
                                                        office.pk: "title in es"}
    assert sorted(calls) == ["en", "es"]  # once per language
