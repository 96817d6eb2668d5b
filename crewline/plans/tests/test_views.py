import datetime as dt
import zoneinfo

import pytest
from django.urls import reverse

from crewline.core.models import AuditLog
from crewline.factories import CustomerFactory, SiteFactory
from crewline.plans.models import MaintenancePlan, PlanStatus
from crewline.plans.services import plan_generate
from crewline.workorders.models import Status

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
TODAY = dt.date(2025, 1, 2)


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(dt.datetime(2025, 1, 2, 8, 0, tzinfo=CHICAGO), tick=False)


@pytest.fixture
def plan(make_plan):
    plan = make_plan(rrule="FREQ=WEEKLY;BYDAY=TH", start_date=TODAY, horizon_days=20)
    plan_generate(plan=plan, today=TODAY)
    return plan


def form_data(customer, site, **overrides):
    data = {
        "customer": customer.pk, "site": site.pk, "name": "Boiler service",
        "freq": "MONTHLY", "interval": "1", "monthly_on": "nth", "nth": "1",
        "nth_weekday": "MO", "advanced_rrule": "", "start_date": "2025-01-02",
        "end_date": "", "start_time": "08:30", "horizon_days": "60", "title": "",
        "instructions": "Check flue", "job_type": "", "priority": "2",
        "duration_minutes": "45", "price": "120.00",
        "checklist": "Flue clear | yes/no | required\nPressure | number",
    }
    data.update(overrides)
    return data


def urls_for(plan):
    return [
        ("get", reverse("plans:list")), ("get", reverse("plans:create")),
        ("get", reverse("plans:preview") + "?freq=MONTHLY&interval=1&start_date=2025-01-02"),
        ("get", reverse("plans:detail", args=[plan.pk])),
        ("get", reverse("plans:edit", args=[plan.pk])),
        ("post", reverse("plans:pause", args=[plan.pk])),
        ("post", reverse("plans:resume", args=[plan.pk])),
        ("post", reverse("plans:end", args=[plan.pk])),
        ("post", reverse("plans:skip", args=[plan.pk])),
    ]


def test_it_refuses_every_page_to_technicians(tech_client, plan):
    for method, url in urls_for(plan):
        assert getattr(tech_client, method)(url).status_code == 403, url


def test_it_hides_another_organizations_plan(outsider_client, plan):
    for method, url in urls_for(plan):
        if f"/{plan.pk}/" in url:
            assert getattr(outsider_client, method)(url).status_code == 404, url
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACTIVE


def test_it_sends_visitors_to_the_login_page(client, plan):
    for method, url in urls_for(plan):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url


def test_the_list_shows_rules_in_words_and_the_next_date(office_client, plan, make_plan,
                                                         django_assert_max_num_queries):
    make_plan(name="Roof check", rrule="FREQ=MONTHLY;BYDAY=1MO", start_date=TODAY)
    with django_assert_max_num_queries(8):
        response = office_client.get(reverse("plans:list"))
    html = response.content.decode()
    assert "Weekly on Thursday" in html and "Monthly on the first Monday" in html
    assert "Mon 6 Jan 2025" in html
    assert reverse("plans:detail", args=[plan.pk]) in html


def test_the_lists_query_count_does_not_grow_with_plans(office_client, make_plan, org,
                                                       django_assert_max_num_queries):
    for n in range(30):
        customer = CustomerFactory(organization=org)
        make_plan(name=f"Plan {n}", customer=customer, site=SiteFactory(customer=customer))
    with django_assert_max_num_queries(8):
        response = office_client.get(reverse("plans:list") + "?status=all")
    assert response.content.decode().count("plans/") >= 30


def test_the_list_filters_by_status_and_search(office_client, plan, make_plan, office):
    from crewline.plans.services import plan_pause

    other = make_plan(name="Gutter clean")
    plan_pause(plan=other, by=office)
    html = office_client.get(reverse("plans:list")).content.decode()
    assert plan.name in html and "Gutter clean" not in html
    html = office_client.get(reverse("plans:list") + "?status=paused").content.decode()
    assert "Gutter clean" in html and plan.name not in html
    response = office_client.get(reverse("plans:list") + "?status=all&q=gutter",
                                 HTTP_HX_REQUEST="true")
    assert "Gutter clean" in response.content.decode()
    assert "<html" not in response.content.decode()


def test_it_creates_a_plan_from_the_picker_and_raises_its_work(
        office_client, customer, site, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = office_client.post(reverse("plans:create"), form_data(customer, site))
    plan = MaintenancePlan.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("plans:detail", args=[plan.pk])
    assert plan.rrule == "FREQ=MONTHLY;BYDAY=1MO"
    assert plan.start_time == dt.time(8, 30)
    assert plan.title == "Boiler service"
    assert plan.checklist == [
        {"label": "Flue clear", "kind": "yes_no", "required": True},
        {"label": "Pressure", "kind": "number", "required": False},
    ]
    assert plan.occurrences.count() == 3  # 6 Jan, 3 Feb and 3 Mar
    first = plan.occurrences.select_related("visit").first()
    assert first.visit.start == dt.datetime(2025, 1, 6, 8, 30, tzinfo=CHICAGO)
    html = office_client.get(response["Location"]).content.decode()
    assert first.work_order.reference in html and "Monthly on the first Monday" in html


@pytest.mark.parametrize(("overrides", "field", "says"), [
    ({"advanced_rrule": "FREQ=SOMETIMES"}, "advanced_rrule", "daily, weekly, monthly"),
    ({"advanced_rrule": "FREQ=DAILY;BYHOUR=9"}, "advanced_rrule", "start time sets"),
    ({"interval": "0"}, "interval", "greater than or equal to 1"),
    ({"end_date": "2024-12-01"}, "end_date", "must not be before the first"),
    ({"checklist": "Flue | colour | required"}, "checklist", "Line 1: the kind"),
    ({"horizon_days": "0"}, "horizon_days", "greater than or equal to 1"),
    ({"name": ""}, "name", "required"),
])
def test_bad_input_is_shown_next_to_its_field(office_client, customer, site, overrides, field,
                                              says):
    response = office_client.post(reverse("plans:create"), form_data(customer, site,
                                                                     **overrides))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors and says in " ".join(errors[field])
    assert not MaintenancePlan.objects.exists()


def test_a_site_of_another_customer_is_refused(office_client, customer, org):
    other_site = SiteFactory(customer=CustomerFactory(organization=org))
    response = office_client.post(reverse("plans:create"), form_data(customer, other_site))
    assert response.status_code == 400
    assert "site" in response.context["form"].errors


def test_the_advanced_rule_wins_over_the_picker(office_client, customer, site):
    office_client.post(reverse("plans:create"), form_data(
        customer, site, advanced_rrule="rrule:freq=monthly;bysetpos=-1;byday=mo,tu,we,th,fr"))
    assert MaintenancePlan.objects.get().rrule == "FREQ=MONTHLY;BYSETPOS=-1;BYDAY=MO,TU,WE,TH,FR"


def test_the_create_form_is_prefilled_from_the_customer_and_site(office_client, customer,
                                                                  site):
    response = office_client.get(reverse("plans:create") + f"?customer={customer.pk}"
                                 f"&site={site.pk}")
    form = response.context["form"]
    assert form.initial["customer"] == customer and form.initial["site"] == site
    assert f'<option value="{site.pk}" selected>' in response.content.decode()


def test_the_create_form_ignores_another_organizations_customer(office_client, other_org):
    stranger = CustomerFactory(organization=other_org)
    response = office_client.get(reverse("plans:create") + f"?customer={stranger.pk}")
    assert response.status_code == 200 and "customer" not in response.context["form"].initial


def test_editing_prefills_the_picker_and_saves(office_client, plan, customer, site,
                                               django_capture_on_commit_callbacks):
    response = office_client.get(reverse("plans:edit", args=[plan.pk]))
    form = response.context["form"]
    assert form.initial["freq"] == "WEEKLY" and form.initial["weekdays"] == ["TH"]
    with django_capture_on_commit_callbacks(execute=True):
        response = office_client.post(reverse("plans:edit", args=[plan.pk]), form_data(
            customer, site, name=plan.name, freq="WEEKLY", weekdays=["TH"],
            start_time="14:00", horizon_days="20", title="Renamed"))
    assert response.status_code == 302
    wo = plan.occurrences.select_related("work_order", "visit").first()
    assert wo.work_order.title == "Renamed"
    assert wo.visit.start.astimezone(CHICAGO).time() == dt.time(14, 0)
    assert AuditLog.objects.filter(action="plan.update").exists()


def test_a_rule_the_picker_cannot_say_goes_to_the_advanced_field(office_client, make_plan):
    plan = make_plan(rrule="FREQ=MONTHLY;BYSETPOS=-1;BYDAY=MO,FR")
    form = office_client.get(reverse("plans:edit", args=[plan.pk])).context["form"]
    assert form.initial["advanced_rrule"] == "FREQ=MONTHLY;BYSETPOS=-1;BYDAY=MO,FR"


def test_the_plan_page_lists_upcoming_work_and_dates_not_raised_yet(office_client, plan):
    response = office_client.get(reverse("plans:detail", args=[plan.pk]))
    html = response.content.decode()
    wo = plan.occurrences.select_related("work_order").first().work_order
    assert reverse("workorders:detail", args=[wo.number]) in html
    assert html.count('name="date"') >= 5
    assert "Not raised yet" in html
    assert [r.date for r in response.context["upcoming"]][:3] == [
        dt.date(2025, 1, 2), dt.date(2025, 1, 9), dt.date(2025, 1, 16)]


def test_the_plan_page_shows_past_dates(office_client, plan, time_machine):
    time_machine.move_to(dt.datetime(2025, 1, 12, 8, 0, tzinfo=CHICAGO), tick=False)
    response = office_client.get(reverse("plans:detail", args=[plan.pk]))
    assert [r.date for r in response.context["past"]] == [dt.date(2025, 1, 9),
                                                          dt.date(2025, 1, 2)]


def test_skip_pause_resume_and_end_from_the_plan_page(office_client, plan,
                                                      django_capture_on_commit_callbacks):
    url = reverse("plans:detail", args=[plan.pk])
    response = office_client.post(reverse("plans:skip", args=[plan.pk]), {"date": "2025-01-09"})
    assert response.status_code == 302 and response["Location"] == url
    skipped = plan.occurrences.select_related("work_order").get(date=dt.date(2025, 1, 9))
    assert skipped.skipped and skipped.work_order.status == Status.CANCELLED
    response = office_client.post(reverse("plans:skip", args=[plan.pk]), {"date": "2025-01-10"})
    assert "not a date of this plan" in office_client.get(url).content.decode()

    office_client.post(reverse("plans:pause", args=[plan.pk]))
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PAUSED
    with django_capture_on_commit_callbacks(execute=True):
        office_client.post(reverse("plans:resume", args=[plan.pk]))
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACTIVE
    office_client.post(reverse("plans:end", args=[plan.pk]))
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ENDED
    assert not plan.occurrences.filter(work_order__status=Status.SCHEDULED).exists()
    # Ending twice says why it cannot.
    office_client.post(reverse("plans:end", args=[plan.pk]))
    assert "cannot be ended" in office_client.get(url).content.decode()


def test_get_is_not_allowed_on_actions(office_client, plan):
    for name in ("pause", "resume", "end", "skip"):
        assert office_client.get(reverse(f"plans:{name}", args=[plan.pk])).status_code == 405


def test_the_preview_says_the_rule_and_its_next_dates(office_client):
    response = office_client.get(reverse("plans:preview"), {
        "freq": "MONTHLY", "interval": "3", "monthly_on": "date", "start_date": "2025-01-15"})
    html = response.content.decode()
    assert "Every 3 months" in html and "Tue 15 Apr 2025" in html
    response = office_client.get(reverse("plans:preview"), {
        "freq": "MONTHLY", "interval": "1", "monthly_on": "date", "start_date": "2025-01-15",
        "advanced_rrule": "FREQ=NEVER"})
    assert "daily, weekly, monthly or yearly" in response.content.decode()


def test_the_nav_links_to_plans_for_the_office_only(office_client, tech_client):
    assert reverse("plans:list") in office_client.get(reverse("plans:list")).content.decode()
    assert reverse("plans:list") not in tech_client.get("/").content.decode()
