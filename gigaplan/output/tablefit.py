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


def _cut(console: Console, options: ConsoleOptions, table: Table) -> bool:
    """Whether rendering ``table`` at the available width cuts a cell (or overflows)."""
    expected = sum(_plain(cell).count(ELLIPSIS) for column in table.columns
                   for cell in column.cells)
    expected += _plain(table.title or "").count(ELLIPSIS)
    lines = console.render_lines(table, options, pad=False)
    text = "\n".join("".join(segment.text for segment in line) for line in lines)
    too_wide = any(Segment.get_line_length(line) > options.max_width for line in lines)
    return text.count(ELLIPSIS) > expected or too_wide


def without(table: Table, drop: Iterable[int]) -> Table:
    """A copy of ``table`` without the columns at the ``drop`` indices."""
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
    """Each row as its first cell, then one ``header  value`` line per other non-empty cell."""
    columns = list(table.columns)
    headers = [_plain(column.header) for column in columns]
    rows = list(zip(*(list(column.cells) for column in columns), strict=True))
    parts: list[Any] = []
    if table.title:
        parts.append(Text(_plain(table.title)))
    width = max((len(header) for header in headers[1:]), default=0)
    for row in rows:
        label = _plain(row[0])
        if headers[0] and label:
            label = f"{headers[0]}: {label}" if len(rows) == 1 else label
        lines = [Text(label)] if label else []
        for header, cell in zip(headers[1:], row[1:], strict=True):
            value = _plain(cell)
            if not value:
                continue
            grid = Table.grid(padding=(0, 2))
            grid.add_column(no_wrap=True, width=width + 2)
            grid.add_column(overflow="fold")
            grid.add_row(Text(f"  {header}"), Text(value))
            lines.append(grid)
        parts.extend(lines)
    if table.caption:
        parts.append(Text(_plain(table.caption)))
    return Group(*parts)


@dataclass
class Fit:
    """A table that never cuts a cell: as is, without ``drop`` columns, or stacked."""

    table: Table
    drop: Sequence[int] = field(default_factory=tuple)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        candidate = self.table
        if not _cut(console, options, candidate):
            yield candidate
            return
        dropped: list[int] = []
        for index in self.drop:
            dropped.append(index)
            candidate = without(self.table, dropped)
            if not _cut(console, options, candidate):
                yield candidate
                return
        yield stacked(self.table)
