from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.timezone import localtime

from crewline.core.audit import audit_verify
from crewline.core.models import Organization


class Command(BaseCommand):
    help = ("Check each organization's audit chain; name the first entry that was changed or "
            "removed and exit with an error status.")

    def add_arguments(self, parser):
        parser.add_argument("--org", metavar="SLUG", help="check only this organization")

    def handle(self, *args, org: str | None, **options):
        organizations = Organization.objects.order_by("slug")
        if org:
            organizations = organizations.filter(slug=org)
            if not organizations.exists():
                raise CommandError(f"No organization with the short name {org!r}.")
        broken = 0
        for organization in organizations:
            report = audit_verify(organization=organization)
            if report.ok:
                self.stdout.write(f"{organization.slug}: ok: {report.checked} entries")
                continue
            broken += 1
            entry = report.first_broken
            when = localtime(entry.created_at, organization.tzinfo).isoformat()
            self.stderr.write(
                f"{organization.slug}: BROKEN at entry #{entry.seq} ({when}): {report.problem}; "
                f"{report.checked} entries before it verify"
            )
        if broken:
            raise CommandError(f"The audit chain of {broken} organization(s) does not verify.")
