from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from crewline.timesheets.models import TimeKind, TimesheetSettings

LOCAL = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class TimeEntryForm(forms.Form):
    """Times are the organization's local times (its zone is active for the request)."""

    kind = forms.ChoiceField(label=_("Kind"), choices=TimeKind.choices)
    start = forms.DateTimeField(label=_("Start"), widget=LOCAL)
    end = forms.DateTimeField(label=_("End"), widget=LOCAL, required=False,
                              help_text=_("Leave empty while it is still running."))

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", _("The end cannot be before the start."))
        return data


class TimesheetSettingsForm(forms.ModelForm):
    class Meta:
        model = TimesheetSettings
        fields = ["weekly_overtime_hours", "daily_overtime_hours", "week_start"]
