"""Forms for availability: a member's working week and their time off (local times)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crewline.core.models import WEEKDAYS, Organization
from crewline.scheduling.models import Weekday, WorkingHours

TimeInput = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
DateInput = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

FOLLOW, OWN = "business", "own"


class WorkingHoursForm(forms.Form):
    """The week as seven rows: working or not, a first span and an optional second one."""

    mode = forms.ChoiceField(
        label=_("Hours"), widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        choices=[(FOLLOW, _("Follow the business hours")),
                 (OWN, _("Own working hours"))])

    def __init__(self, *args, organization: Organization, rows: list[WorkingHours], **kwargs):
        super().__init__(*args, **kwargs)
        by_day: dict[int, list[tuple[dt.time, dt.time]]] = {}
        for row in rows:
            by_day.setdefault(row.weekday, []).append((row.start, row.end))
        if not rows:
            # Start from the business hours, so switching to own hours begins from them.
            for i, day in enumerate(WEEKDAYS):
                span = organization.business_hours.get(day)
                if span:
                    by_day[i] = [tuple(dt.datetime.strptime(s, "%H:%M").time() for s in span)]
        self.fields["mode"].initial = OWN if rows else FOLLOW
        for weekday in Weekday:
            spans = sorted(by_day.get(weekday.value, []))
            first = spans[0] if spans else (dt.time(8), dt.time(17))
            second = spans[1] if len(spans) > 1 else (None, None)
            d = weekday.value
            self.fields[f"d{d}_on"] = forms.BooleanField(label=weekday.label, required=False,
                                                         initial=bool(spans))
            self.fields[f"d{d}_start"] = forms.TimeField(label=_("From"), required=False,
                                                         initial=first[0], widget=TimeInput)
            self.fields[f"d{d}_end"] = forms.TimeField(label=_("Until"), required=False,
                                                       initial=first[1], widget=TimeInput)
            self.fields[f"d{d}_start2"] = forms.TimeField(label=_("Then from"), required=False,
                                                          initial=second[0], widget=TimeInput)
            self.fields[f"d{d}_end2"] = forms.TimeField(label=_("until"), required=False,
                                                        initial=second[1], widget=TimeInput)

    def rows(self):
        return [(w.label, self[f"d{w.value}_on"], self[f"d{w.value}_start"],
                 self[f"d{w.value}_end"], self[f"d{w.value}_start2"], self[f"d{w.value}_end2"])
                for w in Weekday]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("mode") != OWN:
            cleaned["hours"] = None
            return cleaned
        hours: dict[int, list[tuple[dt.time, dt.time]]] = {}
        for weekday in Weekday:
            d = weekday.value
            if not cleaned.get(f"d{d}_on"):
                continue
            start, end = cleaned.get(f"d{d}_start"), cleaned.get(f"d{d}_end")
            start2, end2 = cleaned.get(f"d{d}_start2"), cleaned.get(f"d{d}_end2")
            if start is None or end is None:
                if f"d{d}_start" not in self.errors and f"d{d}_end" not in self.errors:
                    self.add_error(f"d{d}_start", _("Give the start and end of the day."))
                continue
            if end <= start:
                self.add_error(f"d{d}_end", _("The end must be after the start."))
                continue
            spans = [(start, end)]
            if start2 is not None or end2 is not None:
                if start2 is None or end2 is None:
                    self.add_error(f"d{d}_start2", _("Give both times of the second span, "
                                                     "or neither."))
                    continue
                if end2 <= start2:
                    self.add_error(f"d{d}_end2", _("The end must be after the start."))
                    continue
                if start2 < end:
                    self.add_error(f"d{d}_start2", _("The second span must start after the "
                                                     "first one ends."))
                    continue
                spans.append((start2, end2))
            hours[d] = spans
        if not hours and not self.errors:
            raise ValidationError(_("Choose at least one working day, or follow the business "
                                    "hours."))
        cleaned["hours"] = hours
        return cleaned


class TimeOffForm(forms.Form):
    """Whole days by default; times make it part of a day (a dentist's appointment)."""

    start_date = forms.DateField(label=_("From"), widget=DateInput)
    start_time = forms.TimeField(label=_("at"), required=False, widget=TimeInput,
                                 help_text=_("Empty: the whole day."))
    end_date = forms.DateField(label=_("Until"), widget=DateInput)
    end_time = forms.TimeField(label=_("at"), required=False, widget=TimeInput,
                               help_text=_("Empty: to the end of the day."))
    reason = forms.CharField(label=_("Reason"), required=False, max_length=200,
                             widget=forms.TextInput(attrs={"placeholder": _(
                                 "Holiday, training, doctor…")}))

    def clean(self):
        cleaned = super().clean()
        start_date, end_date = cleaned.get("start_date"), cleaned.get("end_date")
        if start_date is None or end_date is None:
            return cleaned
        if end_date < start_date:
            self.add_error("end_date", _("The last day is before the first."))
            return cleaned
        tz = timezone.get_current_timezone()
        start = dt.datetime.combine(start_date, cleaned.get("start_time") or dt.time(0), tz)
        if cleaned.get("end_time") is not None:
            end = dt.datetime.combine(end_date, cleaned["end_time"], tz)
        else:
            end = dt.datetime.combine(end_date + dt.timedelta(days=1), dt.time(0), tz)
        if end <= start:
            self.add_error("end_time", _("The end must be after the start."))
            return cleaned
        cleaned["start"], cleaned["end"] = start, end
        return cleaned
