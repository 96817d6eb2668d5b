"""``{% getting_started_card %}``: the owner's getting-started list, shortened, on the dashboard
until every step is done or the owner hides it."""

from __future__ import annotations

from django import template

from crewline.core.selectors import getting_started_steps

register = template.Library()


@register.inclusion_tag("core/_getting_started_card.html", takes_context=True)
def getting_started_card(context) -> dict:
    member = context.get("member")
    organization = context.get("organization")
    if (member is None or not member.is_owner or organization is None
            or organization.getting_started_hidden_at is not None):
        return {"steps": None}
    steps = getting_started_steps(organization=organization)
    if all(step.done for step in steps):
        return {"steps": None}
    return {"steps": steps, "done": sum(1 for step in steps if step.done),
            "csrf_token": context.get("csrf_token")}
