from django.urls import path

from crewline.workorders import views

app_name = "workorders"

urlpatterns = [
    path("", views.work_order_list, name="list"),
    path("new/", views.work_order_create, name="create"),
    path("my-visits/", views.my_visits, name="my_visits"),
    path("site-options/", views.site_options, name="site_options"),
    path("customer-options/", views.customer_options, name="customer_options"),
    path("files/<int:pk>/", views.attachment_download, name="attachment"),
    path("entries/<int:pk>/visibility/", views.entry_visibility, name="entry_visibility"),
    path("<int:number>/", views.work_order_detail, name="detail"),
    path("<int:number>/edit/", views.work_order_edit, name="edit"),
    path("<int:number>/timeline/", views.timeline_older, name="timeline_older"),
    path("<int:number>/live/", views.live_parts, name="live_parts"),
    path("<int:number>/visits/", views.visit_add, name="visit_add"),
    path("<int:number>/notes/", views.note_add, name="note_add"),
    path("<int:number>/files/", views.attachment_add, name="attachment_add"),
    path("<int:number>/parts/", views.part_add, name="part_add"),
    path("<int:number>/labor/", views.labor_set, name="labor_set"),
    path("<int:number>/<slug:action>/", views.work_order_transition, name="transition"),
]
