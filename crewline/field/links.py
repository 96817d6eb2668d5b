"""Links into the technician app from outside it (calendar feeds, emails, Web Push).

The app routes by the URL's fragment (``#visit/12``), but a fragment never reaches the server:
a technician who is not logged in is sent to log in and back without it, and lands on the day
view. These links carry the visit in the query (``/field/?visit=12``), which the login redirect
keeps; the app turns it into its ``#visit/12`` route when it opens."""

from __future__ import annotations

from django.urls import reverse
from django.utils.http import urlencode


def app_visit_path(visit_id: int) -> str:
    """The technician app's path that opens visit ``visit_id``."""
    return reverse("field:app") + "?" + urlencode({"visit": int(visit_id)})
