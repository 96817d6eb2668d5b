"""A short, readable form of a browser's User-Agent header for the audit log."""

from __future__ import annotations

import re

# Order matters: Edge and Opera also claim to be Chrome, Chrome claims to be Safari.
_BROWSERS = (
    ("Edge", r"Edg(?:e|A|iOS)?/(\d+)"),
    ("Opera", r"OPR/(\d+)"),
    ("Firefox", r"(?:Firefox|FxiOS)/(\d+)"),
    ("Chrome", r"(?:Chrome|CriOS)/(\d+)"),
    ("Safari", r"Version/(\d+)[.\d]* (?:Mobile/\S+ )?Safari/"),
    ("curl", r"curl/([\d.]+)"),
    ("Python", r"python-requests/([\d.]+)"),
)
_SYSTEMS = (
    ("Android", r"Android"),
    ("iPhone", r"iPhone"),
    ("iPad", r"iPad"),
    ("Windows", r"Windows"),
    ("macOS", r"Mac OS X|Macintosh"),
    ("ChromeOS", r"CrOS"),
    ("Linux", r"Linux"),
)


def short_user_agent(user_agent: str, limit: int = 40) -> str:
    """``"Chrome 126 on Windows"``; unknown agents are cut to ``limit`` characters."""
    if not user_agent:
        return ""
    browser = next((f"{name} {m.group(1)}" for name, pattern in _BROWSERS
                    if (m := re.search(pattern, user_agent))), "")
    system = next((name for name, pattern in _SYSTEMS if re.search(pattern, user_agent)), "")
    if browser and system:
        return f"{browser} on {system}"
    if browser:
        return browser
    return user_agent if len(user_agent) <= limit else user_agent[: limit - 1] + "…"
