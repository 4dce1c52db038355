"""What the report and the workbook read: gigaplan's serialised documents (docs/json.md).

Both renderers take the public JSON contract (``gigaplan.plan/1`` and the study, reference,
sweep and Monte Carlo documents), never solver internals, so they keep working while the
internals change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

SCHEMAS = ("gigaplan.plan/1", "gigaplan.study/1", "gigaplan.reference/1", "gigaplan.sweep/1",
           "gigaplan.montecarlo/1")


def lookup(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(data, Mapping) or part not in data:
            return None
        data = data[part]
    return data


def flatten(data: Any, prefix: str = "") -> Iterable[tuple[str, Any]]:
    """Dotted key / value pairs of the resolved site, skipping empty values."""
    if isinstance(data, Mapping):
        for key in sorted(data):
            yield from flatten(data[key], f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(data, list) and data and all(isinstance(item, Mapping) for item in data):
        for index, item in enumerate(data):
            yield from flatten(item, f"{prefix}[{item.get('name', index)}]")
    elif data not in (None, [], {}):
        yield prefix, ", ".join(map(str, data)) if isinstance(data, list) else data
