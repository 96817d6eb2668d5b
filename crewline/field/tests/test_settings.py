"""The organization's rules for the technician app, set by the owner; and the formats the phone
is given so that it writes times as every other page does."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crewline.core.models import AuditLog
from crewline.field.models import FieldSettings, JobsClosedBy
from crewline.live.models import Change, ChangeKind
from crewline.workorders.models import Visibility

pytestmark = pytest.mark.django_db


def test_the_owner_sets_who_closes_jobs_and_what_photos_default_to(owner_client, org):
    url = reverse("field:settings")
    page = owner_client.get(url)
    assert page.status_code == 200
    # The defaults: the technician's "job complete" closes the job; photos are shared.
    form = page.context["form"]
    assert form["jobs_closed_by"].value() == "technician"
    assert form["photo_visibility"].value() == "customer"
    assert "Technician app" in page.content.decode()
    response = owner_client.post(url, {"jobs_closed_by": "office",
                                       "photo_visibility": "internal",
                                       "require_signature": "on"})
    assert response.status_code == 302
    settings = FieldSettings.objects.get(organization=org)
    assert settings.jobs_closed_by == JobsClosedBy.OFFICE
    assert settings.photo_visibility == Visibility.INTERNAL
    assert settings.require_signature and not settings.technicians_see_all
    audit = AuditLog.objects.get(action="field.settings")
    assert audit.changes["jobs_closed_by"] == ["technician", "office"]
    # Every phone starts again from a full snapshot with the new rules.
    assert Change.objects.filter(kind=ChangeKind.RESET, organization=org).exists()
    # Saving the same again records nothing.
    owner_client.post(url, {"jobs_closed_by": "office", "photo_visibility": "internal",
                            "require_signature": "on"})
    assert AuditLog.objects.filter(action="field.settings").count() == 1


def test_a_bad_choice_is_refused_and_changes_nothing(owner_client, org):
    response = owner_client.post(reverse("field:settings"), {"jobs_closed_by": "nobody",
                                                             "photo_visibility": "customer"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not FieldSettings.objects.filter(organization=org).exists()


def test_the_settings_are_the_owners(office_client, tech_client, outsider_client, org):
    url = reverse("field:settings")
    assert office_client.post(url, {"jobs_closed_by": "office"}).status_code == 403
    assert tech_client.get(url).status_code == 403
    outsider_client.post(url, {"jobs_closed_by": "office", "photo_visibility": "internal"})
    assert not FieldSettings.objects.filter(organization=org).exists()


def test_the_phone_gets_the_formats_of_every_other_page(tech_client):
    from django.utils.formats import get_format

    me = tech_client.get(reverse("field:me")).json()
    formats = me["organization"]["formats"]
    assert formats["time"] == get_format("TIME_FORMAT") == "H:i"
    assert formats["date"] == get_format("DATE_FORMAT") == "j M Y"

