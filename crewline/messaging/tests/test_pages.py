"""The customer's feedback page (a portal link: another customer's job, a tampered or revoked
link are a 404), the owner's settings and the office's message page, each tried by an
outsider (404) and by a technician (403)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crewline.factories import CustomerFactory, WorkOrderFactory
from crewline.messaging.models import Feedback, Message, MessageKind
from crewline.messaging.services import messaging_settings
from crewline.portal.services import portal_link_issue, portal_links_revoke
from crewline.workorders.models import TimelineEntry


@pytest.fixture
def done(wo):
    type(wo).objects.filter(pk=wo.pk).update(status="completed")
    wo.refresh_from_db()
    return wo


@pytest.fixture
def token(done):
    return portal_link_issue(customer=done.customer, by=None, sent_to="frontdesk@maple.test")[1]


def feedback_url(token, number=1042):
    return reverse("messaging_public:feedback", args=[token, number])


def test_the_feedback_page_takes_stars_and_a_comment_once(done, token, office_client):
    page = Client().get(feedback_url(token))
    assert page.status_code == 200
    assert "How did we do?" in page.content.decode()
    assert not Feedback.objects.exists()  # a GET changes nothing
    answer = Client().post(feedback_url(token), {"rating": "4", "comment": "Quick and tidy."})
    assert answer.status_code == 200
    assert 'data-testid="feedback-thanks"' in answer.content.decode()
    feedback = Feedback.objects.get()
    assert (feedback.rating, feedback.comment) == (4, "Quick and tidy.")
    entry = TimelineEntry.objects.get(work_order=done, data__event="feedback")
    assert entry.body == "★★★★☆ Quick and tidy." and entry.data["rating"] == 4
    # Sent again: the first answer stays.
    Client().post(feedback_url(token), {"rating": "1"})
    assert Feedback.objects.get().rating == 4
    # The office sees it on the work order, beside the request that asked for it.
    Message.objects.create(
        organization=done.organization, kind=MessageKind.FEEDBACK, work_order=done,
        customer=done.customer, channel="email", to="frontdesk@maple.test",
        scheduled_for=timezone.now(), status="sent")
    detail = office_client.get(reverse("workorders:detail", args=[1042]))
    assert 'data-testid="feedback"' in detail.content.decode()
    assert "Quick and tidy." in detail.content.decode()


def test_a_rating_out_of_range_is_refused(done, token):
    assert Client().post(feedback_url(token), {"rating": "6"}).status_code == 400
    assert Client().post(feedback_url(token), {"comment": "no stars"}).status_code == 400
    assert not Feedback.objects.exists()


def test_the_feedback_page_is_in_the_customers_language(done, token):
    done.customer.language = "es"
    done.customer.save()
    page = Client().get(feedback_url(token), HTTP_ACCEPT_LANGUAGE="en")
    assert "¿Qué tal lo hicimos?" in page.content.decode()


def test_a_tampered_revoked_or_other_customers_link_is_a_404(done, token, org, owner):
    assert Client().get(feedback_url(token[:-2] + "xx")).status_code == 404
    other = CustomerFactory(organization=org, name="Birch Clinic")
    WorkOrderFactory(customer=other, number=2001, status="completed")
    # Maple's link, Birch's job.
    assert Client().get(feedback_url(token, 2001)).status_code == 404
    assert Client().post(feedback_url(token, 2001), {"rating": "5"}).status_code == 404
    # Birch's link, Maple's job.
    birch = portal_link_issue(customer=other, by=None, sent_to="")[1]
    assert Client().get(feedback_url(birch, 1042)).status_code == 404
    # A job not completed yet.
    WorkOrderFactory(customer=done.customer, number=1043)
    assert Client().get(feedback_url(token, 1043)).status_code == 404
    portal_links_revoke(customer=done.customer, by=owner)
    assert Client().get(feedback_url(token)).status_code == 404
    assert not Feedback.objects.exists()


def test_the_owner_sets_the_messages_and_their_times(owner_client, org, owner):
    page = owner_client.get(reverse("messaging:settings"))
    assert page.status_code == 200
    answer = owner_client.post(reverse("messaging:settings"), {
        "confirmation": "on", "reminder": "on", "completed": "on", "channel": "both",
        "reminder_time": "18:30", "quiet_start": "21:00", "quiet_end": "07:30",
        "feedback_delay_hours": "3"})
    assert answer.status_code == 302
    s = messaging_settings(org)
    assert (s.on_my_way, s.feedback, s.channel) == (False, False, "both")
    assert (s.reminder_time, s.quiet_start, s.quiet_end) == (
        dt.time(18, 30), dt.time(21, 0), dt.time(7, 30))
    bad = owner_client.post(reverse("messaging:settings"), {
        "channel": "email", "reminder_time": "17:00", "quiet_start": "21:00",
        "feedback_delay_hours": "2"})
    assert bad.status_code == 400


def test_the_settings_are_the_owners(tech_client, office_client, outsider_client, org):
    assert tech_client.get(reverse("messaging:settings")).status_code == 403
    assert office_client.get(reverse("messaging:settings")).status_code == 403
    # The outsider's own settings, never the organization's.
    outsider_client.post(reverse("messaging:settings"), {
        "channel": "sms", "reminder_time": "09:00", "feedback_delay_hours": "1"})
    assert messaging_settings(org).channel == "email"


def test_a_message_page_is_the_offices(done, office_client, tech_client, outsider_client):
    message = Message.objects.create(
        organization=done.organization, kind=MessageKind.COMPLETED, work_order=done,
        customer=done.customer, channel="email", to="frontdesk@maple.test",
        scheduled_for=timezone.now(), status="sent", body="The work is completed.")
    url = reverse("messaging:detail", args=[message.pk])
    page = office_client.get(url)
    assert page.status_code == 200 and "The work is completed." in page.content.decode()
    assert tech_client.get(url).status_code == 403
    assert outsider_client.get(url).status_code == 404


def test_the_providers_hooks_are_404_without_sms(client):
    assert client.post(reverse("messaging_hooks:twilio_status"),
                       {"MessageSid": "SM1"}).status_code == 404
    assert client.post(reverse("messaging_hooks:twilio_inbound"),
                       {"From": "+13125550123", "Body": "STOP"}).status_code == 404
