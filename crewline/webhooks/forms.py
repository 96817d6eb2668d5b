from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crewline.live.models import EVENTS

EVENT_LABELS = {
    "work_order.created": _("A work order is raised"),
    "work_order.updated": _("A work order is changed"),
    "work_order.scheduled": _("A work order is scheduled"),
    "work_order.completed": _("A work order is completed"),
    "work_order.invoiced": _("A work order is invoiced"),
    "work_order.cancelled": _("A work order is cancelled"),
    "visit.scheduled": _("A visit is scheduled"),
    "visit.rescheduled": _("A visit is moved"),
    "visit.en_route": _("A technician is on the way"),
    "visit.arrived": _("A technician is on site"),
    "visit.completed": _("A visit is done"),
    "visit.incomplete": _("A visit could not be completed"),
    "visit.cancelled": _("A visit is cancelled"),
    "note.added": _("A note is added to a job"),
    "quote.sent": _("A quote is sent"),
    "quote.approved": _("A customer approves a quote"),
    "quote.declined": _("A customer declines a quote"),
    "invoice.drafted": _("An invoice is drafted"),
    "invoice.issued": _("An invoice is issued"),
    "invoice.paid": _("An invoice is paid"),
    "report.ready": _("A job report is ready"),
    "customer.created": _("A customer is added"),
    "customer.updated": _("A customer is changed"),
    "customer.archived": _("A customer is archived"),
    "time_entry.created": _("Time is clocked or entered"),
}


class EndpointForm(forms.Form):
    url = forms.CharField(label=_("URL"), max_length=500,
                          widget=forms.URLInput(attrs={"placeholder": "https://"}),
                          help_text=_("Events are POSTed here, signed (Standard Webhooks)."))
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    events = forms.MultipleChoiceField(
        label=_("Events"), widget=forms.CheckboxSelectMultiple,
        choices=[(e, f"{e} — {EVENT_LABELS[e]}") for e in EVENTS])
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)


class ReplayForm(forms.Form):
    event_id = forms.IntegerField(label=_("Event id"), required=False, min_value=1,
                                  help_text=_("The webhook-id of one event to send again."))
    since = forms.DateTimeField(label=_("From"), required=False,
                                widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                           format="%Y-%m-%dT%H:%M"))
    until = forms.DateTimeField(label=_("Until"), required=False,
                                widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                           format="%Y-%m-%dT%H:%M"))

    def clean(self):
        data = super().clean()
        if not data.get("event_id") and not (data.get("since") and data.get("until")):
            raise forms.ValidationError(
                _("Give an event id, or the start and end of a time range."))
        for name in ("since", "until"):
            value = data.get(name)
            if value is not None and timezone.is_naive(value):
                data[name] = timezone.make_aware(value)
        return data
