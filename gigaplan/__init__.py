"""gigaplan: capacity planning for AI gigafactories.

Public API (docs/api.md): :func:`load_catalog`, :func:`load_site`, :func:`plan` and
:class:`PlanResult`, from :mod:`gigaplan.api`. They load lazily, so ``import gigaplan`` (and
``gigaplan --help``) pays for neither pydantic nor numpy/scipy.
"""

from __future__ import annotations

import importlib
from typing import Any

from gigaplan.version import __version__

__all__ = ["PlanResult", "__version__", "load_catalog", "load_site", "plan"]

_LAZY = {
    "load_catalog": "gigaplan.api",
    "load_site": "gigaplan.api",
    "plan": "gigaplan.api",
    "PlanResult": "gigaplan.result",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'gigaplan' has no attribute {name!r}")
