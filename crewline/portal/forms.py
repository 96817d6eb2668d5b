from django import forms
from django.utils.translation import gettext_lazy as _


class LinkRequestForm(forms.Form):
    address = forms.CharField(
        label=_("Email address or phone number"), max_length=254,
        help_text=_("The one the company has for you."),
        widget=forms.TextInput(attrs={"autocomplete": "email"}))
