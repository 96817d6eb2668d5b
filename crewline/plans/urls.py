from django.urls import path

from crewline.plans import views

app_name = "plans"

urlpatterns = [
    path("", views.plan_list, name="list"),
    path("new/", views.plan_create, name="create"),
    path("preview/", views.rule_preview, name="preview"),
    path("<int:pk>/", views.plan_detail, name="detail"),
    path("<int:pk>/edit/", views.plan_edit, name="edit"),
    path("<int:pk>/pause/", views.plan_pause, name="pause"),
    path("<int:pk>/resume/", views.plan_resume, name="resume"),
    path("<int:pk>/end/", views.plan_end, name="end"),
    path("<int:pk>/skip/", views.occurrence_skip, name="skip"),
]
