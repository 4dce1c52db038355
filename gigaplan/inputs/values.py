"""Values as a user types them on the command line or in a CSV cell."""

from __future__ import annotations

import tomllib
from typing import Any

from gigaplan.errors import SiteError

MAX_DIGITS = 4300  # Python's default int/str conversion limit (sys.get_int_max_str_digits)


def toml_value(text: str, where: str = "") -> Any:
    """``text`` as a TOML value when it is one (``1.2``, ``true``, ``"x"``), else the bare string.

    A bare word or quantity (``1.5GW``, ``gb300-nvl72``) stays a string for the site's own
    validators to read. Nesting too deep to parse, or an integer over Python's 4,300-digit
    conversion limit, is a :class:`SiteError` that starts with ``where`` (the key).
    """
    prefix = f"{where}: " if where else ""
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text
    except RecursionError:
        raise SiteError(f"{prefix}the value is nested too deeply") from None
    except ValueError:  # int() refuses more than sys.get_int_max_str_digits() digits
        raise SiteError(f"{prefix}an integer has more than {MAX_DIGITS:,} digits") from None
