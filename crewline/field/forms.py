from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from crewline.field.models import FieldSettings


class FieldSettingsForm(forms.ModelForm):
    class Meta:
        model = FieldSettings
        fields = ["jobs_closed_by", "photo_visibility", "require_signature",
                  "technicians_see_all"]
        widgets = {"jobs_closed_by": forms.RadioSelect, "photo_visibility": forms.RadioSelect}
        labels = {
            "jobs_closed_by": _("When a technician says “Job complete” on a job's last visit"),
            "photo_visibility": _("Photos taken on the phone"),
            "require_signature": _("Require the customer's signature before a visit is done"),
            "technicians_see_all": _("Technicians see every visit, not only their own"),
        }
        help_texts = {
            "photo_visibility": _("What the phone offers for each new photo; the technician "
                                  "can change it per photo, and the office afterwards on the "
                                  "work order. Photos the customer may see go in the job "
                                  "report."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["photo_visibility"].choices = [
            ("customer", _("Shared with the customer (on the job report)")),
            ("internal", _("Internal to the company")),
        ]
