"""The notifications page's settings: which kinds also go by email."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from crewline.notifications.models import NotificationKind


class EmailChoicesForm(forms.Form):
    email_kinds = forms.MultipleChoiceField(
        label=_("Also send by email"), required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("Unticked kinds only appear here. Email goes to the address on your "
                    "profile when email notifications are on there."))

    def __init__(self, *args, kinds: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        labels = dict(NotificationKind.choices)
        self.fields["email_kinds"].choices = [(kind, labels.get(kind, kind)) for kind in kinds]
