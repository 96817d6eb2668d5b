from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from crewline.demo.bulk import seed_bulk
from crewline.demo.scale import ScaleSeedError


class Command(BaseCommand):
    help = ("Seed a large synthetic data set on PostgreSQL with COPY: organizations whose "
            "sizes follow a long tail, work orders with their customers, sites, members, "
            "visits, timeline and time entries. "
            "crewline seed-scale [--orgs 1000] [--work-orders 10000000] [--seed 1]")

    def add_arguments(self, parser):
        parser.add_argument("--orgs", type=int, default=1000)
        parser.add_argument("--work-orders", type=int, default=10_000_000,
                            help="Work orders in all organizations together.")
        parser.add_argument("--prefix", default="scale",
                            help="Organization slugs are <prefix>-0 (the largest), <prefix>-1, ...")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--jobs", type=int, default=2,
                            help="Processes writing at once (default 2).")
        parser.add_argument("--no-analyze", action="store_true",
                            help="Skip ANALYZE (planner statistics) at the end.")

    def handle(self, *args, orgs: int, work_orders: int, prefix: str, seed: int, jobs: int,
               no_analyze: bool, **options):
        try:
            report = seed_bulk(orgs=orgs, work_orders=work_orders, prefix=prefix, seed=seed,
                               jobs=jobs,
                               run_analyze=not no_analyze, log=self.stdout.write)
        except ScaleSeedError as exc:
            raise CommandError(str(exc)) from exc
        for label, count in sorted(report.rows.items()):
            self.stdout.write(f"  {label:<28} {count:>12,}")
        sizes = report.sizes
        self.stdout.write(
            f"Work orders per organization: largest {sizes[0]:,}, median "
            f"{sizes[len(sizes) // 2]:,}, smallest {sizes[-1]:,}.")
        self.stdout.write(
            f"Seeded {report.total_rows:,} rows in {report.seconds:.1f} s "
            f"({report.rows_per_second:,.0f} rows/s).")
        self.stdout.write(f"Logins: office1@{report.organizations[0]}.bench.example "
                          "(password: crewline-bench)")
