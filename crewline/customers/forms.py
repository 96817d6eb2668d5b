"""Forms of the customer pages. They validate input; saving goes through ``services``."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from crewline.core import timezones
from crewline.customers.importing import MAX_UPLOAD_BYTES
from crewline.customers.models import Contact, Customer, Equipment, Site


class CustomerForm(forms.ModelForm):
    language = forms.ChoiceField(label=_("Language"), required=False,
                                 help_text=_("Emails and documents to this customer are "
                                             "written in it."))

    class Meta:
        model = Customer
        fields = ["name", "kind", "email", "phone", "billing_address", "language",
                  "external_ref", "notes"]
        widgets = {
            "billing_address": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        default = dict(settings.LANGUAGES).get(settings.LANGUAGE_CODE, settings.LANGUAGE_CODE)
        self.fields["language"].choices = [
            ("", _("Default (%(language)s)") % {"language": default}), *settings.LANGUAGES]


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["name", "role", "email", "phone", "is_primary"]


class SiteForm(forms.ModelForm):
    class Meta:
        model = Site
        fields = ["name", "address_line1", "address_line2", "city", "region", "postal_code",
                  "country", "latitude", "longitude", "access_notes", "time_zone"]
        widgets = {"access_notes": forms.Textarea(attrs={"rows": 3}),
                   "time_zone": forms.Select}
        help_texts = {"country": _("Two-letter code, for example US.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].widget.choices = [
            ("", _("The company's")), *timezones.choices_with(self.instance.time_zone or None)]

    def clean(self):
        data = super().clean()
        if (data.get("latitude") is None) != (data.get("longitude") is None):
            missing = "longitude" if data.get("longitude") is None else "latitude"
            if missing not in self.errors:
                self.add_error(missing, _("Give both latitude and longitude, or neither."))
        return data


class EquipmentForm(forms.ModelForm):
    class Meta:
        model = Equipment
        fields = ["name", "manufacturer", "model", "serial_number", "installed_on", "notes"]
        widgets = {"installed_on": forms.DateInput(attrs={"type": "date"}),
                   "notes": forms.Textarea(attrs={"rows": 2})}


class OptionalSection:
    """A form section that may be left empty; once any field is filled, the usual required
    fields are required again."""

    always_blank_ok = ("is_primary",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.section_required = [n for n, f in self.fields.items() if f.required]
        for f in self.fields.values():
            f.required = False

    @property
    def is_filled(self) -> bool:
        if not self.is_bound:
            return False
        return any(self.data.get(self.add_prefix(name), "").strip()
                   for name in self.fields if name not in self.always_blank_ok)

    def full_clean(self):
        super().full_clean()
        if not self.is_filled:
            self._errors = forms.utils.ErrorDict()
            self.cleaned_data = {}
            return
        for name in self.section_required:
            if not self.cleaned_data.get(name) and name not in self._errors:
                self.add_error(name, _("This field is required."))


class FirstSiteForm(OptionalSection, SiteForm):
    pass


class FirstContactForm(OptionalSection, ContactForm):
    class Meta(ContactForm.Meta):
        fields = ["name", "role", "email", "phone"]


class ImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"),
                           widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(_("The file is larger than 5 MB (it is %(size)s MB). Split it "
                                    "into smaller files."),
                                  params={"size": f"{upload.size / 1024 / 1024:.1f}"})
        return upload
