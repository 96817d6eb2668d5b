from django.urls import path

from crewline.calendars import views

app_name = "calendars"

urlpatterns = [
    path("", views.feed_settings, name="settings"),
    path("mine/new/", views.regenerate, name="regenerate"),
    path("mine/revoke/", views.revoke, name="revoke"),
    path("office/new/", views.office_regenerate, name="office_regenerate"),
    path("office/revoke/", views.office_revoke, name="office_revoke"),
    path("<str:token>.ics", views.feed, name="feed"),
]
