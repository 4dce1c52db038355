"""The ``catalog list`` table, apart from the plan renderers.

``catalog list`` is a start-up path (docs/benchmarks.md: at most 1.5× a bare Typer app), so this
module imports only rich's table and the unit formatter: not the plan result types, the
serializers or tomli_w that :mod:`gigaplan.output.report` needs.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

from gigaplan.inputs.units import Dimension, format_quantity
from gigaplan.output.tablefit import Fit


def catalog_table(entries: list[dict[str, Any]], kind: str | None = None) -> Fit:
    """Key figures of catalog entries (``model_dump`` dicts); * marks an estimate.

    Parameters
    ----------
    entries : list of dict
        Catalog entries, as ``model_dump(mode="json")`` dicts.
    kind : str or None, default None
        Show only SKUs of this kind; every kind when None.

    Returns
    -------
    Fit
        The table, fitted to the terminal width when rendered.
    """
    table = Table(title="gigaplan catalog", title_justify="left")
    for header, justify in (("id", "left"), ("kind", "left"), ("status", "left"),
                            ("available", "left"), ("GPUs", "right"), ("power", "right"),
                            ("FP4 dense", "right"), ("price", "right"), ("name", "left")):
        table.add_column(header, justify=justify,  # type: ignore[arg-type]
                         no_wrap=header in ("id", "kind", "available"))
    for sku in sorted(entries, key=lambda entry: entry["id"]):
        if kind and sku["kind"] != kind:
            continue
        compute = sku["kind"] == "compute_rack"
        power_w = sku["power_kw"] * 1e3 if "power_kw" in sku else float(sku.get("power_w", 0))
        table.add_row(*map(Text, (
            sku["id"], sku["kind"], sku["status"], str(sku["available_from"]),
            str(sku["gpu_count"]) if compute else "",
            format_quantity(power_w, Dimension.POWER) + _mark(sku, "power_kw", "power_w"),
            f"{sku['gpu_count'] * sku['fp4_dense_pflops_per_gpu']:,.0f} PF" if compute else "",
            format_quantity(sku["price_usd"], Dimension.MONEY) + _mark(sku, "price_usd"),
            sku["name"],
        )))
    table.caption = "* an estimate, not a vendor datasheet figure (see `gigaplan catalog show ID`)"
    return Fit(table, drop=(8, 1, 2, 6))  # narrow: without name, kind, status, FP4


def _mark(sku: dict[str, Any], *fields: str) -> str:
    return "*" if any(name in sku.get("estimates", ()) for name in fields) else ""
