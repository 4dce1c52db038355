"""Names and constants shared by every layer (choices, precisions, objectives, the tolerance),
kept free of heavy imports so that the command line's ``--help`` can use them."""

from __future__ import annotations

from enum import StrEnum

# The dense tensor precisions a catalog rates GPUs at, and what a site may optimise: the one
# list of each (the site's keys, the CLI's choices and the objective's fields follow them).
PRECISIONS = ("fp4", "fp8", "bf16", "tf32", "fp64")
OBJECTIVES = ("gpus", *PRECISIONS, "hbm", "tokens", "capex", "tco")
# Relative tolerance of every comparison of a measured value with a limit: a value holds when
# it is within TOLERANCE * max(1, |limit|) of the allowed side (the solver's re-check, binding
# limits, requirements and the Monte Carlo fixed plan all use it).
TOLERANCE = 1e-6


class SkuKind(StrEnum):
    """The kinds of SKU a catalog holds (``gigaplan.inputs.catalog.SKU_CLASSES`` has one model
    each)."""

    COMPUTE_RACK = "compute_rack"
    CPU_RACK = "cpu_rack"
    STORAGE_RACK = "storage_rack"
    SWITCH = "switch"
    OPTIC = "optic"
    NIC = "nic"


class TableOrJson(StrEnum):
    TABLE = "table"
    JSON = "json"


class OutputFormat(StrEnum):
    """How ``plan`` renders: a rich table for people, or JSON/TOML/CSV for programs."""

    TABLE = "table"
    JSON = "json"
    TOML = "toml"
    CSV = "csv"


class Basis(StrEnum):
    """What the power budget covers: the grid or generation connection (with its headroom),
    the whole facility, or critical IT only."""

    GRID = "grid"
    FACILITY = "facility"
    IT = "it"


Objective = StrEnum("Objective", {name.upper(): name for name in OBJECTIVES})  # type: ignore[misc]
Objective.__doc__ = """What the planner optimises: the most GPUs, dense PFLOPS, HBM or tokens
per second, or the least capex or TCO subject to the requirements."""
