from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from crewline.demo.scale import ScaleSeedError, seed_scale


class Command(BaseCommand):
    help = ("Seed a large synthetic data set for benchmarks with bulk inserts: "
            "crewline seed-scale --orgs 100 --work-orders 1000000 [--big-org-work-orders N]")

    def add_arguments(self, parser):
        parser.add_argument("--orgs", type=int, default=10)
        parser.add_argument("--work-orders", type=int, default=100_000,
                            help="Work orders in all organizations together.")
        parser.add_argument("--big-org-work-orders", type=int, default=0,
                            help="Give the first organization this many of them.")
        parser.add_argument("--prefix", default="scale",
                            help="Organization slugs are <prefix>-0, <prefix>-1, ...")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--batch-size", type=int, default=2000)
        parser.add_argument("--no-analyze", action="store_true",
                            help="Skip ANALYZE (planner statistics) at the end.")

    def handle(self, *args, orgs: int, work_orders: int, big_org_work_orders: int, prefix: str,
               seed: int, batch_size: int, no_analyze: bool, **options):
        try:
            report = seed_scale(orgs=orgs, work_orders=work_orders,
                                big_org_work_orders=big_org_work_orders, prefix=prefix,
                                seed=seed, batch_size=batch_size, run_analyze=not no_analyze,
                                log=self.stdout.write)
        except ScaleSeedError as exc:
            raise CommandError(str(exc)) from exc
        for label, count in sorted(report.rows.items()):
            self.stdout.write(f"  {label:<28} {count:>12,}")
        self.stdout.write(
            f"Seeded {report.total_rows:,} rows in {report.seconds:.1f} s "
            f"({report.rows_per_second:,.0f} rows/s).")
        for slug, number in report.rich_work_orders.items():
            if slug == report.organizations[0]:
                self.stdout.write(f"Long timeline: WO-{number} in {slug}.")
        self.stdout.write(f"Logins: office1@{report.organizations[0]}.bench.example "
                          "(password: crewline-bench)")
