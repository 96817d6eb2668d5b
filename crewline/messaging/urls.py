from django.urls import path

from crewline.messaging import views

app_name = "messaging"

urlpatterns = [
    path("settings/messages/", views.settings_page, name="settings"),
    path("messages/<int:pk>/", views.message_detail, name="detail"),
]
