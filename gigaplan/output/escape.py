"""User text on its way to a terminal: every control and separator character escaped.

A site's ``name``, a SKU's ``name`` or a file name may hold ESC (``\\x1b[2J`` clears the
screen, an OSC sequence retitles the window or hides a link), C1 controls, or the line and
paragraph separators that ``str.splitlines`` breaks on (U+0085, U+2028, U+2029, ``\\x1c`` to
``\\x1e``). Each is shown as its escape, so quoted input can neither drive the terminal nor
split a line.
"""

from __future__ import annotations

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escaped(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with every non-printable character as its escape (``\\x1b``, ``\\u2028``).

    ``keep_newlines`` keeps ``\\n`` for text a renderer composed from several lines; escape
    each user string on its own before composing it.

    Parameters
    ----------
    text : str
        The string to show.
    keep_newlines : bool, default False
        Keep ``\\n`` as a line break instead of escaping it.

    Returns
    -------
    str
        ``text`` itself when every character is printable, else its escaped copy.
    """
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() or (keep_newlines and char == "\n")
                   else _escape(char) for char in text)


def _escape(char: str) -> str:
    code = ord(char)
    return _NAMED.get(char, f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
