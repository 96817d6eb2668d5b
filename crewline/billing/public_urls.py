"""The customer's quote page: no account, the link's token is the key."""

from django.urls import path

from crewline.billing import public_views

app_name = "billing_public"

urlpatterns = [
    path("<str:token>/", public_views.quote_public, name="quote"),
    path("<str:token>/pdf/", public_views.quote_public_pdf, name="quote_pdf"),
]
