from django.urls import path  # noqa: F401

from crewline.scheduling import availability_views, plan_views
from crewline.scheduling import views as board_views

app_name = "scheduling"

urlpatterns: list = [
    path("availability/", availability_views.availability_summary,
         name="availability_summary"),
    path("availability/<int:pk>/", availability_views.availability_member,
         name="availability"),
    path("availability/<int:pk>/time-off/", availability_views.time_off_add,
         name="time_off_add"),
    path("availability/time-off/<int:pk>/delete/", availability_views.time_off_delete,
         name="time_off_delete"),
    path("", board_views.board, name="board"),
    path("day-plans/", plan_views.plan_propose, name="route_plan_propose"),
    path("day-plans/<int:pk>/", plan_views.plan_show, name="route_plan"),
    path("day-plans/<int:pk>/apply/", plan_views.plan_apply, name="route_plan_apply"),
    path("day-plans/<int:pk>/undo/", plan_views.plan_undo, name="route_plan_undo"),
    path("plan/", board_views.schedule, name="schedule"),
    path("visits/<int:pk>/move/", board_views.visit_move, name="visit_move"),
    path("work-orders/<int:number>/place/", board_views.visit_place, name="visit_place"),
]
