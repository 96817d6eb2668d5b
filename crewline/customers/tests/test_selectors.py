import pytest
from django.http import Http404

from crewline.customers import selectors
from crewline.customers.models import CustomerKind
from crewline.factories import CustomerFactory, SiteFactory, WorkOrderFactory
from crewline.workorders.models import Status


def test_it_searches_name_email_phone_and_site_address(org, other_org):
    alpha = CustomerFactory(organization=org, name="Alpha Bakery", email="a@alpha.test",
                            phone="555-0101")
    beta = CustomerFactory(organization=org, name="Beta Books", email="hello@beta.test",
                           phone="555-0202")
    SiteFactory(customer=beta, address_line1="12 Elm Street", city="Springfield")
    SiteFactory(customer=beta, address_line1="14 Elm Street", city="Springfield")
    CustomerFactory(organization=other_org, name="Alpha Rival")

    def names(q):
        return [c.name for c in selectors.customer_list(organization=org, q=q)]

    assert names("alpha") == ["Alpha Bakery"]
    assert names("beta.test") == ["Beta Books"]
    assert names("0101") == ["Alpha Bakery"]
    assert names("elm") == ["Beta Books"]  # two matching sites, listed once
    assert names("springfield books") == ["Beta Books"]
    assert names("") == ["Alpha Bakery", "Beta Books"]
    assert alpha.pk


def test_it_hides_archived_customers_unless_asked(org):
    from django.utils import timezone
    CustomerFactory(organization=org, name="Gone", archived_at=timezone.now())
    CustomerFactory(organization=org, name="Here", kind=CustomerKind.COMMERCIAL)
    assert [c.name for c in selectors.customer_list(organization=org)] == ["Here"]
    assert len(selectors.customer_list(organization=org, include_archived=True)) == 2
    assert [c.name for c in selectors.customer_list(
        organization=org, include_archived=True, kind=CustomerKind.RESIDENTIAL)] == ["Gone"]


def test_it_annotates_site_and_open_work_order_counts(org):
    customer = CustomerFactory(organization=org)
    site = SiteFactory(customer=customer)
    SiteFactory(customer=customer)
    WorkOrderFactory(customer=customer, site=site, status=Status.NEW)
    WorkOrderFactory(customer=customer, site=site, status=Status.IN_PROGRESS)
    WorkOrderFactory(customer=customer, site=site, status=Status.COMPLETED)
    row = selectors.customer_list_annotated(organization=org).get()
    assert row.site_count == 2
    assert row.open_work_order_count == 2


def test_it_scopes_lookups_to_the_members_organization(org, office, outsider):
    customer = CustomerFactory(organization=org)
    site = SiteFactory(customer=customer)
    assert selectors.customer_for_member(office, customer.pk) == customer
    assert selectors.site_for_member(office, site.pk) == site
    with pytest.raises(Http404):
        selectors.customer_for_member(outsider, customer.pk)
    with pytest.raises(Http404):
        selectors.site_for_member(outsider, site.pk)
    with pytest.raises(Http404):
        selectors.customer_for_member(office, "abc")
