from __future__ import annotations

from django.core.management.base import BaseCommand

from crewline.demo.seed import DEMO_LOGINS, DEMO_PASSWORD, seed_demo


class Command(BaseCommand):
    help = ("Seed the demo company, Northwind Heating & Plumbing, and print its logins. "
            "Running it again changes nothing.")

    def add_arguments(self, parser):
        parser.add_argument("--size", type=float, default=1.0,
                            help="Scale the number of customers, sites and work orders.")

    def handle(self, *args, size: float, **options):
        result = seed_demo(size=size)
        org = result.organization
        if result.created:
            summary = ", ".join(f"{count:,} {label}" for label, count in result.counts.items())
            self.stdout.write(self.style.SUCCESS(
                f"Created {org.name}: {summary} in {result.seconds:.1f} s."))
        else:
            self.stdout.write(f"{org.name} exists already; nothing changed.")
        self.stdout.write(f"\nDemo logins (the password of each is {DEMO_PASSWORD}):")
        self.stdout.write(f"  {'role':<12} email")
        for role, email in DEMO_LOGINS:
            self.stdout.write(f"  {role:<12} {email}")
        self.stdout.write("Anyone who knows these can log in: do not seed the demo on a "
                          "public server.")
