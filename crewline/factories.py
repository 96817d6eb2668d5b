"""factory_boy factories for tests and benchmarks."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from crewline.core.models import Member, Organization, Role, Skill, User
from crewline.customers.models import Contact, Customer, Equipment, Site
from crewline.workorders.models import WorkOrder


class OrganizationFactory(DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Acme Services {n}")
    slug = factory.Sequence(lambda n: f"acme-{n}")
    time_zone = "America/Chicago"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.django.Password("correct horse battery")


class MemberFactory(DjangoModelFactory):
    class Meta:
        model = Member

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.OFFICE
    # Someone who has used Crewline in an English browser (what the test client sends), so
    # that a page's queries do not count the one that records a browser's new language.
    last_language = "en"


class SkillFactory(DjangoModelFactory):
    class Meta:
        model = Skill

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Skill {n}")


class CustomerFactory(DjangoModelFactory):
    class Meta:
        model = Customer

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Faker("company")
    email = factory.Faker("company_email")
    phone = factory.Faker("phone_number")


class ContactFactory(DjangoModelFactory):
    class Meta:
        model = Contact

    organization = factory.SelfAttribute("customer.organization")
    customer = factory.SubFactory(CustomerFactory)
    name = factory.Faker("name")
    email = factory.Faker("email")


class SiteFactory(DjangoModelFactory):
    class Meta:
        model = Site

    organization = factory.SelfAttribute("customer.organization")
    customer = factory.SubFactory(CustomerFactory)
    address_line1 = factory.Faker("street_address")
    city = "Chicago"
    region = "IL"
    postal_code = "60601"
    country = "US"


class EquipmentFactory(DjangoModelFactory):
    class Meta:
        model = Equipment

    organization = factory.SelfAttribute("site.organization")
    site = factory.SubFactory(SiteFactory)
    name = "Rooftop unit"


class WorkOrderFactory(DjangoModelFactory):
    """Inserts directly; tests of behaviour should go through ``work_order_create``."""

    class Meta:
        model = WorkOrder

    organization = factory.SelfAttribute("customer.organization")
    customer = factory.SubFactory(CustomerFactory)
    site = factory.SubFactory(SiteFactory, customer=factory.SelfAttribute("..customer"))
    number = factory.Sequence(lambda n: 5000 + n)
    title = factory.Faker("sentence", nb_words=4)
