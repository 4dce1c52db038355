"""The HTML report in a real headless Chromium: it loads with no console error and no network
request, every chart is drawn, the headline numbers equal the plan JSON, and a screenshot is
taken (kept under pytest's temporary directory).

Needs Debian's ``chromium`` (``apt-get install chromium``) and the ``playwright`` package (its
driver only: the system browser is used, nothing is downloaded). Without them the tests skip
with the reason; under ``CI=true`` a browser that cannot start fails the run instead.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from report_fixtures import EXAMPLES, doc
from typer.testing import CliRunner

from gigaplan.cli import app

IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = os.environ.get("GIGAPLAN_CHROMIUM") or next(
    (path for path in (shutil.which("chromium"), shutil.which("chromium-browser"),
                       "/usr/bin/chromium") if path and Path(path).exists()), None)


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true but the browser test cannot run: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the whole module."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (python3 -m pip install -e '.[test]')")
    if CHROMIUM is None:
        _unavailable("no Chromium found (apt-get install chromium, or set GIGAPLAN_CHROMIUM)")
    with sync_playwright() as playwright:
        try:
            instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                  args=["--no-sandbox"])
        except Exception as error:  # any launch failure means there is no usable browser
            _unavailable(f"Chromium at {CHROMIUM} did not start: {error}")
        yield instance
        instance.close()


def report(tmp_path: Path, *args: str) -> Path:
    """``gigaplan report ARGS -o FILE``; the file written."""
    out = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["report", *args, "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return out


def open_report(browser: Any, path: Path, scheme: str = "light") -> tuple[Any, dict[str, list]]:
    """The page loaded from disk, with every request, console error and page error recorded;
    any request other than the file itself is aborted."""
    seen: dict[str, list] = {"requests": [], "console": [], "errors": []}
    page = browser.new_page(viewport={"width": 1100, "height": 900}, color_scheme=scheme)
    page.on("request", lambda request: seen["requests"].append(request.url))
    page.on("console", lambda message: seen["console"].append(
        f"{message.type}: {message.text}") if message.type in ("error", "warning") else None)
    page.on("pageerror", lambda error: seen["errors"].append(str(error)))
    page.route("**/*", lambda route: route.continue_() if route.request.url == path.as_uri()
               else route.abort())
    page.goto(path.as_uri(), wait_until="load")
    return page, seen


def headline_values(page: Any) -> dict[str, tuple[str, str]]:
    return page.eval_on_selector_all(
        "#headline dd[data-key]",
        "els => Object.fromEntries(els.filter(e => e.dataset.key).map(e => "
        "[e.dataset.key, [e.dataset.value, e.querySelector('.v').textContent]]))")


def lookup(data: dict, dotted: str) -> Any:
    for part in dotted.split("."):
        data = data[part]
    return data


def check_page(page: Any, seen: dict[str, list], path: Path, charts: set[str]) -> None:
    assert seen["requests"] == [path.as_uri()], "the report must load nothing else"
    assert seen["console"] == [] and seen["errors"] == []
    drawn = page.eval_on_selector_all(
        "figure.chart-figure", "els => els.map(e => [e.id, (() => { const s = "
        "e.querySelector('svg'); const r = s && s.getBoundingClientRect(); "
        "return s ? [r.width, r.height, s.querySelectorAll('path, use').length] : null })()])")
    found = {name.removeprefix("chart-"): box for name, box in drawn}
    assert set(found) == charts
    for name, box in found.items():
        assert box is not None, name
        width, height, marks = box
        assert width > 300 and height > 80 and marks > 10, (name, box)
    # no number is cut: no headline card overflows its box
    overflow = page.eval_on_selector_all(
        ".card dd", "els => els.filter(e => e.scrollWidth > e.clientWidth + 1).length")
    assert overflow == 0


def screenshot(page: Any, path: Path, name: str) -> Path:
    png = path.parent / f"{name}.png"
    page.screenshot(path=str(png), full_page=True)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    return png


PLAN_CHARTS = {"power", "racks", "fabric", "floor", "constraints", "cost"}


def test_default_site_report(browser: Any, tmp_path: Path) -> None:
    path = report(tmp_path)
    page, seen = open_report(browser, path)
    check_page(page, seen, path, PLAN_CHARTS)
    plan = doc("default")
    values = headline_values(page)
    assert {"totals.gpus", "power_mw.facility", "cost.capex_usd", "cost.tco_usd_per_year",
            "cost.usd_per_gpu_hour", "workload.tokens_per_second"} <= set(values)
    for key, (value, _) in values.items():
        assert json.loads(value) == lookup(plan, key), key
    assert values["totals.gpus"][1] == "377,424"
    assert values["cost.capex_usd"][1] == "$32.77B"
    assert page.locator("#marginals-table tbody tr").count() >= 1
    screenshot(page, path, "default")
    page.close()


def test_dark_scheme_changes_the_page_not_the_content(browser: Any, tmp_path: Path) -> None:
    path = report(tmp_path)
    colours = {}
    for scheme in ("light", "dark"):
        page, seen = open_report(browser, path, scheme)
        check_page(page, seen, path, PLAN_CHARTS)
        colours[scheme] = page.evaluate(
            "() => [getComputedStyle(document.body).backgroundColor, getComputedStyle("
            "document.querySelector('svg.chart')).color]")
        page.close()
    assert colours["light"][0] != colours["dark"][0]
    assert colours["light"][1] != colours["dark"][1]  # chart text follows the scheme


def test_printed_to_pdf_it_is_black_on_white(browser: Any, tmp_path: Path) -> None:
    """A reader in the dark scheme who prints gets dark text on white paper, charts included."""
    path = report(tmp_path, "--no-marginals")
    page, _ = open_report(browser, path, "dark")
    page.emulate_media(media="print")
    body, chart = page.evaluate(
        "() => [getComputedStyle(document.body).backgroundColor, getComputedStyle("
        "document.querySelector('svg.chart')).color]")
    assert body == "rgb(255, 255, 255)" and chart == "rgb(0, 0, 0)"
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") > 3
    page.close()


def test_phased_site_report(browser: Any, tmp_path: Path) -> None:
    path = report(tmp_path, str(EXAMPLES / "phased-site.toml"))
    page, seen = open_report(browser, path)
    check_page(page, seen, path, PLAN_CHARTS | {"timeline"})
    plan = doc("phased")
    values = headline_values(page)
    assert values["schedule.time_to_first_compute"][1] == plan["schedule"]["time_to_first_compute"]
    assert json.loads(values["totals.gpus"][0]) == plan["totals"]["gpus"]
    assert page.locator("#phases-table tbody tr").count() == len(plan["phases"])
    screenshot(page, path, "phased")
    page.close()


def test_three_site_report(browser: Any, tmp_path: Path) -> None:
    path = report(tmp_path, str(EXAMPLES / "three-sites.toml"))
    page, seen = open_report(browser, path)
    study = doc("three-sites")
    check_page(page, seen, path, {"sites", "constraints"} | {
        f"{kind}-{i}" for kind in ("power", "racks", "floor") for i in (1, 2, 3)})
    values = headline_values(page)
    for key, (value, _) in values.items():
        assert json.loads(value) == lookup(study, key), key
    rows = page.eval_on_selector_all("#sites-table tbody tr",
                                     "rows => rows.map(r => r.cells[0].textContent)")
    assert rows == [site["name"] for site in study["sites"]]
    screenshot(page, path, "three-sites")
    page.close()


def test_the_harness_sees_and_blocks_a_request(browser: Any, tmp_path: Path) -> None:
    """The no-request check can fail: a page that loads an image is caught, and the load is
    aborted before it leaves the machine."""
    path = tmp_path / "leaky.html"
    path.write_text('<!DOCTYPE html><p>x</p><img src="https://example.invalid/pixel.png">')
    page, seen = open_report(browser, path)
    assert seen["requests"] == [path.as_uri(), "https://example.invalid/pixel.png"]
    page.close()


def test_sweep_and_montecarlo_reports(browser: Any, tmp_path: Path) -> None:
    for name, charts in (("sweep", {"sweep"}), ("montecarlo", {"histogram", "ranges"})):
        source = tmp_path / f"{name}.json"
        source.write_text(json.dumps(doc(name)))
        path = report(tmp_path, str(source))
        page, seen = open_report(browser, path)
        check_page(page, seen, path, charts)
        page.close()
