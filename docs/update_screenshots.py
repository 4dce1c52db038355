"""Regenerate the report screenshots shown in README.md (docs/report-*.png).

Needs the test extra and Debian's chromium (``apt-get install chromium``)::

    python docs/update_screenshots.py

It writes the default site's report with ``gigaplan report``, opens it in headless Chromium
and keeps two clips: the headline figures and power flow (light scheme) and the floor plan
(dark scheme), each reduced to a 128-colour PNG to stay small.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

DOCS = Path(__file__).resolve().parent
WIDTH = 960


def main() -> None:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with tempfile.TemporaryDirectory() as folder:
        page_file = Path(folder) / "report.html"
        subprocess.run([sys.executable, "-m", "gigaplan", "report", "-o", str(page_file)],
                       check=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium)
            shots = []
            for scheme, first, last, name in (
                    ("light", None, "#chart-power", "report-overview.png"),
                    ("dark", "#floor", "#chart-floor", "report-floor-plan-dark.png")):
                page = browser.new_page(viewport={"width": WIDTH, "height": 900},
                                        color_scheme=scheme)
                page.goto(page_file.as_uri())
                top = page.locator(first).bounding_box()["y"] - 8 if first else 0
                end = page.locator(last).bounding_box()
                raw = Path(folder) / name
                page.screenshot(path=str(raw), full_page=True, clip={
                    "x": 0, "y": top, "width": WIDTH,
                    "height": end["y"] + end["height"] + 10 - top})
                shots.append((raw, DOCS / name))
                page.close()
            browser.close()
        for raw, target in shots:
            image = Image.open(raw).convert("RGB").quantize(colors=128)
            image.save(target, optimize=True)
            print(f"{target.relative_to(DOCS.parent)}: {image.size[0]}x{image.size[1]}, "
                  f"{target.stat().st_size / 1024:.0f} kB")


if __name__ == "__main__":
    main()
