"""The SMS provider's callbacks (no session, no CSRF token: the provider's signature)."""

from django.urls import path

from crewline.messaging import public_views

app_name = "messaging_hooks"

urlpatterns = [
    path("twilio/status/", public_views.twilio_status, name="twilio_status"),
    path("twilio/inbound/", public_views.twilio_inbound, name="twilio_inbound"),
]
