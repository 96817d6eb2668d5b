"""``{% member_colours items %}``: the members' colours as classes, for pages that show them.

The Content-Security-Policy refuses style attributes, so a colour chosen per member reaches the
page as a ``<style>`` element in the head, carrying the response's nonce:
``.mc-<member id> { --mc: <colour>; --mc-text: <black or white, readable on it> }``. Elements
take the class ``mc-<id>`` and use the two variables.

A live refresh (``live.js`` fetches the page again, with ``X-Requested-With: live``, to swap parts
of it in) gets no style: the page keeps the one it has, and a style in the fetched page, with
that response's nonce, is refused by the page's policy when the browser parses it (a reported
violation). The board colours members that arrive with a refresh from data attributes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from crewline.core import colours
from crewline.core.models import Member

register = template.Library()


def _pairs(items: Iterable) -> Iterable[tuple[int, str]]:
    """(member id, colour) from members, from things with a ``member`` (a technician's state, a
    row of the availability summary), from things with a ``crew`` (visits) or from board rows
    (``member_id`` and ``colour``)."""
    for item in items:
        if isinstance(item, Mapping):
            item = item["member"]
        if isinstance(item, Member):
            yield item.pk, item.colour
        elif hasattr(item, "crew"):
            yield from _pairs(item.crew.all())
        elif isinstance(getattr(item, "member", None), Member):
            yield item.member.pk, item.member.colour
        else:
            yield item.member_id, item.colour


@register.simple_tag(takes_context=True)
def member_colours(context, items) -> str:
    rules = {}
    for pk, colour in _pairs(items or ()):
        colour = colours.clean(colour)
        rules[int(pk)] = f".mc-{int(pk)}{{--mc:{colour};--mc-text:{colours.text_on(colour)}}}"
    if not rules:
        return ""
    request = context.get("request")
    if request is not None and request.headers.get("X-Requested-With") == "live":
        return ""
    nonce = getattr(request, "csp_nonce", "") if request is not None else ""
    return format_html('<style nonce="{}">{}</style>', nonce,
                       mark_safe("".join(rules.values())))  # noqa: S308 - built from ints and #rrggbb only
