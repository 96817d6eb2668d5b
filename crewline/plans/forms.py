"""Forms of the maintenance plan pages: the recurrence picker (which builds an RRULE, or takes a
raw one) and the plan form. Times are local to the organization."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from crewline.core.models import Member, Organization, Skill
from crewline.customers.models import Customer, Site
from crewline.plans.models import MAX_HORIZON_DAYS, MaintenancePlan
from crewline.plans.recurrence import (
    ORDINALS,
    WEEKDAY_CODES,
    WEEKDAY_NAMES,
    build_rrule,
    normalise_rrule,
    picker_values,
    validate_rrule,
)
from crewline.workorders.forms import DateInput, TimeInput
from crewline.workorders.models import JobType, Priority

CUSTOMER_CHOICES_SHOWN = 50
FREQ_CHOICES = [("DAILY", _("Daily")), ("WEEKLY", _("Weekly")), ("MONTHLY", _("Monthly")),
                ("YEARLY", _("Yearly"))]
WEEKDAY_CHOICES = [(code, WEEKDAY_NAMES[code]) for code in WEEKDAY_CODES]
NTH_CHOICES = [(str(n), label) for n, label in ORDINALS.items()]
KIND_WORDS = {"yes_no": "yes_no", "yes/no": "yes_no", "yesno": "yes_no", "number": "number",
              "text": "text", "photo": "photo"}


def parse_checklist(text: str) -> list[dict]:
    """One item a line: ``Label | kind | required``; kind is yes/no (the default), number,
    text or photo; "required" or "optional" (the default)."""
    items = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 3 or not cells[0]:
            raise ValidationError(
                _("Line %(n)d: write “Label | kind | required”, for example "
                  "“Filters changed | yes/no | required”.") % {"n": number})
        kind = KIND_WORDS.get((cells[1] if len(cells) > 1 else "yes_no").lower() or "yes_no")
        if kind is None:
            raise ValidationError(_("Line %(n)d: the kind must be yes/no, number, text or "
                                    "photo.") % {"n": number})
        need = (cells[2] if len(cells) > 2 else "optional").lower() or "optional"
        if need not in ("required", "optional"):
            raise ValidationError(_("Line %(n)d: write “required” or “optional”.")
                                  % {"n": number})
        if len(cells[0]) > 200:
            raise ValidationError(_("Line %(n)d: keep the label under 200 characters.")
                                  % {"n": number})
        items.append({"label": cells[0], "kind": kind, "required": need == "required"})
    return items


def checklist_text(items: list[dict]) -> str:
    words = {"yes_no": "yes/no"}
    return "\n".join(
        f"{i['label']} | {words.get(i['kind'], i['kind'])} | "
        f"{'required' if i.get('required') else 'optional'}" for i in items)


class RecurrenceForm(forms.Form):
    """The picker: frequency, interval, weekdays or the nth weekday; or a raw RRULE."""

    freq = forms.ChoiceField(label=_("Repeats"), choices=FREQ_CHOICES, initial="MONTHLY")
    interval = forms.IntegerField(label=_("Every"), min_value=1, max_value=99, initial=1)
    weekdays = forms.MultipleChoiceField(label=_("On"), choices=WEEKDAY_CHOICES, required=False,
                                         widget=forms.CheckboxSelectMultiple)
    monthly_on = forms.ChoiceField(
        label=_("Day of the month"), initial="date", widget=forms.RadioSelect,
        choices=[("date", _("The same day as the first date")),
                 ("nth", _("A weekday of the month"))])
    nth = forms.TypedChoiceField(label=_("Which"), choices=NTH_CHOICES, coerce=int,
                                 required=False, initial="1")
    nth_weekday = forms.ChoiceField(label=_("Weekday"), choices=WEEKDAY_CHOICES, required=False,
                                    initial="MO")
    advanced_rrule = forms.CharField(
        label=_("Or a rule of your own (RRULE)"), required=False, max_length=300,
        help_text=_("An RFC 5545 rule such as FREQ=MONTHLY;BYDAY=1MO. When filled in, it is "
                    "used instead of the choices above."),
        widget=forms.TextInput(attrs={"placeholder": "FREQ=MONTHLY;INTERVAL=3",
                                      "spellcheck": "false", "autocapitalize": "characters"}))
    start_date = forms.DateField(label=_("First date"), widget=DateInput)
    end_date = forms.DateField(label=_("Last date"), required=False, widget=DateInput,
                               help_text=_("Optional: the contract's end."))

    def clean(self):
        data = super().clean()
        raw = (data.get("advanced_rrule") or "").strip()
        if raw:
            try:
                validate_rrule(raw)
            except ValidationError as exc:
                self.add_error("advanced_rrule", exc)
                return data
            data["rrule"] = normalise_rrule(raw)
        elif data.get("freq") and data.get("interval"):
            nth = data.get("nth") if data.get("monthly_on") == "nth" else None
            if data.get("freq") == "MONTHLY" and data.get("monthly_on") == "nth" and not (
                    nth and data.get("nth_weekday")):
                self.add_error("nth", _("Choose which weekday of the month."))
                return data
            data["rrule"] = build_rrule(freq=data["freq"], interval=data["interval"],
                                        weekdays=data.get("weekdays") or [], nth=nth,
                                        nth_weekday=data.get("nth_weekday") or None)
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The last date must not be before the first."))
        return data

    @staticmethod
    def initial_for_rule(rule: str) -> dict:
        values = picker_values(rule)
        if values is None:
            return {"advanced_rrule": rule}
        return {"freq": values["freq"], "interval": values["interval"],
                "weekdays": values["weekdays"],
                "monthly_on": "nth" if values["nth"] else "date",
                "nth": str(values["nth"] or 1), "nth_weekday": values["nth_weekday"] or "MO"}


class PlanForm(RecurrenceForm):
    customer = forms.ModelChoiceField(label=_("Customer"), queryset=Customer.objects.none(),
                                      empty_label=_("Choose a customer…"))
    site = forms.ModelChoiceField(label=_("Site"), queryset=Site.objects.none(),
                                  empty_label=_("Choose a site…"))
    name = forms.CharField(label=_("Plan name"), max_length=200, widget=forms.TextInput(
        attrs={"placeholder": _("For example: Quarterly HVAC service")}))
    start_time = forms.TimeField(label=_("Preferred start time"), widget=TimeInput,
                                 initial="09:00")
    horizon_days = forms.IntegerField(
        label=_("Raise work orders ahead (days)"), min_value=1, max_value=MAX_HORIZON_DAYS,
        initial=60)
    title = forms.CharField(label=_("Work order title"), max_length=200, required=False,
                            help_text=_("Leave empty to use the plan's name."))
    instructions = forms.CharField(label=_("Instructions for the crew"), required=False,
                                   widget=forms.Textarea(attrs={"rows": 3}))
    job_type = forms.ModelChoiceField(label=_("Job type"), queryset=JobType.objects.none(),
                                      required=False, empty_label=_("None"))
    priority = forms.TypedChoiceField(label=_("Priority"), choices=Priority.choices, coerce=int,
                                      initial=Priority.NORMAL)
    duration_minutes = forms.IntegerField(label=_("Duration (minutes)"), min_value=5,
                                          max_value=24 * 60, initial=60)
    price = forms.DecimalField(label=_("Price per visit"), min_value=Decimal("0"),
                               max_digits=10, decimal_places=2, initial=Decimal("0.00"))
    checklist = forms.CharField(
        label=_("Checklist"), required=False,
        help_text=_("One item a line: label | yes/no, number, text or photo | required or "
                    "optional."),
        # The kinds and "required"/"optional" are the words the checklist is read by.
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": _(
            "Filters changed | yes/no | required\nSupply air temperature | number | optional")}))
    required_skills = forms.ModelMultipleChoiceField(
        label=_("Required skills"), queryset=Skill.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple)
    default_crew = forms.ModelMultipleChoiceField(
        label=_("Default crew"), queryset=Member.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Optional: who the visits are given to. Leave empty to assign them on the "
                    "board."))

    field_order = ["customer", "site", "name"]

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        customers = Customer.objects.filter(organization=organization, archived_at__isnull=True)
        self.fields["customer"].queryset = customers
        self.fields["job_type"].queryset = JobType.objects.filter(organization=organization,
                                                                  is_active=True)
        self.fields["required_skills"].queryset = Skill.objects.filter(organization=organization)
        self.fields["default_crew"].queryset = (
            Member.objects.filter(organization=organization, is_active=True)
            .select_related("user").order_by("user__full_name"))
        self.fields["default_crew"].label_from_instance = lambda m: m.name
        raw = (self.data.get(self.add_prefix("customer")) if self.is_bound
               else getattr(self.initial.get("customer"), "pk", self.initial.get("customer")))
        chosen = customers.filter(pk=raw).first() if str(raw or "").isdigit() else None
        self.fields["site"].queryset = (
            Site.objects.filter(customer=chosen, archived_at__isnull=True) if chosen
            else Site.objects.none())
        self.fields["site"].label_from_instance = (
            lambda s: f"{s.one_line_address} ({s.name})" if s.name else s.one_line_address)
        # The select shows the chosen customer and the first few others; the search box above it
        # loads more.
        shown = list(customers.order_by("name", "id")[:CUSTOMER_CHOICES_SHOWN])
        if chosen and chosen not in shown:
            shown.insert(0, chosen)
        self.fields["customer"].widget.choices = [
            ("", self.fields["customer"].empty_label), *((c.pk, c.name) for c in shown)]

    def clean_checklist(self):
        return parse_checklist(self.cleaned_data.get("checklist", ""))

    @classmethod
    def initial_for(cls, plan: MaintenancePlan) -> dict:
        initial = {name: getattr(plan, name) for name in (
            "customer", "site", "name", "start_date", "end_date", "start_time", "horizon_days",
            "title", "instructions", "job_type", "priority", "duration_minutes", "price")}
        initial["checklist"] = checklist_text(plan.checklist)
        initial["required_skills"] = list(plan.required_skills.all())
        initial["default_crew"] = list(plan.default_crew.all())
        initial.update(cls.initial_for_rule(plan.rrule))
        return initial

    def service_values(self) -> dict:
        d = self.cleaned_data
        return {name: d[name] for name in (
            "customer", "site", "name", "rrule", "start_date", "start_time", "horizon_days",
            "end_date", "title", "instructions", "job_type", "priority", "checklist",
            "duration_minutes", "required_skills", "default_crew", "price")}


class SkipForm(forms.Form):
    date = forms.DateField()
