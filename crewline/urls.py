from django.urls import include, path

from crewline.core.urls import root_patterns

urlpatterns = [
    *root_patterns,
    path("", include("crewline.core.urls")),
    path("customers/", include("crewline.customers.urls")),
    path("work-orders/", include("crewline.workorders.urls")),
    path("schedule/", include("crewline.scheduling.urls")),
    path("plans/", include("crewline.plans.urls")),
    path("notifications/", include("crewline.notifications.urls")),
    path("calendar/", include("crewline.calendars.urls")),
    path("field/", include("crewline.field.urls")),
    path("billing/", include("crewline.billing.urls")),
    path("live/", include("crewline.live.urls")),
    path("q/", include("crewline.billing.public_urls")),
    path("documents/", include("crewline.documents.urls")),
    path("dashboard/", include("crewline.dashboard.urls")),
    path("timesheets/", include("crewline.timesheets.urls")),
]

handler403 = "crewline.core.views.permission_denied"
handler404 = "crewline.core.views.page_not_found"
