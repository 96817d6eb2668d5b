from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _queue_daily_run(sender, using="default", **kwargs) -> None:
    # After migrate (which `crewline run` does on every start) the task table exists: make sure
    # the daily plan run is waiting. No database work happens in ready() itself.
    if using != "default":
        return
    from crewline.plans.tasks import ensure_daily_run

    ensure_daily_run()


class PlansConfig(AppConfig):
    name = "crewline.plans"
    label = "plans"
    verbose_name = _("Maintenance plans")

    def ready(self) -> None:
        post_migrate.connect(_queue_daily_run, sender=self,
                             dispatch_uid="crewline.plans.queue_daily_run")
