from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "crewline.api"
    label = "api"
    verbose_name = "API"
