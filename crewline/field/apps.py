from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FieldConfig(AppConfig):
    name = "crewline.field"
    label = "field"
    verbose_name = _("Technician app and sync")

    def ready(self) -> None:
        from crewline.field import receivers  # noqa: F401
