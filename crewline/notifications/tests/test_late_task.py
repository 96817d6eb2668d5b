"""The periodic late visit check: every organization, and always one next run waiting."""

from __future__ import annotations

import datetime as dt

import pytest

from crewline.factories import CustomerFactory, SiteFactory
from crewline.notifications import services, tasks
from crewline.notifications.models import Notification
from crewline.workorders.services import visit_add, work_order_create

from .conftest import local

pytestmark = pytest.mark.django_db
NOW = local(2026, 11, 20, 10, 1)
END = local(2026, 11, 20, 10)


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)


def late_visit(organization, by, *, end=END):
    customer = CustomerFactory(organization=organization)
    wo = work_order_create(organization=organization, by=by, customer=customer,
                           site=SiteFactory(customer=customer), title="Boiler service")
    return visit_add(work_order=wo, by=by, start=end - dt.timedelta(hours=1), end=end,
                     override=True)


def test_the_task_tells_the_office_of_every_organization(org, owner, office, outsider):
    late_visit(org, office)
    late_visit(outsider.organization, outsider)
    late_visit(org, office, end=local(2026, 11, 20, 11))  # not late yet

    result = tasks.late_visits_check.enqueue()
    assert result.return_value == {"organizations": 2, "notified": 2, "failed": 0}
    assert sorted(Notification.objects.filter(kind="job_late")
                  .values_list("recipient__user__email", flat=True)) == sorted(
        [owner.user.email, office.user.email, outsider.user.email])
    # The next run tells nobody again.
    assert tasks.late_visits_check.enqueue().return_value["notified"] == 0


def test_one_failing_organization_does_not_stop_the_others(org, office, outsider,
                                                           monkeypatch):
    late_visit(org, office)
    late_visit(outsider.organization, outsider)
    real = services.late_visits_notify

    def flaky(*, organization, now):
        if organization.pk == org.pk:
            raise RuntimeError("boom")
        return real(organization=organization, now=now)

    monkeypatch.setattr(services, "late_visits_notify", flaky)
    assert tasks.check_late_visits_now() == {"organizations": 1, "notified": 1, "failed": 1}


def test_the_immediate_backend_gets_no_periodic_check():
    assert tasks.ensure_late_check() is False


def test_the_database_backend_keeps_exactly_one_check_waiting(settings, org, office):
    from django_tasks_db.models import DBTaskResult

    # django-tasks rereads TASKS when the setting changes.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    assert tasks.late_visits_check.get_backend().supports_defer
    assert tasks.ensure_late_check() is True
    assert tasks.ensure_late_check() is False
    waiting = DBTaskResult.objects.get(
        task_path="crewline.notifications.tasks.late_visits_check")
    assert waiting.run_after == NOW + tasks.LATE_CHECK_EVERY
    # The check itself queues the next one when it finishes (here it runs in-process, after
    # the waiting row was taken by a worker).
    late_visit(org, office)
    waiting.delete()
    assert tasks.late_visits_check.call()["notified"] == 1
    waiting = DBTaskResult.objects.filter(status="READY",
                                          task_path__endswith="late_visits_check")
    assert [w.run_after for w in waiting] == [NOW + tasks.LATE_CHECK_EVERY]


def test_a_failing_check_still_queues_the_next_one(settings, monkeypatch):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

    def broken(now=None):
        raise RuntimeError("database went away")

    monkeypatch.setattr(tasks, "check_late_visits_now", broken)
    with pytest.raises(RuntimeError):
        tasks.late_visits_check.call()
    assert DBTaskResult.objects.filter(status="READY",
                                       task_path__endswith="late_visits_check").count() == 1


def test_migrate_queues_the_periodic_check(settings, db):
    from django.apps import apps
    from django.db.models.signals import post_migrate
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    config = apps.get_app_config("notifications")
    post_migrate.send(sender=config, app_config=config, verbosity=0, interactive=False,
                      using="default", apps=apps, plan=[])
    assert DBTaskResult.objects.filter(task_path__endswith="late_visits_check",
                                       status="READY").count() == 1
