from django.urls import path

from crewline.documents import views

app_name = "documents"

urlpatterns = [
    path("work-orders/<int:number>/reports/", views.report_list, name="report_list"),
    path("work-orders/<int:number>/reports/new/", views.report_generate, name="report_generate"),
    path("reports/<int:pk>/", views.report_download, name="report_download"),
    path("reports/<int:pk>/email/", views.report_email, name="report_email"),
]
