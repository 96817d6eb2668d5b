from __future__ import annotations

from django import template

from crewline.workorders.models import WorkOrder

register = template.Library()


@register.inclusion_tag("documents/_report_card.html", takes_context=True)
def job_report_card(context, wo: WorkOrder) -> dict:
    """The work order page's job report card; its versions load by htmx (no query here)."""
    return {"wo": wo, "csrf_token": context.get("csrf_token")}
