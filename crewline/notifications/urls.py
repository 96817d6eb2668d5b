from django.urls import path

from crewline.notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list, name="list"),
    path("bell/", views.bell, name="bell"),
    path("read-all/", views.mark_all_read, name="read_all"),
    path("email/", views.email_settings, name="email_settings"),
    path("push-subscription/", views.push_subscription, name="push_subscription"),
    path("<int:pk>/", views.notification_open, name="open"),
    path("<int:pk>/read/", views.mark_read, name="read"),
]
