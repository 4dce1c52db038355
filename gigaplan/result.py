"""The plan a solve returns: frozen dataclasses of plain Python values (no numpy scalars).

``PlanResult.to_dict()`` is the JSON document (``"schema": "gigaplan.plan/1"``) that
``gigaplan plan --format json`` prints; ``gigaplan/schemas/plan.schema.json`` describes it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

SCHEMA = "gigaplan.plan/1"


@dataclass(frozen=True)
class RackLine:
    sku: str
    kind: str
    name: str
    count: int
    gpus: int
    power_kw_each: float
    power_mw: float
    price_usd_each: float
    capex_usd: float


@dataclass(frozen=True)
class ConstraintRow:
    """A named limit: ``slack`` is how far ``used`` is from ``limit`` on the allowed side."""

    name: str
    limit: float
    used: float
    slack: float
    unit: str
    binding: bool
    sense: str  # "<=", ">=" or "=="


@dataclass(frozen=True)
class SolverInfo:
    name: str
    status: str
    mip_gap: float | None
    stages: int
    seconds: float | None = None  # only with --timings, so plain output stays byte-identical
    stages_total: int | None = None  # only when a time limit stopped a stage: stages < total
    timings: dict[str, float] | None = None  # import_s, build_s, solve_s (with --timings)


@dataclass(frozen=True)
class PlanResult:
    status: str  # optimal | time_limit | infeasible
    objective: dict[str, Any]
    inputs: dict[str, Any]
    solver: SolverInfo
    racks: list[RackLine] = field(default_factory=list)
    totals: dict[str, float] = field(default_factory=dict)
    power_mw: dict[str, float] = field(default_factory=dict)
    network: dict[str, Any] = field(default_factory=dict)
    storage: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    space: dict[str, float] = field(default_factory=dict)
    cooling: dict[str, float] = field(default_factory=dict)
    cost: dict[str, Any] = field(default_factory=dict)
    energy: dict[str, float] = field(default_factory=dict)
    workload: dict[str, Any] = field(default_factory=dict)
    constraints: list[ConstraintRow] = field(default_factory=list)
    message: str = ""
    conflicts: list[str] = field(default_factory=list)
    phases: list[dict[str, Any]] = field(default_factory=list)
    schedule: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def found(self) -> bool:
        """Whether the result holds a plan (optimal, or the best found at a limit)."""
        return bool(self.totals)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["schema"] = SCHEMA
        for key in ("seconds", "stages_total", "timings"):
            if data["solver"][key] is None:
                del data["solver"][key]
        if not self.found:
            for key in ("racks", "totals", "power_mw", "network", "storage", "cpu", "space",
                        "cooling", "cost", "energy", "workload", "constraints"):
                del data[key]
        if not self.message:
            del data["message"]
        for key in ("conflicts", "phases", "schedule"):
            if not data[key]:
                del data[key]
        return data
