"""The HTML report renderer on documents from the CLI's JSON (no browser here)."""

from __future__ import annotations

import copy
import functools
import re

import pytest

pytest.importorskip("matplotlib", reason="the report extra is not installed")
pytest.importorskip("jinja2", reason="the report extra is not installed")

from report_fixtures import doc

from gigaplan.errors import InputError
from gigaplan.output import charts
from gigaplan.output.html import fmt_usd, headline, render_html

PLAN_CHARTS = {"power", "racks", "fabric", "floor", "constraints", "cost"}


@functools.cache
def page_of(name: str) -> str:
    return render_html(doc(name), catalog=doc("catalog"), explain=doc("explain")
                       if name == "default" else None)


def chart_ids(page: str) -> set[str]:
    return set(re.findall(r'<figure id="chart-([\w-]+)"', page))


def test_default_plan_has_every_section_and_chart() -> None:
    page = page_of("default")
    assert chart_ids(page) == PLAN_CHARTS
    assert page.count("<svg") == len(PLAN_CHARTS)
    for section in ("power", "buildout", "fabric", "floor", "limits", "cost", "inputs",
                    "catalog", "marginals"):
        assert f'id="{section}"' in page
    # the headline cards carry the JSON values they show
    plan = doc("default")
    assert f'data-key="totals.gpus" data-value="{plan["totals"]["gpus"]}"' in page
    assert ">377,424<" in page
    assert fmt_usd(plan["cost"]["capex_usd"]) == "$32.77B"
    # every estimate in the catalog table is marked
    assert page.count('title="estimate"') == sum(
        len([k for k in e["estimates"] if e.get(k) is not None and k in {
            "gpu_count", "power_kw", "power_w", "fp4_dense_pflops_per_gpu", "hbm_gb_per_gpu",
            "port_count", "port_gbps", "capacity_pb", "cpu_core_count", "liquid_frac",
            "footprint_m2", "price_usd"}])
        for e in doc("catalog") if e["id"] in plan["inputs"]["catalog_ids"])
    assert "+10 MW of power budget" in page


def test_phased_study_reference_sweep_and_montecarlo_pages() -> None:
    assert chart_ids(page_of("phased")) == PLAN_CHARTS | {"timeline"}
    study = render_html(doc("three-sites"))
    assert chart_ids(study) == {"sites", "constraints"} | {
        f"{kind}-{i}" for kind in ("power", "racks", "floor") for i in (1, 2, 3)}
    for name in ("texas", "ohio", "norway"):
        assert f"Site: {name}" in study
    reference = render_html(doc("reference"))
    assert 'id="copies-table"' in reference and chart_ids(reference) >= PLAN_CHARTS
    assert chart_ids(render_html(doc("sweep"))) == {"sweep"}
    mc = render_html(doc("montecarlo"))
    assert chart_ids(mc) == {"histogram", "ranges"}
    p50 = doc("montecarlo")["optimal_plans"]["fields"]["objective.value"]["p50"]
    assert f'data-value="{p50}"' in mc


def test_the_page_loads_nothing_from_anywhere() -> None:
    page = page_of("default")
    lowered = page.lower()
    for needle in ("<script", "<link", "<img", "<iframe", "<object", "<embed", "@import",
                   "src=", "xlink:href=\"http", "href=\"//", "@font-face"):
        assert needle not in lowered, needle
    assert re.findall(r"url\((?!#)", lowered) == []  # only references inside the page
    # the only absolute URLs are the catalog's source links, which load nothing until clicked
    for url in re.findall(r'(?:href|src)="([^"#][^"]*)"', page):
        assert url.startswith("https://"), url


def test_untrusted_strings_are_text_not_markup() -> None:
    plan = copy.deepcopy(doc("default"))
    evil = '<script>alert(1)</script> "$x$ [/b] & $'
    plan["inputs"]["site"]["name"] = evil
    plan["racks"][0]["sku"] = 'x"><img src=x onerror=alert(1)>'
    plan["constraints"][0]["name"] = "$\\frac{1}{0}$ <b>"
    catalog = copy.deepcopy(doc("catalog"))
    for entry in catalog:
        entry["sources"] = ["javascript:alert(1)", *entry["sources"]]
        entry["name"] = "<svg onload=alert(1)>"
    page = render_html(plan, catalog=catalog)
    assert "<script>alert" not in page and "<img" not in page and "<svg onload" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'href="javascript:' not in page
    assert "javascript:alert(1)" in page  # shown as text


def test_same_document_same_page() -> None:
    assert render_html(doc("phased"), catalog=doc("catalog")) == page_of("phased")


def test_charts_follow_the_colour_scheme() -> None:
    svg = charts.power_waterfall(doc("default"))
    assert "currentColor" in svg and "var(--grid)" in svg
    assert "#010203" not in svg  # every sentinel replaced
    assert 'width="' not in svg.split(">", 1)[0]  # scales with the page


def test_unknown_documents_are_input_errors() -> None:
    with pytest.raises(InputError, match=r"gigaplan\.check/1"):
        render_html({"schema": "gigaplan.check/1"})
    with pytest.raises(InputError):
        render_html([])  # type: ignore[arg-type]


def test_infeasible_plan_says_why() -> None:
    plan = {"schema": "gigaplan.plan/1", "status": "infeasible",
            "message": "facility power <= 1 MW conflicts with totals.gpus >= 100",
            "conflicts": ["facility power", "totals.gpus >= 100"],
            "inputs": {"site": {"name": "tiny"}, "source": "tiny.toml", "catalog_ids": []}}
    page = render_html(plan)
    assert 'id="infeasible"' in page and "totals.gpus &gt;= 100" in page
    assert "<svg" not in page


def test_headline_without_tokens_or_schedule() -> None:
    plan = copy.deepcopy(doc("default"))
    plan["workload"]["tokens_per_second"] = None
    labels = [item["label"] for item in headline(plan)]
    assert "tokens per second" not in labels and "GPUs" in labels
    phased = [item for item in headline(doc("phased")) if item["label"] == "first compute"]
    assert phased[0]["value"] == doc("phased")["schedule"]["time_to_first_compute"]


# --- the floor plan's geometry, checked by hand -----------------------------------------------

def _plan_with(racks: dict[str, tuple[str, int]], *, network_racks: int = 0,
               positions: int | None = None, area: float = 3.7) -> dict:
    return {
        "racks": [{"sku": sku, "kind": kind, "count": count} for sku, (kind, count) in
                  racks.items()],
        "network": {"enabled": bool(network_racks), "racks": network_racks, "switch": "sw"},
        "inputs": {"site": {"space": {"area_per_rack": area, "rack_positions": positions,
                                      "white_space": None}}},
    }


def test_floor_layout_is_to_scale_and_fills_positions_in_order() -> None:
    plan = _plan_with({"gpu": ("compute_rack", 1000), "cpu": ("cpu_rack", 10)},
                      network_racks=50, positions=2000)
    layout = charts.floor_layout(plan, {"gpu": 0.72, "cpu": 0.72})
    per_hall = charts.HALL_ROWS * charts.RACKS_PER_ROW  # 768
    assert len(layout["halls"]) == 3  # ceil(2000 / 768)
    hall_w, hall_d = layout["hall_size"]
    assert hall_w == pytest.approx(48 * 0.6)
    # each position covers the site's white space per rack: a hall is 768 x 3.7 m2
    assert hall_w * hall_d == pytest.approx(per_hall * 3.7)
    by_kind: dict[str, float] = {}
    for _, _, width, depth, kind in layout["segments"]:
        by_kind[kind] = by_kind.get(kind, 0) + width / 0.6
        assert depth == pytest.approx(1.2)
    assert by_kind == {"compute_rack": pytest.approx(1000), "network": pytest.approx(50),
                       "cpu_rack": pytest.approx(10)}
    assert sum(w / 0.6 for _, _, w, _ in layout["empty"]) == pytest.approx(2000 - 1060)
    # compute first, then network, then CPU: the first network rack is position 1,000
    first_network = next(s for s in layout["segments"] if s[4] == "network")
    hall, within = divmod(1000, per_hall)
    _row, slot = divmod(within, charts.RACKS_PER_ROW)
    x0, _ = layout["halls"][hall]
    assert first_network[0] == pytest.approx(x0 + slot * 0.6)


def test_floor_layout_racks_never_overlap_and_stay_in_their_hall() -> None:
    plan = _plan_with({"a": ("compute_rack", 997), "b": ("storage_rack", 77)}, network_racks=33)
    layout = charts.floor_layout(plan)
    hall_w, hall_d = layout["hall_size"]
    boxes = [(x, y, x + w, y + d) for x, y, w, d, _ in layout["segments"]]
    for x0, y0, x1, y1 in boxes:
        assert any(hx - 1e-9 <= x0 and x1 <= hx + hall_w + 1e-9 and hy <= y0 and
                   y1 <= hy + hall_d for hx, hy in layout["halls"])
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            overlap = min(a[2], b[2]) - max(a[0], b[0]) > 1e-9 and \
                min(a[3], b[3]) - max(a[1], b[1]) > 1e-9
            assert not overlap, (a, b)


def test_numeric_axis_of_varied_values() -> None:
    assert charts.numeric_axis(["0.5 GW", "1 GW", "1.5 GW"]) == ([0.5, 1.0, 1.5], "GW")
    assert charts.numeric_axis([1.1, 1.3]) == ([1.1, 1.3], "")
    assert charts.numeric_axis(["1 GW", "600 MW"]) is None  # mixed units: categorical
    assert charts.numeric_axis(["gb300-nvl72", "gb200-nvl72"]) is None


def test_a_plan_of_no_racks_has_no_mix_and_no_floor() -> None:
    """Found by hand: a 0.1 MW site plans zero racks, and the rack chart took max() of
    nothing (an internal error)."""
    plan = copy.deepcopy(doc("default"))
    for rack in plan["racks"]:
        rack.update(count=0, gpus=0, power_mw=0, capex_usd=0)
    plan["totals"].update(racks=0, gpus=0, compute_racks=0)
    plan["network"].update(racks=0, leaf_switches=0, spine_switches=0, core_switches=0)
    page = render_html(plan)
    assert chart_ids(page) == PLAN_CHARTS - {"racks", "floor", "fabric"}
    assert 'id="floor"' not in page


def test_floor_plan_draws_a_bounded_share_of_a_huge_empty_site() -> None:
    plan = _plan_with({"gpu": ("compute_rack", 700)}, positions=100_000)
    layout = charts.floor_layout(plan)
    assert layout["capacity"] == 100_000 and layout["built"] == 700
    assert layout["positions"] == 1400  # twice what is built
    assert sum(w / 0.6 for _, _, w, _ in layout["empty"]) == pytest.approx(700)
    assert "empty positions: 99,300 (700 drawn)" in _legend_text(plan)


def _legend_text(plan: dict) -> str:
    """The floor plan's legend labels, read back from the matplotlib figure."""
    captured: list[str] = []
    original = charts.to_svg

    def spy(fig, name):
        captured.extend(t.get_text() for ax in fig.axes if ax.get_legend()
                        for t in ax.get_legend().get_texts())
        return original(fig, name)

    charts.to_svg = spy
    try:
        charts.floor_plan(plan)
    finally:
        charts.to_svg = original
    return "\n".join(captured)
