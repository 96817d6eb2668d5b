from django.urls import path

from crewline.timesheets import views

app_name = "timesheets"

urlpatterns = [
    path("", views.overview, name="list"),
    path("export.csv", views.export, name="export"),
    path("settings/", views.settings_edit, name="settings"),
    path("me/", views.my_week, name="my_week_now"),
    path("me/<str:week>/", views.my_week, name="my_week"),
    path("entries/<int:pk>/edit/", views.entry_edit, name="entry_edit"),
    path("entries/<int:pk>/delete/", views.entry_delete, name="entry_delete"),
    path("<int:pk>/<str:week>/", views.week, name="week"),
    path("<int:pk>/<str:week>/add/", views.entry_add, name="entry_add"),
    path("<int:pk>/<str:week>/approve/", views.approve, name="approve"),
    path("<int:pk>/<str:week>/reopen/", views.reopen, name="reopen"),
]
