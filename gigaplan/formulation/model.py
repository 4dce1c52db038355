"""The MILP of a bound site: named variable blocks on one flat vector, named constraint rows.

A :class:`Layout` hands out variables by block name (``rack-count``, ``fabric-leaf``);
each constraint family is one ``define_*`` function in :mod:`gigaplan.formulation.constraints`
that adds :class:`Row`\\ s and result :attr:`Model.fields`; :mod:`gigaplan.formulation.build`
assembles them. Every result field a plan reports is a linear :class:`Expr` over the
variables, so the same expression serves the JSON output, requirements and the re-check.
Pure Python: numpy arrays (a scipy.sparse CSR matrix of the rows) are built only in
:mod:`gigaplan.solve`.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from gigaplan.inputs.requirements import within
from gigaplan.inputs.site import BoundSite

INF = math.inf


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a large model is built.

    A build allocates hundreds of thousands of small acyclic objects (expressions, rows);
    the collector's full passes over them grow with the heap, which made build time
    superlinear (a growth exponent of 1.19 over 50-800 sites; 0.99 with it paused).
    Everything built is freed by reference counting as usual; the collector resumes after.

    Returns
    -------
    contextlib.AbstractContextManager
        A context manager that yields None while the collector is paused.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass(frozen=True)
class Expr:
    """A linear expression ``Σ coef·x[index] + const``."""

    coefs: dict[int, float] = field(default_factory=dict)
    const: float = 0.0

    def __add__(self, other: Expr | float) -> Expr:
        return total((self, other))

    __radd__ = __add__

    def __sub__(self, other: Expr | float) -> Expr:
        return self + (-1.0) * other

    def __rsub__(self, other: float) -> Expr:
        return (-1.0) * self + other

    def __mul__(self, scalar: float) -> Expr:
        scalar = float(scalar)
        if scalar == 0.0:
            return Expr()
        return Expr({i: c * scalar for i, c in self.coefs.items()}, self.const * scalar)

    __rmul__ = __mul__

    def __truediv__(self, scalar: float) -> Expr:
        return self * (1.0 / scalar)

    def value(self, x: Sequence[float]) -> float:
        """Evaluate at ``x`` in plain Python (no numpy): the independent re-check uses this.

        Parameters
        ----------
        x : sequence of float
            Values of the model's variables.

        Returns
        -------
        float
            The expression's value, in its unit.
        """
        return math.fsum([self.const, *(coef * float(x[i]) for i, coef in self.coefs.items())])


def total(exprs: Iterable[Expr | float]) -> Expr:
    """``Σ exprs`` accumulated in place in one dict: time and memory linear in the terms.

    (Adding pairwise, ``a + b + c + …``, copies the growing sum once per term: quadratic in
    the number of sites or phases a study sums over.) Coefficients that cancel to exactly
    zero are dropped, as a pairwise sum would.

    Parameters
    ----------
    exprs : iterable of Expr or float
        The terms.

    Returns
    -------
    Expr
        Their sum.
    """
    coefs: dict[int, float] = {}
    const = 0.0
    get = coefs.get
    for expr in exprs:
        if isinstance(expr, Expr):
            for index, coef in expr.coefs.items():
                coefs[index] = get(index, 0.0) + coef
            const += expr.const
        else:
            const += float(expr)
    return Expr({i: c for i, c in coefs.items() if c != 0.0}, const)


@dataclass
class Layout:
    """Named blocks of decision variables on one flat vector."""

    names: list[str] = field(default_factory=list)
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    integer: list[bool] = field(default_factory=list)
    blocks: dict[str, slice] = field(default_factory=dict)
    prefix: str = ""  # put before block names while one phase or site of many is built

    def add(self, block: str, labels: Sequence[str] = ("",), *, upper: float | Sequence[float]
            = INF, integer: bool = True) -> list[Expr]:
        """Add one variable per label to ``block``; return them as expressions.

        Parameters
        ----------
        block : str
            The block the variables belong to, such as ``racks``.
        labels : sequence of str, default ("",)
            One label per variable.
        upper : float or sequence of float, default INF
            Upper bound of each variable, in its unit.
        integer : bool, default True
            Whether the variables are integers.

        Returns
        -------
        list of Expr
            One expression per variable.
        """
        start = len(self.names)
        block = self.prefix + block
        uppers = [upper] * len(labels) if isinstance(upper, int | float) else list(upper)
        for label, high in zip(labels, uppers, strict=True):
            self.names.append(f"{block}[{label}]" if label else block)
            self.lower.append(0.0)
            self.upper.append(float(high))
            self.integer.append(integer)
        self.blocks[block] = slice(start, len(self.names))
        return [Expr({index: 1.0}) for index in range(start, len(self.names))]

    @property
    def size(self) -> int:
        """How many variables the layout holds."""
        return len(self.names)


@dataclass(frozen=True)
class Row:
    """One constraint ``lower ≤ expr ≤ upper``, reported under ``name``.

    ``group`` names the site limit the row comes from (``power.budget``, a requirement's
    text): an infeasible site is diagnosed by relaxing groups. ``step`` is the amount of the
    resource one more compute rack takes; a limit binds when its slack is below the step.
    """

    block: str
    name: str
    expr: Expr
    lower: float = -INF
    upper: float = INF
    unit: str = ""
    group: str = ""
    report: bool = True
    step: float = 0.0
    shown_used: Expr | None = None
    shown_limit: Expr | None = None

    def holds(self, x: Sequence[float]) -> bool:
        """Whether the point ``x`` meets this row within the relative tolerance.

        Parameters
        ----------
        x : sequence of float
            Values of the model's variables.

        Returns
        -------
        bool
            Whether the row holds at ``x``.
        """
        return within(self.expr.value(x), self.lower, self.upper)


@dataclass(frozen=True)
class Subproblem:
    """A part of a model that stands alone: one phase of a phased site.

    ``rows`` are rows of the model (the phase's own limits, over its own variables), so the
    part's best ``objective`` over them alone bounds that objective at every point of the
    model (``solve.subproblem_bounds``; docs/model.md, "Phases: each phase at its best alone").
    """

    weight: float  # ≥ 0: the total's unit per unit of objective (a phase: years in service)
    objective: Expr  # optimised in the model's direction (Model.maximize)
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Separable:
    """A stage objective that is Σ weight·objective over subproblems that stand alone (the
    time-weighted objective of a phased site): built from them, so the two always agree."""

    total: Expr
    parts: tuple[Subproblem, ...]
    # what the solver's costs are multiplied by: weights in years are whole days times
    # 1 ÷ 365.25, so days per year make the costs whole numbers wherever the parts' are
    # (whole PFLOPS per rack), and HiGHS then prunes every node that cannot gain a whole unit
    solve_scale: float = 1.0

    @classmethod
    def of(cls, parts: Sequence[Subproblem], solve_scale: float = 1.0) -> Separable:
        """The separable objective Σ ``weight``·``objective`` of ``parts``.

        Parameters
        ----------
        parts : sequence of Subproblem
            The subproblems, each with its weight.
        solve_scale : float, default 1.0
            Positive factor on the solver's costs for this objective (no optimum changes).

        Returns
        -------
        Separable
            Their weighted total and the parts.
        """
        return cls(total(part.weight * part.objective for part in parts), tuple(parts),
                   solve_scale)


@dataclass(frozen=True)
class ComputeParts:
    """What :func:`~gigaplan.formulation.constraints.define_compute` hands the later blocks."""

    gpus_max: float  # the most GPUs the budget could feed: bounds the pools sized by GPUs
    cpus: Expr  # CPUs inside the compute racks
    cpu_cores: Expr
    liquid_kw: Expr  # heat of the compute racks that goes to the liquid loop
    expected_mw: Expr  # the racks at their expected (typical) draw: what energy uses


@dataclass(frozen=True)
class CpuPoolParts:
    required_cores: Expr  # cores_per_gpu x GPUs + cores (zero without a CPU rack)
    liquid_kw: Expr


@dataclass(frozen=True)
class StorageParts:
    required_pb: Expr
    read_gb_per_s: Expr
    required_read_gb_per_s: Expr
    liquid_kw: Expr


@dataclass(frozen=True)
class FabricGroup:
    """One fat tree: the port rate, its radix and leaf split, and the racks it connects.

    ``ports`` maps each compute SKU id of the group to its endpoint ports per rack and plane:
    ``nic_count·⌈(nic_gbps ÷ planes) ÷ rate⌉``.
    """

    label: str
    rate_gbps: float
    radix: int
    down: int
    up: int
    ports: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class FabricTree:
    """The expressions of one group's fat tree (per plane)."""

    group: FabricGroup
    endpoints: Expr
    leaf: Expr
    spine: Expr  # 2-tier spines plus 3-tier aggregation switches
    core: Expr
    tier3: Expr
    links: Expr  # links per plane whose both ends are optical
    endpoints_max: float
    switches_max: float
    links_max: float
    # per endpoint and plane at the margin, in the shape the group may need (3 tiers when its
    # most leaves exceed the radix): switches, and links with both ends optical
    switches_per_endpoint: float
    links_per_endpoint: float


@dataclass(frozen=True)
class MediaLine:
    """The link ends of one fabric tier, summed over the groups and planes (formulation.media).

    ``switch_units`` are the modules or cable ends at switch ports (their power is the
    network's); ``nic_units`` those at the NICs (powered from the compute racks).
    """

    tier: str
    switch_end: str | None  # SKU id of the unit at a switch end; None: co-packaged optics
    nic_end: str | None  # SKU id at the NIC end (nic-leaf only)
    links: Expr  # links of the tier, all planes
    switch_units: Expr
    nic_units: Expr
    power_kw: Expr  # drawn by the switch-end units: part of the network's power
    rack_power_kw: Expr  # drawn by the NIC-end units, inside the compute racks' power
    capex_usd: Expr


@dataclass(frozen=True)
class FabricParts:
    endpoints_per_plane: Expr
    trees: tuple[FabricTree, ...]  # one fat tree per port-rate group (formulation.fabric)
    liquid_kw: Expr
    media: tuple[MediaLine, ...] = ()  # link ends per tier (formulation.media)


@dataclass(frozen=True)
class AuxiliaryParts:
    liquid_kw: Expr  # heat of the auxiliary network switches that goes to the liquid loop


@dataclass(frozen=True)
class PowerParts:
    redundancy_reserve_mw: float  # budget x (1 - usable_frac)
    headroom_reserve_mw: float  # budget x usable_frac x headroom_frac


@dataclass(frozen=True)
class SiteParts:
    """The typed results of one site's blocks that a plan reports beside its fields."""

    compute: ComputeParts
    cpu: CpuPoolParts
    storage: StorageParts
    fabric: FabricParts
    power: PowerParts


@dataclass
class Model:
    """Everything :mod:`gigaplan.solve` needs, and how to read results back."""

    bound: BoundSite
    layout: Layout = field(default_factory=Layout)
    rows: list[Row] = field(default_factory=list)
    fields: dict[str, Expr] = field(default_factory=dict)
    rack_vars: dict[str, Expr] = field(default_factory=dict)
    ratios: dict[str, tuple[Expr, Expr]] = field(default_factory=dict)
    objective: Expr = field(default_factory=Expr)
    objective_unit: str = ""
    # the fabric's valid inequalities (fabric.define_tree); a study leaves them out (sites.py)
    fabric_cuts: bool = True
    objective_name: str = ""  # the objective planned (after a precision fallback)
    maximize: bool = True
    # (expr, maximise?) after the objective; empty means least capex, then least IT power
    tie_breaks: list[tuple[Expr, bool]] = field(default_factory=list)
    parts: SiteParts | None = None  # set by build(): what the blocks returned
    # per compute SKU: (variable index, amount per rack) of the CPU pool, storage, switches,
    # optics and network racks one more rack needs at the margin; see compute_step
    support: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    # uncosted integer counts (var, need, unit): after the solve var is set to ⌈need ÷ unit⌉,
    # the least the plan needs (network racks); they cost nothing, so nothing else pins them
    least: list[tuple[Expr, Expr, float]] = field(default_factory=list)
    # a stage objective that is a weighted sum over parts that stand alone (a phased site's
    # time-weighted objective), optimised in the direction of ``maximize``:
    # solve.subproblem_bounds bounds each part by its own best, exactly
    separable: Separable | None = None

    def add_row(self, row: Row) -> None:
        """Add one constraint row to the model.

        Parameters
        ----------
        row : Row
            The row to add.
        """
        self.rows.append(row)

    def value(self, name: str, x: Sequence[float]) -> float | None:
        """A result field at ``x``; a ratio is None where its denominator is zero.

        Parameters
        ----------
        name : str
            A result field, such as ``totals.gpus``.
        x : sequence of float
            Values of the model's variables.

        Returns
        -------
        float or None
            The field's value in its unit, or None for a ratio over zero (or that overflows).
        """
        if name in self.ratios:
            numerator, denominator = self.ratios[name]
            below = denominator.value(x)
            if below <= 1e-12:
                return None
            quotient = numerator.value(x) / below
            # an input at the edge of its range (workload.mfu = 1e-300) can overflow a ratio
            # (training days): no number a plan can state, so None, as for a zero denominator
            return quotient if math.isfinite(quotient) else None
        return self.fields[name].value(x)

    def compute_step(self, expr: Expr) -> float:
        """What one more rack of the compute SKU that takes least of ``expr`` takes of it, with
        its support at the margin (:attr:`support`): the one ``binds`` rule's step.

        A property of the site and its SKUs, never of a plan, so the same slack gets the same
        answer on every plan (issue 11).

        Parameters
        ----------
        expr : Expr
            The limit's expression.

        Returns
        -------
        float
            The step, in the limit's unit.

        References
        ----------
        docs/json.md, ``constraints`` (``binding``).
        """
        steps = []
        for sku_id, var in self.rack_vars.items():
            own = sum(abs(expr.coefs.get(index, 0.0)) for index in var.coefs)
            if own == 0.0:
                continue
            extra = sum(amount * abs(expr.coefs.get(index, 0.0))
                        for index, amount in self.support.get(sku_id, ()))
            steps.append(own + extra)
        return min(steps) if steps else 0.0

    def add_support(self, sku_id: str, var: Expr, amount: float) -> None:
        """One rack of ``sku_id`` needs ``amount`` of ``var`` at the margin (its share).

        Parameters
        ----------
        sku_id : str
            The compute SKU.
        var : Expr
            The supporting quantity (a pool, a fabric part).
        amount : float
            What one rack needs of it, in its unit.
        """
        for index, coef in var.coefs.items():
            self.support.setdefault(sku_id, []).append((index, amount * coef))
