"""Fit: a table is shown whole, without low-priority columns, or stacked; never cut."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.table import Table
from rich.text import Text

from gigaplan.output.tablefit import Fit


def render(renderable, width: int) -> str:
    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None).print(renderable)
    return buffer.getvalue()


def build_out() -> Table:
    table = Table(title="Build-out", title_justify="left")
    for header in ("SKU", "kind", "racks", "GPUs", "power each", "power", "capex (upfront)"):
        table.add_column(header)
    table.add_row(*map(Text, ("gb300-nvl72", "compute_rack", "4,991", "359,352", "142 kW",
                              "708.7 MW", "$17.47B")))
    table.add_row(*map(Text, ("storage-rack-qlc", "storage_rack", "180", "0", "15 kW",
                              "2.7 MW", "$1.08B")))
    return table


def test_a_table_that_fits_is_unchanged():
    assert render(Fit(build_out(), drop=(1,)), 120) == render(build_out(), 120)


def test_a_low_priority_column_is_dropped_before_anything_is_cut():
    text = render(Fit(build_out(), drop=(1,)), 80)
    assert "…" not in text and "compute_rack" not in text
    assert "┃ SKU" in text and "359,352" in text and "storage-rack-qlc" in text


def test_a_table_too_wide_for_any_drop_is_stacked_key_value():
    text = render(Fit(build_out(), drop=(1,)), 40)
    assert "…" not in text
    lines = [line.strip() for line in text.splitlines()]
    assert lines[:3] == ["Build-out", "gb300-nvl72", "kind             compute_rack"]
    assert "GPUs             359,352" in lines and "storage-rack-qlc" in lines
    assert all(len(line) <= 40 for line in text.splitlines())


def test_an_ellipsis_in_the_data_is_not_mistaken_for_a_cut():
    table = Table("note")
    table.add_row(Text("to be continued…"))
    assert render(Fit(table), 60) == render(table, 60)


cells = st.one_of(
    st.integers(-10**12, 10**12).map(lambda n: f"{n:,}"),
    st.dates().map(str),
    st.from_regex(r"[a-z][a-z0-9]{0,12}(-[a-z0-9]{1,8}){0,2}", fullmatch=True),
)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 9).flatmap(lambda n: st.tuples(
    st.lists(st.lists(cells, min_size=n, max_size=n), min_size=1, max_size=4),
    st.lists(st.from_regex(r"[a-z]{1,10}( [a-z]{1,8})?", fullmatch=True), min_size=n,
             max_size=n))), st.integers(40, 130))
def test_every_cell_prints_whole_at_any_width(data, width):
    rows, headers = data
    table = Table(title="t")
    for header in headers:
        table.add_column(header)
    for row in rows:
        table.add_row(*map(Text, row))
    text = render(Fit(table), width)
    assert "…" not in text
    for row in rows:
        for cell in row:
            assert any(cell in line for line in text.splitlines()), (cell, text)
