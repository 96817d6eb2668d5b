from __future__ import annotations

from django.core.management.base import BaseCommand

from crewline.plans.tasks import ensure_daily_run, generate_all, plans_generate_all


class Command(BaseCommand):
    help = ("Raise the work of every active maintenance plan up to its horizon: queue a run for "
            "the background worker, or run it here with --now. Also makes sure the daily run "
            "is queued.")

    def add_arguments(self, parser):
        parser.add_argument("--now", action="store_true",
                            help="run in this process instead of queueing for the worker")

    def handle(self, *args, now: bool, **options):
        if now:
            totals = generate_all()
            self.stdout.write(
                f"{totals['plans']} plans: {totals['created']} work orders raised, "
                f"{totals['updated']} updated, {totals['cancelled']} cancelled"
                + (f", {totals['failed']} plans failed (see the log)" if totals["failed"]
                   else ""))
            ensure_daily_run()
            return
        result = plans_generate_all.enqueue()
        self.stdout.write(f"Queued maintenance plan run {result.id}.")
