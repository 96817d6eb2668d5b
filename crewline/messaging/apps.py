from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _queue_sweep(sender, using="default", **kwargs) -> None:
    # After migrate (which `crewline run` does on every start) the task table exists: make sure
    # the periodic send of due messages is waiting. No database work happens in ready() itself.
    if using != "default":
        return
    from crewline.messaging.tasks import ensure_sweep

    ensure_sweep()


class MessagingConfig(AppConfig):
    name = "crewline.messaging"
    label = "messaging"
    verbose_name = _("Messages to customers")

    def ready(self) -> None:
        from crewline.messaging import receivers  # noqa: F401

        post_migrate.connect(_queue_sweep, sender=self,
                             dispatch_uid="crewline.messaging.queue_sweep")
