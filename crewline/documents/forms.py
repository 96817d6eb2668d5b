from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from crewline.documents.selectors import Recipient


class ReportEmailForm(forms.Form):
    recipient = forms.ChoiceField(label=_("Send to"), widget=forms.RadioSelect,
                                  error_messages={
                                      "required": _("Choose whom to send the report to."),
                                      "invalid_choice": _("Choose one of the customer's "
                                                          "email addresses."),
                                  })

    def __init__(self, *args, recipients: list[Recipient], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["recipient"].choices = [(r.email, r.label) for r in recipients]
        if len(recipients) == 1:
            self.fields["recipient"].initial = recipients[0].email
