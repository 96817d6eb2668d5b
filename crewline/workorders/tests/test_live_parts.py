"""The work order page's live parts: what a change touched, each rendered alone by the partial
the page itself includes, so a live update swaps only that."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from crewline.factories import SiteFactory
from crewline.live.models import Change
from crewline.workorders import timeline
from crewline.workorders.services import note_add, visit_add, work_order_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def wo(make_wo):
    return make_wo()


@pytest.fixture
def visit(wo, office, technician):
    start = timezone.now().replace(microsecond=0) + dt.timedelta(hours=1)
    return visit_add(work_order=wo, by=office, start=start, end=start + dt.timedelta(hours=1),
                     crew=[technician], override=True)


def _parts(client, wo, **params):
    return client.get(reverse("workorders:live_parts", args=[wo.number]), params)


def test_a_new_note_is_the_entry_alone_as_the_page_shows_it(office_client, wo, office):
    entry = note_add(work_order=wo, by=office, body="Customer called about the gate")
    change = Change.objects.filter(payload__entry=entry.pk).get()
    # The change names the entry, and the part is exactly what the page renders for it.
    response = _parts(office_client, wo, what="timeline", entry=change.payload["entry"])
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith(f'<li class="kind-note" id="entry-{entry.pk}"')
    assert html.count("<li") == 1 and "Customer called about the gate" in html
    page = office_client.get(reverse("workorders:detail", args=[wo.number])).content.decode()
    def item(text):  # the entry's own element, its CSRF token (masked anew each time) left out
        at = text.index(f'id="entry-{entry.pk}"')
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text[at:].split("</li>")[0])

    assert item(html) == item(page)
    assert 'id="work-done"' not in html  # a note does not touch the work done


def test_labor_brings_the_work_done_card_with_it(office_client, visit, office, technician):
    entry = timeline.labor_set(visit=visit, by=office, member=technician, minutes=90)
    html = _parts(office_client, visit.work_order, what="timeline",
                  entry=entry.pk).content.decode()
    assert f'id="entry-{entry.pk}"' in html
    assert 'id="work-done"' in html and "1 h 30 min" in html


def test_a_visit_change_is_its_card_and_the_header(office_client, visit, wo):
    html = _parts(office_client, wo, what="visit", visit=visit.pk).content.decode()
    assert html.startswith(f'<li class="list-group-item d-flex flex-wrap justify-content-between'
                           f' gap-2" id="visit-{visit.pk}"')
    assert 'id="wo-status"' in html and 'id="wo-actions"' in html
    assert 'id="entry-' not in html
    header = _parts(office_client, wo, what="work_order").content.decode()
    assert 'id="wo-status"' in header and f'id="visit-{visit.pk}"' not in header


def test_the_parts_of_another_job_or_organization_are_not_found(
        office_client, outsider_client, tech_client, wo, office, org, outsider):
    other_wo = work_order_create(organization=org, by=office, customer=wo.customer,
                                 site=wo.site, title="Another job")
    theirs = note_add(work_order=other_wo, by=office, body="Elsewhere")
    assert _parts(office_client, wo, what="timeline", entry=theirs.pk).status_code == 404
    assert _parts(office_client, wo, what="timeline", entry="x").status_code == 404
    assert _parts(office_client, wo, what="nothing").status_code == 404
    mine = note_add(work_order=wo, by=office, body="Here")
    assert _parts(outsider_client, wo, what="timeline", entry=mine.pk).status_code == 404
    assert _parts(tech_client, wo, what="timeline", entry=mine.pk).status_code == 403
    # Another organization's entry, asked for on this organization's job: not found.
    site = SiteFactory(customer__organization=outsider.organization)
    foreign = work_order_create(organization=outsider.organization, by=outsider,
                                customer=site.customer, site=site, title="Theirs")
    foreign_note = note_add(work_order=foreign, by=outsider, body="Theirs")
    assert _parts(office_client, wo, what="timeline", entry=foreign_note.pk).status_code == 404
    assert _parts(outsider_client, foreign, what="timeline",
                  entry=mine.pk).status_code == 404


def test_labor_set_again_marks_the_earlier_entry_replaced(office_client, visit, office,
                                                          technician, wo):
    first = timeline.labor_set(visit=visit, by=office, member=technician, minutes=60)
    second = timeline.labor_set(visit=visit, by=office, member=technician, minutes=90)
    html = _parts(office_client, wo, what="timeline", entry=second.pk).content.decode()
    # The new entry, the one it replaced (marked so, to swap in place of the old) and the card.
    assert html.index(f'id="entry-{second.pk}"') < html.index(f'id="entry-{first.pk}"')
    replaced = html[html.index(f'id="entry-{first.pk}"'):].split("</li>")[0]
    assert "replaced by a later entry" in replaced
    assert "replaced by a later entry" not in html.split(f'id="entry-{first.pk}"')[0]
    page = office_client.get(reverse("workorders:detail", args=[wo.number])).content.decode()
    assert page.count("replaced by a later entry") == 1
    assert "1 h 30 min" in page.split('id="work-done"')[1].split("</table>")[0]


def test_a_job_whose_visits_are_all_done_says_it_is_ready_to_close(
        office_client, visit, wo, technician, owner, org):
    from crewline.field.services import field_settings_update
    from crewline.workorders.services import visit_arrive, visit_complete

    field_settings_update(organization_id=org.pk, by=owner, jobs_closed_by="office")
    page = office_client.get(reverse("workorders:detail", args=[wo.number])).content.decode()
    assert 'id="wo-ready"' not in page
    visit_arrive(visit=visit, by=technician)
    visit_complete(visit=visit, by=technician, outcome="job_complete")
    header = _parts(office_client, wo, what="visit", visit=visit.pk).content.decode()
    page = office_client.get(reverse("workorders:detail", args=[wo.number])).content.decode()
    for html in (header, page):
        assert 'id="wo-ready"' in html and "Every visit is done" in html
        # Completing is the action it leads with.
        actions = html.split('id="wo-actions"')[1]
        assert 'btn-primary" type="submit">Complete' in actions
