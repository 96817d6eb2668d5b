from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LiveConfig(AppConfig):
    name = "crewline.live"
    label = "live"
    verbose_name = _("Changes and live updates")

    def ready(self) -> None:
        from crewline.live import broker

        broker.get_broker()  # a bad LIVE_BROKER stops the process at start-up
