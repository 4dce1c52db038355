"""The engine: solve a built MILP with scipy's ``milp`` (HiGHS), re-check the point, read the plan.

It takes a :class:`~gigaplan.formulation.model.Model` and returns a
:class:`~gigaplan.result.PlanResult`; which model to build (one site, phases, a study) is
:mod:`gigaplan.planner`'s choice.

Lexicographic objective (docs/model.md, "Objective and ties"): maximise the site's
objective; among plans equal on it, least capex; then least IT power. Each stage is one
exact HiGHS solve (``mip_rel_gap = 0``) with the previous stage's optimum fixed as a
constraint.

After every solve the returned point is checked in plain Python against every bound,
integrality and row (scipy has reported "optimal" for points that break a bound); a
violation raises :class:`~gigaplan.errors.VerificationError`, never a result. An infeasible
site is a result: its conflicting limits are found by relaxing one site limit at a time.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from gigaplan.errors import VerificationError
from gigaplan.fdguard import solver_output_off
from gigaplan.formulation.fabric import fabric_report
from gigaplan.formulation.media import media_report
from gigaplan.formulation.model import INF, Expr, Model, Row, collector_paused
from gigaplan.formulation.phases import limit_name
from gigaplan.inputs.site import BoundSite
from gigaplan.kinds import TOLERANCE
from gigaplan.result import ConstraintRow, PlanResult, RackLine, SolverInfo
from gigaplan.solver_thread import import_solver, run_interruptibly

SOLVER_NAME = "HiGHS (scipy.optimize.milp)"


class SolveStatus(StrEnum):
    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    TIME_LIMIT = "time_limit"
    UNBOUNDED = "unbounded"
    ERROR = "error"


@dataclass(frozen=True)
class StageResult:
    """One solve, or the last point of a lexicographic :func:`optimize`."""

    status: SolveStatus
    x: list[float] | None
    mip_gap: float | None
    stages_finished: int = 0  # stages that proved their optimum (optimize only)
    stages_total: int = 0
    # HiGHS's proven bound on the objective (run_milp only): no point does better [its unit]
    proven_bound: float | None = None


_MILP_STATUS = {0: SolveStatus.OPTIMAL, 1: SolveStatus.TIME_LIMIT, 2: SolveStatus.INFEASIBLE,
                3: SolveStatus.UNBOUNDED}


@dataclass(frozen=True)
class Matrix:
    """Rows in compressed sparse row form, with bounds ``lower ≤ A·x ≤ upper``."""

    data: Any  # numpy arrays: CSR values, column indices and row pointers
    indices: Any
    indptr: Any
    lower: Any  # one entry per row
    upper: Any
    rows: int
    size: int  # variables

    def csr(self) -> Any:
        """The ``scipy.sparse.csr_array`` (``milp`` takes it as it is).

        Returns
        -------
        scipy.sparse.csr_array
            The matrix, ``rows`` × ``size``.
        """
        from scipy.sparse import csr_array  # lazily: keeps scipy off the start-up path

        return csr_array((self.data, self.indices, self.indptr), shape=(self.rows, self.size))

    def extended(self, other: Matrix) -> Matrix:
        """These rows, then ``other``'s (a stage's fixing row): arrays joined, no copy of
        the rows' expressions.

        Parameters
        ----------
        other : Matrix
            Rows over the same variables, appended below these.

        Returns
        -------
        Matrix
            The joined matrix.
        """
        import numpy as np  # lazily: keeps numpy off the start-up path

        return Matrix(np.concatenate([self.data, other.data]),
                      np.concatenate([self.indices, other.indices]),
                      np.concatenate([self.indptr, other.indptr[1:] + self.indptr[-1]]),
                      np.concatenate([self.lower, other.lower]),
                      np.concatenate([self.upper, other.upper]),
                      self.rows + other.rows, self.size)


def constraint_matrix(rows: Sequence[Row], size: int,
                      position: dict[int, int] | None = None) -> Matrix:
    """The CSR matrix of ``rows`` over ``size`` variables.

    Built from the rows' coefficient dicts in one pass: time and memory grow with the
    nonzeros (a handful per row), not with rows × variables as a dense matrix does (a
    500-site study is 7,502 × 13,000: 780 MB dense, under 1 MB sparse).

    Parameters
    ----------
    rows : sequence of Row
        The linear rows, each with its coefficients and bounds.
    size : int
        Number of variables [count].
    position : dict of int to int or None, default None
        The column of each variable the rows use, when the matrix holds only some of the
        model's variables (:func:`subproblem_bounds`); None: variable ``i`` is column ``i``.

    Returns
    -------
    Matrix
        The CSR arrays and the rows' lower and upper bounds.
    """
    import numpy as np  # lazily: keeps numpy and scipy off the start-up path

    indptr = [0]
    indices: list[int] = []
    values: list[float] = []
    for row in rows:
        coefs = row.expr.coefs
        indices.extend(coefs if position is None else (position[index] for index in coefs))
        values.extend(coefs.values())
        indptr.append(len(indices))
    data = np.array(values, dtype=float)
    columns = np.array(indices, dtype=np.int64)
    pointers = np.array(indptr, dtype=np.int64)
    if data.size and not data.all():  # explicit zeros: a dense matrix holds them as nothing
        from scipy.sparse import csr_array  # lazily, as numpy above

        a = csr_array((data, columns, pointers), shape=(len(rows), size))
        a.eliminate_zeros()
        data, columns, pointers = a.data, a.indices.astype(np.int64), a.indptr.astype(np.int64)
    lower = np.array([row.lower - row.expr.const for row in rows], dtype=float)
    upper = np.array([row.upper - row.expr.const for row in rows], dtype=float)
    return Matrix(data, columns, pointers, lower, upper, len(rows), size)


def run_milp(model: Model, objective: Expr, *, maximize: bool, rows: list[Row],
             time_limit_s: float | None, matrix: Matrix | None = None,
             cutoff: float | None = None, presolve: bool = True,
             columns: Sequence[int] | None = None, scale: float = 1.0) -> StageResult:
    """One HiGHS solve of ``objective`` subject to ``rows`` and the variable bounds.

    ``matrix``, when given, is :func:`constraint_matrix` of the first ``matrix.rows`` of
    ``rows`` (built once for all stages); only the rows after them are converted here.
    ``cutoff`` is HiGHS's ``objective_bound``: a value of the minimised objective (``−objective``
    when maximising, without the constant) that a known feasible point reaches, so that the
    branch and bound prunes every node that cannot match it. It never changes the optimum.
    ``scale`` multiplies the costs HiGHS sees (never the rows, the point or the figures
    returned, which stay in the objective's unit): a positive factor that changes no optimum.

    Parameters
    ----------
    model : Model
        The built model (variables, bounds, integrality).
    objective : Expr
        The expression to optimise.
    maximize : bool
        Maximise when True, else minimise.
    rows : list of Row
        Every constraint row of this stage.
    time_limit_s : float or None
        HiGHS time limit [s]; None for no limit.
    matrix : Matrix or None, default None
        The CSR matrix of the leading rows, built once for all stages.
    cutoff : float or None, default None
        HiGHS ``objective_bound`` in the minimised sense, in the objective's unit.
    presolve : bool, default True
        Run HiGHS's presolve (it never changes the optimum, only how soon it is found).
    columns : sequence of int or None, default None
        Solve over these variables only (every variable of ``rows`` and ``objective``); the
        point then holds their values in this order. None: every variable.
    scale : float, default 1.0
        Positive factor on the costs HiGHS sees (:attr:`Separable.solve_scale`).

    Returns
    -------
    StageResult
        Status, point (None when none was found), MIP gap and proven bound.
    """
    import numpy as np  # lazily: keeps numpy and scipy off the start-up path
    from scipy.optimize import Bounds, LinearConstraint, milp  # lazily, as numpy above

    if columns is not None and matrix is not None:
        raise ValueError("run_milp: a matrix is over every variable; give it or columns")
    layout = model.layout
    kept = range(layout.size) if columns is None else columns
    position = None if columns is None else {index: k for k, index in enumerate(columns)}
    cost = np.zeros(len(kept))
    for index, coef in objective.coefs.items():
        cost[index if position is None else position[index]] = \
            (-coef if maximize else coef) * scale
    if matrix is None:
        matrix = constraint_matrix(rows, len(kept), position)
    elif len(rows) > matrix.rows:
        matrix = matrix.extended(constraint_matrix(rows[matrix.rows:], layout.size))
    options: dict[str, float | bool] = {"mip_rel_gap": 0.0, "presolve": presolve}
    if time_limit_s is not None:
        options["time_limit"] = max(time_limit_s, 0.01)
    if cutoff is not None:
        options["objective_bound"] = cutoff * scale
    constraints = [LinearConstraint(matrix.csr(), matrix.lower, matrix.upper)] if rows else None
    integrality = np.array([layout.integer[i] for i in kept], dtype=int)
    bounds = Bounds(np.array([layout.lower[i] for i in kept]),
                    np.array([layout.upper[i] for i in kept]))

    def highs() -> Any:
        # HiGHS can print to descriptor 1 whatever its options say: it goes to /dev/null
        with solver_output_off(), warnings.catch_warnings():
            # scipy passes options it does not list (objective_bound) to HiGHS, and says so
            warnings.filterwarnings("ignore", "Unrecognized options", RuntimeWarning)
            return milp(cost, constraints=constraints, integrality=integrality, bounds=bounds,
                        options=options)

    result = run_interruptibly(highs)  # Ctrl-C stops a long solve at once
    status = _MILP_STATUS.get(result.status, SolveStatus.ERROR)
    x = None if result.x is None else [float(value) for value in result.x]
    gap = getattr(result, "mip_gap", None)
    # a time limit before any plan was found leaves the gap infinite: unknown, not a number
    # (JSON has no inf; the plan JSON would fail to serialise)
    finite = gap is not None and math.isfinite(float(gap))
    dual = getattr(result, "mip_dual_bound", None)  # of the minimised c·x, without the constant
    proven = None if dual is None or not math.isfinite(float(dual)) \
        else (-float(dual) if maximize else float(dual)) / scale + objective.const
    return StageResult(status, x, float(gap) if finite else None, proven_bound=proven)


def verify(model: Model, x: list[float], rows: list[Row]) -> None:
    """Check ``x`` against bounds, integrality and every row, in plain Python.

    Parameters
    ----------
    model : Model
        The model ``x`` is a point of.
    x : list of float
        Values of the model's variables.
    rows : list of Row
        The rows ``x`` must satisfy.

    Raises
    ------
    VerificationError
        When ``x`` breaks a bound, integrality or a row by more than the tolerance.
    """
    layout = model.layout
    problems = []
    for i, value in enumerate(x):
        if layout.integer[i] and abs(value - round(value)) > TOLERANCE:
            problems.append(f"{layout.names[i]} = {value} is not an integer")
        if value < layout.lower[i] - TOLERANCE or value > layout.upper[i] + TOLERANCE:
            problems.append(f"{layout.names[i]} = {value} is outside its bounds")
    for row in rows:
        if not row.holds(x):
            problems.append(f"row {row.block} ({row.name}) = {row.expr.value(x)} is outside "
                            f"[{row.lower}, {row.upper}]")
    if problems:
        raise VerificationError("the solver returned a point that breaks the model: "
                                + "; ".join(problems[:5]))


def _rounded(model: Model, x: list[float]) -> list[float]:
    return [float(round(v)) if model.layout.integer[i] else v for i, v in enumerate(x)]


def _slack(magnitude: float, absolute: float = 1e-7) -> float:
    """How far a row derived from a solve's value is loosened: 10⁻⁹ of the magnitude it was
    computed from (float rounding of sums near 10¹⁰), plus ``absolute``."""
    return 1e-9 * magnitude + absolute


def _one_sided(block: str, name: str, expr: Expr, value: float, *, at_least: bool) -> Row:
    """The unreported row ``expr ≥ value`` (``at_least``) or ``expr ≤ value``."""
    if at_least:
        return Row(block, name, expr, lower=value, report=False)
    return Row(block, name, expr, upper=value, report=False)


def _fix(expr: Expr, value: float, *, at_least: bool) -> Row:
    slack = _slack(abs(value))
    return _one_sided("lexicographic", "previous stage optimum", expr,
                      value - slack if at_least else value + slack, at_least=at_least)


MIN_STAGE_S = 0.02  # a stage that would get less time than this is not started
# What a time limit keeps back, in units of the model's build time (the clock that scales with
# the model and the machine). HiGHS checks its clock only between steps, so it stops up to one
# step late: a root cut round on a 500-site study ran 1.4-1.7 s past its limit (build 1.0 s),
# and reading and re-checking the point takes up to about 0.6 build times more (verify, least
# counts, 500 plans: 0.7 s): the stages end KEEP_PER_BUILD build times before the deadline.
# One presolve pass runs for up to about 3 build times (2-4.5 s on that study), so a stage with
# less than PRESOLVE_PER_BUILD build times left runs without presolve.
KEEP_PER_BUILD = 3.0
PRESOLVE_PER_BUILD = 4.0


CUTOFF_SLACK = 1e-9  # relative: the cut-off sits this far beyond the previous stage's point


def optimize(model: Model, time_limit_s: float | None = None, *,
             deadline: float | None = None, cutoffs: bool = True,
             build_s: float = 0.0) -> tuple[StageResult, int]:
    """The objective, then each tie-break in turn (default: least capex, then least IT
    power); return the last point and the number of stages that finished.

    The result is ``optimal`` only when every stage proved its optimum. When the time limit
    stops a stage, or leaves no time to start one, the result is ``time_limit`` with the
    best point found so far (which is exact for the stages that finished), the gap of the
    stage that stopped, and ``stages_total`` > the stages finished. ``deadline`` is a
    :func:`time.perf_counter` reading (the caller's clock started before building the
    model); without it the clock starts here. ``build_s``, the seconds the model took to
    build, sizes what the limit keeps back: the stages end :data:`KEEP_PER_BUILD` build
    times before the deadline (HiGHS's last step past its clock, then reading and
    re-checking the point), and a stage with
    less than :data:`PRESOLVE_PER_BUILD` build times left runs without HiGHS's presolve,
    whose passes the time limit does not interrupt.

    Each tie-break stage starts with a cut-off (HiGHS's ``objective_bound``) at the value
    the previous stage's point reaches: that point satisfies every row of the stage, so the
    cut-off removes only worse nodes and the optimum is the same as without it
    (``cutoffs=False`` solves without; ``tests/test_tie_breaks.py`` checks both agree on
    random instances).

    Parameters
    ----------
    model : Model
        The built model.
    time_limit_s : float or None, default None
        Time limit of all stages together [s]; None for no limit.
    deadline : float or None, default None
        :func:`time.perf_counter` reading that ends the solve [s].
    cutoffs : bool, default True
        Start each tie-break stage with the previous stage's cut-off.
    build_s : float, default 0.0
        Seconds the model took to build [s]; 0 keeps nothing back.

    Returns
    -------
    tuple of (StageResult, int)
        The last stage's result and the number of stages that finished.

    References
    ----------
    docs/model.md, "Objective and ties".
    """
    if deadline is None and time_limit_s is not None:
        deadline = time.perf_counter() + time_limit_s
    if deadline is not None:  # keep back HiGHS's overrun and reading, never more than half
        deadline -= min(KEEP_PER_BUILD * build_s, (deadline - time.perf_counter()) / 2)
    rows = list(model.rows)
    separable = model.separable
    bests = subproblem_bounds(model, deadline) if separable is not None else None
    if bests is not None:
        rows.extend(subproblem_rows(model, bests))
    base: Matrix | None = None  # built once, when the first stage starts: stages add a row each
    capex = model.fields["cost.capex_usd"]
    ties = model.tie_breaks or [(capex, False), (model.fields["power_mw.it"], False)]
    stages = [(model.objective, model.maximize),
              *(tie for tie in ties if tie[0] is not model.objective)]
    best: StageResult | None = None
    finished = 0
    for number, (objective, maximize) in enumerate(stages, start=1):
        remaining = None if deadline is None else deadline - time.perf_counter()
        if remaining is not None and remaining < MIN_STAGE_S:
            if best is None:
                return StageResult(SolveStatus.TIME_LIMIT, None, None, 0, len(stages)), 0
            best = replace(best, status=SolveStatus.TIME_LIMIT, stages_total=len(stages))
            break
        if base is None:
            with collector_paused():
                base = constraint_matrix(rows, model.layout.size)
        cutoff = None
        if best is not None and cutoffs:
            # the previous stage's point is feasible here: nothing worse than it can be optimal
            value = sum((-coef if maximize else coef) * best.x[index]
                        for index, coef in objective.coefs.items())  # type: ignore[index]
            cutoff = value + CUTOFF_SLACK * max(1.0, abs(value))
        presolve = remaining is None or remaining >= PRESOLVE_PER_BUILD * build_s
        scale = separable.solve_scale if separable is not None and \
            objective is separable.total else 1.0
        outcome = run_milp(model, objective, maximize=maximize, rows=rows,
                           time_limit_s=remaining, matrix=base, cutoff=cutoff,
                           presolve=presolve, scale=scale)
        if outcome.x is None and cutoff is not None and \
                outcome.status is not SolveStatus.TIME_LIMIT:
            # HiGHS found nothing within the cut-off the previous point reaches: only its
            # tolerances can do that; solve the stage again without it
            outcome = run_milp(model, objective, maximize=maximize, rows=rows,
                               time_limit_s=None if deadline is None
                               else deadline - time.perf_counter(), matrix=base,
                               presolve=presolve, scale=scale)
        if outcome.x is None:
            if best is None:
                return replace(outcome, stages_total=len(stages)), 0
            if outcome.status is SolveStatus.TIME_LIMIT:  # no better point within the limit
                best = replace(best, status=SolveStatus.TIME_LIMIT, mip_gap=outcome.mip_gap,
                               stages_total=len(stages))
            break  # keep the previous stage's point
        verify(model, outcome.x, rows)
        x = _rounded(model, outcome.x)
        verify(model, x, rows)
        gap = outcome.mip_gap if number == 1 or outcome.status is not SolveStatus.OPTIMAL \
            else best.mip_gap if best is not None else None
        if outcome.status is not SolveStatus.OPTIMAL:
            best = StageResult(outcome.status, x, gap, finished, len(stages))
            break
        finished = number
        best = StageResult(SolveStatus.OPTIMAL, x, gap, finished, len(stages))
        rows.append(_fix(objective, objective.value(x), at_least=maximize))
        if bests is not None and objective is separable.total:  # type: ignore[union-attr]
            rows.extend(implied_subproblem_rows(model, bests, rows[-1]))
    assert best is not None
    if best.x is not None and model.least:
        best = replace(best, x=least_counts(model, best.x, rows))
    return best, best.stages_finished


# Under a time limit, the share of the time left that solving each subproblem alone may take
# (400 monthly phases take about 8 s; the first stage needs the rest to find a plan).
SUBPROBLEM_TIME_FRAC = 0.25
FEASIBILITY_TOL = 1e-6  # HiGHS's primal feasibility tolerance on rows


def subproblem_bounds(model: Model, deadline: float | None = None) -> list[float] | None:
    """Each part of :attr:`Model.separable` at its best over its own rows alone.

    A part's rows are rows of the model, so its best alone bounds its objective at every
    point of the model. Each part is solved on its own variables (a phase of a phased site:
    about 50). The bound is HiGHS's proven bound (``mip_dual_bound``), loosened by
    :func:`_slack` with :data:`FEASIBILITY_TOL`: HiGHS accepts points that break a row by
    that much, and a stage's point must never break this one.

    Parameters
    ----------
    model : Model
        The built model, with :attr:`Model.separable` set.
    deadline : float or None, default None
        :func:`time.perf_counter` reading that ends the stages [s]: the parts take at most
        :data:`SUBPROBLEM_TIME_FRAC` of the time left before it, and none when they are on
        course to need more.

    Returns
    -------
    list of float or None
        One bound per part, in its objective's unit (an upper bound when the model
        maximises); None when a part found no optimum (no plan, or the deadline passed): the
        stages then run without the bounds.

    References
    ----------
    docs/model.md, "Phases: each phase at its best alone".
    """
    import_solver()  # loaded before the clock starts, not in the pace

    assert model.separable is not None
    parts = model.separable.parts
    start_s = time.perf_counter()
    if deadline is not None:  # the stages need the time more: the bounds only speed them up
        deadline = start_s + SUBPROBLEM_TIME_FRAC * (deadline - start_s)
    bests: list[float] = []
    for part in parts:
        now_s = time.perf_counter()
        # on course to run out: the parts so far, at their pace, over every part
        projected_s = start_s + (now_s - start_s) / len(bests) * len(parts) if bests else now_s
        if deadline is not None and (deadline - now_s < MIN_STAGE_S or projected_s > deadline):
            return None
        columns = sorted({index for row in part.rows for index in row.expr.coefs}
                         .union(part.objective.coefs))
        outcome = run_milp(model, part.objective, maximize=model.maximize, rows=list(part.rows),
                           time_limit_s=None if deadline is None else deadline - now_s,
                           columns=columns)
        if outcome.status is not SolveStatus.OPTIMAL or outcome.proven_bound is None:
            return None
        loosen = _slack(abs(outcome.proven_bound), FEASIBILITY_TOL)
        bests.append(outcome.proven_bound + (loosen if model.maximize else -loosen))
    return bests


def subproblem_rows(model: Model, bests: list[float]) -> list[Row]:
    """Rows that hold each part's objective within its best alone (:func:`subproblem_bounds`).

    Valid at every point of the model, so no stage's optimum changes; they give the
    relaxation what only the parts' integer solves know (each phase's fabric rounding).

    Parameters
    ----------
    model : Model
        The built model.
    bests : list of float
        :func:`subproblem_bounds`.

    Returns
    -------
    list of Row
        One row per part.

    References
    ----------
    docs/model.md, "Phases: each phase at its best alone"; docs/benchmarks.md, "Third pass".
    """
    assert model.separable is not None
    return [_one_sided("part-bound", f"part {number}: objective within its best alone",
                       part.objective, best, at_least=not model.maximize)
            for number, (part, best) in enumerate(zip(model.separable.parts, bests,
                                                      strict=True))]


def implied_subproblem_rows(model: Model, bests: list[float], fixed: Row) -> list[Row]:
    """What the optimum of the separable total (the row ``fixed``) leaves each part.

    With Σ_q w_q·o_q ≥ V (the fixing row, maximising) and o_q ≤ B_q for every part
    (:func:`subproblem_rows`), each part with w_p > 0 has o_p ≥ (V − Σ_{q≠p} w_q·B_q) ÷ w_p:
    implied by rows already there, so no later stage's optimum changes, but one sparse row
    per part where the fixing row is one dense row (the tie-break stages gain most from
    it). Minimising mirrors every sign. Each bound is loosened by :func:`_slack` of the
    magnitudes it was computed from.

    Parameters
    ----------
    model : Model
        The built model.
    bests : list of float
        :func:`subproblem_bounds`.
    fixed : Row
        The row that fixes the separable total at its optimum.

    Returns
    -------
    list of Row
        One row per part with a positive weight.

    References
    ----------
    docs/model.md, "Phases: each phase at its best alone".
    """
    assert model.separable is not None
    parts = model.separable.parts
    value = fixed.lower if model.maximize else fixed.upper
    weighted = [part.weight * best for part, best in zip(parts, bests, strict=True)]
    whole = math.fsum(weighted)
    rows = []
    for number, (part, own) in enumerate(zip(parts, weighted, strict=True)):
        if part.weight <= 0:
            continue
        others = whole - own
        bound = (value - others) / part.weight
        loosen = _slack((abs(value) + abs(others)) / part.weight)
        rows.append(_one_sided("part-bound", f"part {number}: objective the optimum leaves it",
                               part.objective,
                               bound - loosen if model.maximize else bound + loosen,
                               at_least=model.maximize))
    return rows


def least_counts(model: Model, x: list[float], rows: list[Row]) -> list[float]:
    """``x`` with each uncosted count (:attr:`Model.least`) at the least the plan needs.

    Such a count appears in no objective or tie-break and only in limits it loosens by
    shrinking, or that a requirement holds from some value up (``network.racks >= N``): it
    is set to the least value every row allows, and the point is re-checked.

    Parameters
    ----------
    model : Model
        The model whose :attr:`Model.least` counts are lowered.
    x : list of float
        A feasible point.
    rows : list of Row
        The rows the lowered point must still satisfy.

    Returns
    -------
    list of float
        ``x`` with each uncosted count at its least feasible value.
    """
    fixed = list(x)
    counts = {next(iter(var.coefs)) for var, _, _ in model.least}
    touching: dict[int, list[Row]] = {index: [] for index in counts}
    for row in rows:  # once: each bisection step checks only the rows of its count
        for index in counts.intersection(row.expr.coefs):
            touching[index].append(row)
    for var, need, unit in model.least:
        (index,) = var.coefs
        low, high = max(0, math.ceil(need.value(fixed) / unit - 1e-9)), round(fixed[index])
        # rows only loosen as the count shrinks, or (a requirement) hold from some value up:
        # the feasible counts are an interval ending at the solver's; bisect its least
        while low < high:
            middle = (low + high) // 2
            fixed[index] = float(middle)
            if all(row.holds(fixed) for row in touching[index]):
                high = middle
            else:
                low = middle + 1
        fixed[index] = float(high)
    return fixed if all(row.holds(fixed) for row in rows) else x


# --- infeasibility --------------------------------------------------------------------------


def is_power_budget(group: str) -> bool:
    """Whether limit group ``group`` is a power budget: the site's or a phase's.

    Parameters
    ----------
    group : str
        A row's limit group (``power.budget``, ``phases.p1: power.budget``).

    Returns
    -------
    bool
        True for the site's power budget and each phase's.
    """
    return group == "power.budget" or group.endswith(": power.budget")


def diagnose(model: Model, time_limit_s: float | None = None, *,
             deadline: float | None = None,
             loose: Callable[[], Model] | None = None) -> list[str]:
    """The site limits of which relaxing any one alone makes the site feasible.

    With a deadline, the relaxations share what is left of it and stop when it passes.
    Rack counts are bounded by what the power budget feeds, so dropping a power budget's
    rows alone relaxes nothing: a power budget is tried on ``loose`` (the same model built
    with a budget that bounds nothing, its power rows at the site's own limits), and left
    out without it.

    Parameters
    ----------
    model : Model
        The infeasible model.
    time_limit_s : float or None, default None
        Time for all relaxations together [s]; None for no limit.
    deadline : float or None, default None
        :func:`time.perf_counter` reading that ends the diagnosis [s].
    loose : callable or None, default None
        Builds the loose model (called once, when a power budget is first tried); None
        leaves the site's power budget out.

    Returns
    -------
    list of str
        The limit groups (such as ``space.rack_positions``) any one of which, relaxed alone,
        makes the site feasible.
    """
    if deadline is None and time_limit_s is not None:
        deadline = time.perf_counter() + time_limit_s
    groups = sorted({row.group for row in model.rows
                     if row.group and (loose is not None or row.group != "power.budget")})
    freeing = []
    loose_model: Model | None = None
    for group in groups:
        carrier = model
        if loose is not None and is_power_budget(group):
            loose_model = loose_model or loose()
            carrier = loose_model
        remaining = None if deadline is None else deadline - time.perf_counter()
        if remaining is not None and remaining < MIN_STAGE_S:
            break
        rows = [row for row in carrier.rows if row.group != group]
        outcome = run_milp(carrier, Expr(), maximize=False, rows=rows, time_limit_s=remaining)
        if outcome.x is not None:
            freeing.append(group)
    return freeing


def conflict_set(model: Model, time_limit_s: float | None = None, *,
                 deadline: float | None = None) -> list[str]:
    """The site limits in conflict when no limit alone frees the site: deletion filters.

    Used when :func:`diagnose` finds no single limit to relax. A deletion filter starts from
    every limit group but the power budget (whose rows bound the rack counts and always
    hold), drops each group in turn and keeps it out when the rest still leaves no plan; the
    groups that remain are an irreducible conflict (J. W. Chinneck, Feasibility and
    Infeasibility in Optimization, Springer 2008, ch. 6). While the site stays infeasible
    with those groups dropped, a further filter finds the next conflict; the result is
    their union, so that every independent conflict is named.

    Parameters
    ----------
    model : Model
        The infeasible model.
    time_limit_s : float or None, default None
        Time for all solves together [s]; None for no limit.
    deadline : float or None, default None
        :func:`time.perf_counter` reading that ends the search [s].

    Returns
    -------
    list of str
        The groups in conflict, in the order found; empty when the time runs out first or
        the power budget and the design rules conflict on their own.
    """
    if deadline is None and time_limit_s is not None:
        deadline = time.perf_counter() + time_limit_s
    groups = sorted({row.group for row in model.rows
                     if row.group and row.group != "power.budget"})

    def infeasible(kept: list[str]) -> bool | None:
        remaining = None if deadline is None else deadline - time.perf_counter()
        if remaining is not None and remaining < MIN_STAGE_S:
            return None
        rows = [row for row in model.rows if not row.group or row.group == "power.budget"
                or row.group in kept]
        outcome = run_milp(model, Expr(), maximize=False, rows=rows, time_limit_s=remaining)
        if outcome.status is SolveStatus.TIME_LIMIT:
            return None
        return outcome.status is SolveStatus.INFEASIBLE

    found: list[str] = []
    while True:
        kept = [group for group in groups if group not in found]
        if not kept or not infeasible(kept):
            return found
        for group in list(kept):
            trial = [g for g in kept if g != group]
            verdict = infeasible(trial)
            if verdict is None:
                return []
            if verdict:
                kept = trial
        if not kept:
            return found  # the power budget and the design rules alone leave no plan
        found.extend(kept)


# --- reading the plan -------------------------------------------------------------------------


def _count(value: float) -> int:
    return round(value)


def binds(slack: float, step: float, tolerance: float = 0.0) -> bool:
    """The one rule for ``binding`` (docs/json.md): the slack is within the solver tolerance,
    or less than ``step``, what one more rack of the compute SKU that takes least of the limit
    would take of it on its own (for a floor, one rack of what the floor counts).

    The step is a property of the limit and the allowed SKUs, never of the plan, so the same
    slack gets the same answer on every plan of a site.

    Parameters
    ----------
    slack : float
        Distance of the used value from the limit, on the allowed side, in the limit's unit.
    step : float
        What one more rack takes of the limit, in the limit's unit.
    tolerance : float, default 0.0
        Solver tolerance, in the limit's unit.

    Returns
    -------
    bool
        Whether the limit binds.

    References
    ----------
    docs/json.md, ``constraints`` (``binding``).
    """
    return slack <= tolerance or slack < step - tolerance


def constraint_rows(model: Model, x: list[float]) -> list[ConstraintRow]:
    """Each reported limit with its use, slack and whether it binds (:func:`binds`).

    Parameters
    ----------
    model : Model
        The built model.
    x : list of float
        The plan's point.

    Returns
    -------
    list of ConstraintRow
        One row per reported limit: name, used, limit, sense, slack, binding and unit.
    """
    rows = []
    for row in model.rows:
        if not row.report:
            continue
        used_expr = row.shown_used or row.expr
        used = used_expr.value(x)
        if row.shown_limit is not None:
            limit, sense = row.shown_limit.value(x), ">="
        elif row.lower == row.upper:
            limit, sense = row.lower, "=="
        elif row.upper < INF:
            limit, sense = row.upper, "<="
        else:
            limit, sense = row.lower, ">="
        slack = {"<=": limit - used, ">=": used - limit, "==": -abs(used - limit)}[sense]
        binding = binds(slack, row.step, TOLERANCE * max(1.0, abs(limit)))
        rows.append(ConstraintRow(name=row.name, limit=limit, used=used, slack=slack,
                                  unit=row.unit, binding=binding, sense=sense))
    return rows


def _section(values: dict[str, float], prefix: str, counts: tuple[str, ...] = ()) -> dict:
    section = {}
    for name, value in values.items():
        if name.startswith(prefix + "."):
            key = name[len(prefix) + 1:]
            if "." not in key:
                section[key] = _count(value) if key in counts else value
    return section


TOKEN_FIELDS = ("workload.tokens_per_second", "workload.tokens_per_second_per_mw",
                "cost.usd_per_million_tokens")


def token_coverage(model: Model, x: list[float]) -> float | None:
    """The share of built GPUs whose rack has a reference token rate (None without GPUs).

    Token figures count only those racks: unknown throughput is null, never 0, and the whole
    TCO per token is given only when every built GPU has a rate (else it would understate it).

    Parameters
    ----------
    model : Model
        The built model.
    x : list of float
        The plan's point.

    Returns
    -------
    float or None
        Rated GPUs ÷ built GPUs [fraction 0-1]; None when the plan builds no GPU.
    """
    built = {sku.id: sku.gpu_count * _count(model.rack_vars[sku.id].value(x))
             for sku in model.bound.compute}
    gpus = sum(built.values())
    rated = sum(built[sku.id] for sku in model.bound.compute
                if sku.inference_tokens_per_s_per_gpu is not None)
    return rated / gpus if gpus else None


def token_value(model: Model, name: str, x: list[float]) -> float | None:
    """A token field (:data:`TOKEN_FIELDS`) at ``x`` under the coverage rule.

    Parameters
    ----------
    model : Model
        The built model.
    name : str
        The token field, one of :data:`TOKEN_FIELDS`.
    x : list of float
        The plan's point.

    Returns
    -------
    float or None
        The field's value in its unit, or None when the coverage rule withholds it.
    """
    covered = token_coverage(model, x)
    if not covered or (name == "cost.usd_per_million_tokens" and covered != 1):
        return None
    return model.value(name, x)


def read_plan(model: Model, x: list[float], status: SolveStatus, info: SolverInfo) -> PlanResult:
    """Every result field of ``model`` at ``x``, as plain Python values.

    Parameters
    ----------
    model : Model
        A model from :func:`gigaplan.formulation.build.build`.
    x : list of float
        The plan's point.
    status : SolveStatus
        How the solve ended.
    info : SolverInfo
        The ``solver`` table of the result.

    Returns
    -------
    PlanResult
        The plan (docs/json.md).
    """
    bound = model.bound
    parts = model.parts
    assert parts is not None, "read_plan needs a model from formulation.build"
    values = {name: expr.value(x) for name, expr in model.fields.items()}
    racks = []
    for sku in bound.compute:
        count = _count(values[f"racks.{sku.id}"])
        each_kw = sku.sizing_kw(bound.site.power.sizing)
        racks.append(RackLine(sku.id, sku.kind, sku.name, count, count * sku.gpu_count,
                              each_kw, count * each_kw / 1000, sku.price_usd,
                              count * sku.price_usd))
    for sku, key in ((bound.cpu_rack, "cpu.racks"), (bound.storage_rack, "storage.racks")):
        if sku is not None:
            count = _count(values[key])
            racks.append(RackLine(sku.id, sku.kind, sku.name, count, 0, sku.power_kw,
                                  count * sku.power_kw / 1000, sku.price_usd,
                                  count * sku.price_usd))
    counts = ("gpus", "cpus", "cpu_cores", "racks", "compute_racks")
    totals = _section(values, "totals", counts)
    network_counts = ("tiers", "leaf_switches", "spine_switches", "core_switches", "switches",
                      "optics", "racks", "frontend_switches", "storage_switches",
                      "management_switches", "auxiliary_switches", "auxiliary_racks", "dpus")
    network = _section(values, "network", network_counts)
    network.update({
        "enabled": bound.switch is not None,
        "switch": bound.switch.id if bound.switch else None,
        "optic": bound.optic.id if bound.optic else None,
        "frontend_switch": bound.frontend_switch.id if bound.frontend_switch else None,
        "storage_switch": bound.storage_switch.id if bound.storage_switch else None,
        "management_switch": bound.management_switch.id if bound.management_switch else None,
        "planes": bound.site.network.planes,
        "endpoints_per_plane": _count(parts.fabric.endpoints_per_plane.value(x)),
        **fabric_report(model, x),
        "media": media_report(model, x),
    })
    power = _section(values, "power_mw")
    power["redundancy_reserve"] = parts.power.redundancy_reserve_mw
    power["headroom_reserve"] = parts.power.headroom_reserve_mw
    storage = _section(values, "storage", ("racks",))
    storage.update({"required_pb": parts.storage.required_pb.value(x),
                    "read_gb_per_s": parts.storage.read_gb_per_s.value(x),
                    "required_read_gb_per_s": parts.storage.required_read_gb_per_s.value(x)})
    cpu = _section(values, "cpu", ("racks", "cores"))
    cpu["required_cores"] = parts.cpu.required_cores.value(x)
    ratios = {name: model.value(name, x) for name in model.ratios}
    cost = _section(values, "cost")
    for part in ("capex_breakdown_usd", "annualised_capex_usd_per_year",
                 "opex_breakdown_usd_per_year"):
        cost[part] = _section(values, f"cost.{part}")
    covered = token_coverage(model, x)
    rated = bool(covered)
    cost["usd_per_gpu_hour"] = ratios["cost.usd_per_gpu_hour"]
    cost["usd_per_million_tokens"] = (ratios["cost.usd_per_million_tokens"]
                                      if covered == 1 else None)
    workload_site = bound.site.workload
    workload = {
        "tokens_per_second": values["workload.tokens_per_second"] if rated else None,
        "tokens_per_second_per_mw": ratios["workload.tokens_per_second_per_mw"] if rated
        else None,
        "tokens_covered_gpu_frac": covered,
        "tokens_reference_skus": sorted(sku.id for sku in bound.compute
                                        if sku.inference_tokens_per_s_per_gpu),
        "train_params": workload_site.train_params,
        "train_tokens": workload_site.train_tokens,
        "train_precision": workload_site.train_precision,
        "train_days": ratios.get("workload.train_days"),
        "mfu": workload_site.mfu,
        "goodput": workload_site.goodput,
    }
    return PlanResult(
        status=status.value,
        # the quantity the solver optimised (for a phased site, over time), in its unit
        objective={"name": model.objective_name or bound.site.objective,
                   "value": model.objective.value(x),
                   "unit": model.objective_unit},
        inputs=plan_inputs(bound),
        solver=info,
        racks=racks,
        totals=totals,
        power_mw=power,
        network=network,
        storage=storage,
        cpu=cpu,
        space=_section(values, "space", ("racks",)),
        cooling=_section(values, "cooling"),
        cost=cost,
        energy=_section(values, "energy"),
        workload=workload,
        constraints=constraint_rows(model, x),
    )


def plan_inputs(bound: BoundSite) -> dict:
    """The ``inputs`` table of a plan: the source, the resolved site and the SKU ids used.

    Parameters
    ----------
    bound : BoundSite
        The site, bound to its catalog.

    Returns
    -------
    dict
        ``source``, ``site`` (the resolved site) and ``catalog_ids``.
    """
    return {"source": bound.source, "site": bound.site.resolved(),
            "catalog_ids": bound.catalog_ids()}


def solve(model: Model, *, time_limit_s: float | None = None, deadline: float | None = None,
          timings: dict[str, float] | None = None, build_s: float = 0.0,
          loose: Callable[[], Model] | None = None) -> tuple[PlanResult, list[float] | None]:
    """The provably best point of ``model`` (or the best found within the time limit), read
    as a plan, and the point itself (None when no plan was found).

    ``deadline`` (a :func:`time.perf_counter` reading) ends the whole solve, diagnosis
    included; without it ``time_limit_s`` counts from here. ``timings`` (``--timings``) holds
    the planner's ``import_s`` and ``build_s``; the solver info then reports them with
    ``solve_s``, and ``seconds`` = build + solve.

    Parameters
    ----------
    model
        A built model (:func:`gigaplan.formulation.build.build` or a phased or study model).
    time_limit_s, deadline
        The time limit, as seconds from now or as an absolute ``perf_counter`` reading.
    timings
        The planner's split of seconds so far, or None.
    build_s
        Seconds the model took to build: what the time limit keeps back (:func:`optimize`).
    loose
        Builds the model with power budgets that bound no rack count, for :func:`diagnose`
        to try relaxing the power budget on an infeasible site; None leaves it out.

    Returns
    -------
    tuple[PlanResult, list[float] or None]
        The plan (or the infeasible result with its conflicts) and the solved point.

    References
    ----------
    docs/model.md, "Objective and ties" (the lexicographic stages) and "Checks".
    """
    bound = model.bound
    started = time.perf_counter()
    if deadline is None and time_limit_s is not None:
        deadline = started + time_limit_s
    outcome, stages = optimize(model, time_limit_s, deadline=deadline, build_s=build_s)
    total = outcome.stages_total if stages < outcome.stages_total else None

    def info() -> SolverInfo:
        split = seconds = None
        if timings is not None:
            split = {**timings, "solve_s": round(time.perf_counter() - started, 6)}
            seconds = round(split.get("build_s", 0.0) + split["solve_s"], 6)
        return SolverInfo(SOLVER_NAME, outcome.status.value, outcome.mip_gap, stages, seconds,
                          total, split)

    if outcome.x is None:
        conflicts: list[str] = []
        together: list[str] = []
        if outcome.status is SolveStatus.INFEASIBLE:
            conflicts = diagnose(model, time_limit_s, deadline=deadline, loose=loose)
            if not conflicts:
                together = conflict_set(model, time_limit_s, deadline=deadline)
        return PlanResult(status=outcome.status.value,
                          objective={"name": model.objective_name or bound.site.objective,
                                     "value": None,
                                     "unit": model.objective_unit},
                          inputs=plan_inputs(bound), solver=info(),
                          message=_infeasible_message(bound, outcome.status, conflicts,
                                                      together),
                          conflicts=conflicts), None
    return read_plan(model, outcome.x, outcome.status, info()), outcome.x


def limit_message(stages: int, total: int | None, gap: float | None) -> str:
    """What a time limit left unproven, in words (the CLI's warning, the study's message).

    Parameters
    ----------
    stages : int
        Lexicographic stages that finished [count].
    total : int or None
        Stages in all [count].
    gap : float or None
        MIP gap of the stage that stopped [fraction]; None when unknown.

    Returns
    -------
    str
        One sentence for the warning.
    """
    shown = "unknown" if gap is None else f"{gap:.4g}"
    if not stages:
        return ("the time limit stopped the solve before the objective was proven optimal; "
                f"the plan is the best found (gap {shown})")
    return (f"the time limit stopped the solve after {stages} of {total} lexicographic stages: "
            "the objective is proven optimal, the tie-breaks after stage "
            f"{stages} are not (gap {shown})")


def _infeasible_message(bound: BoundSite, status: SolveStatus, conflicts: list[str],
                        together: list[str] = ()) -> str:
    if status is SolveStatus.TIME_LIMIT:
        return "the time limit was reached before any build-out was found; raise --time-limit"
    if status is not SolveStatus.INFEASIBLE:
        return f"the solver stopped with status {status.value}"
    # a phased model's groups are per phase (phases.block-3: power.budget): named as the user
    # changes them (phases[2].power), a site key bounding several phases once
    named = list(dict.fromkeys(limit_name(bound, group) for group in conflicts))
    if len(named) == 1:
        return (f"no build-out satisfies {bound.source}: {named[0]} conflicts with the other "
                "limits; relaxing it alone makes the site feasible")
    if conflicts:
        return (f"no build-out satisfies {bound.source}: relaxing any one of these limits alone "
                f"makes the site feasible: {', '.join(named)}")
    jointly = list(dict.fromkeys(limit_name(bound, group) for group in together))
    if len(jointly) == 1:  # a site key that bounds every phase: no phase's row alone
        return (f"no build-out satisfies {bound.source}: {jointly[0]} conflicts with the other "
                "limits in every phase it bounds; relaxing it makes the site feasible")
    if together:
        return (f"no build-out satisfies {bound.source}: no single limit is to blame; with the "
                f"power budget, these limits leave no feasible plan: {', '.join(jointly)}; "
                "several must be relaxed together")
    return (f"no build-out satisfies {bound.source}: no single limit is to blame; the power "
            "budget, requirements and rack limits together leave no feasible plan")

