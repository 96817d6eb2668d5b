from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from crewline.core.audit import audit_verify
from crewline.core.models import AuditLog
from crewline.customers import services
from crewline.customers.models import Contact, Customer, CustomerKind
from crewline.factories import CustomerFactory, SiteFactory


def test_it_creates_a_customer_with_an_audit_entry(org, office):
    customer = services.customer_create(organization=org, by=office, name="  Ada Lovelace ",
                                        kind=CustomerKind.COMMERCIAL, email="ADA@Example.com")
    assert customer.name == "Ada Lovelace"
    assert customer.email == "ada@example.com"
    entry = AuditLog.objects.get(organization=org, action="customer.create")
    assert entry.actor == office
    assert entry.changes["name"] == [None, "Ada Lovelace"]
    assert audit_verify(organization=org).ok


def test_it_rejects_a_customer_without_a_name_or_with_a_bad_email(org, office):
    with pytest.raises(ValidationError) as exc:
        services.customer_create(organization=org, by=office, name=" ", email="nope")
    assert set(exc.value.message_dict) == {"name", "email"}
    assert not Customer.objects.exists()
    assert not AuditLog.objects.exists()


def test_it_rejects_an_unknown_kind(org, office):
    with pytest.raises(ValidationError) as exc:
        services.customer_create(organization=org, by=office, name="X", kind="alien")
    assert "kind" in exc.value.message_dict


def test_it_records_only_the_changed_fields_on_update(org, office):
    customer = services.customer_create(organization=org, by=office, name="Old", phone="1")
    services.customer_update(customer=customer, by=office, name="New", phone="1")
    entry = AuditLog.objects.get(action="customer.update")
    assert entry.changes == {"name": ["Old", "New"]}
    customer.refresh_from_db()
    assert customer.name == "New"


def test_it_leaves_the_object_untouched_on_a_failed_update(org, office):
    customer = services.customer_create(organization=org, by=office, name="Keep")
    with pytest.raises(ValidationError):
        services.customer_update(customer=customer, by=office, name="", email="bad")
    assert customer.name == "Keep"
    assert not AuditLog.objects.filter(action="customer.update").exists()


def test_it_refuses_unknown_fields_on_update(org, office):
    customer = CustomerFactory(organization=org)
    with pytest.raises(TypeError):
        services.customer_update(customer=customer, by=office, organization_id=99)


def test_it_archives_and_unarchives_a_customer(org, office):
    customer = CustomerFactory(organization=org)
    services.customer_archive(customer=customer, by=office)
    customer.refresh_from_db()
    assert customer.is_archived
    services.customer_unarchive(customer=customer, by=office)
    customer.refresh_from_db()
    assert not customer.is_archived
    assert list(AuditLog.objects.order_by("seq").values_list("action", flat=True)) == [
        "customer.archive", "customer.unarchive"]


def test_it_refuses_a_member_of_another_organization(org, outsider):
    with pytest.raises(ValidationError):
        services.customer_create(organization=org, by=outsider, name="Sneaky")


def test_it_keeps_one_primary_contact_per_customer(org, office):
    customer = CustomerFactory(organization=org)
    first = services.contact_create(customer=customer, by=office, name="A", is_primary=True)
    second = services.contact_create(customer=customer, by=office, name="B", is_primary=True)
    first.refresh_from_db()
    assert not first.is_primary and second.is_primary
    services.contact_update(contact=first, by=office, is_primary=True)
    second.refresh_from_db()
    assert not second.is_primary
    assert Contact.objects.filter(customer=customer, is_primary=True).count() == 1


def test_it_unsets_primary_when_archiving_a_contact(org, office):
    customer = CustomerFactory(organization=org)
    contact = services.contact_create(customer=customer, by=office, name="A", is_primary=True)
    services.contact_archive(contact=contact, by=office)
    contact.refresh_from_db()
    assert contact.is_archived and not contact.is_primary


def test_it_creates_a_site_with_rounded_coordinates(org, office):
    customer = CustomerFactory(organization=org)
    site = services.site_create(customer=customer, by=office, address_line1="1 Main St",
                                city="Springfield", latitude="41.87812345",
                                longitude=-87.6298, country="us")
    site.refresh_from_db()
    assert site.latitude == Decimal("41.878123")
    assert site.country == "US"


def test_it_requires_both_coordinates_or_neither(org, office):
    customer = CustomerFactory(organization=org)
    with pytest.raises(ValidationError) as exc:
        services.site_create(customer=customer, by=office, address_line1="1 Main St",
                             city="X", latitude="41.1")
    assert "longitude" in exc.value.message_dict
    site = SiteFactory(customer=customer, latitude=Decimal("1"), longitude=Decimal("2"))
    with pytest.raises(ValidationError) as exc:
        services.site_update(site=site, by=office, latitude=None)
    assert "latitude" in exc.value.message_dict


def test_it_rejects_bad_coordinates(org, office):
    customer = CustomerFactory(organization=org)
    with pytest.raises(ValidationError) as exc:
        services.site_create(customer=customer, by=office, address_line1="1 Main St",
                             city="X", latitude="north", longitude="1")
    assert "latitude" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.site_create(customer=customer, by=office, address_line1="1 Main St",
                             city="X", latitude="91", longitude="1")
    assert "latitude" in exc.value.message_dict


def test_it_requires_an_address_and_city_for_a_site(org, office):
    customer = CustomerFactory(organization=org)
    with pytest.raises(ValidationError) as exc:
        services.site_create(customer=customer, by=office, address_line1="", city="")
    assert set(exc.value.message_dict) == {"address_line1", "city"}


def test_it_manages_equipment_at_a_site(org, office):
    site = SiteFactory(customer=CustomerFactory(organization=org))
    equipment = services.equipment_create(site=site, by=office, name="Boiler",
                                          manufacturer="Viessmann", installed_on="2020-05-01")
    equipment.refresh_from_db()
    assert str(equipment.installed_on) == "2020-05-01"
    services.equipment_update(equipment=equipment, by=office, serial_number="SN1")
    services.equipment_archive(equipment=equipment, by=office)
    equipment.refresh_from_db()
    assert equipment.serial_number == "SN1" and equipment.is_archived
    assert AuditLog.objects.filter(object_type="customers.equipment").count() == 3
