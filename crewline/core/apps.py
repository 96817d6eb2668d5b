from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "crewline.core"
    label = "core"
    verbose_name = _("Organizations and people")

    def ready(self) -> None:
        # Month abbreviations written as each language does ("3 dic"), in every format.
        import crewline.formats  # noqa: F401
