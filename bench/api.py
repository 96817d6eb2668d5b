"""Benchmark of the open API's work order list: ``GET /api/v1/work-orders?limit=50`` with an
API key, in-process with Django's test Client, in the organization of 120,000 work orders that
``bench/run.py`` seeds (once, into var/bench/; shared with the work order benchmark).

    bench/run api                      SQLite database in var/bench/
    bench/run api --postgres URL       the same on PostgreSQL (use a database of its own)
    bench/run api --requests 100       more timed requests per case

Target: page 1 of 50 work orders (with their visits, crews and tags) at most 30 ms median on
SQLite, and a query count that does not grow with the organization's size, the page or the
page size. A fresh key is made for the run (with a limit high enough not to be throttled)
and revoked at its end.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as common  # noqa: E402  (bench/run.py: environment, seeding, measuring)

TARGET_MS = 30


def _client(key: str):
    from django.test import Client

    return Client(headers={"Authorization": f"Bearer {key}", "Accept-Encoding": "identity"})


def _key(slug: str) -> tuple[object, str]:
    from crewline.api.services import api_key_create
    from crewline.core.models import Organization

    org = Organization.objects.get(slug=slug)
    key, full = api_key_create(organization=org, by=None, name="Benchmark",
                               scopes=["read:work_orders"])
    key.rate_limit = 100_000
    key.save(update_fields=["rate_limit"])
    return key, full


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", metavar="URL",
                        help="postgres://... : run on this PostgreSQL database instead")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--explain", action="store_true",
                        help="print the slowest statements of each case")
    args = parser.parse_args(argv)
    if args.postgres and not args.postgres.startswith(("postgres://", "postgresql://")):
        parser.error("--postgres needs a postgres:// URL")

    url = common.configure(args.postgres)
    import django

    django.setup()
    from django.conf import settings

    from crewline.api.services import api_key_revoke
    from crewline.workorders.models import WorkOrder

    info = common.ensure_seeded(url)
    # Statistics for indexes a migration added after the data set was seeded (the seed
    # analyzes once at its end), as a database in use has them.
    from crewline.demo.scale import analyze

    analyze()
    big, small = info["organizations"][0], info["organizations"][1]
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    total = WorkOrder.objects.filter(organization__slug=big).count()
    small_total = WorkOrder.objects.filter(organization__slug=small).count()
    big_key, big_full = _key(big)
    small_key, small_full = _key(small)
    try:
        client, small_client = _client(big_full), _client(small_full)
        base = "/api/v1/work-orders"
        page = client.get(f"{base}?limit=50").json()
        assert len(page["data"]) == 50, page
        # A page far into the list: follow the cursors 40 pages (2,000 work orders) on.
        later = f"{base}?limit=50"
        for _ in range(40):
            later = client.get(later).json()["next"]
        later = later.replace("http://testserver", "")
        since = sorted(w["updated_at"] for w in page["data"])[0]
        cases = [
            ("list", "work orders, 50, page 1", f"{base}?limit=50"),
            ("list_late", "work orders, 50, 40 pages on (cursor)", later),
            ("list_status", "work orders, 50, status=scheduled",
             f"{base}?limit=50&status=scheduled"),
            ("list_since", "work orders, 50, updated_since (sync)",
             f"{base}?limit=50&updated_since={since.replace('+', '%2B')}"),
            ("detail", "one work order", page["data"][0]["url"].replace("http://testserver", "")),
        ]
        print(f"\nAPI benchmarks on {engine}: organization {big} with {total:,} work orders; "
              f"{args.requests} timed requests per case after 5 warm-up requests.\n")
        results = [common.measure(client, name, label, path, requests=args.requests)
                   for name, label, path in cases]
        header = (f"{'case':<44} {'median':>8} {'p95':>8} {'of it SQL':>9} {'queries':>7} "
                  f"{'target':>7}  ok")
        print(header)
        print("-" * len(header))
        failed = False
        for r in results:
            target = TARGET_MS if r.name == "list" else None
            ok = r.status == 200 and (engine != "sqlite3" or target is None
                                      or r.median_ms <= target)
            failed |= not ok
            print(f"{r.label:<44} {r.median_ms:>6.1f}ms {r.p95_ms:>6.1f}ms {r.sql_ms:>7.1f}ms "
                  f"{r.queries:>7} {(str(target) + 'ms') if target else '':>7}  "
                  f"{'yes' if ok else 'NO'}{'  ' + r.note if r.note else ''}")
        print("\nQuery counts as data, page and page size change (they should not grow):")
        comparisons = [
            ("page 1, small vs big org", f"{small} ({small_total:,} WOs)",
             common.query_count(small_client, f"{base}?limit=50"),
             f"{big} ({total:,} WOs)", results[0].queries),
            ("page 1 vs 40 pages on", "40 pages on", results[1].queries, "page 1",
             results[0].queries),
            ("limit 10 vs 50", "limit=10", common.query_count(client, f"{base}?limit=10"),
             "limit=50", results[0].queries),
        ]
        flat = True
        for what, a_label, a, b_label, b in comparisons:
            flag = "same" if a == b else ("GROWS" if b > a else "fewer")
            flat &= a == b
            print(f"  {what:<28} {a_label:<30} {a:>3}   {b_label:<28} {b:>3}   {flag}")
        failed |= not flat
        if args.explain or failed:
            print("\nSlowest statements per case:")
            for name, _label, path in cases:
                print(f"  {name}:")
                for ms, sql in common.slowest_queries(client, path):
                    print(f"    {ms:7.1f} ms  {sql[:400]}")
    finally:
        api_key_revoke(api_key=big_key, by=None)
        api_key_revoke(api_key=small_key, by=None)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
