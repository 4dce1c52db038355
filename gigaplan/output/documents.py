"""What the report and the workbook read: gigaplan's serialised documents (docs/json.md).

Both renderers take the public JSON contract (``gigaplan.plan/1`` and the study, reference,
sweep and Monte Carlo documents), never solver internals, so they keep working while the
internals change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from gigaplan.inputs import values

SCHEMAS = ("gigaplan.plan/1", "gigaplan.study/1", "gigaplan.reference/1", "gigaplan.sweep/1",
           "gigaplan.montecarlo/1")


def lookup(data: Any, dotted: str) -> Any:
    """The value at a dotted path of a document, or None where the path stops.

    Parameters
    ----------
    data : Any
        A document of nested dicts.
    dotted : str
        A dotted path such as ``power_mw.it``.

    Returns
    -------
    Any
        The value, or None.
    """
    for part in dotted.split("."):
        if not isinstance(data, Mapping) or part not in data:
            return None
        data = data[part]
    return data


def flatten(data: Any, prefix: str = "") -> Iterable[tuple[str, Any]]:
    """Dotted key / value pairs of the resolved site, skipping empty values; a list of
    values becomes one comma-separated cell.

    Parameters
    ----------
    data : Any
        The resolved site, nested dicts.
    prefix : str, default ""
        Dotted prefix of the keys.

    Returns
    -------
    iterable of tuple of (str, Any)
        (dotted key, value) pairs.
    """
    for key, value in values.flatten(data, prefix, label_lists=True, sort=True):
        if value not in (None, [], {}):
            yield key, ", ".join(map(str, value)) if isinstance(value, list) else value
