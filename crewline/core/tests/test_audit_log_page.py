import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from crewline.core.audit import RequestInfo, audit_record, reset_request_info, set_request_info
from crewline.core.models import AuditLog
from crewline.core.useragent import short_user_agent

pytestmark = pytest.mark.django_db

CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/126.0.0.0 Safari/537.36")


def test_it_shows_entries_newest_first_with_changes_ip_and_browser(owner_client, org, owner):
    token = set_request_info(RequestInfo(ip="203.0.113.9", user_agent=CHROME))
    try:
        audit_record(organization=org, actor=owner, action="customer.update",
                     object_type="customers.customer", object_id=7, object_repr="Acme Ltd",
                     changes={"phone": ["555-0001", "555-0002"]})
    finally:
        reset_request_info(token)
    audit_record(organization=org, actor=owner, action="later.thing")
    AuditLog.objects.filter(seq=1).update(created_at=dt.datetime(2025, 3, 1, 3, 30, tzinfo=dt.UTC))
    response = owner_client.get(reverse("core:audit_log"))
    assert response.status_code == 200
    page = response.content.decode().split("<tbody>")[1]
    assert page.index("later.thing") < page.index("customer.update")
    assert "Acme Ltd" in page and "555-0001" in page and "555-0002" in page
    assert "203.0.113.9" in page and "Chrome 126 on Windows" in page
    # 03:30 UTC is 21:30 the day before in Chicago, the organization's zone.
    assert "Feb 28, 2025" in page and "21:30:00" in page


def test_it_filters_by_actor_action_and_dates(owner_client, org, owner, office):
    audit_record(organization=org, actor=owner, action="a.one")
    audit_record(organization=org, actor=office, action="a.two")
    audit_record(organization=org, actor=office, action="a.one")
    AuditLog.objects.filter(seq=1).update(created_at=timezone.now() - dt.timedelta(days=10))
    url = reverse("core:audit_log")

    def seqs(**params):
        return [e.seq for e in owner_client.get(url, params).context["page"].object_list]

    assert seqs() == [3, 2, 1]
    assert seqs(actor=office.pk) == [3, 2]
    assert seqs(action="a.one") == [3, 1]
    today = timezone.localdate(timezone=org.tzinfo)
    assert seqs(since=today.isoformat()) == [3, 2]
    assert seqs(until=(today - dt.timedelta(days=5)).isoformat()) == [1]
    form = owner_client.get(url, {"since": "2025-02-02", "until": "2025-01-01"}).context["form"]
    assert "until" in form.errors


def test_it_paginates_by_fifty_with_a_flat_query_count(owner_client, org, owner,
                                                       django_assert_max_num_queries):
    for i in range(3):
        audit_record(organization=org, actor=owner, action="x", object_id=i)
    with django_assert_max_num_queries(12) as few:
        owner_client.get(reverse("core:audit_log"))
    for i in range(60):
        audit_record(organization=org, actor=owner, action="x", object_id=i)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = owner_client.get(reverse("core:audit_log"))
    assert len(response.context["page"].object_list) == 50
    assert response.context["page"].paginator.num_pages == 2
    second = owner_client.get(reverse("core:audit_log"), {"page": 2, "action": "x"})
    assert len(second.context["page"].object_list) == 13
    assert "action=x&amp;page=1" in second.content.decode()


def test_it_shows_only_the_organizations_own_entries(owner_client, org, owner, other_org,
                                                     outsider):
    audit_record(organization=other_org, actor=outsider, action="secret.thing")
    assert "secret.thing" not in owner_client.get(reverse("core:audit_log")).content.decode()


@pytest.mark.parametrize(("agent", "short"), [
    (CHROME, "Chrome 126 on Windows"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
     "like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Safari 17 on iPhone"),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
     "Firefox 127 on Linux"),
    ("Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/126.0 Mobile Safari/537.36 EdgA/126.0", "Edge 126 on Android"),
    ("curl/8.5.0", "curl 8.5.0"),
    ("", ""),
    ("x" * 60, "x" * 39 + "…"),
])
def test_it_shortens_user_agents(agent, short):
    assert short_user_agent(agent) == short


def test_it_verifies_every_organizations_chain(org, owner, other_org, outsider):
    for i in range(3):
        audit_record(organization=org, actor=owner, action="x", object_id=i)
    audit_record(organization=other_org, actor=outsider, action="y")
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    assert out.getvalue().splitlines() == ["northside: ok: 3 entries", "rival: ok: 1 entries"]
    out = io.StringIO()
    call_command("audit_verify", "--org", "rival", stdout=out)
    assert out.getvalue().strip() == "rival: ok: 1 entries"


def test_it_names_the_first_tampered_entry_and_fails(org, owner, other_org, outsider):
    for i in range(4):
        audit_record(organization=org, actor=owner, action="x", object_id=i)
    audit_record(organization=other_org, actor=outsider, action="y")
    AuditLog.objects.filter(organization=org, seq=2).update(changes={"forged": [1, 2]})
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="1 organization"):
        call_command("audit_verify", stdout=out, stderr=err)
    assert "rival: ok: 1 entries" in out.getvalue()
    assert "northside: BROKEN at entry #2" in err.getvalue()
    assert "content does not match" in err.getvalue()
    entry = AuditLog.objects.get(organization=org, seq=2)
    assert timezone.localtime(entry.created_at, org.tzinfo).isoformat() in err.getvalue()


def test_it_refuses_an_unknown_org(db):
    with pytest.raises(CommandError, match="nope"):
        call_command("audit_verify", "--org", "nope")


def test_it_shows_empty_booleans_and_lists_readably(owner_client, org, owner):
    audit_record(organization=org, actor=owner, action="member.update",
                 changes={"phone": ["", "555-0100"], "is_active": [True, False],
                          "skills": [[], [3, 4]]})
    response = owner_client.get(reverse("core:audit_log"))
    rows = response.context["page"].object_list[0].change_rows
    # PostgreSQL's jsonb does not keep key order.
    assert sorted(rows) == [("is_active", "yes", "no", False),
                            ("phone", "(empty)", "555-0100", False),
                            ("skills", "—", "3, 4", False)]
