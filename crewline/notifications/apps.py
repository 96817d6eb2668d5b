from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _queue_late_check(sender, using="default", **kwargs) -> None:
    # After migrate (which `crewline run` does on every start) the task table exists: make sure
    # the periodic late visit check is waiting. No database work happens in ready() itself.
    if using != "default":
        return
    from crewline.notifications.tasks import ensure_late_check

    ensure_late_check()


class NotificationsConfig(AppConfig):
    name = "crewline.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from crewline.notifications import receivers  # noqa: F401

        post_migrate.connect(_queue_late_check, sender=self,
                             dispatch_uid="crewline.notifications.queue_late_check")
