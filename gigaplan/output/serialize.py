"""Serializers: plain Python values, JSON, TOML and CSV text. No rich; nothing prints.

``plain`` turns results into JSON-safe values (integral floats become ints, numpy scalars
Python numbers, non-finite numbers are refused); ``to_json``, ``to_toml`` and ``to_csv`` render
them; the batch lines and the bundled catalog's JSON are serialized here too.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tomli_w

from gigaplan.inputs.bundled import JSON_PATH
from gigaplan.inputs.values import flatten

if TYPE_CHECKING:  # the catalog module imports pydantic, which `catalog list` never needs
    from gigaplan.inputs.catalog import Catalog


def plain(value: Any) -> Any:
    """Plain Python values for serialisation: integral floats become ints, keys are strings.

    numpy scalars (anything with ``.item()``) become Python numbers; NaN and infinity are
    refused, since JSON has no spelling for them.

    Parameters
    ----------
    value : Any
        A value of a result.

    Returns
    -------
    Any
        The plain value.
    """
    if hasattr(value, "to_dict") and not isinstance(value, Mapping):
        value = value.to_dict()  # a typed result: its JSON document
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot serialise non-finite number {value}")
        rounded = round(value, 9)
        return int(rounded) if rounded.is_integer() and abs(rounded) < 2**53 else rounded
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return str(value)


def to_json(data: Any) -> str:
    """Indented JSON text with sorted keys; a typed result serializes as its document.

    Parameters
    ----------
    data : Any
        A typed result or plain data.

    Returns
    -------
    str
        The JSON text, ending in a newline.
    """
    return json.dumps(plain(data), indent=2, sort_keys=True, allow_nan=False) + "\n"


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _drop_none(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_drop_none(item) for item in value if item is not None]
    return value


def to_toml(data: Mapping[str, Any]) -> str:
    """TOML text; ``None`` has no TOML spelling, so keys holding it are left out.

    Parameters
    ----------
    data : mapping
        Plain data.

    Returns
    -------
    str
        The TOML text.
    """
    return tomli_w.dumps(_drop_none(plain(data)))


def csv_text(value: Any) -> Any:
    """A value as a CSV cell: ``true``/``false`` as TOML and JSON spell them (not Python's
    ``True``), lists as ``a;b`` (what a batch CSV cell takes), None as empty.

    Parameters
    ----------
    value : Any
        A leaf value.

    Returns
    -------
    Any
        The cell's value.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(str(csv_text(item)) for item in value)
    return value


def to_csv(data: Any) -> str:
    """Two columns, ``key,value``: one row per leaf of the nested result.

    Parameters
    ----------
    data : Any
        A typed result or plain data.

    Returns
    -------
    str
        The CSV text.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["key", "value"])
    for key, value in flatten(plain(data), label_lists=True, sort=True):
        writer.writerow([key, csv_text(value)])
    return buffer.getvalue()


def render_data(data: Any, fmt: str) -> str:
    """A typed result (anything with ``to_dict()``) or a plain dict as json, toml or csv
    text: the one serializer per format.

    Parameters
    ----------
    data : Any
        A typed result or a plain dict.
    fmt : str
        ``json``, ``toml`` or ``csv``.

    Returns
    -------
    str
        The text.
    """
    return {"json": to_json, "toml": to_toml, "csv": to_csv}[fmt](data)


# --- batch lines ----------------------------------------------------------------------------------


def jsonl_line(line: dict[str, Any]) -> str:
    """One batch result line as compact JSON and a newline.

    Parameters
    ----------
    line : dict
        A batch result line.

    Returns
    -------
    str
        The JSON line.
    """
    return json.dumps(plain(line), sort_keys=True, allow_nan=False, ensure_ascii=False) + "\n"


def csv_line(line: dict[str, Any], columns: Sequence[str]) -> str:
    """One CSV row of ``columns``; ``racks`` becomes ``sku=count;sku=count``.

    Parameters
    ----------
    line : dict
        A batch result line.
    columns : sequence of str
        The CSV columns.

    Returns
    -------
    str
        The CSV row, with its line ending.
    """
    data = plain(line)
    data["racks"] = ";".join(f"{sku}={count}"
                             for sku, count in sorted(data.get("racks", {}).items()))
    cells = [csv_text(data.get(column)) for column in columns]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue()


def csv_header(columns: Sequence[str]) -> str:
    """The CSV header line of ``columns``.

    Parameters
    ----------
    columns : sequence of str
        The CSV columns.

    Returns
    -------
    str
        The header line.
    """
    return ",".join(columns) + "\n"


def format_line(line: dict[str, Any], fmt: str, columns: Sequence[str]) -> str:
    """A batch result line as JSON Lines or as one CSV row of ``columns``.

    Parameters
    ----------
    line : dict
        A batch result line.
    fmt : str
        ``jsonl`` or ``csv``.
    columns : sequence of str
        The CSV columns.

    Returns
    -------
    str
        The line.
    """
    return csv_line(line, columns) if fmt == "csv" else jsonl_line(line)


# --- the bundled catalog ----------------------------------------------------------------------


def catalog_entries(catalog: Catalog) -> list[dict[str, Any]]:
    """Every SKU of ``catalog`` as plain JSON values, sorted by id.

    Parameters
    ----------
    catalog : Catalog
        The catalog.

    Returns
    -------
    list of dict
        One dict per SKU.
    """
    return [plain(sku.model_dump(mode="json")) for sku in catalog.sorted()]


def compile_bundled(catalog: Catalog) -> str:
    """The JSON text the bundled catalog validates to (``inputs/bundled_catalog.json``).

    Parameters
    ----------
    catalog : Catalog
        The bundled catalog.

    Returns
    -------
    str
        The JSON text.
    """
    skus = catalog_entries(catalog)
    origin = {sku_id: "catalogs/" + Path(path).name
              for sku_id, path in sorted(catalog.origin.items())}
    return json.dumps({"skus": skus, "origin": origin}, indent=1, sort_keys=True) + "\n"


if __name__ == "__main__":  # python -m gigaplan.output.serialize rewrites the bundled JSON
    from gigaplan.inputs.catalog import load_catalog

    JSON_PATH.write_text(compile_bundled(load_catalog()), encoding="utf-8")
