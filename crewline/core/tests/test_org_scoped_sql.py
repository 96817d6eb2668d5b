# ruff: noqa: S608 -- the SQL here is text for the rule to read, never run.
"""Every query of a request filters by organization first, so that the schema can be sharded
by organization: the office's pages, the API and the technician app's endpoints, walked from the
URL configuration, are opened as the owner (and the phone's as the technician) of a seeded
organization, and the SQL of each answer is read.

What passes, for each table a query reads (``FROM``/``JOIN``, subqueries included):

- a table with an ``organization_id`` column: the query compares that column of this table
  (its alias in the query) with the organization's id (``= 7``, ``IN (7)``), or joins it on a
  column equality (``T."work_order_id" = W."id"``, ``T."organization_id" = W."organization_id"``)
  to an occurrence that does; the organization's own table passes on its ``id``;
- a table without one (crews, users): the same, or a look-up on a key column (``"id" = 3``,
  ``"work_order_id" IN (1, 2)``): it is reached from rows already read through the organization;
- the framework's tables and queries in ``ALLOWED`` below, each with its reason.
"""

from __future__ import annotations

import re
import traceback

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crewline.core.tests.test_url_access import DEVICE_ID, PUBLIC, ROUTES, _fill, world  # noqa: F401

pytestmark = pytest.mark.django_db

# Tables that are not the organization's data.
ALLOWED_TABLES = {
    # Sign-in: the session row is found by its key, before anyone's organization is known.
    "django_session": "the session, by its key",
    # A user may belong to several organizations; users are found by id from the session.
    "core_user": "the signed-in user, by the session's id",
    # The task queue is one table for every organization; rows name their organization in
    # their arguments. Enqueuing a task from a request writes here.
    "django_tasks_database_dbtaskresult": "the task queue",
    "django_content_type": "Django's model registry",
    "auth_permission": "Django's permissions",
    "auth_group": "Django's groups",
}
# Queries allowed whole, by a pattern of their SQL, each with its reason.
ALLOWED_QUERIES = [
    # How a request learns its organization: the signed-in user's membership (MemberMiddleware).
    (re.compile(r'^SELECT .* FROM "core_member" INNER JOIN .* WHERE '
                r'\("core_member"\."is_active" AND "core_member"\."user_id" = \d+'),
     "the signed-in user's membership, which names the organization"),
    (re.compile(r'^(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT|BEGIN|COMMIT)\b'),
     "transaction control"),
]

# A table and its alias: ``"workorders_visit" U0``, ``"workorders_visit" open_visit`` (a
# FilteredRelation), or none (the table's name).
REF = re.compile(r'(?:FROM|JOIN)\s+"(\w+)"(?:\s+(?:AS\s+)?"?(?!(?:ON|WHERE|INNER|LEFT|GROUP|ORDER|'
                 r'LIMIT|HAVING|UNION|WINDOW|AS|FOR)\b)([A-Za-z_]\w*)\b"?)?')
ALIAS = r'(?:"(\w+)"|\b([A-Za-z_]\w*))'


def _org_tables() -> set[str]:
    return {m._meta.db_table for m in apps.get_models()
            if any(f.name == "organization" and f.concrete for f in m._meta.get_fields()
                   if hasattr(f, "concrete"))}


ORG_TABLES = _org_tables()
ORG_TABLE = "core_organization"


def _compares(sql: str, alias: str, column: str, value: int) -> bool:
    col = rf'(?:"{alias}"|\b{alias})\."{column}"'
    for m in re.finditer(col + r'\s*(=|IN)\s*\(?([^)]*?)\)', sql + ")"):
        values = re.findall(r"\d+", m.group(2).split(")")[0])
        if m.group(1) == "=" and values[:1] == [str(value)]:
            return True
        if m.group(1) == "IN" and values and set(values) == {str(value)}:
            return True
    return False


def _keyed(sql: str, alias: str) -> bool:
    return bool(re.search(rf'(?:"{alias}"|\b{alias})\."(?:id|\w+_id)"\s*(?:=|IN)\s*\(?\s*[\d%]',
                          sql))


def _joins(sql: str) -> list[tuple[str, str]]:
    pair = re.compile(ALIAS + r'\."\w+"\s*=\s*\(?' + ALIAS + r'\."\w+"')
    return [(m.group(1) or m.group(2), m.group(3) or m.group(4)) for m in pair.finditer(sql)]


def unscoped(sql: str, org_id: int) -> list[str]:
    """The tables of ``sql`` not read through organization ``org_id`` (empty: it passes)."""
    if any(p.search(sql) for p, _ in ALLOWED_QUERIES):
        return []
    refs = {(m.group(2) or m.group(1)): m.group(1) for m in REF.finditer(sql)}
    refs = {a: t for a, t in refs.items() if t not in ALLOWED_TABLES}
    scoped = {a for a, t in refs.items()
              if (t in ORG_TABLES and _compares(sql, a, "organization_id", org_id))
              or (t == ORG_TABLE and _compares(sql, a, "id", org_id))
              or (t not in ORG_TABLES and t != ORG_TABLE and _keyed(sql, a))}
    # INSERT/UPDATE/DELETE name their table without FROM.
    write = re.match(r'(?:INSERT INTO|UPDATE|DELETE FROM)\s+"(\w+)"', sql)
    joins = _joins(sql)
    grew = True
    while grew:
        grew = False
        for a, b in joins:
            for x, y in ((a, b), (b, a)):
                if x in scoped and y in refs and y not in scoped:
                    scoped.add(y)
                    grew = True
    missing = sorted({refs[a] for a in refs if a not in scoped})
    if write and not sql.startswith("INSERT") and write.group(1) not in ALLOWED_TABLES:
        t = write.group(1)
        ok = ((t in ORG_TABLES and _compares(sql, f"{t}", "organization_id", org_id))
              or (t == ORG_TABLE and _compares(sql, t, "id", org_id))
              or (t not in ORG_TABLES and _keyed(sql, t)))
        if not ok and t not in refs:
            missing.append(t)
    return missing


def _pages():
    """Every private GET route of the office, the API and the phone."""
    return [(n, r) for n, r in ROUTES if n not in PUBLIC and "<path:" not in r]


def _caller() -> str:
    """Where in Crewline's code (not its tests) a query was made."""
    for frame in reversed(traceback.extract_stack()):
        if "/crewline/" in frame.filename and "/tests/" not in frame.filename:
            return f"{frame.filename.split('/crewline/', 1)[1]}:{frame.lineno}"
    return "?"


def _check(client, url: str, org_id: int, method: str = "get"):
    callers: list[str] = []

    def record(execute, sql, params, many, context):
        callers.append(_caller())
        return execute(sql, params, many, context)

    with CaptureQueriesContext(connection) as ctx, connection.execute_wrapper(record):
        response = getattr(client, method)(url)
    bad = []
    for i, q in enumerate(ctx.captured_queries):
        missing = unscoped(q["sql"], org_id)
        if missing:
            where = callers[i] if len(callers) == len(ctx.captured_queries) else "?"
            bad.append((missing, f"({where}) {q['sql'][:3000]}"))
    return response, bad


@pytest.mark.parametrize(("name", "route"), _pages())
def test_every_query_of_a_page_filters_by_organization(name, route, world, org,  # noqa: F811
                                                       owner_client, tech_client):
    # Work orders by their number, everything else by the id of the world's first object of
    # its kind (a fresh table's rows start at 1): most pages then open on a real object.
    url = _fill(route.replace("<int:number>", str(world.number)), "1").replace(
        "<str:week>", world.created_at.date().isoformat())
    for client in (owner_client, tech_client):
        response, bad = _check(client, url, org.pk)
        assert not bad, f"{name} {url} ({response.status_code}): " + "\n".join(
            f"{m}: {s}" for m, s in bad)


def test_the_rule_refuses_what_it_should(org):
    o = org.pk
    wo = 'SELECT * FROM "workorders_workorder" WHERE "workorders_workorder".'
    assert unscoped(wo + f'"organization_id" = {o}', o) == []
    assert unscoped(wo + '"id" = 3', o) == ["workorders_workorder"]
    assert unscoped(wo + f'"organization_id" = {o + 1}', o) == ["workorders_workorder"]
    # Another organization's rows mixed in.
    assert unscoped(wo + f'"organization_id" IN ({o}, {o + 1})', o) == ["workorders_workorder"]
    # Joined through a row that is the organization's; and not.
    site = ('SELECT * FROM "customers_site" INNER JOIN "workorders_workorder" ON '
            '("customers_site"."id" = "workorders_workorder"."site_id") WHERE ')
    assert unscoped(site + f'"workorders_workorder"."organization_id" = {o}', o) == []
    assert unscoped(site + '"workorders_workorder"."id" = 3', o) == [
        "customers_site", "workorders_workorder"]
    # A correlated subquery is scoped through its outer row; an aliased table by its alias.
    visits = (wo + f'"organization_id" = {o} AND EXISTS(SELECT 1 FROM "workorders_visit" U0 '
              'WHERE ')
    assert unscoped(visits + 'U0."work_order_id" = ("workorders_workorder"."id"))', o) == []
    assert unscoped(visits + 'U0."status" = \'done\')', o) == ["workorders_visit"]
    # A table without an organization column, by a key.
    assert unscoped('SELECT * FROM "workorders_visit_crew" WHERE '
                    '"workorders_visit_crew"."visit_id" IN (1, 2)', o) == []


def test_every_query_of_the_phones_pull_filters_by_organization(world, org,  # noqa: F811
                                                               tech_client):
    for cursor in ("", "0"):
        response, bad = _check(tech_client, f"/field/api/pull?device_id={DEVICE_ID}"
                               f"&cursor={cursor}", org.pk)
        assert response.status_code == 200
        assert not bad, "\n".join(f"{m}: {s}" for m, s in bad)
