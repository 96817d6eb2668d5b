from django.urls import include, path, re_path

from crewline.api.problems import not_found_view
from crewline.api.routes import api
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
    path("p/", include("crewline.messaging.public_urls")),
    path("p/", include("crewline.portal.public_urls")),
    path("messages/hooks/", include("crewline.messaging.hook_urls")),
    path("", include("crewline.messaging.urls")),
    path("portal/", include("crewline.portal.urls")),
    path("documents/", include("crewline.documents.urls")),
    path("dashboard/", include("crewline.dashboard.urls")),
    path("timesheets/", include("crewline.timesheets.urls")),
    path("settings/api-keys/", include("crewline.api.urls")),
    path("settings/webhooks/", include("crewline.webhooks.urls")),
    path("api/v1/", api.urls),
    # Anything else under the API is answered as the API answers, not with an HTML page.
    re_path(r"^api/v1/", not_found_view),
]

handler403 = "crewline.core.views.permission_denied"
handler404 = "crewline.core.views.page_not_found"
