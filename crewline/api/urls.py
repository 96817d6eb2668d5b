from django.urls import path

from crewline.api import views

app_name = "api"

urlpatterns = [
    path("", views.keys, name="keys"),
    path("<int:pk>/revoke/", views.key_revoke, name="key_revoke"),
    path("<int:pk>/limit/", views.key_limit, name="key_limit"),
    path("export/", views.data_export, name="export"),
]
