"""Times offered to the customer: the office offers up to three on an unscheduled work order,
the customer picks one in their portal, and the visit is scheduled by the board's service."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from crewline.factories import SiteFactory
from crewline.notifications.models import Notification
from crewline.portal.models import WindowOffer
from crewline.portal.services import portal_link_issue, window_offers_make
from crewline.workorders.models import EntryKind, Status, TimelineEntry, Visit
from crewline.workorders.services import visit_add, work_order_create

pytestmark = pytest.mark.django_db


def workday(org, n: int) -> dt.date:
    """The ``n``th weekday after today in the organization's zone (technicians work Monday to
    Friday unless told otherwise)."""
    day = timezone.localdate(timezone=org.tzinfo)
    while n:
        day += dt.timedelta(days=1)
        n -= day.weekday() < 5
    return day


def local(org, days: int, hour: int) -> dt.datetime:
    return dt.datetime.combine(workday(org, days), dt.time(hour), tzinfo=org.tzinfo)


@pytest.fixture
def site(org):
    return SiteFactory(customer__organization=org, customer__name="Maple Dental",
                       customer__email="billing@maple.example", address_line1="12 Maple Ave")


@pytest.fixture
def wo(org, site):
    # As a request from the public form makes it: status new, no visit.
    return work_order_create(organization=org, by=None, customer=site.customer, site=site,
                             title="No hot water")


@pytest.fixture
def token(owner, site):
    return portal_link_issue(customer=site.customer, by=owner, sent_to="billing@maple.example")[1]


def offer_form(org, technician=None, rows=((2, 9, 11), (2, 13, 15), (3, 9, 11))) -> dict:
    data = {}
    for n, (days, start, end) in enumerate(rows, 1):
        day = workday(org, days)
        data |= {f"day_{n}": day.isoformat(), f"from_{n}": f"{start:02d}:00",
                 f"to_{n}": f"{end:02d}:00"}
    if technician is not None:
        data["crew"] = technician.pk
    return data


def test_only_the_office_of_the_organization_offers_times(
        org, wo, outsider_client, tech_client, office_client, technician):
    url = reverse("portal:windows_offer", args=[wo.number])
    assert outsider_client.post(url, offer_form(org)).status_code == 404
    assert tech_client.post(url, offer_form(org)).status_code == 403
    withdraw = reverse("portal:windows_withdraw", args=[wo.number])
    assert outsider_client.post(withdraw).status_code == 404
    assert tech_client.post(withdraw).status_code == 403
    assert not WindowOffer.objects.exists()

    page = office_client.get(reverse("workorders:detail", args=[wo.number]))
    assert b'id="offer-form"' in page.content
    response = office_client.post(url, offer_form(org, technician))
    assert response.status_code == 302 and response["Location"].endswith("#offer-times")
    offers = list(WindowOffer.objects.order_by("start"))
    assert [(o.start, o.end) for o in offers] == [
        (local(org, 2, 9), local(org, 2, 11)), (local(org, 2, 13), local(org, 2, 15)),
        (local(org, 3, 9), local(org, 3, 11))]
    assert all(o.crew == technician for o in offers)
    entry = TimelineEntry.objects.get(work_order=wo, kind=EntryKind.SYSTEM,
                                      data__event="windows_offered")
    assert "offered the customer" in entry.body
    page = office_client.get(reverse("workorders:detail", args=[wo.number]))
    assert page.content.count(b"<li>", page.content.index(b'id="offered-times"')) >= 3


def test_the_customer_picks_one_and_the_visit_is_scheduled_by_the_boards_service(
        client, org, office, wo, token, technician):
    offers = window_offers_make(work_order=wo, by=office, crew=technician, windows=[
        (local(org, 2, 9), local(org, 2, 11)), (local(org, 2, 13), local(org, 2, 15))])
    home = client.get(reverse("portal_public:home", args=[token]))
    assert b'id="times"' in home.content
    assert all(f'data-offer="{o.pk}"'.encode() in home.content for o in offers)

    picked = client.post(reverse("portal_public:window_pick", args=[token, offers[1].pk]))
    assert picked.status_code == 200, picked.content.decode()[-1500:]
    assert b"Your visit is booked" in picked.content
    visit = Visit.objects.get(work_order=wo)
    assert (visit.start, visit.end) == (local(org, 2, 13), local(org, 2, 15))
    assert list(visit.crew.all()) == [technician]
    wo.refresh_from_db()
    assert wo.status == Status.SCHEDULED
    # The board's service wrote its entry; the pick is on the timeline too.
    assert TimelineEntry.objects.filter(work_order=wo, kind=EntryKind.SCHEDULE,
                                        data__event="visit_added").exists()
    assert TimelineEntry.objects.filter(work_order=wo, kind=EntryKind.SYSTEM,
                                        data__event="window_picked", visit=visit).exists()
    assert Notification.objects.filter(recipient=office, kind="window_picked").exists()
    for offer in offers:
        offer.refresh_from_db()
    assert offers[1].picked_at is not None and offers[1].visit == visit
    assert offers[0].withdrawn_at is not None

    # A second pick is refused, and nothing more is offered.
    again = client.post(reverse("portal_public:window_pick", args=[token, offers[0].pk]))
    assert again.status_code == 409
    assert Visit.objects.filter(work_order=wo).count() == 1
    home = client.get(reverse("portal_public:home", args=[token]))
    assert b'id="times"' not in home.content


def test_a_time_no_longer_free_is_withdrawn_and_the_office_told(
        client, org, owner, office, wo, token, technician, site):
    offers = window_offers_make(work_order=wo, by=office, crew=technician, windows=[
        (local(org, 2, 9), local(org, 2, 11)), (local(org, 2, 13), local(org, 2, 15))])
    # Meanwhile the board books the technician elsewhere at that time.
    busy = work_order_create(organization=org, by=owner, customer=site.customer, site=site,
                             title="Other job")
    visit_add(work_order=busy, by=owner, start=local(org, 2, 9), end=local(org, 2, 10),
              crew=[technician], override=True)
    response = client.post(reverse("portal_public:window_pick", args=[token, offers[0].pk]))
    assert response.status_code == 409 and b"no longer free" in response.content
    assert not Visit.objects.filter(work_order=wo).exists()
    offers[0].refresh_from_db()
    assert offers[0].withdrawn_at is not None and offers[0].picked_at is None
    assert Notification.objects.filter(recipient=office, kind="window_picked",
                                       title__contains="no longer free").exists()
    assert TimelineEntry.objects.filter(work_order=wo, data__event="window_taken").exists()
    # The other time still stands.
    home = client.get(reverse("portal_public:home", args=[token]))
    assert f'data-offer="{offers[1].pk}"'.encode() in home.content
    assert f'data-offer="{offers[0].pk}"'.encode() not in home.content
    assert client.post(reverse("portal_public:window_pick",
                               args=[token, offers[1].pk])).status_code == 200


def test_a_visit_without_a_time_is_given_the_picked_one(client, org, office, wo, token):
    unscheduled = visit_add(work_order=wo, by=office, start=None, end=None)
    offer, = window_offers_make(work_order=wo, by=office,
                                windows=[(local(org, 4, 8), local(org, 4, 10))])
    assert client.post(reverse("portal_public:window_pick",
                               args=[token, offer.pk])).status_code == 200
    unscheduled.refresh_from_db()
    assert (unscheduled.start, unscheduled.end) == (local(org, 4, 8), local(org, 4, 10))
    assert Visit.objects.filter(work_order=wo).count() == 1


def test_passed_other_customers_and_scheduled_jobs_offer_nothing(
        client, org, owner, office, wo, token, technician):
    offer, = window_offers_make(work_order=wo, by=office,
                                windows=[(local(org, 2, 9), local(org, 2, 11))])
    # Another customer's link cannot see or pick it.
    other = SiteFactory(customer__organization=org, customer__name="Oak Bakery")
    _link, other_token = portal_link_issue(customer=other.customer, by=owner, sent_to="o@k.x")
    assert f'data-offer="{offer.pk}"'.encode() not in client.get(
        reverse("portal_public:home", args=[other_token])).content
    assert client.post(reverse("portal_public:window_pick",
                               args=[other_token, offer.pk])).status_code == 404
    # Its time passed: no longer shown, nor picked.
    WindowOffer.objects.filter(pk=offer.pk).update(start=timezone.now() - dt.timedelta(hours=1))
    assert b'id="times"' not in client.get(reverse("portal_public:home", args=[token])).content
    assert client.post(reverse("portal_public:window_pick",
                               args=[token, offer.pk])).status_code == 409
    # The office scheduled the job on the board meanwhile: the offers are gone.
    offer, = window_offers_make(work_order=wo, by=office,
                                windows=[(local(org, 5, 9), local(org, 5, 11))])
    visit_add(work_order=wo, by=office, start=local(org, 6, 9), end=local(org, 6, 10),
              crew=[technician], override=True)
    assert b'id="times"' not in client.get(reverse("portal_public:home", args=[token])).content
    assert client.post(reverse("portal_public:window_pick",
                               args=[token, offer.pk])).status_code == 409
    assert Visit.objects.filter(work_order=wo).count() == 1


def test_the_offer_is_checked(org, office, technician, wo):
    from django.core.exceptions import PermissionDenied, ValidationError

    soon = local(org, 2, 9)
    hour = dt.timedelta(hours=1)
    with pytest.raises(PermissionDenied):
        window_offers_make(work_order=wo, by=technician, windows=[(soon, soon + hour)])
    with pytest.raises(ValidationError):
        window_offers_make(work_order=wo, by=office, windows=[(soon, soon)])
    with pytest.raises(ValidationError):
        window_offers_make(work_order=wo, by=office,
                           windows=[(soon + h * hour, soon + (h + 1) * hour)
                                    for h in range(4)])
    past = timezone.now() - dt.timedelta(hours=2)
    with pytest.raises(ValidationError):
        window_offers_make(work_order=wo, by=office, windows=[(past, past + hour)])
