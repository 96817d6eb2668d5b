"""The technician app in Chromium at phone size: a whole visit done offline, the page reloaded
offline, the browser closed, opened again online — and the server ends with exactly one of each
change, in order, on the right visit."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from crewline.conftest import PASSWORD
from crewline.field.models import Upload
from crewline.timesheets.models import TimeEntry
from crewline.workorders.models import EntryKind, TimelineEntry, VisitStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 740}
SHOTS = Path(__file__).resolve().parents[3] / "var" / "shots"
CHECKLIST = [{"label": "Filter replaced", "kind": "yes_no", "required": True},
             {"label": "Pressure (bar)", "kind": "number", "required": False}]


def jpeg(color: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (2400, 1800), color).save(out, "JPEG", quality=70)
    return out.getvalue()


@pytest.fixture
def phone(chromium, live_server):
    context = chromium.new_context(viewport=PHONE, device_scale_factor=1, has_touch=True,
                                   geolocation={"latitude": 41.88, "longitude": -87.63})
    context.grant_permissions(["geolocation"], origin=live_server.url)
    context.base = live_server.url
    yield context
    context.close()


def open_app(context):
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(context.base + "/field/")
    page.wait_for_selector("body[data-ready='1']")
    return page


def pending(page) -> str:
    return page.inner_text("[data-testid=pending]")


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"field-{name}.png"), full_page=False)


def test_it_keeps_a_visit_done_offline_and_sends_it_exactly_once(phone, technician, owner,
                                                                 make_visit):
    from decimal import Decimal

    from crewline.billing.services import price_item_create

    valve = price_item_create(organization=technician.organization, by=owner, code="ZV-34",
                              name="Zone valve 3/4in", unit="each", unit_price=Decimal("38"))
    visit = make_visit(crew=[technician], checklist=CHECKLIST, title="No heat in surgery 2")
    make_visit(crew=[technician], days=1, title="Annual boiler service")

    page = phone.new_page()
    page.set_default_timeout(15_000)
    page.goto(phone.base + "/login/")
    page.fill("input[name=username]", technician.user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/field/$"))
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_selector(f"[data-visit='{visit.pk}']")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    assert pending(page) == "All sent"
    shot(page, "my-day")
    page.click(f"[data-visit='{visit.pk}'] .field-visit-link")
    page.wait_for_selector("[data-testid=visit-status]")
    shot(page, "visit")
    page.click("a[href='#']:has-text('My day')")

    phone.set_offline(True)
    page.click("[data-do=clock_in]")
    page.wait_for_selector("[data-do=clock_out]")
    page.click(f"[data-visit='{visit.pk}'] .field-visit-link")
    page.wait_for_selector("[data-testid=visit-status]")
    page.click("[data-do=visit_en_route]")
    page.wait_for_selector("[data-testid=visit-status]:has-text('On the way')")
    page.click("[data-do=visit_arrive]")
    page.wait_for_selector("[data-testid=visit-status]:has-text('On site')")
    page.fill("form[data-form=note] textarea", "Replaced the zone valve")
    page.click("form[data-form=note] button")
    page.wait_for_selector("[data-testid=timeline] [data-kind=note]")
    page.set_input_files("[data-testid=gallery]", [
        {"name": "before.jpg", "mimeType": "image/jpeg", "buffer": jpeg("red")},
        {"name": "after.jpg", "mimeType": "image/jpeg", "buffer": jpeg("blue")},
    ])
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=photos] .field-thumb').length === 2")
    page.click("[data-item='0'] [data-do=answer][data-value=true]")
    page.wait_for_selector("[data-item='0'] [data-testid=answered]")
    page.fill("[data-item='1'] input[name=answer]", "1.5")
    page.click("[data-item='1'] button")
    page.wait_for_selector("[data-item='1'] [data-testid=answered]")
    page.fill("form[data-form=part] input[name=name]", "zv-34")  # the price book's code
    page.fill("form[data-form=part] input[name=quantity]", "2")
    page.click("form[data-form=part] button")
    page.wait_for_selector("[data-testid=parts] li")
    # Labor is filled in from the arrival (a moment ago); the technician corrects it.
    assert page.input_value("form[data-form=labor] input[name=minutes]") in ("0", "1")
    page.fill("form[data-form=labor] input[name=minutes]", "45")
    page.click("form[data-form=labor] button")
    page.wait_for_selector("[data-testid=timeline] [data-kind=labor]")
    pad = page.locator("#field-sig-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 80)
    page.mouse.down()
    for x, y in ((80, 30), (140, 110), (220, 40), (300, 100)):
        page.mouse.move(box["x"] + x, box["y"] + y, steps=5)
    page.mouse.up()
    page.fill("form[data-form=signature] input[name=signer_name]", "Rosa Diaz")
    page.click("form[data-form=signature] button:not([type=button])")
    page.wait_for_selector("[data-testid=signature] img.field-sig")
    page.click("[data-do=visit_complete]")
    page.wait_for_selector("[data-testid=visit-status]:has-text('Done')")
    page.click("a[href='#']:has-text('My day')")
    page.click("[data-do=clock_out]")
    page.wait_for_selector("[data-do=clock_in]")
    assert pending(page) == "13 not yet sent"

    # Reload with no network: the service worker serves the shell, IndexedDB the rest.
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    assert pending(page) == "13 not yet sent"
    assert "Offline" in page.inner_text("[data-testid=net]")
    assert page.inner_text(f"[data-visit='{visit.pk}'] .field-badge") == "Done"
    shot(page, "offline-pending")
    page.click(f"[data-visit='{visit.pk}'] .field-visit-link")
    page.wait_for_selector("[data-testid=visit-status]:has-text('Done')")
    timeline = page.inner_text("[data-testid=timeline]")
    for text in ("Replaced the zone valve", "Zone valve 3/4in", "45 min", "Filter replaced",
                 "Rosa Diaz", "On my way", "Arrived", "Completed"):
        assert text in timeline
    assert page.locator("[data-testid=timeline] [data-kind=photo]").count() == 2
    page.locator("[data-testid=timeline]").scroll_into_view_if_needed()
    shot(page, "visit-offline-timeline")
    page.wait_for_load_state("networkidle")
    page.close()
    assert TimelineEntry.objects.filter(visit=visit).exclude(kind=EntryKind.SCHEDULE).count() == 0

    # Online again, a new page: it sends everything and pulls the server's view.
    phone.set_offline(False)
    page = open_app(phone)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=pending]').textContent === 'All sent'")

    visit.refresh_from_db()
    assert visit.status == VisitStatus.DONE
    entries = list(TimelineEntry.objects.filter(visit=visit)
                   .exclude(kind__in=[EntryKind.SCHEDULE, EntryKind.SYSTEM]).order_by("id"))
    kinds = [(e.kind, (e.data or {}).get("event")) for e in entries
             if e.kind != EntryKind.STATUS]
    assert kinds == [
        (EntryKind.VISIT_STATUS, "en_route"), (EntryKind.VISIT_STATUS, "arrive"),
        (EntryKind.NOTE, None), (EntryKind.PHOTO, None), (EntryKind.PHOTO, None),
        (EntryKind.CHECKLIST, None), (EntryKind.CHECKLIST, None), (EntryKind.PART, None),
        (EntryKind.LABOR, None), (EntryKind.SIGNATURE, None),
        (EntryKind.VISIT_STATUS, "complete"),
    ]
    by_kind = {e.kind: e for e in entries}
    assert by_kind[EntryKind.NOTE].body == "Replaced the zone valve"
    assert by_kind[EntryKind.PART].data == {"name": "Zone valve 3/4in", "quantity": "2",
                                            "unit": "each", "price_book_item_id": valve.pk,
                                            "code": "ZV-34"}
    assert by_kind[EntryKind.LABOR].data["minutes"] == 45
    assert by_kind[EntryKind.SIGNATURE].data["signer_name"] == "Rosa Diaz"
    assert all(e.device_time is not None for e in entries)
    photos = [e for e in entries if e.kind == EntryKind.PHOTO]
    uploads = Upload.objects.filter(member=technician)
    assert {str(u.client_id) for u in uploads} == {str(p.client_id) for p in photos}
    for upload in uploads:  # downscaled on the phone before it was stored or sent
        with Image.open(upload.file) as image:
            assert image.format == "JPEG" and max(image.size) == 1600
    answers = [e.data["answer"] for e in entries if e.kind == EntryKind.CHECKLIST]
    assert answers == [True, 1.5]
    shifts = list(TimeEntry.objects.filter(member=technician))
    assert len(shifts) == 1 and shifts[0].end is not None
    assert shifts[0].latitude is not None
    page.set_viewport_size({"width": 800, "height": 1280})  # a tablet
    page.goto(f"{phone.base}/field/#visit/{visit.pk}")
    page.wait_for_selector("[data-testid=visit-status]:has-text('Done')")
    shot(page, "visit-tablet")
    page.wait_for_load_state("networkidle")
    page.close()


def test_it_resends_from_the_expected_number_and_shows_rejected_changes(
        phone, technician, office, make_visit):
    """Pause, resume and "could not complete" offline; meanwhile the office cancels the other
    visit the technician wrote a note on. Back online: the outbox starts past a gap (the
    server answers 409 and the phone renumbers), the visit's changes are applied once, and the
    note on the cancelled visit comes back rejected with its reason."""
    from crewline.field.models import RejectedMutation
    from crewline.workorders.models import Status
    from crewline.workorders.services import visit_cancel

    first = make_visit(crew=[technician], hour=9, title="Leaking radiator")
    second = make_visit(crew=[technician], hour=13, title="Thermostat swap")
    # Log in through the form in this phone's own browser context.
    page = phone.new_page()
    page.set_default_timeout(15_000)
    page.goto(phone.base + "/login/")
    page.fill("input[name=username]", technician.user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector(f"[data-visit='{second.pk}']")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    # A gap before the first change: as if numbers 1–4 were lost on the phone.
    page.evaluate("""async (member) => {
        const db = await CrewlineSync.openDb(member);
        await CrewlineSync.tx(db, "readwrite", (s) => { s.kv.put(5, "next_seq"); });
    }""", technician.pk)

    phone.set_offline(True)
    page.click(f"[data-visit='{first.pk}'] .field-visit-link")
    for action, status in (("visit_en_route", "On the way"), ("visit_arrive", "On site"),
                           ("visit_pause", "Paused"), ("visit_resume", "On site")):
        page.click(f"[data-do={action}]")
        page.wait_for_selector(f"[data-testid=visit-status]:has-text('{status}')")
    page.click("summary:has-text('Could not complete')")
    page.fill("form[data-form=incomplete] textarea", "Needs a part we do not carry")
    page.click("form[data-form=incomplete] button")
    page.wait_for_selector("[data-testid=visit-status]:has-text('Could not complete')")
    page.goto(f"{phone.base}/field/#visit/{second.pk}")
    page.wait_for_selector("form[data-form=note]")
    page.fill("form[data-form=note] textarea", "Customer asked for a call first")
    page.click("form[data-form=note] button")
    page.wait_for_selector("[data-testid=timeline] [data-kind=note]")
    assert pending(page) == "6 not yet sent"

    visit_cancel(visit=second, by=office, reason="Customer cancelled")
    phone.set_offline(False)  # the online event starts a sync
    page.wait_for_function(
        "() => document.querySelector('[data-testid=pending]').textContent === 'All sent'")
    page.click("a[href='#']:has-text('My day')")
    page.wait_for_selector("[data-testid=rejected]")
    assert "cancelled" in page.inner_text("[data-testid=rejected]").lower()

    first.refresh_from_db()
    assert first.status == VisitStatus.INCOMPLETE
    assert first.work_order.status == Status.ON_HOLD
    events = list(TimelineEntry.objects.filter(visit=first, kind=EntryKind.VISIT_STATUS)
                  .order_by("id").values_list("data__event", flat=True))
    assert events == ["en_route", "arrive", "pause", "resume", "incomplete"]
    assert not TimelineEntry.objects.filter(visit=second, kind=EntryKind.NOTE).exists()
    rejected = RejectedMutation.objects.get()
    assert rejected.name == "note_add" and rejected.args["visit_id"] == second.pk
    assert rejected.seq == 6
    page.wait_for_load_state("networkidle")
    page.close()


def test_it_sends_heic_as_is_and_survives_a_revoked_device(phone, technician, make_visit):
    """A HEIC photo the browser cannot decode goes unchanged and the server converts it; when
    the office revokes the phone, the app registers a new id and its changes still arrive once."""
    import pillow_heif

    from crewline.field.models import Device
    from crewline.field.services import device_revoke

    visit = make_visit(crew=[technician])
    page = phone.new_page()
    page.set_default_timeout(15_000)
    page.goto(phone.base + "/login/")
    page.fill("input[name=username]", technician.user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector(f"[data-visit='{visit.pk}']")
    old = Device.objects.get(member=technician)
    device_revoke(device=old, by=technician)

    heif = pillow_heif.from_pillow(Image.new("RGB", (640, 480), "green"))
    heic = io.BytesIO()
    heif.save(heic, quality=50)
    page.click(f"[data-visit='{visit.pk}'] .field-visit-link")
    page.set_input_files("[data-testid=gallery]", [
        {"name": "IMG_0001.HEIC", "mimeType": "image/heic", "buffer": heic.getvalue()}])
    page.wait_for_selector("[data-testid=photos] .field-thumb")
    page.fill("form[data-form=note] textarea", "Photo from the plant room")
    page.click("form[data-form=note] button")
    page.wait_for_selector("[data-testid=timeline] [data-kind=note]")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=pending]').textContent === 'All sent'")

    devices = Device.objects.filter(member=technician)
    assert devices.count() == 2
    new = devices.exclude(pk=old.pk).get()
    assert new.revoked_at is None and new.last_seq == 2
    photo = TimelineEntry.objects.get(visit=visit, kind=EntryKind.PHOTO)
    with Image.open(photo.attachment) as image:
        assert image.format == "JPEG" and image.size == (640, 480)
    assert TimelineEntry.objects.filter(visit=visit, kind=EntryKind.NOTE).count() == 1
    # Let a sync still under way end before the database is emptied; the app's periodic and
    # live requests may keep the network busy for good on a loaded machine, which is fine.
    with contextlib.suppress(PlaywrightTimeoutError):
        page.wait_for_load_state("networkidle", timeout=3000)
    page.close()


CACHED_FILES = """caches.open("field-files-v1").then((c) => c.keys())
                  .then((keys) => keys.map((r) => new URL(r.url).pathname))"""


def test_it_keeps_a_visits_files_offline_and_drops_them_when_the_visit_goes(
        phone, technician, office, make_visit):
    """Files of the visits on the phone are fetched once into the service worker's cache; when
    the office takes the technician off the visit, its files leave the phone."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from crewline.core.models import Role
    from crewline.factories import MemberFactory
    from crewline.workorders.services import attachment_add, visit_schedule

    visit = make_visit(crew=[technician], days=1, title="Rewire the plant room")
    entry = attachment_add(work_order=visit.work_order, by=office,
                           file=SimpleUploadedFile("wiring.pdf", b"%PDF-1.4 wiring diagram",
                                                   content_type="application/pdf"))
    page = phone.new_page()
    page.set_default_timeout(15_000)
    page.goto(phone.base + "/login/")
    page.fill("input[name=username]", technician.user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    page.evaluate("window.CrewlineField.sync()")
    path = f"/field/api/files/{entry.pk}/"
    assert wait_for(lambda: path in page.evaluate(CACHED_FILES), page)

    phone.set_offline(True)  # kept for offline use: the file opens with no signal
    body = page.evaluate(f"fetch({json.dumps(path)}).then((r) => r.text())")
    assert body == "%PDF-1.4 wiring diagram"
    phone.set_offline(False)

    other = MemberFactory(organization=technician.organization, role=Role.TECHNICIAN)
    visit_schedule(visit=visit, start=visit.start, end=visit.end, crew=[other], by=office,
                   override=True)
    page.evaluate("window.CrewlineField.sync()")
    page.wait_for_function(
        f"() => !window.CrewlineField.state().visits.some((v) => v.id === {visit.pk})")
    assert wait_for(lambda: path not in page.evaluate(CACHED_FILES), page)
    page.wait_for_load_state("networkidle")
    page.close()


def wait_for(condition, page, seconds: float = 10) -> bool:
    """Poll ``condition`` (for what a page's promise gives, which ``wait_for_function`` does
    not wait on) until it holds or ``seconds`` pass; returns whether it held."""
    for _ in range(int(seconds * 20)):
        if condition():
            return True
        page.wait_for_timeout(50)
    return condition()


def test_it_does_not_double_a_pause_when_a_lost_answer_meets_a_new_registration(
        chromium, live_server, technician, make_visit):
    """On site, paused and resumed: each push reaches the server but its answer is lost. The
    office revokes the phone; the app registers a new id and sends its outbox again as 1, 2, 3.
    Every change carries its client id, so each comes back duplicate: one pause, one resume."""
    from crewline.field.models import Device, RejectedMutation
    from crewline.field.services import device_revoke

    visit = make_visit(crew=[technician])
    # No service worker: every action also asks it for a background sync, which it runs with
    # fetches of its own that the page's route below does not see, and whose answers arrive.
    phone = chromium.new_context(viewport=PHONE, has_touch=True, service_workers="block")
    page = phone.new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + "/login/")
    page.fill("input[name=username]", technician.user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector(f"[data-visit='{visit.pk}']")
    page.click(f"[data-visit='{visit.pk}'] .field-visit-link")

    def lose_answer(route):
        route.fetch()  # the server applies the push...
        route.abort()  # ...and the phone never hears back

    def status_events() -> list[str]:
        return [d["event"] for d in TimelineEntry.objects.filter(
            visit=visit, kind=EntryKind.VISIT_STATUS).order_by("id")
            .values_list("data", flat=True)]

    page.route("**/field/api/push", lose_answer)
    for action, count in (("visit_arrive", 1), ("visit_pause", 2), ("visit_resume", 3)):
        page.click(f"[data-do={action}]")
        page.wait_for_function(f"() => document.querySelector('[data-testid=pending]')"
                               f".textContent.includes('{count}')")
        for _ in range(100):
            if len(status_events()) == count:
                break
            page.wait_for_timeout(100)
    assert status_events() == ["arrive", "pause", "resume"]
    page.unroute("**/field/api/push")
    device_revoke(device=Device.objects.get(member=technician), by=technician)
    page.click("[data-do=sync]")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=pending]').textContent === 'All sent'")

    assert status_events() == ["arrive", "pause", "resume"]
    assert not RejectedMutation.objects.filter(organization=visit.organization_id).exists()
    new = Device.objects.get(member=technician, revoked_at__isnull=True)
    assert new.last_seq == 3
    phone.close()
