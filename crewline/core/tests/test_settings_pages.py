import io
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from crewline.core.models import AuditLog, Paper, Skill, default_business_hours
from crewline.factories import SkillFactory
from crewline.workorders.models import JobType, WorkOrderKind

pytestmark = pytest.mark.django_db

ORG_FORM = {"org-name": "Northside HVAC", "org-time_zone": "America/Denver",
            "org-currency": "CAD", "org-email": "hello@northside.example",
            "org-phone": "555-0101", "org-address": "1 Main St", "org-paper": "us-letter",
            "org-language": "en", "org-road_factor": "1.30", "org-travel_speed_kmh": "52"}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _png(size=(40, 20)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "navy").save(buffer, "PNG")
    return buffer.getvalue()


def test_it_saves_the_organizations_details_with_an_audit_entry(owner_client, org):
    response = owner_client.post(reverse("core:settings"), ORG_FORM)
    assert response.status_code == 302
    org.refresh_from_db()
    assert (org.name, org.time_zone, org.currency, org.email) == (
        "Northside HVAC", "America/Denver", "CAD", "hello@northside.example")
    entry = AuditLog.objects.get(action="organization.update")
    assert entry.changes["time_zone"] == ["America/Chicago", "America/Denver"]


def test_it_refuses_an_unknown_time_zone(owner_client, org):
    response = owner_client.post(reverse("core:settings"),
                                 {**ORG_FORM, "org-time_zone": "Mars/Base"})
    assert "org-time_zone" in response.content.decode()
    assert response.context["form"].errors["time_zone"]
    org.refresh_from_db()
    assert org.time_zone == "America/Chicago"


def test_it_saves_the_paper_size_of_reports_quotes_and_invoices(owner_client, org):
    page = owner_client.get(reverse("core:settings")).content.decode()
    assert 'name="org-paper"' in page and ">A4<" in page and ">Letter<" in page
    response = owner_client.post(reverse("core:settings"), {**ORG_FORM, "org-paper": "a4"})
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.paper == Paper.A4
    entry = AuditLog.objects.get(action="organization.update")
    assert entry.changes["paper"] == ["us-letter", "a4"]


def test_it_saves_the_language_of_members_who_follow_the_browser(owner_client, org):
    page = owner_client.get(reverse("core:settings")).content.decode()
    assert 'name="org-language"' in page and ">Spanish<" in page
    response = owner_client.post(reverse("core:settings"), {**ORG_FORM, "org-language": "es"})
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.language == "es"
    entry = AuditLog.objects.get(action="organization.update")
    assert entry.changes["language"] == ["en", "es"]
    response = owner_client.post(reverse("core:settings"), {**ORG_FORM, "org-language": "fr"})
    assert response.status_code == 200 and response.context["form"].errors["language"]


def test_it_saves_how_drive_times_are_estimated(owner_client, org):
    page = owner_client.get(reverse("core:settings")).content.decode()
    assert 'name="org-road_factor"' in page and 'name="org-travel_speed_kmh"' in page
    response = owner_client.post(reverse("core:settings"),
                                 {**ORG_FORM, "org-road_factor": "1.45",
                                  "org-travel_speed_kmh": "35"})
    assert response.status_code == 302
    org.refresh_from_db()
    assert (str(org.road_factor), org.travel_speed_kmh) == ("1.45", 35)
    entry = AuditLog.objects.get(action="organization.update")
    assert entry.changes["travel_speed_kmh"] == [52, 35]


@pytest.mark.parametrize("field,value", [("road_factor", "0.8"), ("road_factor", "9"),
                                         ("travel_speed_kmh", "0"),
                                         ("travel_speed_kmh", "500"),
                                         ("road_factor", "fast")])
def test_it_refuses_a_drive_estimate_out_of_bounds(owner_client, org, field, value):
    response = owner_client.post(reverse("core:settings"), {**ORG_FORM, f"org-{field}": value})
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    org.refresh_from_db()
    assert (str(org.road_factor), org.travel_speed_kmh, org.name) == ("1.30", 52,
                                                                      "Northside Heating & Air")


def test_the_service_refuses_a_drive_estimate_out_of_bounds(org, owner):
    from django.core.exceptions import ValidationError

    from crewline.core.services import organization_update

    with pytest.raises(ValidationError) as caught:
        organization_update(organization=org, by=owner, travel_speed_kmh=900)
    assert "travel_speed_kmh" in caught.value.message_dict
    org.refresh_from_db()
    assert org.travel_speed_kmh == 52


def test_it_refuses_a_paper_size_it_does_not_offer(owner_client, org):
    response = owner_client.post(reverse("core:settings"), {**ORG_FORM, "org-paper": "a3"})
    assert response.status_code == 200
    assert response.context["form"].errors["paper"]
    org.refresh_from_db()
    assert org.paper == Paper.LETTER


def test_only_the_owner_sets_the_paper_size(office_client, outsider_client, org, other_org):
    response = office_client.post(reverse("core:settings"), {**ORG_FORM, "org-paper": "a4"})
    assert response.status_code == 403
    # The settings page is always the member's own organization's: another owner's post
    # changes theirs, never this one.
    outsider_client.post(reverse("core:settings"), {**ORG_FORM, "org-paper": "a4"})
    org.refresh_from_db()
    other_org.refresh_from_db()
    assert (org.paper, other_org.paper) == (Paper.LETTER, Paper.A4)


def test_it_uploads_a_logo_served_only_to_members(owner_client, tech_client, outsider_client,
                                                  client, org):
    upload = SimpleUploadedFile("Our Logo.png", _png(), content_type="image/png")
    response = owner_client.post(reverse("core:settings_logo"), {"logo-logo": upload})
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.logo.name.startswith("logos/") and "Our Logo" not in org.logo.name
    response = tech_client.get(reverse("core:logo"))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == _png()
    assert "private" in response["Cache-Control"]
    # Another organization's member gets their own (missing) logo; a stranger must log in.
    assert outsider_client.get(reverse("core:logo")).status_code == 404
    assert client.get(reverse("core:logo")).status_code == 302
    assert AuditLog.objects.filter(action="organization.logo").exists()


def test_it_refuses_a_logo_that_is_not_an_image_or_too_big(owner_client, org):
    fake = SimpleUploadedFile("logo.png", b"<script>alert(1)</script>",
                              content_type="image/png")
    response = owner_client.post(reverse("core:settings_logo"), {"logo-logo": fake})
    assert response.status_code == 400
    assert "valid image" in " ".join(response.context["logo_form"].errors["logo"])
    big = io.BytesIO()
    Image.effect_noise((1200, 1200), 100).convert("RGB").save(big, "BMP")
    assert big.tell() > 2 * 1024 * 1024
    huge = SimpleUploadedFile("logo.bmp", big.getvalue(), content_type="image/bmp")
    response = owner_client.post(reverse("core:settings_logo"), {"logo-logo": huge})
    assert "2 MB" in " ".join(response.context["logo_form"].errors["logo"])
    org.refresh_from_db()
    assert not org.logo


def test_it_removes_the_logo(owner_client, org):
    owner_client.post(reverse("core:settings_logo"),
                      {"logo-logo": SimpleUploadedFile("l.png", _png())})
    org.refresh_from_db()
    path = org.logo.path
    owner_client.post(reverse("core:settings_logo"), {"remove": "1"})
    org.refresh_from_db()
    assert not org.logo
    assert not os.path.exists(path)


def _hours_post(**overrides):
    data = {}
    for day, span in default_business_hours().items():
        if span:
            data[f"{day}_open"] = "on"
            data[f"{day}_start"], data[f"{day}_end"] = span
    data.update(overrides)
    return data


def test_it_saves_business_hours(owner_client, org):
    data = _hours_post(sat_open="on", sat_start="09:00", sat_end="13:00", fri_end="15:30")
    del data["mon_open"]
    response = owner_client.post(reverse("core:settings_hours"), data)
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.business_hours["sat"] == ["09:00", "13:00"]
    assert org.business_hours["fri"] == ["08:00", "15:30"]
    assert org.business_hours["mon"] is None
    assert org.business_hours["sun"] is None
    assert AuditLog.objects.filter(action="organization.business_hours").count() == 1


def test_it_refuses_closing_before_opening(owner_client, org):
    response = owner_client.post(reverse("core:settings_hours"),
                                 _hours_post(tue_start="18:00", tue_end="09:00"))
    assert response.status_code == 200
    assert "after the opening time" in response.content.decode()
    org.refresh_from_db()
    assert org.business_hours == default_business_hours()


def test_it_adds_edits_and_deactivates_job_types(owner_client, org):
    url = reverse("core:job_types")
    response = owner_client.post(url, {"name": "Boiler service", "default_kind": "recurring",
                                       "default_duration_minutes": 90})
    assert response.status_code == 302
    jt = JobType.objects.get(organization=org)
    assert (jt.default_kind, jt.default_duration_minutes) == (WorkOrderKind.RECURRING, 90)
    response = owner_client.post(url, {"name": "boiler SERVICE", "default_kind": "reactive",
                                       "default_duration_minutes": 30})
    assert "already a work order type" in " ".join(response.context["form"].errors["name"])
    owner_client.post(reverse("core:job_type_edit", args=[jt.pk]), {
        "name": "Boiler annual service", "default_kind": "contract",
        "default_duration_minutes": 120})
    jt.refresh_from_db()
    assert (jt.name, jt.default_kind) == ("Boiler annual service", "contract")
    owner_client.post(reverse("core:job_type_deactivate", args=[jt.pk]))
    jt.refresh_from_db()
    assert not jt.is_active
    owner_client.post(reverse("core:job_type_reactivate", args=[jt.pk]))
    jt.refresh_from_db()
    assert jt.is_active
    assert [e.action for e in AuditLog.objects.order_by("seq")] == [
        "job_type.create", "job_type.update", "job_type.deactivate", "job_type.reactivate"]
    assert "Boiler annual service" in owner_client.get(url).content.decode()


def test_it_refuses_a_silly_duration(owner_client):
    response = owner_client.post(reverse("core:job_types"), {
        "name": "X", "default_kind": "reactive", "default_duration_minutes": 0})
    assert response.context["form"].errors["default_duration_minutes"]
    assert not JobType.objects.exists()


def test_it_adds_renames_and_deletes_unused_skills(owner_client, org, technician):
    owner_client.post(reverse("core:skills"), {"name": "Gas Safe"})
    skill = Skill.objects.get(organization=org)
    response = owner_client.post(reverse("core:skills"), {"name": "gas safe"})
    assert "already a skill" in " ".join(response.context["form"].errors["name"])
    owner_client.post(reverse("core:skill_edit", args=[skill.pk]), {"name": "Gas Safe cert."})
    skill.refresh_from_db()
    assert skill.name == "Gas Safe cert."
    technician.skills.add(skill)
    response = owner_client.post(reverse("core:skill_delete", args=[skill.pk]), follow=True)
    assert "still given to members" in response.content.decode()
    assert Skill.objects.filter(pk=skill.pk).exists()
    technician.skills.clear()
    owner_client.post(reverse("core:skill_delete", args=[skill.pk]))
    assert not Skill.objects.filter(pk=skill.pk).exists()
    assert [e.action for e in AuditLog.objects.order_by("seq")] == [
        "skill.create", "skill.rename", "skill.delete"]


def test_it_keeps_the_skill_list_query_count_flat(owner_client, org,
                                                  django_assert_max_num_queries):
    SkillFactory(organization=org)
    with django_assert_max_num_queries(10) as few:
        owner_client.get(reverse("core:skills"))
    for _ in range(10):
        SkillFactory(organization=org)
    with django_assert_max_num_queries(len(few.captured_queries)):
        owner_client.get(reverse("core:skills"))
