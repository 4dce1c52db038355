"""Tables that fit the terminal without cutting a number, a date or an id.

rich shrinks a table wider than the terminal by cutting cells with ``…``, which turns
``5,390,280`` into ``5,390,…``. :class:`Fit` decides at render time, when the width is known:
the table as it is when nothing is cut; else the table without its low-priority columns (in
the order given); else the rows stacked as ``key  value`` lines under each row's label, as
``gh`` prints a record that does not fit. Text wraps at spaces; a word (a number, a date, an
id, a URL) is never split or cut.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

ELLIPSIS = "…"


def _plain(cell: Any) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


def _render(console: Console, options: ConsoleOptions, table: Table) -> list[list[Segment]] | None:
    """``table`` rendered at the available width as lines, or None when it is cut: wider than
    the line (rich lets a column keep its longest word) or with an ``…`` not in the data.

    The lines are what printing the table yields, so a table that fits is rendered once."""
    expected = sum(_plain(cell).count(ELLIPSIS) for column in table.columns
                   for cell in column.cells)
    expected += _plain(table.title or "").count(ELLIPSIS)
    lines = list(Segment.split_lines(console.render(table, options)))
    if any(Segment.get_line_length(line) > options.max_width for line in lines):
        return None
    text = "\n".join("".join(segment.text for segment in line) for line in lines)
    return None if text.count(ELLIPSIS) > expected else lines


def _yield_lines(lines: list[list[Segment]]) -> RenderResult:
    newline = Segment.line()
    for line in lines:
        yield from line
        yield newline


def hold_words(table: Table) -> Table:
    """Give each column at least the width of its longest word (header or cell), so that rich
    shares out the width by wrapping at spaces rather than cutting a word.

    Parameters
    ----------
    table : rich.table.Table
        The table, changed in place.

    Returns
    -------
    rich.table.Table
        The same table.
    """
    for column in table.columns:
        words = [word for cell in (column.header, *column.cells) for word in _plain(cell).split()]
        longest = max((len(word) for word in words), default=0)
        column.min_width = max(column.min_width or 0, longest)
    return table


def without(table: Table, drop: Iterable[int]) -> Table:
    """A copy of ``table`` without the columns at the ``drop`` indices.

    Parameters
    ----------
    table : rich.table.Table
        The table.
    drop : iterable of int
        Indices of the columns to leave out.

    Returns
    -------
    rich.table.Table
        The copy.
    """
    dropped = set(drop)
    kept = [column for index, column in enumerate(table.columns) if index not in dropped]
    copy = Table(title=table.title, title_justify=table.title_justify, caption=table.caption,
                 caption_justify=table.caption_justify, box=table.box,
                 show_header=table.show_header, show_edge=table.show_edge)
    for column in kept:
        copy.add_column(column.header, justify=column.justify, no_wrap=column.no_wrap,
                        overflow=column.overflow, min_width=column.min_width)
    for row in zip(*(list(column.cells) for column in kept), strict=True):
        copy.add_row(*row)
    return copy


def stacked(table: Table) -> Group:
    """Each row as its first cell, then one ``header  value`` line per other non-empty cell;
    a one-row table as ``header  value`` lines only.

    Parameters
    ----------
    table : rich.table.Table
        The table.

    Returns
    -------
    rich.console.Group
        The stacked rows.
    """
    columns = list(table.columns)
    headers = [_plain(column.header) for column in columns]
    rows = list(zip(*(list(column.cells) for column in columns), strict=True))
    single = len(rows) == 1
    keyed = headers if single else headers[1:]
    width = max((len(header) for header in keyed), default=0)
    parts: list[Any] = [Text(_plain(table.title))] if table.title else []
    for row in rows:
        label = "" if single else _plain(row[0])
        if label:
            parts.append(Text(label))
        for header, cell in zip(keyed, row if single else row[1:], strict=True):
            value = _plain(cell)
            if not value:
                continue
            grid = Table.grid(padding=(0, 2))
            grid.add_column(no_wrap=True, width=width + 2)
            grid.add_column(overflow="fold")  # a word wider than the line (a path) folds
            grid.add_row(Text(f"  {header}"), Text(value))
            parts.append(grid)
    if table.caption:
        parts.append(Text(_plain(table.caption)))
    return Group(*parts)


@dataclass
class Fit:
    """A table that never cuts a cell: as is, without ``drop`` columns, or stacked."""

    table: Table
    drop: Sequence[int] = field(default_factory=tuple)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        lines = _render(console, options, hold_words(self.table))
        if lines is not None:  # the lines already rendered: rendering a table is the slow part
            yield from _yield_lines(lines)
            return
        dropped: list[int] = []
        for index in self.drop:
            dropped.append(index)
            lines = _render(console, options, without(self.table, dropped))
            if lines is not None:
                yield from _yield_lines(lines)
                hidden = ", ".join(_plain(self.table.columns[i].header) for i in dropped)
                yield Text(f"({hidden} not shown at this width)")
                return
        yield stacked(self.table)
