"""Customers, their contacts, their sites (service locations) and the equipment at those sites."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crewline.core.models import OrgOwned, validate_timezone


class Archivable(models.Model):
    """Rows are archived, never deleted: work orders and the audit log keep pointing at them."""

    archived_at = models.DateTimeField(_("archived"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class CustomerKind(models.TextChoices):
    RESIDENTIAL = "residential", _("Residential")
    COMMERCIAL = "commercial", _("Commercial")


class Customer(OrgOwned, Archivable):
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=CustomerKind.choices,
                            default=CustomerKind.RESIDENTIAL)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    billing_address = models.TextField(_("billing address"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # An identifier from the system the customer list came from (CSV import, accounting).
    external_ref = models.CharField(_("external reference"), max_length=80, blank=True)
    # The language of the customer's emails, job reports, quotes, invoices and quote page; empty
    # is the site's default (LANGUAGE_CODE).
    language = models.CharField(_("language"), max_length=8, blank=True,
                                help_text=_("Emails and documents to this customer are written "
                                            "in it."))

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["organization", "name"], name="customer_org_name_idx"),
            models.Index(fields=["organization", "external_ref"], name="customer_org_ref_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def language_code(self) -> str:
        """The language to write to this customer in."""
        return self.language if self.language in dict(settings.LANGUAGES) else (
            settings.LANGUAGE_CODE)


class Contact(OrgOwned, Archivable):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts",
                                 verbose_name=_("customer"))
    name = models.CharField(_("name"), max_length=200)
    role = models.CharField(_("role"), max_length=100, blank=True,
                            help_text=_("For example: owner, tenant, facilities manager."))
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)

    class Meta:
        ordering = ["-is_primary", "name", "id"]

    def __str__(self) -> str:
        return self.name


class Site(OrgOwned, Archivable):
    """A service location: where the work is done."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="sites",
                                 verbose_name=_("customer"))
    name = models.CharField(_("name"), max_length=200, blank=True,
                            help_text=_("For example: Main office, Warehouse 2. Optional."))
    address_line1 = models.CharField(_("address"), max_length=200)
    address_line2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100)
    region = models.CharField(_("state or region"), max_length=100, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True,
                                   blank=True,
                                   validators=[MinValueValidator(-90), MaxValueValidator(90)])
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True,
                                    blank=True,
                                    validators=[MinValueValidator(-180), MaxValueValidator(180)])
    access_notes = models.TextField(_("access notes"), blank=True,
                                    help_text=_("Gate codes, key safe, parking, pets, hazards."))
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True, default="",
                                 db_default="", validators=[validate_timezone],
                                 help_text=_("Only for a site outside the company's time zone: "
                                             "messages to the customer about it follow it."))

    class Meta:
        ordering = ["customer__name", "name", "address_line1", "id"]
        indexes = [models.Index(fields=["organization", "customer"], name="site_org_customer_idx")]

    def __str__(self) -> str:
        return self.name or self.address_line1

    @property
    def one_line_address(self) -> str:
        parts = [self.address_line1, self.address_line2, self.city,
                 " ".join(p for p in (self.region, self.postal_code) if p)]
        return ", ".join(p for p in parts if p)

    @property
    def has_coordinates(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        """The site's own time zone, else the organization's."""
        return (zoneinfo.ZoneInfo(self.time_zone) if self.time_zone
                else self.organization.tzinfo)


class Equipment(OrgOwned, Archivable):
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="equipment",
                             verbose_name=_("site"))
    name = models.CharField(_("name"), max_length=200,
                            help_text=_("For example: Rooftop unit 1, Boiler."))
    manufacturer = models.CharField(_("manufacturer"), max_length=100, blank=True)
    model = models.CharField(_("model"), max_length=100, blank=True)
    serial_number = models.CharField(_("serial number"), max_length=100, blank=True)
    installed_on = models.DateField(_("installed on"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = _("equipment")

    def __str__(self) -> str:
        return self.name
