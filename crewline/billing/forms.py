"""Forms of the billing pages. They validate input; saving goes through ``services``."""

from __future__ import annotations

import base64
import binascii
import re
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crewline.billing.models import (
    BillingSettings,
    Invoice,
    PaymentMethod,
    PriceBookItem,
    Quote,
)
from crewline.core.csvimport import MAX_UPLOAD_BYTES
from crewline.customers.models import Customer, Site

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PriceBookItemForm(forms.ModelForm):
    class Meta:
        model = PriceBookItem
        fields = ["code", "name", "description", "kind", "unit", "unit_price", "unit_cost",
                  "tax_rate"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.organization = organization
        self.fields["unit"].widget.attrs["list"] = "units"

    def validate_unique(self) -> None:
        # The service checks the code per organization, case-insensitively.
        pass


class QuoteForm(forms.ModelForm):
    class Meta:
        model = Quote
        fields = ["customer", "site", "title", "valid_until", "notes"]
        widgets = {"valid_until": DATE, "notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        customers = Customer.objects.filter(organization=organization, archived_at__isnull=True)
        self.fields["customer"].queryset = customers.only("id", "name")
        # Only the chosen customer's sites: the list reloads when the customer changes
        # (workorders:site_options), and a site of anyone else is refused as not a choice.
        raw = (self.data.get(self.add_prefix("customer")) if self.is_bound
               else getattr(self.initial.get("customer"), "pk", self.initial.get("customer"))
               or self.instance.customer_id)
        chosen = str(raw) if raw not in (None, "") else ""
        self.fields["site"].queryset = (
            Site.objects.filter(organization=organization, customer_id=int(chosen),
                                archived_at__isnull=True) if chosen.isdigit()
            else Site.objects.none())
        self.fields["site"].label_from_instance = (
            lambda s: f"{s.one_line_address} ({s.name})" if s.name else s.one_line_address)
        self.fields["site"].empty_label = (_("Choose a site…") if chosen.isdigit()
                                           else _("No sites: choose a customer first"))
        self.fields["valid_until"].required = False
        self.fields["valid_until"].help_text = _("Empty: the organization's usual validity.")

    def clean(self):
        data = super().clean()
        site, customer = data.get("site"), data.get("customer")
        if site and customer and site.customer_id != customer.pk:
            self.add_error("site", _("This site belongs to another customer."))
        return data

    def _post_clean(self):
        # Model validation happens in the service (organization and number are set there).
        pass


class LineForm(forms.Form):
    item = forms.ModelChoiceField(queryset=PriceBookItem.objects.none(), required=False,
                                  label=_("Price book item"),
                                  empty_label=_("— free text —"))
    description = forms.CharField(max_length=500, required=False, label=_("Description"))
    quantity = forms.DecimalField(max_digits=12, decimal_places=4, min_value=0,
                                  initial=1, label=_("Quantity"))
    unit_price = forms.DecimalField(max_digits=12, decimal_places=4, min_value=0,
                                    required=False, label=_("Unit price"),
                                    help_text=_("Empty: the item's price."))
    discount = forms.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False,
                                  initial=0, label=_("Discount"))
    tax_rate = forms.DecimalField(max_digits=6, decimal_places=3, min_value=0, max_value=100,
                                  required=False, label=_("Tax %"),
                                  help_text=_("Empty: the item's rate."))

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].queryset = PriceBookItem.objects.filter(
            organization=organization, is_active=True).order_by("code")

    def clean(self):
        data = super().clean()
        if not data.get("item") and not (data.get("description") or "").strip():
            self.add_error("description", _("Describe the line or choose an item."))
        if not data.get("item") and data.get("unit_price") is None:
            self.add_error("unit_price", _("Give a price for a free-text line."))
        return data

    def values(self) -> dict:
        data = dict(self.cleaned_data)
        if not data.get("description"):
            data.pop("description", None)
        if data.get("discount") is None:
            data["discount"] = 0
        return data


class LineEditForm(forms.Form):
    """A draft invoice's line as the office corrects it: a part typed on the phone comes in at
    0.00 and gets its price here."""

    description = forms.CharField(max_length=500, label=_("Description"))
    quantity = forms.DecimalField(max_digits=12, decimal_places=4, min_value=0,
                                  label=_("Quantity"))
    unit_price = forms.DecimalField(max_digits=12, decimal_places=4, min_value=0,
                                    label=_("Unit price"))
    tax_rate = forms.DecimalField(max_digits=6, decimal_places=3, min_value=0, max_value=100,
                                  label=_("Tax %"))

    @classmethod
    def for_line(cls, line, data=None) -> LineEditForm:
        return cls(data, prefix=f"edit-{line.pk}", initial={
            "description": line.description, "quantity": _plain(line.quantity),
            "unit_price": _plain(line.unit_price, at_least=2), "tax_rate": _plain(line.tax_rate)})


def _plain(value: Decimal, *, at_least: int = 0) -> str:
    """``value`` without trailing zeros past ``at_least`` places, never in exponent form."""
    text = format(value.normalize(), "f")
    places = len(text.partition(".")[2])
    return format(value.quantize(Decimal(1).scaleb(-at_least)), "f") if places < at_least \
        else text


class QuoteLineForm(LineForm):
    is_optional = forms.BooleanField(required=False, label=_("Optional"),
                                     help_text=_("The customer may choose it."))


class InvoiceForm(forms.ModelForm):
    class Meta:
        model = Invoice
        fields = ["due_date", "notes"]
        widgets = {"due_date": DATE, "notes": forms.Textarea(attrs={"rows": 3})}


class PaidForm(forms.Form):
    paid_on = forms.DateField(label=_("Paid on"), widget=DATE)
    method = forms.ChoiceField(choices=PaymentMethod.choices, label=_("Method"))
    reference = forms.CharField(max_length=100, required=False, label=_("Reference"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["paid_on"].initial = timezone.localdate()


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500, label=_("Reason"))


class SendForm(forms.Form):
    to = forms.EmailField(label=_("Send to"))


class BillingSettingsForm(forms.ModelForm):
    class Meta:
        model = BillingSettings
        fields = ["technicians_see_prices", "payment_terms_days", "quote_valid_days",
                  "sales_account_code", "free_text_product"]


class RateForm(forms.Form):
    hourly_rate = forms.DecimalField(max_digits=12, decimal_places=2, min_value=0,
                                     required=False, label=_("Hourly rate"))


class DefaultLaborRateForm(forms.Form):
    hourly_rate = forms.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, label=_("Default labor rate (per hour)"),
        help_text=_("Billed for labor of anyone without a rate of their own."),
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}))

    def clean_hourly_rate(self):
        rate = self.cleaned_data["hourly_rate"]
        if rate == 0:
            raise forms.ValidationError(_("Give the rate you bill an hour of labor at; zero "
                                          "would bill labor at nothing."))
        return rate


class XeroTaxTypesForm(forms.Form):
    """One text field per tax rate: the name of the matching tax rate in Xero."""

    def __init__(self, *args, rates: list[str], tax_types: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.rates = rates
        for index, rate in enumerate(rates):
            self.fields[f"rate_{index}"] = forms.CharField(
                label=f"{rate}%", max_length=50, required=False,
                initial=tax_types.get(rate, ""))

    def rows(self):
        return [(rate, self[f"rate_{index}"]) for index, rate in enumerate(self.rates)]

    def tax_types(self) -> dict[str, str]:
        return {rate: self.cleaned_data.get(f"rate_{index}", "")
                for index, rate in enumerate(self.rates)}


class ImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"))

    def clean_file(self):
        file = self.cleaned_data["file"]
        if file.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        return file


DATA_URL = re.compile(r"^data:image/png;base64,([A-Za-z0-9+/=\s]+)$")


class ApproveForm(forms.Form):
    name = forms.CharField(max_length=200, label=_("Your name"))
    signature = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean_signature(self) -> bytes:
        value = self.cleaned_data.get("signature") or ""
        match = DATA_URL.match(value)
        if not match:
            raise forms.ValidationError(_("Sign in the box before approving."))
        try:
            return base64.b64decode(match.group(1), validate=False)
        except (binascii.Error, ValueError) as exc:
            raise forms.ValidationError(_("The signature could not be read.")) from exc


class DeclineForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000,
                             label=_("Why are you declining?"))
