"""Charts of the HTML report: matplotlib figures rendered to inline SVG strings.

Every chart takes plain dicts (the ``gigaplan.plan/1``, ``study/1``, ``sweep/1`` and
``montecarlo/1`` documents, see docs/json.md) and returns one ``<svg>`` element as text.

Why matplotlib to SVG: no JavaScript and no network in the page, a few kB per chart, and
vector output that prints sharply to PDF. The object-oriented API (``Figure``, never
``pyplot``) keeps no global state. Text is drawn as glyph paths so the layout is the one
matplotlib measured, whatever fonts the reader's machine has. Foreground colours are
sentinels replaced by ``currentColor`` and CSS variables, so one SVG follows the page's light
or dark scheme. Ids inside each SVG are salted with the chart's name, so several SVGs inline in
one page never share a clip-path id.

matplotlib is imported here and only here: this module is loaded on the report path alone.
"""

from __future__ import annotations

import io
import itertools
import math
import re
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

import matplotlib
from matplotlib.dates import date2num
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter, MaxNLocator

# Sentinel colours, replaced in the SVG text by CSS that follows the colour scheme.
FG = "#010203"  # text, axes, outlines -> currentColor
GRID = "#010204"  # grid lines, empty positions -> var(--grid)
MUTED = "#010205"  # secondary marks -> var(--muted)
BG = "#010206"  # label backgrounds that mask lines -> var(--bg)
_SENTINELS = {FG: "currentColor", GRID: "var(--grid)", MUTED: "var(--muted)", BG: "var(--bg)"}

# Okabe-Ito colours: distinguishable with the common colour-vision deficiencies, and legible on
# a white and on a near-black background.
KIND_COLOURS = {
    "compute_rack": "#56B4E9",
    "network": "#E69F00",
    "storage_rack": "#009E73",
    "cpu_rack": "#CC79A7",
}
KIND_LABELS = {
    "compute_rack": "compute",
    "network": "network (switch racks)",
    "storage_rack": "storage",
    "cpu_rack": "CPU",
}
BINDING = "#D55E00"
SLACK = "#56B4E9"
SERIES = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442"]

WIDTH_IN = 7.4

# A rack frame is 600 mm wide (ORv3 / MGX, engineering-model.md §4: "ORv3 frame 600 × 1068 mm",
# introl.com and Meta's ORv3 frame spec); depth comes from the catalog's footprint_m2.
RACK_WIDTH_M = 0.6
DEFAULT_FOOTPRINT_M2 = 0.72
# Drawing convention (not part of the model): a data hall of 16 rows of 48 positions.
HALL_ROWS = 16
RACKS_PER_ROW = 48
HALL_GAP_M = 8.0

_RC = {
    "svg.fonttype": "path",
    "text.parse_math": False,  # a "$" in a site or SKU name is text, never mathtext
    "font.family": "DejaVu Sans",
    "font.size": 8.5,
    "axes.edgecolor": FG,
    "axes.labelcolor": FG,
    "axes.titlecolor": FG,
    "axes.titlesize": 9.5,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "xtick.color": FG,
    "ytick.color": FG,
    "text.color": FG,
    "grid.color": GRID,
    "grid.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "legend.fontsize": 8,
    "figure.facecolor": "none",
    "axes.facecolor": "none",
    "savefig.facecolor": "none",
    "savefig.edgecolor": "none",
}


def to_svg(fig: Figure, name: str) -> str:
    """The figure as one ``<svg>`` element (no XML prologue), deterministic for equal input.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The chart.
    name : str
        The chart's name: its ``data-chart`` attribute and the salt of its SVG ids.

    Returns
    -------
    str
        The SVG markup.
    """
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": f"gigaplan-{name}", "svg.fonttype": "path"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    for sentinel, css in _SENTINELS.items():
        text = text.replace(sentinel, css)
    # Scale with the page: keep the viewBox, drop the fixed size in points.
    text = re.sub(r'<svg([^>]*?) width="[\d.]+pt" height="[\d.]+pt"',
                  rf'<svg\1 role="img" class="chart" data-chart="{name}"', text, count=1)
    return text


def _figure(height_in: float, ncols: int = 1, **kwargs: Any) -> tuple[Figure, Any]:
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(WIDTH_IN, height_in), layout="constrained")
        axes = fig.subplots(1, ncols, **kwargs)
    return fig, axes


def _styled(draw: Callable[..., Figure]) -> Callable[..., str]:
    """Run a chart function inside the report's rc settings and return its SVG text."""

    def wrapper(*args: Any, **kwargs: Any) -> str:
        with matplotlib.rc_context(_RC):
            fig = draw(*args, **kwargs)
            return to_svg(fig, draw.__name__)

    wrapper.__name__ = draw.__name__
    wrapper.__doc__ = draw.__doc__
    return wrapper


SI_SUFFIXES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))  # thresholds, largest first


def si(value: float, digits: int = 3) -> str:
    """Short number for a chart label: 1.23M, 456k, 7.8.

    Parameters
    ----------
    value : float
        The number.
    digits : int, default 3
        Significant digits.

    Returns
    -------
    str
        The label text.
    """
    magnitude = abs(value)
    for limit, suffix in SI_SUFFIXES:
        if magnitude >= limit:
            return f"{value / limit:.{digits}g}{suffix}"
    return f"{value:.{digits}g}"


def usd(value: float) -> str:
    """Dollars with an SI suffix (``$1.2B``); negative amounts keep their sign.

    Parameters
    ----------
    value : float
        Amount [USD].

    Returns
    -------
    str
        The label text.
    """
    return "$" + si(value) if value >= 0 else "-$" + si(-value)


def mw(value: float) -> str:
    """Megawatts to one decimal from 10 MW up, two below.

    Parameters
    ----------
    value : float
        Power [MW].

    Returns
    -------
    str
        The label text.
    """
    return f"{value:,.1f} MW" if abs(value) >= 10 else f"{value:,.2f} MW"


def _axis_si(axis: Any, prefix: str = "") -> None:
    """Short tick labels with as many digits as the axis's span needs to tell ticks apart."""

    def label(value: float, _: Any) -> str:
        low, high = axis.get_view_interval()
        span = abs(high - low) or 1.0
        digits = max(3, math.ceil(math.log10(max(abs(low), abs(high), 1e-300) / span)) + 2)
        return prefix + si(value, min(digits, 9)) if value else "0"

    axis.set_major_formatter(FuncFormatter(label))


# --- one plan ------------------------------------------------------------------------------


@_styled
def power_waterfall(plan: dict[str, Any]) -> Figure:
    """Budget -> reserves -> usable -> facility draw -> PUE overhead -> IT -> its parts.

    Parameters
    ----------
    plan : dict
        A ``gigaplan.plan/1`` document.

    Returns
    -------
    str
        The chart as SVG text (:func:`_styled` renders the figure with :func:`to_svg`).

    References
    ----------
    docs/model.md, "Power budget".
    """
    power = plan["power_mw"]
    basis = plan["inputs"]["site"]["power"]["basis"]
    steps: list[tuple[str, float, float, str]] = []  # label, left, width, colour

    def total(label: str, value: float, colour: str = MUTED) -> None:
        steps.append((label, 0.0, value, colour))

    def minus(label: str, start: float, value: float) -> None:
        steps.append((label, start - value, value, GRID))

    budget_label = f"budget ({'IT' if basis == 'it' else basis})"
    total(budget_label, power["budget"])
    level = power["budget"]
    for label, key in (("redundancy reserve", "redundancy_reserve"),
                       ("headroom reserve", "headroom_reserve")):
        if power.get(key):
            minus(label, level, power[key])
            level -= power[key]
    total("usable", power["usable"])
    minus("left free", power["usable"], power["headroom"])
    if basis == "it":
        total("IT drawn", power["it"], "#0072B2")
    else:
        if basis == "grid":
            total("grid drawn", power["grid"], "#0072B2")
            minus("grid headroom", power["grid"], power["grid"] - power["facility"])
        total("facility drawn", power["facility"], "#0072B2")
        minus("cooling and losses (PUE)", power["facility"], power["overhead"])
        total("IT", power["it"], "#0072B2")
    left = 0.0
    for key, kind in (("compute", "compute_rack"), ("network", "network"),
                      ("auxiliary_networks", "network"), ("storage", "storage_rack"),
                      ("cpu", "cpu_rack")):
        value = power.get(key, 0.0)
        steps.append((key.replace("_", " "), left, value, KIND_COLOURS[kind]))
        left += value
    if basis == "it":
        steps.append(("facility (IT + overhead)", 0.0, power["facility"], MUTED))

    fig, ax = _figure(0.32 * len(steps) + 0.7)
    labels = [step[0] for step in steps]
    ys = range(len(steps))
    ax.barh(ys, [s[2] for s in steps], left=[s[1] for s in steps],
            color=[s[3] for s in steps], edgecolor=FG, linewidth=0.4, height=0.62)
    ax.set_yticks(list(ys), labels)
    ax.invert_yaxis()
    top = max(s[1] + s[2] for s in steps)
    for y, (_, start, width, _) in enumerate(steps):
        ax.text(start + width + top * 0.01, y, mw(width), va="center", fontsize=8)
    ax.set_xlim(0, top * 1.18)
    ax.set_xlabel("MW")
    ax.grid(axis="x")
    ax.set_axisbelow(True)
    ax.set_title("Power flow, MW: from the budget to the racks")
    return fig


def _rack_bars(plan: dict[str, Any]) -> list[tuple[str, str, int, float]]:
    """(label, kind, rack count, MW) per SKU in the plan, plus the switch racks."""
    bars = [(rack["sku"], rack["kind"], rack["count"], rack["power_mw"])
            for rack in plan["racks"] if rack["count"]]
    network = plan.get("network") or {}
    if network.get("enabled") and network.get("racks"):
        bars.append((network["switch"], "network", network["racks"],
                     plan["power_mw"]["network"]))
    return bars


@_styled
def rack_mix(plan: dict[str, Any]) -> Figure:
    """Racks per SKU (bars) and the IT power they draw, coloured by kind.

    Parameters
    ----------
    plan : dict
        A ``gigaplan.plan/1`` document.

    Returns
    -------
    str
        The chart as SVG text (:func:`_styled` renders the figure with :func:`to_svg`).
    """
    bars = _rack_bars(plan)
    fig, (left, right) = _figure(0.34 * len(bars) + 0.9, ncols=2, sharey=True)
    ys = list(range(len(bars)))
    colours = [KIND_COLOURS[kind] for _, kind, _, _ in bars]
    left.barh(ys, [b[2] for b in bars], color=colours, edgecolor=FG, linewidth=0.4, height=0.6)
    right.barh(ys, [b[3] for b in bars], color=colours, edgecolor=FG, linewidth=0.4, height=0.6)
    left.set_yticks(ys, [_short(b[0], 28) for b in bars])
    left.invert_yaxis()
    for ax, values, fmt in ((left, [b[2] for b in bars], lambda v: f"{v:,}"),
                            (right, [b[3] for b in bars], mw)):
        top = max(values) or 1
        for y, value in enumerate(values):
            ax.text(value + top * 0.02, y, fmt(value), va="center", fontsize=8)
        ax.set_xlim(0, top * 1.35)
        ax.grid(axis="x")
        ax.set_axisbelow(True)
        ax.xaxis.set_major_locator(MaxNLocator(4))
        _axis_si(ax.xaxis)
    left.set_title("Racks")
    right.set_title("IT power")
    return fig


@_styled
def fat_tree(plan: dict[str, Any]) -> Figure:
    """One plane of the fat tree: its tiers with their switch counts, a few drawn of each.

    Parameters
    ----------
    plan : dict
        A ``gigaplan.plan/1`` document.

    Returns
    -------
    str
        The chart as SVG text (:func:`_styled` renders the figure with :func:`to_svg`).

    References
    ----------
    docs/model.md, "Compute fabric".
    """
    network = plan["network"]
    tiers = [("leaf", network["leaf_switches"])]
    if network["tiers"] >= 2:
        tiers.append(("spine", network["spine_switches"]))
    if network["tiers"] >= 3:
        tiers.append(("core", network["core_switches"]))
    tiers = [(name, count) for name, count in tiers if count]
    fig, ax = _figure(0.75 * (len(tiers) + 1) + 0.3)
    shown = 8
    positions: list[list[float]] = []
    for level, (name, count) in enumerate(tiers):
        n = min(count, shown)
        xs = [(i + 0.5) / n for i in range(n)]
        positions.append(xs)
        y = level + 1
        ax.scatter(xs, [y] * n, s=150, marker="s", color=KIND_COLOURS["network"],
                   edgecolor=FG, linewidth=0.5, zorder=3)
        more = f" (of {count:,}; {n} drawn)" if count > n else ""
        ax.text(1.04, y, f"{name}: {count:,}{more}", va="center", fontsize=8.5)
    for level in range(1, len(positions)):
        for x0 in positions[level - 1]:
            for x1 in positions[level]:
                ax.plot([x0, x1], [level, level + 1], color=GRID, linewidth=0.6, zorder=1)
    endpoints = network["endpoints_per_plane"]
    n = min(endpoints, 16)
    xs = [(i + 0.5) / n for i in range(n)]
    ax.scatter(xs, [0] * n, s=22, marker="o", color=KIND_COLOURS["compute_rack"],
               edgecolor=FG, linewidth=0.4, zorder=3)
    for i, x in enumerate(xs):
        ax.plot([x, positions[0][int(i * len(positions[0]) / n)]], [0, 1], color=GRID,
                linewidth=0.6, zorder=1)
    ax.text(1.04, 0, f"GPU endpoints: {endpoints:,}", va="center", fontsize=8.5)
    ax.set_xlim(-0.02, 1.55)
    ax.set_ylim(-0.5, len(tiers) + 0.5)
    ax.set_axis_off()
    ax.set_title(f"One fabric plane: {network['tiers']}-tier fat tree of radix-"
                 f"{network['radix']} {network['switch']} switches, {network['port_gbps']:g} Gb/s"
                 " ports")
    return fig


def floor_layout(plan: dict[str, Any], footprints: dict[str, float] | None = None
                 ) -> dict[str, Any]:
    """The floor plan's geometry in metres: halls, rack-row segments and empty positions.

    Positions are filled in the plan's order (compute SKUs, then switch racks, storage, CPU),
    ``RACKS_PER_ROW`` to a row and ``HALL_ROWS`` rows to a hall; the row pitch makes each
    position cover the site's ``space.area_per_rack``, so the halls' area is the white space.

    Parameters
    ----------
    plan : dict
        A ``gigaplan.plan/1`` document.
    footprints : dict of str to float or None, default None
        SKU id to its footprint [m²]; a default for SKUs left out.

    Returns
    -------
    dict
        Halls, rack-row segments and empty positions, with coordinates [m].
    """
    site = plan["inputs"]["site"]
    area_per_rack = site["space"]["area_per_rack"]
    footprints = footprints or {}
    kinds: list[tuple[str, str, int, float]] = []  # sku, kind, count, depth (m)
    for rack in plan["racks"]:
        if rack["count"]:
            depth = footprints.get(rack["sku"], DEFAULT_FOOTPRINT_M2) / RACK_WIDTH_M
            kinds.append((rack["sku"], rack["kind"], rack["count"], depth))
    network = plan.get("network") or {}
    if network.get("enabled") and network.get("racks"):
        kinds.append((network["switch"], "network", network["racks"],
                      DEFAULT_FOOTPRINT_M2 / RACK_WIDTH_M))
    order = {"compute_rack": 0, "network": 1, "storage_rack": 2, "cpu_rack": 3}
    kinds.sort(key=lambda item: order.get(item[1], 9))
    built = sum(item[2] for item in kinds)
    counts: dict[str, int] = {}
    for _, kind, count, _ in kinds:
        counts[kind] = counts.get(kind, 0) + count
    capacity = site["space"].get("rack_positions")
    if capacity is None and site["space"].get("white_space"):
        capacity = int(site["space"]["white_space"] // area_per_rack)
    per_hall = HALL_ROWS * RACKS_PER_ROW
    # Empty positions are drawn up to twice what is built (at least one hall): a site that
    # allows 100,000 positions for 700 racks would otherwise be a page of empty rows.
    positions = max(built, min(capacity or 0, max(2 * built, per_hall)))
    halls = max(1, math.ceil(positions / per_hall))
    pitch = area_per_rack / RACK_WIDTH_M
    hall_w = RACKS_PER_ROW * RACK_WIDTH_M
    hall_d = HALL_ROWS * pitch
    lines = max(1, math.ceil(halls / 10), round(math.sqrt(halls * (hall_w + HALL_GAP_M)
                                                           / (2.6 * (hall_d + HALL_GAP_M)))))
    columns = math.ceil(halls / lines)
    hall_boxes = []
    for h in range(halls):
        col, line = h % columns, h // columns
        hall_boxes.append((col * (hall_w + HALL_GAP_M), line * (hall_d + HALL_GAP_M)))
    segments = []  # x, y, width, depth, kind
    index = 0
    for _, kind, count, depth in kinds:
        remaining = count
        while remaining:
            hall, within = divmod(index, per_hall)
            row, slot = divmod(within, RACKS_PER_ROW)
            take = min(remaining, RACKS_PER_ROW - slot)
            x0, y0 = hall_boxes[hall]
            y = y0 + _row_y(row, pitch, depth)
            segments.append((x0 + slot * RACK_WIDTH_M, y, take * RACK_WIDTH_M, depth, kind))
            remaining -= take
            index += take
    empty = []
    while index < positions:
        hall, within = divmod(index, per_hall)
        row, slot = divmod(within, RACKS_PER_ROW)
        take = min(positions - index, RACKS_PER_ROW - slot)
        x0, y0 = hall_boxes[hall]
        y = y0 + _row_y(row, pitch, 1.2)
        empty.append((x0 + slot * RACK_WIDTH_M, y, take * RACK_WIDTH_M, 1.2))
        index += take
    return {"halls": hall_boxes, "hall_size": (hall_w, hall_d), "segments": segments,
            "empty": empty, "built": built, "positions": positions,
            "capacity": max(capacity or 0, built),
            "area_per_rack": area_per_rack, "counts": counts}


def _row_y(row: int, pitch: float, depth: float) -> float:
    """Rows stand back to back in pairs around a shared 1.2 m hot aisle (a pod)."""
    pair, second = divmod(row, 2)
    centre = (2 * pair + 1) * pitch
    return centre + 0.6 if second else centre - 0.6 - depth


@_styled
def floor_plan(plan: dict[str, Any], footprints: dict[str, float] | None = None,
               title: str = "") -> Figure:
    """Data halls and rack rows drawn to scale (metres), racks coloured by kind.

    Parameters
    ----------
    plan : dict
        A ``gigaplan.plan/1`` document.
    footprints : dict of str to float or None, default None
        SKU id to its footprint [m²]; a default for SKUs left out.
    title : str, default ""
        The chart's title.

    Returns
    -------
    str
        The chart as SVG text (:func:`_styled` renders the figure with :func:`to_svg`).

    References
    ----------
    docs/model.md, "Space".
    """
    layout = floor_layout(plan, footprints)
    hall_w, hall_d = layout["hall_size"]
    width = max(x for x, _ in layout["halls"]) + hall_w
    depth = max(y for _, y in layout["halls"]) + hall_d
    extent = max(width, depth)
    # the axes hold the halls, a hall label above and the scale bar below, at equal aspect
    aspect = (depth + 0.15 * extent) / (width + 4)
    fig, ax = _figure(min(8.0, max(2.4, (WIDTH_IN - 0.4) * aspect + 1.05)))
    for number, (x, y) in enumerate(layout["halls"], start=1):
        ax.add_patch(Rectangle((x, y), hall_w, hall_d, fill=False, edgecolor=FG, linewidth=0.6))
        ax.text(x + hall_w / 2, y - 1.2, f"hall {number}", ha="center", va="bottom",
                fontsize=7 if len(layout["halls"]) > 12 else 8)
    for x, y, w, d in layout["empty"]:
        ax.add_patch(Rectangle((x, y), w, d, fill=False, edgecolor=GRID, linewidth=0.4))
    for x, y, w, d, kind in layout["segments"]:
        ax.add_patch(Rectangle((x, y), w, d, facecolor=KIND_COLOURS[kind], edgecolor="none"))
    # a scale bar of a round length, about a fifth of the width
    bar = _round_length(width / 5)
    y_bar = depth + 0.06 * max(width, depth)
    ax.plot([0, bar], [y_bar, y_bar], color=FG, linewidth=2)
    ax.text(bar / 2, y_bar + 0.02 * max(width, depth), f"{bar:g} m", ha="center", va="top",
            fontsize=8)
    handles = [Rectangle((0, 0), 1, 1, facecolor=KIND_COLOURS[kind], edgecolor="none")
               for kind in layout["counts"]]
    labels = [f"{KIND_LABELS[kind]}: {count:,}" for kind, count in layout["counts"].items()]
    if layout["empty"]:
        handles.append(Rectangle((0, 0), 1, 1, fill=False, edgecolor=GRID))
        empty_count = layout["capacity"] - layout["built"]
        drawn = layout["positions"] - layout["built"]
        labels.append(f"empty positions: {empty_count:,}" +
                      (f" ({drawn:,} drawn)" if drawn < empty_count else ""))
    ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncols=3,
              fontsize=8, handlelength=1.2)
    ax.set_xlim(-2, width + 2)
    ax.set_ylim(y_bar + 0.05 * max(width, depth), -0.04 * max(width, depth))
    ax.set_aspect("equal")
    ax.set_axis_off()
    area = layout["built"] * layout["area_per_rack"]
    ax.set_title(_short(title, 70) if title else f"Floor plan to scale: "
                 f"{len(layout['halls'])} halls, {layout['built']:,} racks, {area:,.0f} m²")
    return fig


def _round_length(value: float) -> float:
    exponent = 10 ** math.floor(math.log10(value))
    for step in (5, 2, 1):
        if step * exponent <= value:
            return step * exponent
    return exponent


@_styled
def constraint_bars(constraints: list[dict[str, Any]]) -> Figure:
    """Each limit's use as a share of the limit; binding limits highlighted.

    Bars stop at ``CAP`` % (a floor met many times over would dwarf the rest); the label
    beside each bar, in a column of its own, gives the actual figures.

    Parameters
    ----------
    constraints : list of dict
        The plan's ``constraints`` rows.

    Returns
    -------
    str
        The chart as SVG text (:func:`_styled` renders the figure with :func:`to_svg`).
    """
    rows = [c for c in constraints if c.get("limit") not in (None, 0)]
    fig, ax = _figure(0.36 * len(rows) + 0.8)
    ys = list(range(len(rows)))
    shares = [100 * c["used"] / c["limit"] for c in rows]
    cap = 150.0 if max(shares, default=0) > 125 else 125.0
    colours = [BINDING if c["binding"] else SLACK for c in rows]
    ax.barh(ys, [min(share, cap) for share in shares], color=colours, edgecolor=FG,
            linewidth=0.4, height=0.6)
    ax.axvline(100, color=FG, linewidth=1, linestyle="--")
    ax.set_yticks(ys, [_short(f"{c['name']} ({c['sense']})") for c in rows])
    ax.invert_yaxis()
    for y, (c, share) in enumerate(zip(rows, shares, strict=True)):
        unit = f" {c['unit']}" if c["unit"] else ""
        ax.text(cap * 1.03, y, f"{_num(c['used'])} of {_num(c['limit'])}{unit} ({share:,.0f} %)",
                va="center", fontsize=7.5)
    ax.set_xlim(0, cap * 1.75)
    ax.set_xticks([0, 25, 50, 75, 100, 125] + ([150] if cap > 125 else []))
    ax.set_xlabel("used, % of the limit (a floor '>=' is met at 100 % and above)")
    ax.grid(axis="x")
    ax.set_axisbelow(True)
    handles = [Rectangle((0, 0), 1, 1, color=BINDING), Rectangle((0, 0), 1, 1, color=SLACK)]
    # the legend sits on the title's line, at the right, where the left-aligned title is not
    ax.legend(handles, ["binding", "slack"], loc="lower right", bbox_to_anchor=(1.0, 1.0),
              ncols=2, borderaxespad=0.2)
    ax.set_title("Limits: used against the limit")
    return fig


def _short(text: str, limit: int = 42) -> str:
    """A label cut to fit a chart's margin; the tables carry the full text."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _num(value: float) -> str:
    if abs(value) >= 1e6:
        return si(value)
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"


@_styled
def cost_breakdown(plan: dict[str, Any]) -> Figure:
    """Upfront capex by part, and the cost per year (annualised capex and opex).

    Parameters
    ----------
    plan : dict
        A ``gigaplan.plan/1`` document.

    Returns
    -------
    str
        The chart as SVG text (:func:`_styled` renders the figure with :func:`to_svg`).

    References
    ----------
    docs/model.md, "Capex, upfront" and "Cost per year".
    """
    cost = plan["cost"]
    capex = sorted(cost["capex_breakdown_usd"].items(), key=lambda kv: -kv[1])
    yearly = [("annualised capex, IT", cost["annualised_capex_usd_per_year"]["it"]),
              ("annualised capex, facility", cost["annualised_capex_usd_per_year"]["facility"])]
    yearly += [(key, value) for key, value in cost["opex_breakdown_usd_per_year"].items()]
    fig, (left, right) = _figure(0.3 * max(len(capex), len(yearly)) + 1.0, ncols=2)
    for ax, items, title in ((left, capex, f"Capex, upfront: {usd(cost['capex_usd'])}"),
                             (right, yearly,
                              f"TCO per year: {usd(cost['tco_usd_per_year'])}")):
        ys = list(range(len(items)))
        values = [value for _, value in items]
        ax.barh(ys, values, color=SERIES[0] if ax is left else SERIES[1], edgecolor=FG,
                linewidth=0.4, height=0.6)
        ax.set_yticks(ys, [label.replace("_", " ") for label, _ in items])
        ax.invert_yaxis()
        top = max(values) or 1
        for y, value in enumerate(values):
            ax.text(value + top * 0.02, y, usd(value), va="center", fontsize=8)
        ax.set_xlim(0, top * 1.4)
        ax.xaxis.set_major_locator(MaxNLocator(3))
        _axis_si(ax.xaxis, "$")
        ax.grid(axis="x")
        ax.set_axisbelow(True)
        ax.set_title(title)
    return fig


# --- phased plans, studies -------------------------------------------------------------------


def _day(text: str) -> date:
    return date.fromisoformat(text)


@_styled
def timeline(plan: dict[str, Any]) -> Figure:
    """Gantt of the phases (install, then service) and cumulative GPUs and MW over time.

    Parameters
    ----------
    plan : dict
        A ``gigaplan.plan/1`` document. of a phased site.

    Returns
    -------
    str
        The chart as SVG text (:func:`_styled` renders the figure with :func:`to_svg`).

    References
    ----------
    docs/model.md, "Phases: build-out over time".
    """
    phases = plan["phases"]
    schedule = plan.get("schedule") or {}
    end = _day(schedule.get("horizon_end") or phases[-1]["in_service"])
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(WIDTH_IN, 1.4 + 0.32 * len(phases) + 2.2), layout="constrained")
        gantt, growth = fig.subplots(2, 1, height_ratios=[0.5 + 0.3 * len(phases), 2.0],
                                     sharex=True)
    for y, phase in enumerate(phases):
        start, service = date2num(_day(phase["date"])), date2num(_day(phase["in_service"]))
        gantt.barh(y, service - start, left=start, color=SERIES[1], height=0.55)
        gantt.barh(y, date2num(end) - service, left=service, color=SERIES[0], height=0.55)
    gantt.set_yticks(range(len(phases)), [
        f"{_short(p['name'], 24)}\n{p['gpus']:,} GPUs, {p['power_mw_used']:,.0f} of "
        f"{p['power_mw_energized']:,.0f} MW" for p in phases], fontsize=7.5)
    gantt.invert_yaxis()
    handles = [Rectangle((0, 0), 1, 1, color=SERIES[1]), Rectangle((0, 0), 1, 1, color=SERIES[0])]
    gantt.legend(handles, ["energized, racks installing", "in service"], loc="lower left",
                 bbox_to_anchor=(0, 1.0), ncols=2)
    gantt.set_title("Phases", pad=18)
    dates = [date2num(_day(p["in_service"])) for p in phases] + [date2num(end)]
    gpus = [p["gpus"] for p in phases]
    growth.fill_between(dates, [*gpus, gpus[-1]], step="post", color=SERIES[5], alpha=0.45,
                        linewidth=0, label="GPUs in service")
    growth.set_ylabel("GPUs")
    _axis_si(growth.yaxis)
    growth.set_ylim(0, max(gpus) * 1.15 or 1)
    twin = growth.twinx()
    twin.spines["right"].set_visible(True)
    energized = [p["power_mw_energized"] for p in phases]
    used = [p["power_mw_used"] for p in phases]
    twin.step(dates, [*energized, energized[-1]], where="post", color=SERIES[4],
              linestyle="--", label="MW energized")
    twin.step(dates, [*used, used[-1]], where="post", color=SERIES[2], label="MW drawn")
    twin.set_ylabel("MW")
    twin.set_ylim(0, max(energized) * 1.15 or 1)
    handles = [Rectangle((0, 0), 1, 1, color=SERIES[5], alpha=0.45), *twin.get_lines()]
    growth.legend(handles, ["GPUs in service", *(line.get_label() for line in twin.get_lines())],
                  loc="upper left", ncols=3)
    growth.grid(axis="y")
    growth.xaxis_date()
    growth.set_title("Cumulative GPUs and power over time")
    return fig


@_styled
def site_comparison(study: dict[str, Any]) -> Figure:
    """Per site: GPUs, facility MW against the budget, and capex.

    Parameters
    ----------
    study : dict
        A ``gigaplan.study/1`` document.

    Returns
    -------
    str
        The chart as SVG text (:func:`_styled` renders the figure with :func:`to_svg`).
    """
    sites = study["sites"]
    names = [site.get("name") or site["inputs"]["site"]["name"] for site in sites]
    fig, axes = _figure(0.34 * len(sites) + 1.1, ncols=3, sharey=True)
    ys = list(range(len(sites)))
    panels = [
        ("GPUs", [s["totals"]["gpus"] for s in sites], None, lambda v: f"{v:,}"),
        ("Facility MW of budget", [s["power_mw"]["facility"] for s in sites],
         [s["power_mw"]["budget"] if s["inputs"]["site"]["power"]["basis"] == "facility"
          else s["power_mw"]["facility"] for s in sites], lambda v: f"{v:,.0f}"),
        ("Capex", [s["cost"]["capex_usd"] for s in sites], None, usd),
    ]
    for ax, (title, values, limits, fmt), colour in zip(axes, panels, SERIES, strict=False):
        if limits:
            ax.barh(ys, limits, color="none", edgecolor=FG, linewidth=0.6, height=0.6)
        ax.barh(ys, values, color=colour, edgecolor=FG, linewidth=0.4, height=0.6)
        top = max([*values, *(limits or [])]) or 1
        for y, value in enumerate(values):
            ax.text((limits[y] if limits else value) + top * 0.03, y, fmt(value),
                    va="center", fontsize=8)
        ax.set_xlim(0, top * 1.6)
        ax.xaxis.set_major_locator(MaxNLocator(3))
        _axis_si(ax.xaxis, "$" if title == "Capex" else "")
        ax.grid(axis="x")
        ax.set_axisbelow(True)
        ax.set_title(title)
    axes[0].set_yticks(ys, [_short(name, 24) for name in names])
    axes[0].invert_yaxis()
    return fig


# --- sweeps and Monte Carlo -------------------------------------------------------------------

_QUANTITY = re.compile(r"^\s*([-+]?[\d,]*\.?\d+(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")


def numeric_axis(values: Iterable[Any]) -> tuple[list[float], str] | None:
    """Numbers (and their common unit) for a varied key's values, or None when categorical.

    Parameters
    ----------
    values : iterable
        The values a varied key took.

    Returns
    -------
    tuple of (list of float, str) or None
        The numbers and their unit, or None.
    """
    numbers, units = [], set()
    for value in values:
        if isinstance(value, bool):
            return None
        if isinstance(value, int | float):
            numbers.append(float(value))
            units.add("")
            continue
        match = _QUANTITY.match(str(value))
        if not match:
            return None
        numbers.append(float(match.group(1).replace(",", "")))
        units.add(match.group(2))
    if len(units) != 1:
        return None
    return numbers, units.pop()


SWEEP_FIELDS = [
    ("objective.value", "objective"),
    ("totals.gpus", "GPUs"),
    ("cost.capex_usd", "capex, USD"),
    ("power_mw.facility", "facility MW"),
    ("cost.usd_per_gpu_hour", "USD per GPU-hour"),
    ("cost.tco_usd_per_year", "TCO, USD per year"),
]


@_styled
def sweep_curves(sweep: dict[str, Any]) -> Figure:
    """The objective and key figures against the first varied key; one line per other value.

    Parameters
    ----------
    sweep : dict
        A ``gigaplan.sweep/1`` document.

    Returns
    -------
    str
        The chart as SVG text (:func:`_styled` renders the figure with :func:`to_svg`).
    """
    keys = sweep["vary"]
    rows = [row for row in sweep["rows"] if row.get("status") in ("optimal", "time_limit")]
    x_key, others = keys[0], keys[1:]
    axis = numeric_axis(row[f"vary.{x_key}"] for row in sweep["rows"])
    categories = list(dict.fromkeys(str(row[f"vary.{x_key}"]) for row in sweep["rows"]))
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        label = ", ".join(f"{key}={row[f'vary.{key}']}" for key in others)
        groups.setdefault(label, []).append(row)
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(WIDTH_IN, 5.6), layout="constrained")
        axes = fig.subplots(3, 2, sharex=True).ravel()

    def x_of(row: dict[str, Any]) -> float:
        value = row[f"vary.{x_key}"]
        if axis:
            return numeric_axis([value])[0][0]  # type: ignore[index]
        return float(categories.index(str(value)))

    for ax, (field, label) in zip(axes, SWEEP_FIELDS, strict=True):
        for colour, (group, members) in zip(SERIES * 4, groups.items(), strict=False):
            points = sorted((x_of(row), row[field]) for row in members
                            if row.get(field) is not None)
            if points:
                ax.plot([p[0] for p in points], [p[1] for p in points], marker="o",
                        markersize=3.5, color=colour, label=group or None, linewidth=1.3)
        ax.set_title(label if field != "objective.value" else
                     f"objective: {rows[0]['objective'] if rows else ''}")
        _axis_si(ax.yaxis, "$" if "usd" in field else "")
        ax.grid(True)
        ax.set_axisbelow(True)
    unit = f" ({axis[1]})" if axis and axis[1] else ""
    for ax in axes[-2:]:
        ax.set_xlabel(f"{x_key}{unit}")
        if not axis:
            ax.set_xticks(range(len(categories)), categories)
    if others:
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=min(4, len(labels)))
    return fig


@_styled
def montecarlo_histogram(mc: dict[str, Any]) -> Figure:
    """The re-planned objective's histogram with its P10, P50 and P90 marked.

    Parameters
    ----------
    mc : dict
        A ``gigaplan.montecarlo/1`` document.

    Returns
    -------
    str
        The chart as SVG text (:func:`_styled` renders the figure with :func:`to_svg`).
    """
    optimal = mc["optimal_plans"]
    histogram = optimal["objective_histogram"]
    stats = optimal["fields"]["objective.value"]
    edges, counts = histogram["edges"], histogram["counts"]
    fig, ax = _figure(2.6)
    widths = [b - a for a, b in itertools.pairwise(edges)]
    ax.bar(edges[:-1], counts, width=widths, align="edge", color=SERIES[5], edgecolor=FG,
           linewidth=0.4)
    top = max(counts) if counts else 1
    # P50 a step above P10 and P90, so close percentiles never print over each other
    for name, colour, style, height in (("p10", SERIES[4], "--", 1.08), ("p50", FG, "-", 1.2),
                                        ("p90", SERIES[4], "--", 1.08)):
        ax.axvline(stats[name], color=colour, linestyle=style, linewidth=1.3)
        ax.text(stats[name], top * height, f"{name.upper()} {si(stats[name], 4)}", ha="center",
                va="center", fontsize=8, color=colour,
                bbox={"facecolor": BG, "edgecolor": "none", "pad": 1.5})
    ax.set_ylim(0, top * 1.3)
    ax.set_ylabel("samples")
    ax.set_xlabel(f"objective ({mc['nominal'].get('objective', '')}), re-planned per sample")
    ax.xaxis.set_major_locator(MaxNLocator(6))
    _axis_si(ax.xaxis)
    ax.grid(axis="y")
    ax.set_axisbelow(True)
    ax.set_title(f"Objective under uncertainty: {mc['samples']:,} samples, seed {mc['seed']}")
    return fig


MC_FIELDS = [
    ("objective.value", "objective"),
    ("totals.gpus", "GPUs"),
    ("power_mw.facility", "facility MW"),
    ("cost.capex_usd", "capex, USD"),
    ("cost.tco_usd_per_year", "TCO, USD per year"),
    ("cost.usd_per_gpu_hour", "USD per GPU-hour"),
]


@_styled
def montecarlo_ranges(mc: dict[str, Any]) -> Figure:
    """Per field: min-max whisker, P10-P90 box and P50 tick, for the fixed and re-planned plan.

    Parameters
    ----------
    mc : dict
        A ``gigaplan.montecarlo/1`` document.

    Returns
    -------
    str
        The chart as SVG text (:func:`_styled` renders the figure with :func:`to_svg`).
    """
    fields = [(key, label) for key, label in MC_FIELDS
              if mc["optimal_plans"]["fields"].get(key)]
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(WIDTH_IN, 0.75 * math.ceil(len(fields) / 2) + 0.9),
                     layout="constrained")
        axes = fig.subplots(math.ceil(len(fields) / 2), 2, squeeze=False).ravel()
    for ax, (key, label) in zip(axes, fields, strict=False):
        for y, (which, colour) in enumerate((("fixed_plan", SERIES[1]),
                                             ("optimal_plans", SERIES[0]))):
            stats = mc[which]["fields"].get(key)
            if not stats:
                continue
            ax.plot([stats["min"], stats["max"]], [y, y], color=colour, linewidth=1)
            ax.add_patch(Rectangle((stats["p10"], y - 0.25), stats["p90"] - stats["p10"] or
                                   abs(stats["p50"]) * 1e-6 + 1e-12, 0.5, color=colour,
                                   alpha=0.6))
            ax.plot([stats["p50"]] * 2, [y - 0.32, y + 0.32], color=FG, linewidth=1.5)
        ax.set_yticks([0, 1], ["fixed plan", "re-planned"])
        ax.set_ylim(-0.6, 1.6)
        ax.set_title(label, fontsize=8.5)
        ax.xaxis.set_major_locator(MaxNLocator(4))
        _axis_si(ax.xaxis, "$" if "usd" in key else "")
        ax.grid(axis="x")
        ax.set_axisbelow(True)
    for ax in axes[len(fields):]:
        ax.set_axis_off()
    return fig
