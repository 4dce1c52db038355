"""Values as a user types them (a command-line or CSV cell) and nested tables as dotted keys."""

from __future__ import annotations

import tomllib
from collections.abc import Collection, Iterator, Mapping
from typing import Any

from gigaplan.errors import SiteError

MAX_DIGITS = 4300  # Python's default int/str conversion limit (sys.get_int_max_str_digits)


def toml_value(text: str, where: str = "") -> Any:
    """``text`` as a TOML value when it is one (``1.2``, ``true``, ``"x"``), else the bare string.

    A bare word or quantity (``1.5GW``, ``gb300-nvl72``) stays a string for the site's own
    validators to read. Nesting too deep to parse, or an integer over Python's 4,300-digit
    conversion limit, is a :class:`SiteError` that starts with ``where`` (the key).

    Parameters
    ----------
    text : str
        The value as written, such as after ``--set key=``.
    where : str, default ""
        The key, at the start of an error message.

    Returns
    -------
    Any
        The TOML value, or ``text`` unchanged.
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


def flatten(data: Any, prefix: str = "", *, keep: Collection[str] = (), label_lists: bool = False,
            sort: bool = False) -> Iterator[tuple[str, Any]]:
    """Dotted ``key`` / value pairs of nested mappings: the one flattener of gigaplan.

    Parameters
    ----------
    data
        A value; mappings are walked, anything else is a leaf.
    prefix
        The dotted key of ``data`` itself.
    keep
        Keys whose value stays whole although it is a mapping (``min_racks``: one value).
    label_lists
        Walk lists of mappings too, keying each item by its ``sku`` or ``name`` (else its
        index) in brackets: ``racks[gb300-nvl72].count``. Other lists stay whole.
    sort
        Walk each mapping in key order rather than insertion order.

    Returns
    -------
    Iterator[tuple[str, Any]]
        ``(dotted key, leaf value)``; an empty mapping yields nothing.
    """
    if isinstance(data, Mapping):
        for key in sorted(data) if sort else data:
            dotted = f"{prefix}.{key}" if prefix else str(key)
            if key in keep:
                yield dotted, data[key]
            else:
                yield from flatten(data[key], dotted, keep=keep, label_lists=label_lists,
                                   sort=sort)
    elif label_lists and isinstance(data, list) and data and \
            all(isinstance(item, Mapping) for item in data):
        for index, item in enumerate(data):
            label = item.get("sku", item.get("name", index))
            yield from flatten(item, f"{prefix}[{label}]", keep=keep, label_lists=True,
                               sort=sort)
    else:
        yield prefix, data
