"""The customer's portal: no account, the link's token is the key."""

from django.urls import path

from crewline.portal import public_views

app_name = "portal_public"

urlpatterns = [
    path("new-link/", public_views.request_link, name="request_link"),
    path("request/<slug:slug>/", public_views.request_form, name="request_form"),
    path("request/<slug:slug>/embed/", public_views.request_embed, name="request_embed"),
    path("track/<str:token>/", public_views.track, name="track"),
    path("track/<str:token>/state/", public_views.track_state, name="track_state"),
    path("<str:token>/", public_views.home, name="home"),
    path("<str:token>/request/", public_views.portal_request, name="portal_request"),
    path("<str:token>/times/<int:pk>/", public_views.window_pick, name="window_pick"),
    path("<str:token>/visits/<int:pk>/", public_views.portal_track, name="portal_track"),
    path("<str:token>/visits/<int:pk>/state/", public_views.portal_track_state,
         name="portal_track_state"),
    path("<str:token>/quotes/<int:pk>/", public_views.quote, name="quote"),
    path("<str:token>/quotes/<int:pk>/pdf/", public_views.quote_pdf, name="quote_pdf"),
    path("<str:token>/invoices/<int:pk>/pdf/", public_views.invoice_pdf, name="invoice_pdf"),
    path("<str:token>/reports/<int:pk>/", public_views.report_pdf, name="report_pdf"),
]
