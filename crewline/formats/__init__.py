"""Crewline's date and time formats, one set for every page, document and the phone app.

Django's defaults differ from page to page ("Dec. 3, 2026" on an invoice, "12/03/2026" in a
list, "2 p.m." for a time) while Crewline's own pages write "3 Dec 2026" and "14:00"; these
make the defaults say the same. The technician app is sent the same formats (see
``crewline.field.selectors.phone_formats``). Durations ("1 h 30 min") are written by one
function too: ``crewline.formats.durations.format_duration`` and the ``duration`` filter.
"""
