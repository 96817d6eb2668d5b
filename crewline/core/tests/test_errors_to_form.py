"""``errors_to_form``: a service's ValidationError shown on a form."""

from __future__ import annotations

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from crewline.core.forms import errors_to_form


class _Form(forms.Form):
    name = forms.CharField()
    end_date = forms.DateField(required=False)


def _bound() -> _Form:
    form = _Form({"name": "Boiler", "end_date": "2026-12-03"})
    assert form.is_valid()
    return form


def test_it_puts_a_message_next_to_the_field_it_names():
    form = _bound()
    errors_to_form(form, ValidationError({"name": ["Taken.", "Too long."]}))
    assert form.errors == {"name": ["Taken.", "Too long."]}
    assert "name" not in form.cleaned_data


def test_it_puts_messages_without_a_field_among_the_non_field_errors():
    form = _bound()
    errors_to_form(form, ValidationError(["Locked.", "Void."]))
    assert form.non_field_errors() == ["Locked.", "Void."]
    form = _bound()
    errors_to_form(form, ValidationError("Only an approved quote."))
    assert form.non_field_errors() == ["Only an approved quote."]


def test_it_puts_a_field_the_form_does_not_have_among_the_non_field_errors():
    form = _bound()
    errors_to_form(form, ValidationError({"site": "Another customer's.",
                                          NON_FIELD_ERRORS: "Whole form."}))
    assert form.non_field_errors() == ["Another customer's.", "Whole form."]
    assert "name" in form.cleaned_data


def test_it_maps_the_services_field_names_to_the_forms():
    form = _bound()
    errors_to_form(form, ValidationError({"end": "Before the start."}),
                   fields={"end": "end_date"})
    assert form.errors == {"end_date": ["Before the start."]}


def test_it_keeps_the_error_code_and_params():
    form = _bound()
    errors_to_form(form, ValidationError({"name": ValidationError(
        "%(n)s taken.", code="taken", params={"n": "Boiler"})}))
    assert form.errors["name"] == ["Boiler taken."]
    assert form.has_error("name", code="taken")
