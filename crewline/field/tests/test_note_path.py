"""The walk of a phone's note to the office's page and the job report, traced: the modules of
the apps it passes (not the shared plumbing of every request: ``crewline.core``, models,
template tags, formats, context processors) are the ones DEVELOPERS.md names ("A note's
path"), and no more."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from django.urls import reverse

from crewline.field.tests.conftest import new_id
from crewline.live.models import Change

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PLUMBING = ("core/", "formats/")

# DEVELOPERS.md, "A note's path". The stream's own module (live/views.py) carries the change
# to the open page and is tried in live/tests/test_stream.py; it is not traced here.
TO_THE_OFFICE = ["field/views.py", "field/services/push.py", "workorders/timeline.py",
                 "live/services.py", "webhooks/outbox.py", "live/broker.py",
                 "workorders/views.py", "workorders/selectors.py"]
TO_THE_REPORT = ["documents/reports.py", "documents/rendering.py", "workorders/selectors.py"]


def _importing(frame, outer) -> bool:
    """Whether ``frame`` runs as part of a module's first import since ``outer`` (its body, the
    decorators it applies: a template library that the first page a process renders loads),
    which is not a step of the path, and is seen only when the test runs first."""
    while frame is not None and frame is not outer:
        if frame.f_code.co_name == "<module>":
            return True
        frame = frame.f_back
    return False


def _modules(run) -> list[str]:
    """The app modules whose functions ``run`` calls, in the order first called."""
    seen: dict[str, None] = {}

    def profile(frame, event, arg):
        if event != "call" or _importing(frame, outer):
            return
        path = frame.f_code.co_filename
        if not path.startswith(str(ROOT)):
            return
        name = Path(path).relative_to(ROOT).as_posix()
        if (name.startswith(PLUMBING) or "/tests/" in name or "/migrations/" in name
                or name.endswith(("models.py", "context_processors.py", "__init__.py"))
                or "/templatetags/" in name):
            return
        seen.setdefault(name, None)

    outer = sys._getframe()
    sys.setprofile(profile)
    try:
        run()
    finally:
        sys.setprofile(None)
    return list(seen)


def test_a_phones_note_walks_the_documented_path(phone, make_visit, technician,
                                                  office_client,
                                                  django_capture_on_commit_callbacks):
    from crewline.documents.reports import render_job_report

    visit = make_visit(crew=[technician])
    phone.send("visit_arrive", visit_id=visit.pk)

    def push():
        with django_capture_on_commit_callbacks(execute=True):
            result = phone.send("note_add", visit_id=visit.pk, client_id=new_id(),
                                body="Found the leak under the sink")
        assert result["status"] == "applied"

    pushed = _modules(push)
    change = Change.objects.get(payload__kind="note")
    part = reverse("workorders:live_parts", args=[visit.work_order.number])

    def office():
        response = office_client.get(part, {"what": "timeline", "entry": change.payload["entry"]})
        assert "Found the leak under the sink" in response.content.decode()

    shown = _modules(office)
    reported = _modules(lambda: render_job_report(visit.work_order, version=1))
    assert sorted({*pushed, *shown}) == sorted(TO_THE_OFFICE)
    assert sorted(reported) == sorted(TO_THE_REPORT)
