"""The workbook for spreadsheet users: one sheet per table, real numbers, units in the headers.

:func:`render_xlsx` takes the same serialised documents as the HTML report (``gigaplan.plan/1``,
``study/1``, ``reference/1``, ``sweep/1``, ``montecarlo/1``) or a list of ``batch`` rows, and
returns the ``.xlsx`` file as bytes. Numbers are written as numbers (never as text) with a
display format; every header names its unit. Only the report command loads this module (and
so openpyxl).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from gigaplan.errors import InputError
from gigaplan.output.documents import SCHEMAS, flatten, lookup

INT = "#,##0"
DEC = "#,##0.0##"
USD = '"$"#,##0'
USD_CENTS = '"$"#,##0.000'
PCT = "0.0%"

# (header with unit, JSON key, number format) of the build-out sheet
RACK_COLUMNS = [
    ("SKU", "sku", None), ("kind", "kind", None), ("name", "name", None),
    ("racks", "count", INT), ("GPUs", "gpus", INT), ("power each (kW)", "power_kw_each", DEC),
    ("power (MW)", "power_mw", DEC), ("price each (USD)", "price_usd_each", USD),
    ("capex (USD)", "capex_usd", USD),
]


class _Book:
    """A thin helper over an openpyxl workbook: typed rows, bold frozen header, widths."""

    def __init__(self) -> None:
        self.book = Workbook()
        self._first = True

    def sheet(self, title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]],
              formats: Sequence[str | None] | None = None) -> None:
        if self._first:
            sheet = self.book.active
            sheet.title = title
            self._first = False
        else:
            sheet = self.book.create_sheet(title)
        sheet.append(list(headers))
        _as_text(sheet[1])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        widths = [len(str(h)) for h in headers]
        count = 0
        for row in rows:
            values = [_cell(value) for value in row]
            sheet.append(values)
            count += 1
            _as_text(sheet[count + 1])
            for index, value in enumerate(values):
                widths[index] = max(widths[index], min(60, len(_shown(value))))
        for index, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width + 2
        if formats:
            for index, fmt in enumerate(formats, start=1):
                if fmt:
                    for (cell,) in sheet.iter_rows(min_row=2, max_row=count + 1,
                                                   min_col=index, max_col=index):
                        if isinstance(cell.value, int | float):
                            cell.number_format = fmt
        sheet.freeze_panes = "A2"
        if count:
            sheet.auto_filter.ref = sheet.dimensions

    def save(self) -> bytes:
        buffer = io.BytesIO()
        self.book.save(buffer)
        return buffer.getvalue()


def _as_text(cells: Iterable[Any]) -> None:
    """Every cell stays a value: openpyxl stores a string that starts with ``=`` as a formula,
    so a SKU or site named ``=HYPERLINK(...)`` or ``=cmd|' /c calc'!A1`` would run when the
    workbook is opened. gigaplan writes no formulas; such a string is shown as written."""
    for cell in cells:
        if cell.data_type == "f":
            cell.data_type = "s"


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return "" if value is None else str(value)


# --- plan sheets ------------------------------------------------------------------------------

def _plan_sheets(book: _Book | _Tables, plan: dict[str, Any], catalog: list[dict[str, Any]] | None,
                 site: str | None = None) -> None:
    prefix = [site] if site else []
    head = ["site"] if site else []
    if plan.get("status") == "infeasible":
        book.sheet("Infeasible", [*head, "message"],
                   [[*prefix, plan.get("message", "")],
                    *([*prefix, c] for c in plan.get("conflicts") or [])])
        return
    summary = [
        ("GPUs", "totals.gpus", "", INT), ("racks, all kinds", "totals.racks", "", INT),
        ("compute racks", "totals.compute_racks", "", INT),
        ("dense FP4", "totals.fp4_dense_pflops", "PFLOPS", DEC),
        ("dense BF16", "totals.bf16_dense_pflops", "PFLOPS", DEC),
        ("HBM", "totals.hbm_tb", "TB", DEC),
        ("facility power", "power_mw.facility", "MW", DEC), ("IT power", "power_mw.it", "MW", DEC),
        ("capex, upfront", "cost.capex_usd", "USD", USD),
        ("TCO", "cost.tco_usd_per_year", "USD per year", USD),
        ("cost per GPU-hour", "cost.usd_per_gpu_hour", "USD", USD_CENTS),
        ("cost per million tokens", "cost.usd_per_million_tokens", "USD", USD_CENTS),
        ("tokens per second", "workload.tokens_per_second", "tokens/s", INT),
        ("energy", "energy.mwh_per_year", "MWh per year", INT),
        ("carbon", "energy.co2_t_per_year", "t CO2 per year", INT),
        ("water", "energy.water_m3_per_year", "m3 per year", INT),
        ("objective", "objective.value", lookup(plan, "objective.unit") or "", DEC),
    ]
    rows = [(*prefix, label, key, lookup(plan, key), unit) for label, key, unit, _ in summary
            if lookup(plan, key) is not None]
    book.sheet("Summary", [*head, "figure", "JSON key", "value", "unit"], rows,
               [*([None] * len(head)), None, None, DEC, None])
    book.sheet("Build-out", [*head, *(h for h, _, _ in RACK_COLUMNS)],
               ([*prefix, *(rack.get(key) for _, key, _ in RACK_COLUMNS)]
                for rack in plan["racks"]), [*([None] * len(head)),
                                             *(f for _, _, f in RACK_COLUMNS)])
    power = plan["power_mw"]
    book.sheet("Power", [*head, "item", "power (MW)"],
               ([*prefix, key, power[key]] for key in (
                   "budget", "redundancy_reserve", "headroom_reserve", "usable", "headroom",
                   "grid", "facility", "overhead", "it", "compute", "network",
                   "auxiliary_networks", "storage", "cpu", "it_expected")
                if key in power), [*([None] * len(head)), None, DEC])
    network = plan.get("network") or {}
    if network.get("enabled"):
        book.sheet("Fabric BOM", [*head, "item", "count", "SKU or note"], [
            [*prefix, "leaf switches (per plane)", network["leaf_switches"], network["switch"]],
            [*prefix, "spine switches (per plane)", network["spine_switches"], network["switch"]],
            [*prefix, "core switches (per plane)", network["core_switches"], network["switch"]],
            [*prefix, "switches, all planes", network["switches"], network["switch"]],
            [*prefix, "optics", network["optics"], network["optic"]],
            *([*prefix, f"{line['tier']} link ends", line["switch_units"] + line["nic_units"],
               line["switch_end"] + (f" / {line['nic_end']}" if line["nic_end"] else "")]
              for line in network.get("media", [])),
            [*prefix, "switch racks", network["racks"], ""],
            [*prefix, "planes", network["planes"], ""],
            [*prefix, "tiers", network["tiers"], ""],
            [*prefix, "switch radix (ports)", network["radix"], ""],
            [*prefix, "port speed (Gb/s)", network["port_gbps"], ""],
            [*prefix, "endpoints per plane", network["endpoints_per_plane"], ""],
            [*prefix, "network power (kW)", network["power_kw"], "switches and optics"],
        ], [*([None] * len(head)), None, DEC, None])
    cost = plan["cost"]
    book.sheet("Capex", [*head, "item", "capex, upfront (USD)"],
               [*([*prefix, key, value] for key, value in cost["capex_breakdown_usd"].items()),
                [*prefix, "total", cost["capex_usd"]]], [*([None] * len(head)), None, USD])
    yearly = [("annualised capex, IT", cost["annualised_capex_usd_per_year"]["it"]),
              ("annualised capex, facility",
               cost["annualised_capex_usd_per_year"]["facility"]),
              *cost["opex_breakdown_usd_per_year"].items(), ("TCO", cost["tco_usd_per_year"])]
    book.sheet("TCO", [*head, "item", "cost (USD per year)"],
               ([*prefix, key, value] for key, value in yearly),
               [*([None] * len(head)), None, USD])
    book.sheet("Constraints", [*head, "limit", "sense", "limit value", "used", "slack", "unit",
                               "binding"],
               ([*prefix, c["name"], c["sense"], c["limit"], c["used"], c["slack"], c["unit"],
                 c["binding"]] for c in plan.get("constraints") or []),
               [*([None] * len(head)), None, None, DEC, DEC, DEC, None, None])
    if plan.get("phases"):
        skus = sorted({sku for phase in plan["phases"] for sku in phase["racks_added"]})
        book.sheet("Phases", ["phase", "date", "in service", "GPUs", "power used (MW)",
                              "power energized (MW)", "capex (USD)", "capex cumulative (USD)",
                              *(f"racks added: {sku}" for sku in skus)],
                   ([p["name"], p["date"], p["in_service"], p["gpus"], p["power_mw_used"],
                     p["power_mw_energized"], p["capex_usd"], p["capex_usd_cumulative"],
                     *(p["racks_added"].get(sku, 0) for sku in skus)]
                    for p in plan["phases"]),
                   [None, None, None, INT, DEC, DEC, USD, USD, *([INT] * len(skus))])
    book.sheet("Inputs", [*head, "site key (site-file units)", "value"],
               ([*prefix, key, value] for key, value in
                flatten(lookup(plan, "inputs.site") or {})))
    _catalog_sheet(book, set(lookup(plan, "inputs.catalog_ids") or []), catalog)


def _catalog_sheet(book: _Book, used: set[str], catalog: list[dict[str, Any]] | None) -> None:
    if not catalog:
        return
    rows = []
    for entry in sorted(catalog, key=lambda e: e["id"]):
        if entry["id"] not in used:
            continue
        estimates = set(entry.get("estimates") or [])
        sources = " ; ".join(entry.get("sources") or [])
        for key in sorted(entry):
            value = entry[key]
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            rows.append([entry["id"], entry.get("name", ""), entry.get("kind", ""),
                         entry.get("status", ""), key, value,
                         "estimate" if key in estimates else "datasheet", sources])
    book.sheet("Catalog", ["SKU", "name", "kind", "status", "field (unit in name)", "value",
                           "provenance", "sources"], rows,
               [None, None, None, None, None, DEC, None, None])


def _rows_sheet(book: _Book, title: str, rows: list[dict[str, Any]],
                first: Sequence[str] = ()) -> None:
    """Batch and sweep rows: one column per field, ``racks`` spread to ``racks.<sku>``."""
    flat = []
    for row in rows:
        line = {key: value for key, value in row.items() if key != "racks"}
        for sku, count in (row.get("racks") or {}).items():
            line[f"racks.{sku}"] = count
        flat.append(line)
    keys = list(dict.fromkeys([*first, *(k for line in flat for k in sorted(line))]))
    formats = [INT if k.startswith("racks.") or k in ("totals.gpus", "network.switches",
                                                      "totals.compute_racks") else
               USD if k.endswith("_usd") or k.endswith("_usd_per_year") else
               USD_CENTS if k.endswith("usd_per_gpu_hour") else DEC for k in keys]
    headers = [_unit_header(key) for key in keys]
    book.sheet(title, headers, ([line.get(key) for key in keys] for line in flat), formats)


def _unit_header(key: str) -> str:
    for suffix, unit in (("_usd_per_year", "USD per year"), ("_usd_per_gpu_hour", "USD"),
                         ("usd_per_gpu_hour", "USD"), ("_usd", "USD"), ("_mw", "MW"),
                         ("mwh_per_year", "MWh per year"), ("_pflops", "PFLOPS"),
                         ("tokens_per_second", "tokens/s"), ("train_days", "days")):
        if key.endswith(suffix) or (suffix.strip("_") in key.split(".")[0]):
            return f"{key} ({unit})"
    return key


# --- entry point ------------------------------------------------------------------------------

def render_xlsx(doc: dict[str, Any] | list[dict[str, Any]], *,
                catalog: list[dict[str, Any]] | None = None) -> bytes:
    """The workbook for one gigaplan document, or for a list of batch rows, as bytes.

    Parameters
    ----------
    doc : dict or list of dict
        A gigaplan document, or batch result lines.
    catalog : list of dict or None, default None
        Catalog entries, for a sheet of the SKUs used.

    Returns
    -------
    bytes
        The ``.xlsx`` file.
    """
    book = _Book()
    if isinstance(doc, list):
        _rows_sheet(book, "Rows", doc, ["id", "status"])
        return book.save()
    schema = doc.get("schema") if isinstance(doc, dict) else None
    if schema not in SCHEMAS:
        raise InputError(f"cannot make a workbook of {schema or 'this document'!s}: expected "
                         f"one of {', '.join(SCHEMAS)} or batch rows")
    if schema == "gigaplan.plan/1":
        _plan_sheets(book, doc, catalog)
    elif schema == "gigaplan.reference/1":
        book.sheet("Copies", ["site", "copies", "GPUs", "capex (USD)", "limited by"],
                   ([c["site"], c["copies"], c["gpus"], c["capex_usd"], c["limited_by"]]
                    for c in doc["copies"]), [None, INT, INT, USD, None])
        _plan_sheets(book, doc["design"], catalog)
    elif schema == "gigaplan.study/1":
        sites = doc["sites"]
        book.sheet("Sites", ["site", "GPUs", "racks", "facility power (MW)", "IT power (MW)",
                             "budget (MW)", "basis", "capex (USD)", "TCO (USD per year)",
                             "cost per GPU-hour (USD)"],
                   ([s.get("name"), s["totals"]["gpus"], s["totals"]["racks"],
                     s["power_mw"]["facility"], s["power_mw"]["it"], s["power_mw"]["budget"],
                     lookup(s, "inputs.site.power.basis"), s["cost"]["capex_usd"],
                     s["cost"]["tco_usd_per_year"], s["cost"]["usd_per_gpu_hour"]]
                    for s in sites), [None, INT, INT, DEC, DEC, DEC, None, USD, USD, USD_CENTS])
        book.sheet("Study limits", ["limit", "sense", "limit value", "used", "slack", "unit",
                                    "binding"],
                   ([c["name"], c["sense"], c["limit"], c["used"], c["slack"], c["unit"],
                     c["binding"]] for c in doc.get("constraints") or []),
                   [None, None, DEC, DEC, DEC, None, None])
        _merge_site_sheets(book, sites)
        _catalog_sheet(book, {i for s in sites for i in lookup(s, "inputs.catalog_ids") or []},
                       catalog)
    elif schema == "gigaplan.sweep/1":
        _rows_sheet(book, "Rows", doc["rows"], [f"vary.{key}" for key in doc["vary"]])
    else:
        _montecarlo_sheets(book, doc)
    return book.save()


class _Tables:
    """Collects tables instead of writing sheets, so per-site tables can be joined."""

    def __init__(self) -> None:
        self.tables: dict[str, tuple[list[str], list[list[Any]], list[str | None] | None]] = {}

    def sheet(self, title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]],
              formats: Sequence[str | None] | None = None) -> None:
        _, known, _ = self.tables.setdefault(
            title, (list(headers), [], list(formats) if formats else None))
        known.extend(list(row) for row in rows)


def _merge_site_sheets(book: _Book, sites: list[dict[str, Any]]) -> None:
    """One sheet per table across all sites, with the site in the first column."""
    tables = _Tables()
    for site in sites:
        _plan_sheets(tables, site, None, site=site.get("name"))
    for title, (headers, rows, formats) in tables.tables.items():
        name = f"Site {title.lower()}" if title in ("Summary", "Inputs") else title
        book.sheet(name, headers, rows, formats)


def _montecarlo_sheets(book: _Book, mc: dict[str, Any]) -> None:
    rows = []
    for which, label in (("fixed_plan", "fixed plan"), ("optimal_plans", "re-planned")):
        for field, stats in sorted(mc[which]["fields"].items()):
            if stats:
                rows.append([field, label, *(stats[k] for k in (
                    "p10", "p50", "p90", "mean", "min", "max", "count"))])
    book.sheet("Percentiles", ["field", "plan", "P10", "P50", "P90", "mean", "min", "max",
                               "samples"], rows, [None, None, DEC, DEC, DEC, DEC, DEC, DEC, INT])
    histogram = mc["optimal_plans"].get("objective_histogram") or {"edges": [], "counts": []}
    edges = histogram["edges"]
    book.sheet("Objective histogram", ["from", "to", "samples"],
               ([edges[i], edges[i + 1], count] for i, count in enumerate(histogram["counts"])),
               [DEC, DEC, INT])
    book.sheet("Limits broken", ["site limit", "probability the nominal plan breaks it"],
               sorted(mc["fixed_plan"].get("limit_broken_probability", {}).items()),
               [None, PCT])
    book.sheet("Uncertain inputs", ["key", "distribution"], sorted(mc["uncertain"].items()))
    book.sheet("Nominal plan", ["field", "value"], sorted(
        (k, v if not isinstance(v, dict) else ", ".join(f"{a}={b}" for a, b in v.items()))
        for k, v in mc["nominal"].items()))
