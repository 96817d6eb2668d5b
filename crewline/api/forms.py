from __future__ import annotations

import datetime as dt

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crewline.api.models import SCOPES

SCOPE_LABELS = {
    "read:customers": _("Read customers, contacts and sites"),
    "write:customers": _("Add and change customers"),
    "read:work_orders": _("Read work orders and visits"),
    "write:work_orders": _("Raise and change work orders"),
    "read:billing": _("Read the price book and quotes"),
    "write:billing": _("Change the price book and quotes"),
    "read:team": _("Read members"),
    "write:team": _("Change members"),
    "webhooks": _("Manage webhooks"),
    "export": _("Export all data"),
}


class ApiKeyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100,
                           help_text=_("What will use it, e.g. “Accounting sync”."))
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"), widget=forms.CheckboxSelectMultiple,
        choices=[(s, f"{s} — {SCOPE_LABELS[s]}") for s in SCOPES],
        help_text=_("A write scope includes reading the same things."))
    rate_limit = forms.IntegerField(
        label=_("Requests a minute"), required=False, min_value=1, max_value=100_000,
        help_text=_("Optional. Without it: %(default)s a minute.")
        % {"default": settings.API_RATE_LIMIT})
    expires_on = forms.DateField(label=_("Expires on"), required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}),
                                 help_text=_("Optional. The key stops working at the end of "
                                             "that day."))

    def expires_at(self) -> dt.datetime | None:
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        # The end of that day in the organization's time zone (the active one).
        return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


class RateLimitForm(forms.Form):
    rate_limit = forms.IntegerField(label=_("Requests a minute"), required=False, min_value=1,
                                    max_value=100_000)
