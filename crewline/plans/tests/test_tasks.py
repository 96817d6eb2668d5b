import datetime as dt
import io
import zoneinfo

import pytest
from django.core.management import call_command

from crewline.plans import tasks
from crewline.plans.services import plan_pause
from crewline.workorders.models import WorkOrder

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(dt.datetime(2025, 1, 2, 8, 0, tzinfo=CHICAGO), tick=False)


def test_the_task_generates_every_active_plan_of_every_organization(make_plan, office,
                                                                    outsider):
    from crewline.factories import CustomerFactory, SiteFactory
    from crewline.plans.services import plan_create

    active = make_plan(rrule="FREQ=WEEKLY", start_date=dt.date(2025, 1, 2), horizon_days=6)
    paused = make_plan(name="Paused", rrule="FREQ=WEEKLY", start_date=dt.date(2025, 1, 2))
    plan_pause(plan=paused, by=office)
    stranger = CustomerFactory(organization=outsider.organization)
    theirs = plan_create(organization=outsider.organization, by=outsider, customer=stranger,
                         site=SiteFactory(customer=stranger), name="Theirs",
                         rrule="FREQ=MONTHLY", start_date=dt.date(2025, 1, 3),
                         horizon_days=6)

    result = tasks.plans_generate_all.enqueue()
    assert result.return_value == {"plans": 2, "created": 2, "updated": 0, "cancelled": 0,
                                   "failed": 0}
    assert active.occurrences.count() == 1 and theirs.occurrences.count() == 1
    assert not paused.occurrences.exists()
    assert WorkOrder.objects.get(organization=outsider.organization).due_date == \
        dt.date(2025, 1, 3)
    # Idempotent: the next run raises nothing.
    assert tasks.plans_generate_all.enqueue().return_value["created"] == 0


def test_one_failing_plan_does_not_stop_the_others(make_plan, monkeypatch):
    from crewline.plans import services

    first = make_plan(name="A", rrule="FREQ=WEEKLY", start_date=dt.date(2025, 1, 2))
    make_plan(name="B", rrule="FREQ=WEEKLY", start_date=dt.date(2025, 1, 2))
    real = services.plan_generate

    def flaky(*, plan, today=None):
        if plan.pk == first.pk:
            raise RuntimeError("boom")
        return real(plan=plan, today=today)

    monkeypatch.setattr(services, "plan_generate", flaky)
    totals = tasks.generate_all()
    assert totals["failed"] == 1 and totals["plans"] == 1 and totals["created"] > 0


def test_the_plan_task_generates_one_plan_and_ignores_a_deleted_one(make_plan):
    plan = make_plan(rrule="FREQ=WEEKLY", start_date=dt.date(2025, 1, 2), horizon_days=13)
    assert tasks.plan_generate_task.enqueue(plan.pk).return_value["created"] == 2
    assert tasks.plan_generate_task.enqueue(999999).return_value["created"] == 0


def test_the_command_runs_now_or_queues(make_plan):
    plan = make_plan(rrule="FREQ=WEEKLY", start_date=dt.date(2025, 1, 2), horizon_days=6)
    out = io.StringIO()
    call_command("plans_generate", "--now", stdout=out)
    assert "1 plans: 1 work orders raised" in out.getvalue()
    assert plan.occurrences.count() == 1
    out = io.StringIO()
    call_command("plans_generate", stdout=out)  # the immediate backend runs it at once
    assert "Queued maintenance plan run" in out.getvalue()
    assert plan.occurrences.count() == 1


def test_the_next_daily_run_is_at_two_in_the_morning():
    assert tasks.next_run_time(dt.datetime(2025, 1, 2, 1, 0, tzinfo=dt.UTC)) == \
        dt.datetime(2025, 1, 2, 2, 0, tzinfo=dt.UTC)
    assert tasks.next_run_time(dt.datetime(2025, 1, 2, 2, 0, tzinfo=dt.UTC)) == \
        dt.datetime(2025, 1, 3, 2, 0, tzinfo=dt.UTC)


def test_the_immediate_backend_gets_no_daily_run():
    assert tasks.ensure_daily_run() is False


def test_the_database_backend_keeps_exactly_one_daily_run_waiting(settings, make_plan):
    from django_tasks_db.models import DBTaskResult

    # django-tasks rereads TASKS when the setting changes.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    assert tasks.plans_generate_all.get_backend().supports_defer
    assert tasks.ensure_daily_run() is True
    assert tasks.ensure_daily_run() is False
    waiting = DBTaskResult.objects.get(task_path="crewline.plans.tasks.plans_generate_all")
    assert waiting.run_after == dt.datetime(2025, 1, 3, 2, 0, tzinfo=dt.UTC)
    # The daily run itself queues the next one when it finishes (here it runs in-process,
    # after the waiting row was taken by a worker).
    plan = make_plan(rrule="FREQ=WEEKLY", start_date=dt.date(2025, 1, 2), horizon_days=6)
    waiting.delete()
    assert tasks.plans_generate_all.call()["created"] == 1
    assert plan.occurrences.count() == 1
    assert DBTaskResult.objects.filter(status="READY", task_path__endswith="plans_generate_all"
                                       ).count() == 1


def test_migrate_queues_the_daily_run(settings, db):
    from django.apps import apps
    from django.db.models.signals import post_migrate
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    post_migrate.send(sender=apps.get_app_config("plans"), app_config=apps.get_app_config(
        "plans"), verbosity=0, interactive=False, using="default", apps=apps, plan=[])
    assert DBTaskResult.objects.filter(task_path__endswith="plans_generate_all",
                                       status="READY").count() == 1
