from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from crewline.messaging.models import MessagingSettings


class MessagingSettingsForm(forms.ModelForm):
    class Meta:
        model = MessagingSettings
        fields = ["confirmation", "reminder", "on_my_way", "completed", "feedback", "channel",
                  "reminder_time", "quiet_start", "quiet_end", "feedback_delay_hours"]
        widgets = {
            "reminder_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "quiet_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "quiet_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "channel": forms.RadioSelect,
        }
        help_texts = {"quiet_start": _("No text message is sent from this time (empty: "
                                       "none). Reminders and confirmations wait for the end "
                                       "of quiet hours; “on my way” is not sent in them.")}

    def clean(self):
        data = super().clean()
        if (data.get("quiet_start") is None) != (data.get("quiet_end") is None):
            self.add_error("quiet_end", _("Give both ends of the quiet hours, or neither."))
        return data


class FeedbackForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("How would you rate the work?"), coerce=int, widget=forms.RadioSelect,
        choices=[(n, n) for n in range(1, 6)])
    comment = forms.CharField(label=_("Anything you would like to tell us? (optional)"),
                              required=False, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 4}))
