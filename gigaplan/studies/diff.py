"""``gigaplan diff A B``: two sites or two saved plans, side by side.

A side is a plan JSON file (``"schema": "gigaplan.plan/1"``) or a site TOML file, which is
planned first. Inputs (the resolved site) and results (totals, power, fabric, costs, energy,
workload, racks per SKU) are flattened to dotted keys and compared; numbers get absolute and
relative deltas.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gigaplan.errors import InputError
from gigaplan.inputs.files import NonFinite, decode, no_non_finite, read_bytes
from gigaplan.inputs.scenario import Scenario
from gigaplan.inputs.values import flatten
from gigaplan.planner import plan
from gigaplan.result import SCHEMA as PLAN_SCHEMA

SCHEMA = "gigaplan.diff/1"
RESULT_SECTIONS = ("objective", "totals", "power_mw", "network", "storage", "cpu", "space",
                   "cooling", "cost", "energy", "workload")


def load_side(path: Path, catalogs: tuple[str, ...] = ()) -> dict[str, Any]:
    """A plan dict from a saved plan JSON file, or by planning a site file.

    Parameters
    ----------
    path : pathlib.Path
        A plan JSON file or a site TOML file.
    catalogs : tuple of str, default ()
        User catalog files, for a site file.

    Returns
    -------
    dict
        A ``gigaplan.plan/1`` document.
    """
    if path.suffix.lower() == ".json":
        text = decode(read_bytes(path, kind="plan JSON file"), str(path))  # bounded, regular
        try:
            data = json.loads(text, parse_constant=no_non_finite)
        except json.JSONDecodeError as error:
            raise InputError(f"{path}: not a readable plan JSON file ({error})") from None
        except NonFinite as error:
            raise InputError(f"{path}: not a plan JSON file: {error}") from None
        except (RecursionError, ValueError):  # nesting too deep, an integer over 4,300 digits
            raise InputError(f"{path}: not a plan JSON file (nested too deeply or a number "
                             "too long)") from None
        if not isinstance(data, dict) or data.get("schema") != PLAN_SCHEMA:
            raise InputError(f"{path}: schema: expected a {PLAN_SCHEMA!r} file from "
                             "'gigaplan plan --format json'")
        inputs = data.get("inputs")
        if not isinstance(inputs, dict) or not isinstance(inputs.get("site"), dict) \
                or not isinstance(inputs.get("source"), str):
            raise InputError(f"{path}: inputs: missing or incomplete (expected inputs.site and "
                             "inputs.source as 'gigaplan plan --format json' writes them)")
        for key in (*RESULT_SECTIONS, "racks"):
            expected = list if key == "racks" else dict
            if key in data and not isinstance(data[key], expected):
                raise InputError(f"{path}: {key}: expected a JSON "
                                 f"{'array' if expected is list else 'object'}")
        if not all(isinstance(line, dict) and "sku" in line and "count" in line
                   for line in data.get("racks", [])):
            raise InputError(f"{path}: racks: expected objects with sku and count")
        return data
    return plan(Scenario(site=path, catalogs=catalogs).bind()).to_dict()


def _results(plan: Mapping[str, Any]) -> dict[str, Any]:
    flat = dict(flatten({key: plan[key] for key in RESULT_SECTIONS if key in plan}))
    flat["status"] = plan.get("status")
    for line in plan.get("racks", []):
        flat[f"racks.{line['sku']}"] = line["count"]
    return flat


# What a reader looks at first: (label, dotted key, how to show it).
SUMMARY = (
    ("objective", "objective.value", "count"),
    ("GPUs", "totals.gpus", "count"),
    ("racks", "totals.racks", "count"),
    ("facility power", "power_mw.facility", "mw"),
    ("IT power", "power_mw.it", "mw"),
    ("capex", "cost.capex_usd", "usd"),
    ("TCO per year", "cost.tco_usd_per_year", "usd"),
    ("cost per GPU-hour", "cost.usd_per_gpu_hour", "usd_small"),
)
# A change smaller than this share of the larger value is noise (floating point, a tie-break):
# hidden unless --all, and not a difference for --exit-code.
NEGLIGIBLE = 1e-6


def _change(key: str, a: Any, b: Any) -> dict[str, Any]:
    change: dict[str, Any] = {"key": key, "a": a, "b": b}
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (a, b))
    if numeric:
        change["delta"] = b - a
        change["relative"] = (b - a) / abs(a) if a else None
        change["negligible"] = abs(b - a) <= NEGLIGIBLE * max(abs(a), abs(b), 1e-9)
    else:
        change["negligible"] = a == b
    return change


@dataclass(frozen=True)
class Diff:
    """Two plans compared (``a`` and ``b`` name them): a summary of the figures that matter,
    the changed inputs and the other changed results; ``same`` when nothing changed by more
    than a negligible amount; ``everything`` when unchanged and negligible rows are kept."""

    a: str
    b: str
    same: bool
    summary: list[dict[str, Any]]
    inputs: list[dict[str, Any]]
    results: list[dict[str, Any]]
    everything: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The ``gigaplan.diff/1`` document.

        Returns
        -------
        dict
            The document as plain values.
        """
        return {"schema": SCHEMA, "a": self.a, "b": self.b, "same": self.same,
                "summary": self.summary, "inputs": self.inputs, "results": self.results}


def compare(a: Mapping[str, Any], b: Mapping[str, Any], labels: tuple[str, str] | None = None,
            everything: bool = False) -> Diff:
    """Two plan dicts compared (absent keys count as None): the summary figures with signed
    deltas and relative changes, then the changed inputs and the other changed results.
    Unchanged and negligible rows (``"negligible": true``) are kept only with ``everything``.

    Parameters
    ----------
    a : mapping
        The first plan document.
    b : mapping
        The second plan document.
    labels : tuple of (str, str) or None, default None
        Names of the two sides in the output.
    everything : bool, default False
        Keep unchanged and negligible rows too.

    Returns
    -------
    Diff
        The summary, the changed inputs and results, with absolute and relative deltas.
    """
    flat = {"inputs": (dict(flatten(a["inputs"]["site"])), dict(flatten(b["inputs"]["site"]))),
            "results": (_results(a), _results(b))}
    left, right = flat["results"]
    left["objective.value"] = a["objective"].get("value")
    right["objective.value"] = b["objective"].get("value")
    changes = {name: [_change(key, pair[0].get(key), pair[1].get(key))
                      for key in sorted(set(pair[0]) | set(pair[1]))]
               for name, pair in flat.items()}
    same = all(change["negligible"] for section in changes.values() for change in section)
    summary = []
    for label, key, kind in SUMMARY:
        change = _change(key, left.get(key), right.get(key))
        if key == "objective.value":
            label = f"objective ({a['objective'].get('unit') or a['objective']['name']})"
        summary.append({**change, "label": label, "kind": kind})
    shown = {"inputs": changes["inputs"],
             "results": [change for change in changes["results"]
                         if change["key"] not in {key for _, key, _ in SUMMARY}]}
    if not everything:
        shown = {name: [change for change in section if not change["negligible"]]
                 for name, section in shown.items()}
    names = labels or (a["inputs"]["source"], b["inputs"]["source"])
    return Diff(a=names[0], b=names[1], same=same, summary=summary, everything=everything,
                **shown)
