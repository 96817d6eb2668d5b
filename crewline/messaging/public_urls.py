"""Under /p/ beside the portal's own pages: the feedback page opened by a portal link."""

from django.urls import path

from crewline.messaging import public_views

app_name = "messaging_public"

urlpatterns = [
    path("<str:token>/feedback/<int:number>/", public_views.feedback, name="feedback"),
]
