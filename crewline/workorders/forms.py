"""Forms of the work order pages. Times are entered in the organization's time zone, which the
middleware has activated, so Django's fields make them aware in that zone."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crewline.core.models import Member, Organization
from crewline.customers.models import Customer, CustomerKind, Site
from crewline.workorders.models import (
    JobType,
    Priority,
    Status,
    Tag,
    Visibility,
    VisitStatus,
    WorkOrderKind,
)
from crewline.workorders.selectors import ALL

CUSTOMER_CHOICES_SHOWN = 50


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%H:%M")


def parse_tags(text: str) -> list[str]:
    """Comma-separated tag names, trimmed, without duplicates (case-insensitively)."""
    seen: dict[str, str] = {}
    for raw in (text or "").split(","):
        name = " ".join(raw.split())[:40]
        if name and name.lower() not in seen:
            seen[name.lower()] = name
    return list(seen.values())


def tags_for_names(organization: Organization, names: list[str]) -> list[Tag]:
    """The organization's tags with these names, creating the ones that do not exist yet."""
    tags = []
    for name in names:
        tag = Tag.objects.filter(organization=organization, name__iexact=name).first()
        if tag is None:
            tag = Tag.objects.create(organization=organization, name=name)
        tags.append(tag)
    return tags


class WorkOrderFilterForm(forms.Form):
    STATUS_CHOICES = [(ALL, _("All")), *Status.choices]

    q = forms.CharField(label=_("Search"), required=False, widget=forms.TextInput(attrs={
        "placeholder": _("Number, title, customer or address"), "type": "search"}))
    status = forms.MultipleChoiceField(label=_("Status"), required=False, choices=STATUS_CHOICES)
    priority = forms.TypedChoiceField(label=_("Priority"), required=False, coerce=int,
                                      empty_value=None,
                                      choices=[("", _("Any priority")), *Priority.choices])
    customer = forms.IntegerField(required=False, widget=forms.HiddenInput)
    technician = forms.ModelChoiceField(label=_("Technician"), required=False,
                                        queryset=Member.objects.none(),
                                        empty_label=_("Anyone"))
    tag = forms.ModelChoiceField(label=_("Tag"), required=False, queryset=Tag.objects.none(),
                                 empty_label=_("Any tag"))
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput)
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput)

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["technician"].queryset = (
            Member.objects.filter(organization=organization, is_active=True)
            .select_related("user").order_by("user__full_name"))
        self.fields["technician"].label_from_instance = lambda m: m.name
        self.fields["tag"].queryset = Tag.objects.filter(organization=organization)

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            self.add_error("date_to", _("The end date must not be before the start date."))
        return data


class WorkOrderForm(forms.Form):
    """Create or edit a work order. When creating, a new customer can be entered inline."""

    customer = forms.ModelChoiceField(label=_("Customer"), queryset=Customer.objects.none(),
                                      required=False, empty_label=_("Choose a customer…"))
    site = forms.ModelChoiceField(label=_("Site"), queryset=Site.objects.none(), required=False,
                                  empty_label=_("Choose a site…"))
    new_customer = forms.BooleanField(label=_("New customer"), required=False)
    new_name = forms.CharField(label=_("Customer name"), max_length=200, required=False)
    new_kind = forms.ChoiceField(label=_("Customer type"), choices=CustomerKind.choices,
                                 required=False, initial=CustomerKind.RESIDENTIAL)
    new_phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    new_email = forms.EmailField(label=_("Email"), required=False)
    new_address_line1 = forms.CharField(label=_("Address"), max_length=200, required=False)
    new_city = forms.CharField(label=_("City"), max_length=100, required=False)
    new_region = forms.CharField(label=_("State or region"), max_length=100, required=False)
    new_postal_code = forms.CharField(label=_("Postal code"), max_length=20, required=False)

    title = forms.CharField(label=_("Title"), max_length=200, widget=forms.TextInput(attrs={
        "placeholder": _("For example: No heat in the upstairs bedrooms")}))
    kind = forms.ChoiceField(label=_("Type"), choices=WorkOrderKind.choices,
                             initial=WorkOrderKind.REACTIVE)
    job_type = forms.ModelChoiceField(label=_("Job type"), queryset=JobType.objects.none(),
                                      required=False, empty_label=_("None"))
    priority = forms.TypedChoiceField(label=_("Priority"), choices=Priority.choices, coerce=int,
                                      initial=Priority.NORMAL)
    instructions = forms.CharField(label=_("Instructions for the crew"), required=False,
                                   widget=forms.Textarea(attrs={"rows": 4}))
    requested_start = forms.DateTimeField(label=_("Requested from"), required=False,
                                          widget=DateTimeLocalInput)
    requested_end = forms.DateTimeField(label=_("Requested until"), required=False,
                                        widget=DateTimeLocalInput)
    due_date = forms.DateField(label=_("Due date"), required=False, widget=DateInput)
    tags = forms.CharField(label=_("Tags"), required=False, max_length=400,
                           help_text=_("Separate tags with commas."),
                           widget=forms.TextInput(attrs={"placeholder": _("warranty, vip")}))

    NEW_CUSTOMER_FIELDS = ("new_name", "new_kind", "new_phone", "new_email",
                           "new_address_line1", "new_city", "new_region", "new_postal_code")

    def __init__(self, *args, organization: Organization, allow_new_customer: bool = True,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        customers = Customer.objects.filter(organization=organization, archived_at__isnull=True)
        self.fields["customer"].queryset = customers
        self.fields["job_type"].queryset = JobType.objects.filter(organization=organization,
                                                                  is_active=True)
        if not allow_new_customer:
            for name in ("new_customer", *self.NEW_CUSTOMER_FIELDS):
                del self.fields[name]
        customer_id = self._value("customer")
        chosen = customers.filter(pk=customer_id).first() if _is_int(customer_id) else None
        self.chosen_customer = chosen
        self.fields["site"].queryset = (
            Site.objects.filter(organization=organization, customer=chosen,
                                archived_at__isnull=True) if chosen
            else Site.objects.none())
        self.fields["site"].label_from_instance = (
            lambda s: f"{s.one_line_address} ({s.name})" if s.name else s.one_line_address)
        # The select shows the chosen customer and the first few others; the search box above it
        # loads more (an organization may have thousands of customers).
        shown = list(customers.order_by("name", "id")[:CUSTOMER_CHOICES_SHOWN])
        if chosen and chosen not in shown:
            shown.insert(0, chosen)
        self.fields["customer"].widget.choices = [
            ("", self.fields["customer"].empty_label), *((c.pk, c.name) for c in shown)]

    def _value(self, name: str):
        if self.is_bound:
            return self.data.get(self.add_prefix(name))
        value = self.initial.get(name)
        return getattr(value, "pk", value)

    def clean(self):
        data = super().clean()
        if data.get("new_customer"):
            for name, label in (("new_name", _("customer name")),
                                ("new_address_line1", _("address")), ("new_city", _("city"))):
                if not (data.get(name) or "").strip():
                    self.add_error(name, _("Enter the %(what)s.") % {"what": label})
            data["customer"] = None
            data["site"] = None
        elif not data.get("customer") and "customer" not in self.errors:
            self.add_error("customer", _("Choose a customer, or enter a new one."))
        start, end = data.get("requested_start"), data.get("requested_end")
        if start and end and end <= start:
            self.add_error("requested_end", _("The end must be after the start."))
        data["tag_names"] = parse_tags(data.get("tags", ""))
        return data

    def new_customer_values(self) -> dict:
        d = self.cleaned_data
        return {"name": d["new_name"].strip(), "kind": d["new_kind"] or CustomerKind.RESIDENTIAL,
                "phone": d["new_phone"], "email": d["new_email"]}

    def new_site_values(self) -> dict:
        d = self.cleaned_data
        return {"address_line1": d["new_address_line1"].strip(), "city": d["new_city"].strip(),
                "region": d["new_region"], "postal_code": d["new_postal_code"]}


def _is_int(value) -> bool:
    try:
        int(value)
    except (TypeError, ValueError):
        return False
    return True


class VisitForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=DateInput)
    start_time = forms.TimeField(label=_("Start"), widget=TimeInput)
    end_time = forms.TimeField(label=_("End"), required=False, widget=TimeInput)
    duration = forms.IntegerField(label=_("or duration (minutes)"), required=False,
                                  min_value=5, max_value=24 * 60)
    crew = forms.ModelMultipleChoiceField(label=_("Crew"), queryset=Member.objects.none(),
                                          required=False, widget=forms.CheckboxSelectMultiple)
    notes = forms.CharField(label=_("Notes for the crew"), required=False,
                            widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["crew"].queryset = (Member.objects.filter(organization=organization,
                                                              is_active=True)
                                        .select_related("user").order_by("user__full_name"))
        self.fields["crew"].label_from_instance = lambda m: m.name

    def clean(self):
        data = super().clean()
        day, start_time = data.get("date"), data.get("start_time")
        end_time, duration = data.get("end_time"), data.get("duration")
        if day is None or start_time is None:
            return data
        start = timezone.make_aware(dt.datetime.combine(day, start_time))
        if end_time is not None:
            end = timezone.make_aware(dt.datetime.combine(day, end_time))
            if end <= start:
                self.add_error("end_time", _("The end must be after the start."))
                return data
        elif duration:
            end = start + dt.timedelta(minutes=duration)
        else:
            if "duration" not in self.errors:
                self.add_error("end_time", _("Give an end time or a duration."))
            return data
        data["start"], data["end"] = start, end
        return data


class NoteForm(forms.Form):
    body = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={
        "rows": 3, "placeholder": _("What happened, what was agreed, what is next…")}))
    visibility = forms.ChoiceField(label=_("Who can see it"), choices=Visibility.choices,
                                   initial=Visibility.INTERNAL)

    def clean_body(self):
        body = self.cleaned_data["body"].strip()
        if not body:
            raise ValidationError(_("Write something before adding the note."))
        return body


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("File or photo"))
    caption = forms.CharField(label=_("Caption"), required=False, max_length=500)
    visibility = forms.ChoiceField(label=_("Who can see it"), choices=Visibility.choices,
                                   initial=Visibility.INTERNAL)


class VisitChoiceField(forms.TypedChoiceField):
    """One of the work order's visits that take entries (not cancelled), latest first, named by
    day and crew; made from the visits the page has loaded (with their crews), no query."""

    def __init__(self, *, work_order, visits):
        from django.utils.formats import date_format

        tz = work_order.organization.tzinfo
        self.visits = {v.pk: v for v in sorted(
            (v for v in visits if v.status != VisitStatus.CANCELLED),
            key=lambda v: (v.start is not None, v.start, v.pk), reverse=True)}

        def label(visit) -> str:
            when = (date_format(visit.start.astimezone(tz), "D j M, H:i") if visit.start
                    else _("No time yet"))
            crew = ", ".join(m.name for m in visit.crew.all())
            return f"{when} · {crew}" if crew else str(when)

        super().__init__(label=_("Visit"), coerce=int,
                         choices=[(pk, label(v)) for pk, v in self.visits.items()])

    def clean(self, value):
        return self.visits[super().clean(value)]


class PartForm(forms.Form):
    """A part or material the office records on one of the job's visits."""

    item = forms.TypedChoiceField(label=_("From the price book"), required=False, coerce=int,
                                  empty_value=None)
    name = forms.CharField(label=_("Or describe it"), required=False, max_length=200)
    quantity = forms.DecimalField(label=_("Quantity"), min_value=Decimal("0.0001"),
                                  max_value=Decimal(100000), max_digits=10, decimal_places=4,
                                  initial=1)
    unit = forms.CharField(label=_("Unit"), required=False, max_length=20)

    def __init__(self, *args, work_order, visits, price_book: list[tuple[int, str]],
                 **kwargs):
        super().__init__(*args, prefix="part", **kwargs)
        self.fields = {"visit": VisitChoiceField(work_order=work_order, visits=visits),
                       **self.fields}
        self.fields["item"].choices = [("", _("— typed below —")), *price_book]

    def clean(self):
        data = super().clean()
        if not data.get("item") and not (data.get("name") or "").strip():
            raise ValidationError({"name": _("Choose an item from the price book or describe "
                                             "the part.")})
        return data


class LaborForm(forms.Form):
    """Labor time the office records for a member on one of the job's visits; it replaces
    that member's earlier labor there."""

    member = forms.TypedChoiceField(label=_("Who"), coerce=int)
    minutes = forms.IntegerField(label=_("Minutes"), min_value=0, max_value=24 * 60)
    description = forms.CharField(label=_("What was done"), required=False, max_length=500)

    def __init__(self, *args, work_order, visits, **kwargs):
        super().__init__(*args, prefix="labor", **kwargs)
        self.fields = {"visit": VisitChoiceField(work_order=work_order, visits=visits),
                       **self.fields}
        self.members = {m.pk: m for m in Member.objects
                        .filter(organization_id=work_order.organization_id, is_active=True)
                        .select_related("user").order_by("user__full_name")}
        self.fields["member"].choices = [(pk, m.name) for pk, m in self.members.items()]

    def clean_member(self) -> Member:
        return self.members[self.cleaned_data["member"]]


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))
