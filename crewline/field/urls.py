from django.urls import path

from crewline.field import app_views, views

app_name = "field"

urlpatterns = [
    path("", app_views.app, name="app"),
    path("manifest.webmanifest", app_views.manifest, name="manifest"),
    path("sw.js", app_views.service_worker, name="sw"),
    path("words/<str:language>.js", app_views.catalogue, name="catalogue"),
    path("api/me", views.me, name="me"),
    path("api/devices/", views.device_register, name="device_register"),
    path("api/push", views.push, name="push"),
    path("api/pull", views.pull, name="pull"),
    path("api/uploads", views.upload, name="upload"),
    path("api/files/<int:pk>/", views.file, name="file"),
    path("settings/", views.settings, name="settings"),
    path("rejected/", views.rejected_list, name="rejected_list"),
    path("rejected/<int:pk>/resolve/", views.rejected_resolve, name="rejected_resolve"),
    path("devices/<uuid:pk>/revoke/", views.device_revoke, name="device_revoke"),
]
