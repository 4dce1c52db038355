"""The bundled catalog, precompiled to JSON so that listing it does not import pydantic.

``catalog list`` and ``catalog show`` without ``--catalog`` read ``bundled_catalog.json``:
every bundled SKU as validated by :mod:`gigaplan.inputs.catalog` (``model_dump(mode="json")``),
with the file it came from. A test rebuilds it from the TOML files and fails when it is
stale; ``python -m gigaplan.output.serialize`` rewrites it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

JSON_PATH = Path(__file__).with_name("bundled_catalog.json")


def entries() -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The bundled SKUs as dicts, sorted by id, and the catalog file of each.

    Returns
    -------
    tuple of (list of dict, dict of str to str)
        The SKUs as ``model_dump(mode="json")`` dicts, and SKU id to the catalog file it is
        defined in.
    """
    data = json.loads(JSON_PATH.read_text(encoding="utf-8"))
    return data["skus"], data["origin"]
