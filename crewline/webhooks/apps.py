from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _queue_sweep(sender, using="default", **kwargs) -> None:
    # After migrate (which `crewline run` does on every start) the task table exists: make sure
    # the periodic delivery sweep is waiting. No database work happens in ready() itself.
    if using != "default":
        return
    from crewline.webhooks.tasks import ensure_sweep

    ensure_sweep()


class WebhooksConfig(AppConfig):
    name = "crewline.webhooks"
    label = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        post_migrate.connect(_queue_sweep, sender=self,
                             dispatch_uid="crewline.webhooks.queue_sweep")
