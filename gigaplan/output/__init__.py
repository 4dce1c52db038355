"""Output: :mod:`~gigaplan.output.serialize` (plain values, JSON, TOML, CSV; no rich) and
:mod:`~gigaplan.output.report` (rich renderers). Each takes a result and returns a value;
neither prints.
"""
