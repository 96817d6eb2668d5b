"""Texts through Twilio's API (a local server answering as Twilio does): what it is sent, the
status callbacks (signed: a bad signature is a 403), STOP and START, replies for the office,
quiet hours, and the customer's language."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from twilio.request_validator import RequestValidator

from crewline.messaging.models import Message, MessageKind, SmsOptOut
from crewline.messaging.sending import send_due
from crewline.messaging.services import messaging_settings
from crewline.notifications.models import Notification
from crewline.workorders.models import EntryKind, TimelineEntry
from crewline.workorders.services import visits as visit_services

from .conftest import FROM, MOBILE, SID, TOKEN, local

MONDAY = local(2026, 11, 23, 10, 0)


@pytest.fixture
def clock():
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


def book(wo, office, technician, start):
    return visit_services.visit_add(work_order=wo, by=office, start=start,
                                    end=start + dt.timedelta(hours=2), crew=[technician],
                                    override=True)


def post_signed(path: str, params: dict, *, token: str = TOKEN):
    url = "https://crew.example.com" + path
    signature = RequestValidator(token).compute_signature(url, params)
    return Client().post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)


def test_it_texts_the_confirmation_through_twilio(wo, office, technician, sms, clock):
    book(wo, office, technician, local(2026, 11, 25, 9, 0))
    assert send_due() == {"sent": 1}
    [sent] = sms.sent
    assert sent["account"] == SID and sent["auth"] == f"{SID}:{TOKEN}"
    assert (sent["To"], sent["From"]) == (MOBILE, FROM)
    assert sent["Body"].startswith("Northside Heating & Air: your visit is booked for "
                                   "Wednesday 25 November, 09:00–11:00.")
    assert sent["Body"].endswith("Reply STOP to opt out.")
    assert sent["StatusCallback"] == ("https://crew.example.com"
                                      + reverse("messaging_hooks:twilio_status"))
    message = Message.objects.get(kind=MessageKind.CONFIRMATION)
    assert (message.channel, message.status, message.provider_id) == ("sms", "sent",
                                                                      sent["sid"])
    assert mail.outbox == []  # a text, or email when there is no mobile number


def test_a_customer_without_a_mobile_number_gets_email(wo, office, technician, sms, clock):
    wo.customer.phone = ""
    wo.customer.save()
    book(wo, office, technician, local(2026, 11, 25, 9, 0))
    send_due()
    assert sms.sent == [] and len(mail.outbox) == 1


def test_without_twilio_credentials_texts_are_off_and_email_goes(wo, office, technician,
                                                                  org, clock, owner_client):
    s = messaging_settings(org)
    s.channel = "sms"
    s.save()
    book(wo, office, technician, local(2026, 11, 25, 9, 0))
    send_due()
    assert Message.objects.get(kind=MessageKind.CONFIRMATION).channel == "email"
    page = owner_client.get(reverse("messaging:settings"))
    assert b'data-testid="sms-off"' in page.content


def test_the_settings_page_says_where_twilio_sends_replies(sms, owner_client):
    page = owner_client.get(reverse("messaging:settings")).content.decode()
    assert 'data-testid="sms-on"' in page
    assert "https://crew.example.com/messages/hooks/twilio/inbound/" in page


def test_the_status_callback_marks_delivered_and_failed(wo, office, technician, sms, clock):
    book(wo, office, technician, local(2026, 11, 25, 9, 0))
    send_due()
    message = Message.objects.get(kind=MessageKind.CONFIRMATION)
    path = reverse("messaging_hooks:twilio_status")
    answer = post_signed(path, {"MessageSid": message.provider_id, "MessageStatus": "delivered",
                                "AccountSid": SID})
    assert answer.status_code == 204
    message.refresh_from_db()
    assert message.status == "delivered" and message.delivered_at == MONDAY
    answer = post_signed(path, {"MessageSid": message.provider_id,
                                "MessageStatus": "undelivered", "ErrorCode": "30003"})
    message.refresh_from_db()
    assert message.status == "failed" and message.error == "provider error 30003"
    assert TimelineEntry.objects.filter(work_order=wo, data__event="message_failed").exists()


def test_a_status_callback_with_a_bad_signature_is_refused(wo, office, technician, sms,
                                                            clock):
    book(wo, office, technician, local(2026, 11, 25, 9, 0))
    send_due()
    message = Message.objects.get(kind=MessageKind.CONFIRMATION)
    path = reverse("messaging_hooks:twilio_status")
    params = {"MessageSid": message.provider_id, "MessageStatus": "delivered"}
    assert post_signed(path, params, token="not-the-token").status_code == 403
    assert Client().post(path, params).status_code == 403
    # Signed for other values than those sent.
    url = "https://crew.example.com" + path
    signature = RequestValidator(TOKEN).compute_signature(url, params)
    forged = Client().post(path, {**params, "MessageStatus": "failed"},
                           HTTP_X_TWILIO_SIGNATURE=signature)
    assert forged.status_code == 403
    message.refresh_from_db()
    assert message.status == "sent"


def test_stop_is_honoured_until_start(wo, office, technician, sms, clock, owner_client):
    visit = book(wo, office, technician, local(2026, 11, 25, 9, 0))
    send_due()
    assert len(sms.sent) == 1
    inbound = reverse("messaging_hooks:twilio_inbound")
    answer = post_signed(inbound, {"From": MOBILE, "To": FROM, "Body": " Stop "})
    assert answer.status_code == 200 and b"<Response>" in answer.content
    assert SmsOptOut.objects.get(number=MOBILE).active
    page = owner_client.get(reverse("customers:detail", args=[wo.customer.pk]))
    assert "Replied STOP" in page.content.decode()
    # The reminder finds the number opted out: not sent, and the office can see why.
    clock.move_to(local(2026, 11, 24, 17, 0))
    send_due()
    assert len(sms.sent) == 1
    reminder = Message.objects.get(kind=MessageKind.REMINDER)
    assert reminder.status == "skipped"
    assert TimelineEntry.objects.filter(work_order=wo, data__event="message_skipped").exists()
    # START: texts again.
    post_signed(inbound, {"From": MOBILE, "To": FROM, "Body": "START"})
    assert not SmsOptOut.objects.get(number=MOBILE).active
    visit_services.visit_en_route(visit=visit, by=technician)
    send_due()
    assert len(sms.sent) == 2 and "on the way" in sms.sent[1]["Body"]
    assert "Gets texts" in owner_client.get(
        reverse("customers:detail", args=[wo.customer.pk])).content.decode()


def test_a_sentence_with_stop_in_it_is_a_reply_not_an_opt_out(wo, office, technician, sms,
                                                              clock):
    book(wo, office, technician, local(2026, 11, 25, 9, 0))
    send_due()
    post_signed(reverse("messaging_hooks:twilio_inbound"),
                {"From": MOBILE, "To": FROM, "Body": "Please cancel Tuesday, stop by Friday"})
    assert not SmsOptOut.objects.filter(active=True).exists()


def test_a_reply_lands_on_the_job_and_the_office_is_told(wo, office, owner, technician, sms,
                                                          clock):
    book(wo, office, technician, local(2026, 11, 25, 9, 0))
    send_due()
    post_signed(reverse("messaging_hooks:twilio_inbound"),
                {"From": MOBILE, "To": FROM, "Body": "Can you come after 10? Dog is out."})
    entry = TimelineEntry.objects.get(work_order=wo, kind=EntryKind.SYSTEM,
                                      data__event="message_reply")
    assert entry.body == "Can you come after 10? Dog is out."
    assert entry.data["to"] == MOBILE
    notes = Notification.objects.filter(kind="customer_replied")
    assert {n.recipient for n in notes} == {owner, office}
    assert notes[0].title == "Maple Dental replied about WO-1042"


def test_a_customer_who_texts_first_reaches_their_job(wo, sms, clock):
    post_signed(reverse("messaging_hooks:twilio_inbound"),
                {"From": MOBILE, "To": FROM, "Body": "Is anyone coming today?"})
    assert TimelineEntry.objects.get(work_order=wo, data__event="message_reply").body == (
        "Is anyone coming today?")
    # An unknown number is answered, and lands nowhere.
    answer = post_signed(reverse("messaging_hooks:twilio_inbound"),
                         {"From": "+14155550199", "To": FROM, "Body": "Hello?"})
    assert answer.status_code == 200
    assert TimelineEntry.objects.filter(data__event="message_reply").count() == 1


def test_a_text_due_in_quiet_hours_waits_for_their_end(wo, office, technician, sms, clock):
    clock.move_to(local(2026, 11, 23, 21, 30))
    book(wo, office, technician, local(2026, 11, 25, 9, 0))
    assert send_due() == {"later": 1}
    confirmation = Message.objects.get(kind=MessageKind.CONFIRMATION)
    assert confirmation.scheduled_for == local(2026, 11, 24, 8, 0)
    clock.move_to(local(2026, 11, 24, 7, 59))
    assert send_due() == {} and sms.sent == []
    clock.move_to(local(2026, 11, 24, 8, 0))
    assert send_due() == {"sent": 1} and len(sms.sent) == 1


def test_on_my_way_is_not_sent_in_quiet_hours(wo, office, technician, sms, clock):
    clock.move_to(local(2026, 11, 23, 6, 0))
    visit = book(wo, office, technician, local(2026, 11, 23, 7, 0))
    Message.objects.all().delete()
    visit_services.visit_en_route(visit=visit, by=technician)
    assert send_due() == {"skipped": 1}
    on_my_way = Message.objects.get(kind=MessageKind.ON_MY_WAY)
    assert on_my_way.error == "quiet hours"
    clock.move_to(local(2026, 11, 23, 8, 30))
    assert send_due() == {} and sms.sent == []


def test_a_number_twilio_says_unsubscribed_is_marked_opted_out(wo, office, technician, sms,
                                                                clock):
    sms.fail_with = 21610
    book(wo, office, technician, local(2026, 11, 25, 9, 0))
    assert send_due() == {"failed": 1}
    assert SmsOptOut.objects.get(number=MOBILE).active
    assert TimelineEntry.objects.filter(work_order=wo, data__event="message_failed").exists()


def test_a_spanish_customer_is_written_to_in_spanish(wo, office, technician, sms, clock):
    wo.customer.language = "es"
    wo.customer.save()
    visit = book(wo, office, technician, local(2026, 11, 25, 9, 0))
    send_due()
    body = sms.sent[0]["Body"]
    assert body.startswith("Northside Heating & Air: su visita está reservada para el "
                           "miércoles 25 de noviembre, 09:00–11:00.")
    assert "Responda STOP" in body
    # The office reads the timeline in its own language.
    entry = TimelineEntry.objects.get(work_order=wo, data__event="message_sent")
    assert entry.body.startswith("Booking confirmation sent by text message (sms) to")
    visit_services.visit_en_route(visit=visit, by=technician)
    send_due()
    assert sms.sent[1]["Body"].startswith("Northside Heating & Air: Tara va de camino.")
