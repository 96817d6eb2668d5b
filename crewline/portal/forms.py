from django import forms
from django.utils.translation import gettext_lazy as _


class LinkRequestForm(forms.Form):
    address = forms.CharField(
        label=_("Email address or phone number"), max_length=254,
        help_text=_("The one the company has for you."),
        widget=forms.TextInput(attrs={"autocomplete": "email"}))


class MultiplePhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Up to ``MAX_PHOTOS`` images."""

    MAX_PHOTOS = 3

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultiplePhotoInput(attrs={"accept": "image/*"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if len(files) > self.MAX_PHOTOS:
            raise forms.ValidationError(_("Send at most %(n)d photos.") % {"n": self.MAX_PHOTOS})
        single = super().clean
        cleaned = [single(f, initial) for f in files]
        for f in cleaned:
            if not (getattr(f, "content_type", "") or "").startswith("image/"):
                raise forms.ValidationError(_("Photos must be images (JPEG, PNG or HEIC)."))
        return cleaned


class WorkRequestForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=200,
                           widget=forms.TextInput(attrs={"autocomplete": "name"}))
    email = forms.EmailField(label=_("Email"), required=False,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False,
                            widget=forms.TextInput(attrs={"autocomplete": "tel",
                                                          "inputmode": "tel"}))
    address_line1 = forms.CharField(
        label=_("Address of the work"), max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "address-line1"}))
    city = forms.CharField(label=_("City"), max_length=100,
                           widget=forms.TextInput(attrs={"autocomplete": "address-level2"}))
    postal_code = forms.CharField(
        label=_("Postal code"), max_length=20, required=False,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code"}))
    description = forms.CharField(label=_("What is wrong?"), max_length=4000,
                                  widget=forms.Textarea(attrs={"rows": 4}))
    preferred_times = forms.CharField(
        label=_("When would suit you?"), max_length=500, required=False,
        help_text=_("For example: weekday mornings, not Fridays."))
    photos = PhotosField(label=_("Photos (optional, up to 3)"), required=False)
    # Left empty by people: it is hidden from them and from screen readers. Bots fill it in.
    website = forms.CharField(required=False, label="Website",
                              widget=forms.TextInput(attrs={"autocomplete": "off",
                                                            "tabindex": "-1"}))

    def clean(self):
        data = super().clean()
        if not data.get("email") and not data.get("phone"):
            self.add_error("email", _("Give an email address or a phone number so that we can "
                                      "answer you."))
        return data


class WindowOfferForm(forms.Form):
    """Up to three times (a day, from, to) to offer the customer, and who would come; times
    are in the organization's zone (``tz``)."""

    ROWS = 3

    def __init__(self, *args, organization, tz, **kwargs):
        from crewline.core.models import Member

        super().__init__(*args, **kwargs)
        self.tz = tz
        for n in range(1, self.ROWS + 1):
            self.fields[f"day_{n}"] = forms.DateField(
                label=_("Day %(n)d") % {"n": n}, required=False,
                widget=forms.DateInput(attrs={"type": "date"}))
            self.fields[f"from_{n}"] = forms.TimeField(
                label=_("From"), required=False, widget=forms.TimeInput(attrs={"type": "time"}))
            self.fields[f"to_{n}"] = forms.TimeField(
                label=_("To"), required=False, widget=forms.TimeInput(attrs={"type": "time"}))
        self.fields["crew"] = forms.ModelChoiceField(
            label=_("Technician"), required=False, empty_label=_("To be decided"),
            queryset=Member.objects.filter(organization=organization, is_active=True)
            .select_related("user")
            .order_by("user__full_name"),
            widget=forms.Select(attrs={"class": "form-select form-select-sm"}))

    def rows(self):
        return [(self[f"day_{n}"], self[f"from_{n}"], self[f"to_{n}"])
                for n in range(1, self.ROWS + 1)]

    def clean(self):
        import datetime as dt

        data = super().clean()
        windows = []
        for n in range(1, self.ROWS + 1):
            day, start, end = data.get(f"day_{n}"), data.get(f"from_{n}"), data.get(f"to_{n}")
            if not (day or start or end):
                continue
            if not (day and start and end):
                raise forms.ValidationError(_("Give each time a day, a start and an end."))
            windows.append((dt.datetime.combine(day, start, tzinfo=self.tz),
                            dt.datetime.combine(day, end, tzinfo=self.tz)))
        if not windows:
            raise forms.ValidationError(_("Offer at least one time."))
        data["windows"] = windows
        return data
