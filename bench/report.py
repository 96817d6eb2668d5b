"""Benchmark of the job report PDF: a completed job with 12 phone-sized photos.

    bench/run report                    SQLite database var/bench/report.sqlite3 (seeded once)
    .venv/bin/python bench/report.py    the same
    bench/run report --postgres URL     on PostgreSQL (use a database of its own)
    bench/run report --runs 20          more timed runs

The job has two visits, labor, parts, a checklist, customer notes, a signature and 12 photos of
4000×3000 pixels (JPEG, ~12 MP, made once with Pillow and kept in var/bench/report-photos/).
Photos are scaled to 1200 px once per photo (a ``Rendition``, made when the photo arrives);
the first measurement shows that one-off cost, the timed runs the report as the office gets it
from "Generate new version": gathering the data, compiling with Typst and storing the version.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as common  # noqa: E402  (bench/run.py: environment and paths)

SLUG = "bench-report"
PHOTOS = 12
PHOTO_SIZE = (4000, 3000)
# Median target in milliseconds for making a report version (the requirement).
TARGET_MS = 250


def photo_bytes(n: int) -> bytes:
    """A 12 MP JPEG that compresses like a photo: a colour gradient under sensor-like noise."""
    folder = common.VAR / "report-photos"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"photo-{n}.jpg"
    if not path.exists():
        from PIL import Image

        width, height = PHOTO_SIZE
        small = (width // 8, height // 8)
        gradient = Image.linear_gradient("L").resize(small)
        channels = [gradient.rotate(90 * (n + i) % 360).resize(small) for i in range(3)]
        base = Image.merge("RGB", channels).resize(PHOTO_SIZE, Image.Resampling.BILINEAR)
        noise = Image.effect_noise(PHOTO_SIZE, 28).convert("RGB")
        image = Image.blend(base, noise, 0.25)
        image.save(path, "JPEG", quality=90)
    return path.read_bytes()


def seed(log=print):
    """The organization, its people and the job, once; returns the work order."""
    import datetime as dt

    from django.core.files.base import ContentFile
    from django.db import transaction
    from django.utils import timezone
    from PIL import Image, ImageDraw

    from crewline.core.models import Member, Organization, Role, User
    from crewline.customers.models import Customer, Site
    from crewline.workorders.models import (
        EntryKind,
        Status,
        TimelineEntry,
        Visibility,
        Visit,
        VisitStatus,
        WorkOrder,
    )

    wo = WorkOrder.objects.filter(organization__slug=SLUG).select_related("organization").first()
    if wo is not None:
        return wo
    log("Seeding the benchmark job (once) ...")
    with transaction.atomic():
        org = Organization.objects.create(
            name="Northside Heating & Air", slug=SLUG, time_zone="America/Chicago",
            address="48 Foundry Lane\nEvanston, IL 60201", phone="847-555-0100",
            email="hello@northside.example")
        user = User.objects.create_user("tech@bench-report.example", None,
                                        full_name="Tomás Øverby")
        tech = Member.objects.create(organization=org, user=user, role=Role.TECHNICIAN)
        customer = Customer.objects.create(organization=org, name="Maple Street Dental Clinic",
                                           email="frontdesk@maple.example", phone="312-555-0142")
        site = Site.objects.create(organization=org, customer=customer, name="Main clinic",
                                   address_line1="1200 Maple St", city="Chicago", region="IL",
                                   postal_code="60601", country="US")
        now = timezone.now().replace(microsecond=0)
        wo = WorkOrder.objects.create(
            organization=org, customer=customer, site=site, number=1042,
            title="Boiler service and zone valve replacement",
            instructions="Annual service. Waiting room radiators are cold; check zone valves.",
            status=Status.COMPLETED, completed_at=now)
        for day in (2, 1):
            start = now - dt.timedelta(days=day, hours=3)
            visit = Visit.objects.create(organization=org, work_order=wo, start=start,
                                         end=start + dt.timedelta(hours=2),
                                         status=VisitStatus.DONE, arrived_at=start,
                                         finished_at=start + dt.timedelta(minutes=110))
            visit.crew.set([tech])

        def entry(kind, **fields):
            return TimelineEntry(organization=org, work_order=wo, kind=kind, author=tech,
                                 **fields)

        rows = [
            entry(EntryKind.NOTE, body="Serviced the boiler; replaced the sticking zone valve "
                  "on the waiting room circuit. All radiators warm.",
                  visibility=Visibility.CUSTOMER),
            entry(EntryKind.NOTE, body="Internal: quote a new expansion vessel next visit."),
        ]
        for minutes, what in ((95, "Boiler service"), (50, "Zone valve replacement"),
                              (15, "Testing and clean-up")):
            rows.append(entry(EntryKind.LABOR, data={"minutes": minutes, "member": tech.name,
                                                     "description": what}))
        for name, code, qty, unit in (("Zone valve 3/4\"", "ZV-075", 1, "ea"),
                                      ("Copper pipe 15 mm", "CU-15", "2.5", "m"),
                                      ("Inhibitor 500 ml", "INH-500", 1, "ea")):
            rows.append(entry(EntryKind.PART, data={"name": name, "code": code,
                                                    "quantity": qty, "unit": unit}))
        for label, answer in (("Carbon monoxide test passed", True),
                              ("Flue gas temperature (°C)", 182),
                              ("Pressure after refill (bar)", "1.4")):
            rows.append(entry(EntryKind.CHECKLIST, data={"label": label, "answer": answer}))
        TimelineEntry.objects.bulk_create(rows)
        for n in range(1, PHOTOS + 1):
            photo = entry(EntryKind.PHOTO, body=f"Photo {n}: boiler room",
                          visibility=Visibility.CUSTOMER, attachment_name=f"IMG_{n:04}.jpg",
                          attachment_type="image/jpeg")
            content = photo_bytes(n)
            photo.attachment_size = len(content)
            photo.attachment.save(photo.attachment_name, ContentFile(content), save=False)
            photo.save()
        signature = Image.new("RGBA", (900, 300), (0, 0, 0, 0))
        ImageDraw.Draw(signature).line([(30, 220), (200, 80), (330, 200), (520, 60),
                                        (700, 230), (870, 110)], fill=(10, 20, 80, 255),
                                       width=8)
        out = io.BytesIO()
        signature.save(out, "PNG")
        sig = entry(EntryKind.SIGNATURE, data={"signer_name": "Dr. Renée Ñúñez"},
                    attachment_name="signature.png", attachment_type="image/png",
                    attachment_size=len(out.getvalue()))
        sig.attachment.save("signature.png", ContentFile(out.getvalue()), save=False)
        sig.save()
    return WorkOrder.objects.select_related("organization").get(pk=wo.pk)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", metavar="URL",
                        help="postgres://... : run on this PostgreSQL database instead")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args(argv)
    if args.postgres and not args.postgres.startswith(("postgres://", "postgresql://")):
        parser.error("--postgres needs a postgres:// URL")

    common.configure(args.postgres)
    if not args.postgres:
        os.environ["DATABASE_URL"] = f"sqlite:///{common.VAR / 'report.sqlite3'}"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from crewline.documents.images import scale_image
    from crewline.documents.models import JobReport, Rendition
    from crewline.documents.rendering import render_pdf
    from crewline.documents.reports import job_report_data
    from crewline.documents.services import job_report_create

    call_command("migrate", interactive=False, verbosity=0)
    wo = seed()
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    photos = [photo_bytes(n) for n in range(1, PHOTOS + 1)]

    # The one-off cost the renditions save: scaling a 12 MP photo.
    started = time.perf_counter()
    for content in photos[:3]:
        scale_image(content)
    scale_ms = (time.perf_counter() - started) * 1000 / 3

    # First report without renditions: it makes them (as the upload task would have).
    for rendition in Rendition.objects.filter(entry__work_order=wo):
        rendition.file.delete(save=False)
        rendition.delete()
    started = time.perf_counter()
    first = job_report_create(work_order=wo, by=None)
    cold_ms = (time.perf_counter() - started) * 1000

    def timed(fn) -> list[float]:
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            fn()
            times.append((time.perf_counter() - started) * 1000)
        return times

    from django.utils import timezone

    now = timezone.now()
    data_times = timed(lambda: job_report_data(wo, version=99, generated_at=now))
    data, files = job_report_data(wo, version=99, generated_at=now)
    compile_times = timed(lambda: render_pdf("job_report.typ", data, files,
                                             paper=wo.organization.paper, timestamp=now))
    made: list[JobReport] = []
    create_times = timed(lambda: made.append(job_report_create(work_order=wo, by=None)))
    pdf = made[-1].file.read()

    from pypdf import PdfReader

    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    images = sum(len(page.images) for page in PdfReader(io.BytesIO(pdf)).pages)
    median = statistics.median(create_times)
    print(f"\nJob report benchmark on {engine}: {wo.reference}, {PHOTOS} photos of "
          f"{PHOTO_SIZE[0]}×{PHOTO_SIZE[1]} ({sum(map(len, photos)) / 1e6:.0f} MB of JPEG), "
          f"{args.runs} timed runs.\n")
    rows = [
        ("scale one 12 MP photo to 1200 px (once per photo)", scale_ms, None),
        ("first report, making the 12 renditions", cold_ms, None),
        ("gather the data (queries, renditions read)", statistics.median(data_times), None),
        ("Typst compile to PDF", statistics.median(compile_times), None),
        ("make a version (data + compile + store + audit)", median, TARGET_MS),
    ]
    print(f"{'step':<52} {'median':>9} {'target':>7}  ok")
    print("-" * 75)
    for label, ms, target in rows:
        verdict = ("yes" if ms <= target else "NO") if target else ""
        print(f"{label:<52} {ms:>7.1f}ms {(str(target) + 'ms') if target else '':>7}  {verdict}")
    print(f"\nPDF: {len(pdf) / 1024:.0f} KiB, {pages} pages, {images} images "
          f"(first version {first.size / 1024:.0f} KiB).")
    # Keep the database small across runs.
    made.append(first)
    for report in made:
        report.file.delete(save=False)
    JobReport.objects.filter(pk__in=[r.pk for r in made]).delete()
    return 0 if median <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
