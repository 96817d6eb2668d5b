from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from crewline.core import timezones
from crewline.core.models import WEEKDAYS, Member, Organization, Role, Skill, User
from crewline.core.services import MAX_LOGO_BYTES
from crewline.workorders.models import JobType

CURRENCIES = ["USD", "CAD", "MXN", "EUR", "GBP", "AUD", "NZD", "CHF", "SEK", "NOK", "DKK",
              "ZAR", "INR", "JPY", "SGD", "BRL"]
DAY_NAMES = {"mon": _("Monday"), "tue": _("Tuesday"), "wed": _("Wednesday"),
             "thu": _("Thursday"), "fri": _("Friday"), "sat": _("Saturday"),
             "sun": _("Sunday")}


def errors_to_form(form: forms.BaseForm, exc: ValidationError, *,
                   fields: Mapping[str, str] | None = None) -> None:
    """Show a service's ``ValidationError`` on ``form``: each message next to the field it
    names, or among the form's non-field errors when it names none or a field the form does
    not have. ``fields`` maps a service's field name to the form's where they differ
    (``{"rrule": "advanced_rrule"}``)."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for name, errors in exc.error_dict.items():
        name = (fields or {}).get(name, name)
        form.add_error(name if name in form.fields else None, errors)


def time_zone_field(**kwargs) -> forms.ChoiceField:
    """A select of canonical time zones grouped by region; ``core/timezone.js`` preselects
    the browser's zone where the select says ``data-browser-zone``."""
    return forms.ChoiceField(label=_("Time zone"), widget=forms.Select(attrs={
        "data-aliases": json.dumps(timezones.aliases(), separators=(",", ":"))}), **kwargs)


class LoginForm(AuthenticationForm):
    username = forms.EmailField(label=_("Email address"),
                                widget=forms.EmailInput(attrs={"autofocus": True,
                                                               "autocomplete": "email"}))


class PasswordPairMixin:
    """Two password fields checked with the project's password validators."""

    def clean_password2(self):
        p1, p2 = self.cleaned_data.get("password1"), self.cleaned_data.get("password2")
        if p1 and p2 and p1 != p2:
            raise ValidationError(_("The two passwords don't match."))
        return p2

    def _validate_password(self, user: User) -> None:
        password = self.cleaned_data.get("password2")
        if password:
            try:
                password_validation.validate_password(password, user)
            except ValidationError as exc:
                self.add_error("password1", exc)


def _password_fields():
    return (
        forms.CharField(label=_("Password"), strip=False,
                        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                        help_text=_("At least 10 characters; not a common password.")),
        forms.CharField(label=_("Password again"), strip=False,
                        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})),
    )


class SignupForm(PasswordPairMixin, forms.Form):
    organization_name = forms.CharField(label=_("Company name"), max_length=200)
    time_zone = time_zone_field(initial="America/New_York",
                                help_text=_("Schedules and reports use it; you can change "
                                            "it later."))
    labor_rate = forms.DecimalField(
        label=_("Labor rate per hour"), required=False, max_digits=12, decimal_places=2,
        min_value=Decimal(0),
        # A hint below the field, not a placeholder: "95.00" in the box read as a rate already
        # filled in, and the account was made with none.
        help_text=_("What an hour of labor is billed at on invoices, for example 95.00. "
                    "Optional: leave it empty to set it later; each technician can have a "
                    "rate of their own."),
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}))
    full_name = forms.CharField(label=_("Your name"), max_length=150)
    email = forms.EmailField(label=_("Email address"),
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password1, password2 = _password_fields()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = timezones.grouped_choices()
        if not self.is_bound:
            # Nobody has chosen yet: the browser's own zone is a better guess than ours.
            self.fields["time_zone"].widget.attrs["data-browser-zone"] = ""

    def clean_labor_rate(self):
        rate = self.cleaned_data.get("labor_rate")
        if rate == 0:
            raise ValidationError(_("Zero would bill labor at nothing: give your hourly rate, "
                                    "or leave it empty and set it later."))
        return rate

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationError(_("An account with this email address already exists. "
                                    "Log in instead."))
        return email

    def clean(self):
        cleaned = super().clean()
        self._validate_password(User(email=cleaned.get("email", ""),
                                     full_name=cleaned.get("full_name", "")))
        return cleaned


class InviteAcceptForm(PasswordPairMixin, forms.Form):
    full_name = forms.CharField(label=_("Your name"), max_length=150)
    password1, password2 = _password_fields()

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self):
        cleaned = super().clean()
        self._validate_password(User(email=self.email, full_name=cleaned.get("full_name", "")))
        return cleaned


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email address"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.TECHNICIAN,
                             help_text=_("Owners manage everything; office staff run work "
                                         "orders and customers; technicians see their visits."))


class MemberForm(forms.ModelForm):
    class Meta:
        model = Member
        fields = ["role", "skills", "colour", "phone", "home_base"]
        widgets = {
            "colour": forms.TextInput(attrs={"type": "color",
                                             "class": "form-control form-control-color"}),
            "skills": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["skills"].queryset = Skill.objects.for_org(self.instance.organization_id)

    def clean_colour(self):
        colour = self.cleaned_data["colour"]
        if not (len(colour) == 7 and colour.startswith("#")
                and all(c in "0123456789abcdefABCDEF" for c in colour[1:])):
            raise ValidationError(_("Pick a colour like #1a73e8."))
        return colour.lower()


class ProfileForm(forms.Form):
    full_name = forms.CharField(label=_("Your name"), max_length=150)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    language = forms.ChoiceField(label=_("Language"), required=False)
    notify_by_email = forms.BooleanField(
        label=_("Email me about changes to my work"), required=False,
        help_text=_("When a visit you are on is assigned, moved, shortened, cancelled or its "
                    "crew changes. You always see them under the bell."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", _("Follow my browser")),
                                           *settings.LANGUAGES]


class OrganizationForm(forms.ModelForm):
    time_zone = time_zone_field()
    currency = forms.ChoiceField(label=_("Currency"))
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES,
                                 help_text=Organization._meta.get_field("language").help_text)

    class Meta:
        model = Organization
        fields = ["name", "time_zone", "currency", "email", "phone", "address", "paper",
                  "language", "road_factor", "travel_speed_kmh"]
        labels = {"email": _("Reply-to email"), "phone": _("Phone")}
        help_texts = {
            "email": _("Printed on quotes, invoices and reports; customers' replies to the "
                       "emails Crewline sends for you go here."),
            "address": _("Printed on quotes, invoices and reports."),
        }
        widgets = {"address": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = timezones.choices_with(self.instance.time_zone)
        currencies = list(CURRENCIES)
        if self.instance.currency and self.instance.currency not in currencies:
            currencies.append(self.instance.currency)
        self.fields["currency"].choices = [(c, c) for c in currencies]


class LogoForm(forms.Form):
    logo = forms.ImageField(label=_("Logo"),
                            help_text=_("PNG, JPEG, GIF or WebP, up to 2 MB."))

    def clean_logo(self):
        logo = self.cleaned_data["logo"]
        if logo.size > MAX_LOGO_BYTES:
            raise ValidationError(_("The logo must be 2 MB or smaller."))
        if getattr(logo, "image", None) is not None and logo.image.format not in {
                "PNG", "JPEG", "GIF", "WEBP"}:
            raise ValidationError(_("Upload a PNG, JPEG, GIF or WebP image."))
        return logo


class BusinessHoursForm(forms.Form):
    """One row per weekday: open or closed, and the opening and closing times."""

    def __init__(self, *args, hours: dict, **kwargs):
        super().__init__(*args, **kwargs)
        for day in WEEKDAYS:
            span = hours.get(day)
            self.fields[f"{day}_open"] = forms.BooleanField(
                label=DAY_NAMES[day], required=False, initial=span is not None)
            self.fields[f"{day}_start"] = forms.TimeField(
                label=_("Opens"), required=False,
                initial=span[0] if span else "08:00",
                widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
            self.fields[f"{day}_end"] = forms.TimeField(
                label=_("Closes"), required=False,
                initial=span[1] if span else "17:00",
                widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))

    def rows(self):
        return [(DAY_NAMES[d], self[f"{d}_open"], self[f"{d}_start"], self[f"{d}_end"])
                for d in WEEKDAYS]

    def clean(self):
        cleaned = super().clean()
        hours: dict[str, list[str] | None] = {}
        for day in WEEKDAYS:
            if not cleaned.get(f"{day}_open"):
                hours[day] = None
                continue
            start: dt.time | None = cleaned.get(f"{day}_start")
            end: dt.time | None = cleaned.get(f"{day}_end")
            if start is None or end is None:
                self.add_error(f"{day}_start", _("Give the opening and closing times."))
                continue
            if start >= end:
                self.add_error(f"{day}_end", _("The closing time must be after the opening "
                                               "time."))
                continue
            hours[day] = [start.strftime("%H:%M"), end.strftime("%H:%M")]
        cleaned["hours"] = hours
        return cleaned


class JobTypeForm(forms.ModelForm):
    class Meta:
        model = JobType
        fields = ["name", "default_kind", "default_duration_minutes"]

    def clean_default_duration_minutes(self):
        minutes = self.cleaned_data["default_duration_minutes"]
        if minutes < 5 or minutes > 24 * 60:
            raise ValidationError(_("Give a duration between 5 minutes and 24 hours."))
        return minutes


class SkillForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)


class AuditFilterForm(forms.Form):
    actor = forms.TypedChoiceField(label=_("Who"), required=False, coerce=int,
                                   empty_value=None)
    action = forms.ChoiceField(label=_("Action"), required=False)
    since = forms.DateField(label=_("From"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("Until"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, members, actions: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["actor"].choices = [("", _("Anyone")),
                                        *[(m.pk, m.name) for m in members]]
        self.fields["action"].choices = [("", _("Any action")), *[(a, a) for a in actions]]

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end date is before the start date."))
        return cleaned
