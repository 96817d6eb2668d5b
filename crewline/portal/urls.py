from django.urls import path

from crewline.portal import views

app_name = "portal"

urlpatterns = [
    path("customers/<int:pk>/send/", views.link_send, name="link_send"),
    path("customers/<int:pk>/revoke/", views.links_revoke, name="links_revoke"),
    path("requests/<int:pk>/confirm/", views.request_confirm, name="request_confirm"),
    path("work-orders/<int:number>/offer/", views.windows_offer, name="windows_offer"),
    path("work-orders/<int:number>/withdraw/", views.windows_withdraw,
         name="windows_withdraw"),
]
