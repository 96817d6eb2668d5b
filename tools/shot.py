#!/usr/bin/env python3
"""Screenshot Crewline pages at desktop and phone sizes in Debian's Chromium.

    .venv/bin/python tools/shot.py http://127.0.0.1:8000 /work-orders/ /customers/ \
        --login owner@example.com --password '...' --out screenshots/

Writes <out>/<name>-desktop.png (1366x900) and <name>-phone.png (360x740) for each path.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SIZES = {"desktop": (1366, 900), "phone": (360, 740)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--login")
    parser.add_argument("--password", default="")
    parser.add_argument("--out", default="screenshots")
    parser.add_argument("--full", action="store_true", help="capture the full page height")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for size_name, (width, height) in SIZES.items():
            page = browser.new_page(viewport={"width": width, "height": height})
            if args.login:
                page.goto(args.base + "/login/")
                page.fill("input[name=username]", args.login)
                page.fill("input[name=password]", args.password)
                page.click("button[type=submit]")
                page.wait_for_load_state("networkidle")
            for path in args.paths:
                page.goto(args.base + path)
                page.wait_for_load_state("networkidle")
                name = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"
                target = out / f"{name}-{size_name}.png"
                page.screenshot(path=str(target), full_page=args.full)
                print(target)
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
