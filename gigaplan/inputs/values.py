"""Values as a user types them on the command line or in a CSV cell."""

from __future__ import annotations

import tomllib
from typing import Any


def toml_value(text: str) -> Any:
    """``text`` as a TOML value when it is one (``1.2``, ``true``, ``"x"``), else the bare string.

    A bare word or quantity (``1.5GW``, ``gb300-nvl72``) stays a string for the site's own
    validators to read.
    """
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text
