from django.urls import path

from crewline.webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("", views.endpoints, name="list"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/rotate/", views.rotate, name="rotate"),
    path("<int:pk>/test/", views.test_send, name="test"),
    path("<int:pk>/replay/", views.replay, name="replay"),
    path("<int:pk>/delete/", views.delete, name="delete"),
]
