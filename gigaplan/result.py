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

    def to_dict(self) -> dict[str, Any]:
        """The ``solver`` table: ``seconds``, ``stages_total`` and ``timings`` only when set.

        Returns
        -------
        dict
            The solver fields as plain values.
        """
        return {key: value for key, value in asdict(self).items()
                if value is not None or key not in ("seconds", "stages_total", "timings")}


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

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlanResult:
        """The result a ``gigaplan.plan/1`` document (``to_dict()``, a saved plan) holds.

        Parameters
        ----------
        data : dict
            A parsed ``gigaplan.plan/1`` JSON document.

        Returns
        -------
        PlanResult
            The plan it describes.
        """
        fields = {key: value for key, value in data.items() if key not in ("schema", "name")}
        return cls(**{**fields, "solver": SolverInfo(**fields["solver"]),
                      "racks": [RackLine(**line) for line in fields.get("racks", [])],
                      "constraints": [ConstraintRow(**row)
                                      for row in fields.get("constraints", [])]})

    def to_dict(self) -> dict[str, Any]:
        """The ``gigaplan.plan/1`` document that ``gigaplan plan --format json`` prints.

        Returns
        -------
        dict
            The document as plain values (docs/json.md).
        """
        data = asdict(self)
        data["schema"] = SCHEMA
        data["solver"] = self.solver.to_dict()
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


STUDY_SCHEMA = "gigaplan.study/1"
REFERENCE_SCHEMA = "gigaplan.reference/1"


@dataclass(frozen=True)
class StudyResult:
    """The joint plan of a study: each site's plan, the sums over sites, the study's limits.

    ``conflicts`` is None unless the study is infeasible; ``sites`` is empty when no joint
    plan was found (then ``message`` says why).
    """

    name: str
    source: str
    status: str
    objective: dict[str, Any]
    solver: SolverInfo
    message: str = ""
    conflicts: list[str] | None = None
    sites: dict[str, PlanResult] = field(default_factory=dict)
    totals: dict[str, float] = field(default_factory=dict)
    power_mw: dict[str, float] = field(default_factory=dict)  # sums over the sites
    cost: dict[str, float] = field(default_factory=dict)
    constraints: list[ConstraintRow] = field(default_factory=list)  # the study's own limits

    @property
    def found(self) -> bool:
        """Whether the result holds a plan."""
        return bool(self.sites)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StudyResult:
        """The result a ``gigaplan.study/1`` document holds.

        Parameters
        ----------
        data : dict
            A parsed ``gigaplan.study/1`` JSON document.

        Returns
        -------
        StudyResult
            The joint plan it describes.
        """
        fields = {key: value for key, value in data.items() if key != "schema"}
        return cls(**{**fields, "solver": SolverInfo(**fields["solver"]),
                      "sites": {site["name"]: PlanResult.from_dict(site)
                                for site in fields.get("sites", [])},
                      "constraints": [ConstraintRow(**row)
                                      for row in fields.get("constraints", [])]})

    def to_dict(self) -> dict[str, Any]:
        """The ``gigaplan.study/1`` document of ``gigaplan plan STUDY --format json``.

        Returns
        -------
        dict
            The document as plain values (docs/json.md).
        """
        data: dict[str, Any] = {"schema": STUDY_SCHEMA, "name": self.name,
                                "source": self.source, "status": self.status,
                                "objective": dict(self.objective),
                                "solver": self.solver.to_dict()}
        if self.conflicts is not None:
            data["conflicts"] = list(self.conflicts)
        if self.message:
            data["message"] = self.message
        if self.found:
            data.update({
                "sites": [{**plan.to_dict(), "name": name} for name, plan in self.sites.items()],
                "totals": dict(self.totals),
                "power_mw": dict(self.power_mw),
                "cost": dict(self.cost),
                "constraints": [asdict(row) for row in self.constraints],
            })
        return data


@dataclass(frozen=True)
class ReferenceCopies:
    """How many copies of the reference design fit one site, and what limits them."""

    site: str
    copies: int
    limited_by: str
    gpus: int
    capex_usd: float


@dataclass(frozen=True)
class ReferenceResult:
    """One site planned as the standard design, and the copies of it each site holds."""

    source: str
    reference: str
    design: PlanResult
    copies: list[ReferenceCopies]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReferenceResult:
        """The result a ``gigaplan.reference/1`` document holds.

        Parameters
        ----------
        data : dict
            A parsed ``gigaplan.reference/1`` JSON document.

        Returns
        -------
        ReferenceResult
            The reference design and its copies per site.
        """
        return cls(source=data["source"], reference=data["reference"],
                   design=PlanResult.from_dict(data["design"]),
                   copies=[ReferenceCopies(**item) for item in data["copies"]])

    @property
    def total_copies(self) -> int:
        """The copies over all sites."""
        return sum(item.copies for item in self.copies)

    @property
    def total_gpus(self) -> int:
        """The GPUs of all the copies."""
        return sum(item.gpus for item in self.copies)

    def to_dict(self) -> dict[str, Any]:
        """The ``gigaplan.reference/1`` document of ``plan STUDY --reference SITE``.

        Returns
        -------
        dict
            The document as plain values (docs/json.md).
        """
        return {"schema": REFERENCE_SCHEMA, "source": self.source, "reference": self.reference,
                "design": self.design.to_dict(), "copies": [asdict(item) for item in self.copies],
                "total_copies": self.total_copies, "total_gpus": self.total_gpus}
