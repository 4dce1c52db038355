"""Names shared by the catalog and the command line, kept free of heavy imports."""

from __future__ import annotations

from enum import StrEnum


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


class Objective(StrEnum):
    """What the planner optimises (``gigaplan.inputs.site.OBJECTIVES``): the most GPUs, dense
    PFLOPS, HBM or tokens per second, or the least capex or TCO subject to the requirements."""

    GPUS = "gpus"
    FP4 = "fp4"
    FP8 = "fp8"
    BF16 = "bf16"
    TF32 = "tf32"
    FP64 = "fp64"
    HBM = "hbm"
    TOKENS = "tokens"
    CAPEX = "capex"
    TCO = "tco"
