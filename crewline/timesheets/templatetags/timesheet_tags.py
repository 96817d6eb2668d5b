from django import template

register = template.Library()


@register.filter
def hm(minutes) -> str:
    """Minutes as hours and minutes: 485 → 8:05, 0 → –; empty for none."""
    if minutes in (None, ""):
        return ""
    minutes = int(minutes)
    if minutes == 0:
        return "–"
    return f"{minutes // 60}:{minutes % 60:02d}"
