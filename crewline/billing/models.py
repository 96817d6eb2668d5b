"""Price book, labor rates, quotes and invoices.

Amounts are Decimal: quantities and unit prices keep 4 places, money 2 (see ``money.py`` for
the rounding rule). Each priced line stores its rounded net and tax, so a document's totals are
the sums of its stored lines.

Where a quote's lines go when it becomes a work order: the quote keeps them and points at the
work order (``Quote.work_order``). The invoice draft of that work order takes the quote's lines
that the customer approved (required ones and the optional ones ticked); nothing is copied
twice and nothing is typed again.
"""

from __future__ import annotations

import hashlib
import uuid
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crewline.billing.money import LineAmounts, line_amounts
from crewline.core.models import Member, OrgOwned
from crewline.customers.models import Customer, Site
from crewline.workorders.models import WorkOrder

NOT_NEGATIVE = [MinValueValidator(Decimal(0))]
RATE_VALIDATORS = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))]


class BillingSettings(OrgOwned):
    """An organization's billing choices and document counters (one row per organization)."""

    technicians_see_prices = models.BooleanField(
        _("technicians may see prices and invoices"), default=False)
    payment_terms_days = models.PositiveIntegerField(_("payment terms (days)"), default=30)
    quote_valid_days = models.PositiveIntegerField(_("quotes valid for (days)"), default=30)
    sales_account_code = models.CharField(
        _("sales account code"), max_length=20, default="200",
        help_text=_("The income account invoices are coded to in your accounting system."))
    free_text_product = models.CharField(
        _("product/service for free-text lines"), max_length=100, default="Services",
        blank=True,
        help_text=_("QuickBooks needs a product or service on every line: lines typed by hand "
                    "(and parts not in the price book) are exported as this one."))
    # Xero's tax type for each tax rate used, keyed by the rate as written ("8.25", "0"):
    # Xero matches the name exactly, so it is set by the office, never guessed.
    xero_tax_types = models.JSONField(_("Xero tax types"), default=dict, blank=True)
    next_quote_number = models.PositiveIntegerField(default=1001, editable=False)
    next_invoice_number = models.PositiveIntegerField(default=1001, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization"],
                                               name="billing_settings_one_per_org")]

    def __str__(self) -> str:
        return f"Billing settings of {self.organization_id}"

    def xero_tax_type(self, rate: Decimal) -> str:
        """The Xero tax type set for ``rate``; empty when none is set."""
        return str((self.xero_tax_types or {}).get(tax_rate_key(rate), "")).strip()


def tax_rate_key(rate: Decimal) -> str:
    """A tax rate as written in settings and exports: ``Decimal("8.250")`` → ``"8.25"``."""
    text = f"{Decimal(rate).normalize():f}"
    return "0" if Decimal(text) == 0 else text


class ItemKind(models.TextChoices):
    SERVICE = "service", _("Service")
    MATERIAL = "material", _("Material")


UNITS = ["each", "hour", "m", "m2", "m3", "kg", "l", "ft", "box", "set", "day", "visit"]


class PriceBookItem(OrgOwned):
    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=ItemKind.choices,
                            default=ItemKind.SERVICE)
    unit = models.CharField(_("unit"), max_length=20, default="each",
                            help_text=_("each, hour, m, kg, …"))
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=4,
                                     validators=NOT_NEGATIVE)
    unit_cost = models.DecimalField(_("unit cost"), max_digits=12, decimal_places=4,
                                    default=Decimal(0), validators=NOT_NEGATIVE)
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=6, decimal_places=3,
                                   default=Decimal(0), validators=RATE_VALIDATORS)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code", "id"]
        constraints = [
            models.UniqueConstraint("organization", Lower("code"), name="pricebook_unique_code"),
        ]
        indexes = [models.Index(fields=["organization", "is_active", "code"],
                                name="pricebook_org_active_idx")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class MemberRate(OrgOwned):
    """What an hour of a member's labor is billed at."""

    member = models.OneToOneField(Member, on_delete=models.CASCADE, related_name="billing_rate")
    hourly_rate = models.DecimalField(_("hourly rate"), max_digits=12, decimal_places=2,
                                      validators=NOT_NEGATIVE)

    def __str__(self) -> str:
        return f"{self.member_id}: {self.hourly_rate}"


class PricedLine(models.Model):
    """Fields shared by quote and invoice lines; ``net_amount``/``tax_amount`` are stored
    rounded by ``money.line_amounts`` whenever the line is saved through a service."""

    position = models.PositiveIntegerField(default=0)
    item = models.ForeignKey(PriceBookItem, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+", verbose_name=_("price book item"))
    description = models.CharField(_("description"), max_length=500)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=4,
                                   default=Decimal(1), validators=NOT_NEGATIVE)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=4,
                                     default=Decimal(0), validators=NOT_NEGATIVE)
    discount = models.DecimalField(_("discount"), max_digits=12, decimal_places=2,
                                   default=Decimal(0), validators=NOT_NEGATIVE)
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=6, decimal_places=3,
                                   default=Decimal(0), validators=RATE_VALIDATORS)
    net_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal(0),
                                     editable=False)
    tax_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal(0),
                                     editable=False)

    class Meta:
        abstract = True
        ordering = ["position", "id"]

    def amounts(self) -> LineAmounts:
        return line_amounts(quantity=Decimal(self.quantity), unit_price=Decimal(self.unit_price),
                            discount=Decimal(self.discount), tax_rate=Decimal(self.tax_rate))

    def compute(self) -> None:
        amounts = self.amounts()
        self.net_amount, self.tax_amount = amounts.net, amounts.tax

    @property
    def gross_amount(self) -> Decimal:
        return self.net_amount + self.tax_amount


class QuoteStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")
    APPROVED = "approved", _("Approved")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")
    CONVERTED = "converted", _("Converted")


def signature_path(quote: Quote, filename: str) -> str:
    return f"org/{quote.organization_id}/quotes/{quote.pk}/{uuid.uuid4().hex}.png"


class Quote(OrgOwned):
    number = models.PositiveIntegerField(_("number"), editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="quotes",
                                 verbose_name=_("customer"))
    site = models.ForeignKey(Site, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="quotes", verbose_name=_("site"))
    title = models.CharField(_("title"), max_length=200)
    status = models.CharField(_("status"), max_length=12, choices=QuoteStatus.choices,
                              default=QuoteStatus.DRAFT)
    valid_until = models.DateField(_("valid until"))
    notes = models.TextField(_("notes for the customer"), blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    # SHA-256 of the public link's token; the token itself is only ever in the email.
    token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True,
                                  editable=False)
    sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    sent_to = models.EmailField(blank=True, editable=False)
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    approved_by_name = models.CharField(max_length=200, blank=True, editable=False)
    signature = models.FileField(upload_to=signature_path, blank=True, editable=False)
    declined_at = models.DateTimeField(null=True, blank=True, editable=False)
    declined_reason = models.TextField(blank=True, editable=False)
    work_order = models.OneToOneField(WorkOrder, on_delete=models.SET_NULL, null=True,
                                      blank=True, related_name="quote", editable=False)
    subtotal = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal(0),
                                   editable=False)
    tax_total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal(0),
                                    editable=False)
    created_by = models.ForeignKey(Member, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="quote_unique_number"),
        ]
        indexes = [models.Index(fields=["organization", "status", "-number"],
                                name="quote_org_status_idx")]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def reference(self) -> str:
        return f"Q-{self.number}"

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.tax_total

    @property
    def is_editable(self) -> bool:
        return self.status in (QuoteStatus.DRAFT, QuoteStatus.SENT)

    @property
    def is_expired(self) -> bool:
        # ``valid_until`` is a day of the company's calendar, wherever the check runs.
        return (self.status in (QuoteStatus.DRAFT, QuoteStatus.SENT)
                and self.valid_until < timezone.localdate(timezone=self.organization.tzinfo))

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()


class QuoteLine(OrgOwned, PricedLine):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")
    is_optional = models.BooleanField(_("optional"), default=False,
                                      help_text=_("The customer may choose it when approving."))
    # Whether the line counts: always for required lines; for optional ones, the customer's tick.
    is_selected = models.BooleanField(default=True, editable=False)

    class Meta(PricedLine.Meta):
        abstract = False

    def __str__(self) -> str:
        return self.description


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ISSUED = "issued", _("Issued")
    PAID = "paid", _("Paid")
    VOID = "void", _("Void")


class PaymentMethod(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    CARD = "card", _("Card")
    CASH = "cash", _("Cash")
    CHECK = "check", _("Check")
    OTHER = "other", _("Other")


class Invoice(OrgOwned):
    # Assigned when the invoice is issued; drafts have none.
    number = models.PositiveIntegerField(_("number"), null=True, blank=True, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="invoices",
                                 verbose_name=_("customer"))
    work_order = models.ForeignKey(WorkOrder, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="invoices", verbose_name=_("work order"))
    status = models.CharField(_("status"), max_length=10, choices=InvoiceStatus.choices,
                              default=InvoiceStatus.DRAFT)
    issue_date = models.DateField(_("issue date"), null=True, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    notes = models.TextField(_("notes for the customer"), blank=True)
    paid_on = models.DateField(_("paid on"), null=True, blank=True, editable=False)
    payment_method = models.CharField(_("payment method"), max_length=20, blank=True,
                                      choices=PaymentMethod.choices, editable=False)
    payment_reference = models.CharField(_("payment reference"), max_length=100, blank=True,
                                         editable=False)
    void_reason = models.CharField(_("reason"), max_length=500, blank=True, editable=False)
    subtotal = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal(0),
                                   editable=False)
    tax_total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal(0),
                                    editable=False)
    sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(Member, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"],
                                    condition=Q(number__isnull=False),
                                    name="invoice_unique_number"),
        ]
        indexes = [models.Index(fields=["organization", "status", "-created_at"],
                                name="invoice_org_status_idx")]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        if self.number:
            return f"INV-{self.number}"
        return gettext("Draft %(n)s") % {"n": self.pk}

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.tax_total

    @property
    def is_editable(self) -> bool:
        return self.status == InvoiceStatus.DRAFT


class LineSource(models.TextChoices):
    LABOR = "labor", _("Labor")
    PART = "part", _("Part")
    QUOTE = "quote", _("Quoted")
    MANUAL = "manual", _("Added by hand")


class InvoiceLine(OrgOwned, PricedLine):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    source = models.CharField(max_length=10, choices=LineSource.choices,
                              default=LineSource.MANUAL, editable=False)
    # The timeline entry or quote line the line was made from, for tracing back.
    source_id = models.PositiveBigIntegerField(null=True, blank=True, editable=False)

    class Meta(PricedLine.Meta):
        abstract = False

    def __str__(self) -> str:
        return self.description
