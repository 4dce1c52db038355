"""Requirement expressions: ``"totals.gpus >= 400000"``, ``"power_mw.facility <= 950 MW"``.

One small grammar (docs/cli.md, "Requirements"), ``FIELD OP VALUE``, with ``OP`` exactly one of
``>=``, ``<=``, ``==``; any other operator (``=>``, ``>``, ``=``, ``≥``) is refused with a message
that lists these three. ``FIELD`` is a
dotted path of the plan's JSON output (or its last segment when that is unique, so ``gpus``
means ``totals.gpus``); ``VALUE`` is a number or a quantity in the field's dimension
(``400k``, ``0.95 GW``). It is parsed, never evaluated as Python. The planner enforces each
requirement as a constraint; ``gigaplan check`` evaluates the same expressions as assertions.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from gigaplan.errors import SiteError, UnitError
from gigaplan.inputs.units import Dimension, parse, shorten
from gigaplan.kinds import TOLERANCE

D = Dimension

# Every field a requirement may name: (dimension, unit of the JSON value).
FIELDS: dict[str, tuple[Dimension, str]] = {
    "totals.gpus": (D.COUNT, ""),
    "totals.cpus": (D.COUNT, ""),
    "totals.cpu_cores": (D.COUNT, ""),
    "totals.racks": (D.COUNT, ""),
    "totals.compute_racks": (D.COUNT, ""),
    "totals.hbm_tb": (D.DATA, "TB"),
    "totals.fp4_dense_pflops": (D.COUNT, ""),
    "totals.fp8_dense_pflops": (D.COUNT, ""),
    "totals.bf16_dense_pflops": (D.COUNT, ""),
    "totals.tf32_dense_pflops": (D.COUNT, ""),
    "totals.fp64_dense_pflops": (D.COUNT, ""),
    "power_mw.budget": (D.POWER, "MW"),
    "power_mw.usable": (D.POWER, "MW"),
    "power_mw.facility": (D.POWER, "MW"),
    "power_mw.it": (D.POWER, "MW"),
    "power_mw.compute": (D.POWER, "MW"),
    "power_mw.cpu": (D.POWER, "MW"),
    "power_mw.storage": (D.POWER, "MW"),
    "power_mw.network": (D.POWER, "MW"),
    "power_mw.overhead": (D.POWER, "MW"),
    "power_mw.headroom": (D.POWER, "MW"),
    "power_mw.grid": (D.POWER, "MW"),
    "power_mw.it_expected": (D.POWER, "MW"),
    "power_mw.auxiliary_networks": (D.POWER, "MW"),
    "network.tiers": (D.COUNT, ""),
    "network.leaf_switches": (D.COUNT, ""),
    "network.spine_switches": (D.COUNT, ""),
    "network.core_switches": (D.COUNT, ""),
    "network.switches": (D.COUNT, ""),
    "network.optics": (D.COUNT, ""),
    "network.racks": (D.COUNT, ""),
    "network.power_kw": (D.POWER, "kW"),
    "network.frontend_switches": (D.COUNT, ""),
    "network.storage_switches": (D.COUNT, ""),
    "network.management_switches": (D.COUNT, ""),
    "network.auxiliary_switches": (D.COUNT, ""),
    "network.auxiliary_power_kw": (D.POWER, "kW"),
    "network.dpus": (D.COUNT, ""),
    "storage.racks": (D.COUNT, ""),
    "storage.capacity_pb": (D.DATA, "PB"),
    "cpu.racks": (D.COUNT, ""),
    "cpu.cores": (D.COUNT, ""),
    "space.racks": (D.COUNT, ""),
    "space.white_space_m2": (D.AREA, "m2"),
    "cooling.liquid_mw": (D.POWER, "MW"),
    "cooling.air_mw": (D.POWER, "MW"),
    "cost.capex_usd": (D.MONEY, "USD"),
    **{f"cost.capex_breakdown_usd.{part}": (D.MONEY, "USD") for part in (
        "compute", "cpu", "storage", "network_switches", "optics", "auxiliary_networks",
        "facility")},
    "cost.annualised_capex_usd_per_year.it": (D.MONEY, "USD"),
    "cost.annualised_capex_usd_per_year.facility": (D.MONEY, "USD"),
    "cost.opex_breakdown_usd_per_year.energy": (D.MONEY, "USD"),
    "cost.opex_breakdown_usd_per_year.operations": (D.MONEY, "USD"),
    "cost.opex_usd_per_year": (D.MONEY, "USD"),
    "cost.tco_usd_per_year": (D.MONEY, "USD"),
    "cost.usd_per_gpu_hour": (D.MONEY, "USD"),
    "cost.usd_per_million_tokens": (D.MONEY, "USD"),
    "energy.mwh_per_year": (D.ENERGY, "MWh"),
    "energy.co2_t_per_year": (D.MASS, "t"),
    "energy.water_m3_per_year": (D.COUNT, ""),
    "workload.tokens_per_second": (D.COUNT, ""),
    "workload.tokens_per_second_per_mw": (D.COUNT, ""),
    "workload.train_days": (D.TIME, "days"),
}
# Ratio fields need what their denominator counts: a token rate, or a training run.
NEEDS_TOKENS = ("cost.usd_per_million_tokens", "workload.tokens_per_second",
                "workload.tokens_per_second_per_mw")
NEEDS_TRAINING = ("workload.train_days",)
RACK_FIELD_PREFIX = "racks."  # racks.<sku-id>: the count of one rack SKU

OPERATORS = (">=", "<=", "==")
OPERATOR_WORDS = {">=": "at least", "<=": "at most", "==": "exactly"}
# The operator is any run of comparison characters, so that a near miss (=>, >, =, ≥) is
# named in the message instead of being misread; only OPERATORS are accepted.
_EXPRESSION = re.compile(r"^\s*(?P<field>[A-Za-z_][\w.\-]*)\s*(?P<op>[<>=!≥≤≠]+)\s*"
                         r"(?P<value>.+)$")  # greedy and anchored: linear time
MAX_REQUIREMENT_CHARS = 200  # "cost.annualised_capex_usd_per_year.facility <= $1.5B" is 52


@dataclass(frozen=True)
class Requirement:
    """A parsed requirement: ``field op value``, ``value`` in the field's JSON unit."""

    text: str
    field: str
    op: str
    value: float

    def holds(self, measured: float) -> bool:
        """Whether ``measured`` meets the requirement, within the relative tolerance.

        Parameters
        ----------
        measured : float
            The plan's value of the requirement's field, in the field's unit.

        Returns
        -------
        bool
            Whether the requirement is met.
        """
        lower = self.value if self.op in (">=", "==") else -math.inf
        upper = self.value if self.op in ("<=", "==") else math.inf
        return within(measured, lower, upper)


def within(value: float, lower: float, upper: float) -> bool:
    """Whether ``lower <= value <= upper`` up to :data:`gigaplan.kinds.TOLERANCE` of each
    bound, relative to the bound (absolute below 1).

    Parameters
    ----------
    value : float
        The value to test.
    lower : float
        Lower bound, in the value's unit.
    upper : float
        Upper bound, in the value's unit.

    Returns
    -------
    bool
        Whether the value lies within the bounds, up to the tolerance.
    """
    return (lower - TOLERANCE * max(1.0, abs(lower)) <= value
            <= upper + TOLERANCE * max(1.0, abs(upper)))


def field_names(rack_ids: tuple[str, ...] = ()) -> list[str]:
    """Every field a requirement may name, with ``racks.<id>`` for each of ``rack_ids``.

    Parameters
    ----------
    rack_ids : tuple of str, default ()
        Compute rack SKU ids, each giving a ``racks.<id>`` field.

    Returns
    -------
    list of str
        The field names, such as ``totals.gpus``.
    """
    return [*FIELDS, *(RACK_FIELD_PREFIX + sku_id for sku_id in rack_ids)]


def _resolve(name: str, rack_ids: tuple[str, ...]) -> str | None:
    names = field_names(rack_ids)
    if name in names:
        return name
    if name.startswith(RACK_FIELD_PREFIX) and not rack_ids:
        return name  # checked against the catalog when the site is bound
    tails = [full for full in names if full.rsplit(".", 1)[-1] == name]
    return tails[0] if len(tails) == 1 else None


def parse_requirement(text: str, rack_ids: tuple[str, ...] = ()) -> Requirement:
    """Parse ``text``; raise :class:`SiteError` that lists the valid fields when it is wrong.

    Parameters
    ----------
    text : str
        A requirement such as ``'totals.gpus >= 100000'``.
    rack_ids : tuple of str, default ()
        Compute rack SKU ids that ``racks.<id>`` may name.

    Returns
    -------
    Requirement
        The parsed field, comparison and value.
    """
    if not isinstance(text, str):
        raise SiteError("expected a requirement such as \"totals.gpus >= 400000\", got "
                        f"{shorten(repr(text))}")
    if len(text) > MAX_REQUIREMENT_CHARS:
        raise SiteError(f"cannot read {shorten(text)!r}: a requirement has at most "
                        f"{MAX_REQUIREMENT_CHARS} characters")
    match = _EXPRESSION.match(text)
    if not match:
        raise SiteError(f"cannot read {text!r}: write FIELD OP VALUE with OP one of "
                        f"{', '.join(OPERATORS)}, e.g. \"totals.gpus >= 400000\"")
    op = match["op"]
    if op not in OPERATORS:
        accepted = ", ".join(f"{name} ({OPERATOR_WORDS[name]})" for name in OPERATORS)
        raise SiteError(f"{text!r}: operator {op!r} is not accepted; write one of {accepted}")
    field = _resolve(match["field"], rack_ids)
    if field is None:
        raise SiteError(f"{text!r}: unknown field {match['field']!r}; valid fields: "
                        f"{', '.join(field_names(rack_ids))}, racks.<sku-id>")
    dimension, unit = FIELDS.get(field, (D.COUNT, ""))
    try:
        value = parse(match["value"].rstrip(), dimension, unit or None)
    except UnitError as error:
        raise SiteError(f"{text!r}: {field}: {error}") from None
    return Requirement(text=text.strip(), field=field, op=op, value=value)
