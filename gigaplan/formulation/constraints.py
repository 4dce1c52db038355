"""Constraint families of the build-out MILP: one ``define_*`` per family, formula in its docstring.

Like PyPSA's ``optimization/constraints.py``: each function adds named variables, rows and
result fields to a :class:`~gigaplan.formulation.model.Model`. Units: power in kW inside expressions
(fields in MW as the JSON reports them), money in USD, space in racks and m².
Formulas and sources: docs/model.md and docs/engineering-model.md.
"""

from __future__ import annotations

import math
from typing import Any

from gigaplan.formulation.economics import facility_capex_per_mw
from gigaplan.formulation.fabric import define_fabric as define_fabric
from gigaplan.formulation.model import (
    INF,
    ComputeParts,
    CpuPoolParts,
    Expr,
    Model,
    PowerParts,
    Row,
    StorageParts,
    total,
)
from gigaplan.inputs.requirements import FIELDS
from gigaplan.kinds import PRECISIONS


def _zero(model: Model, *names: str) -> None:
    for name in names:
        model.fields[name] = Expr()


def usable_mw(model: Model) -> float:
    """Usable power = budget × u_red × (1 − headroom_frac) (engineering-model.md §0, §2.2).

    Parameters
    ----------
    model : Model
        The model being built, holding the bound site.

    Returns
    -------
    float
        Usable power [MW].

    References
    ----------
    docs/model.md, "Power budget"; docs/engineering-model.md §2.2.
    """
    power = model.bound.site.power
    return power.budget_mw * power.usable_frac * (1.0 - power.headroom_frac)


def basis_factor(model: Model) -> float:
    """MW of the budget's basis per MW of IT: grid headroom × PUE, PUE, or 1.

    Parameters
    ----------
    model : Model
        The model being built, holding the bound site.

    Returns
    -------
    float
        Budget-basis power per IT power [MW/MW].

    References
    ----------
    docs/model.md, "Power budget".
    """
    power = model.bound.site.power
    return {"grid": power.grid_headroom * power.pue, "facility": power.pue,
            "it": 1.0}[power.basis]


def it_cap_kw(model: Model) -> float:
    """The most IT power the budget can feed: usable ÷ (grid headroom ×) PUE.

    Parameters
    ----------
    model : Model
        The model being built, holding the bound site.

    Returns
    -------
    float
        The largest IT power the budget feeds [kW].

    References
    ----------
    docs/model.md, "Power budget".
    """
    return usable_mw(model) * 1000.0 / basis_factor(model)


def define_compute(model: Model) -> ComputeParts:
    """Racks per compute SKU, ``n_i ∈ ℤ≥0``, and what they hold.

    ``n_i ≤ ⌊P_IT,max ÷ P_rack,i⌋`` bounds each count (no rack can exceed the IT power the
    budget feeds). GPUs = Σ gpu_count_i·n_i; dense PFLOPS(p) = Σ gpu_count_i·pflops_i(p)·n_i;
    HBM [TB] = Σ gpu_count_i·hbm_i/1000·n_i; P_compute [kW] = Σ P_i·n_i, where ``P_i`` is the
    rack's design load (``power.sizing = "design"``, the default) or its expected draw
    (``"typical"``). The expected draw ``Σ power_typical_kw_i·n_i`` feeds energy either way.

    Parameters
    ----------
    model : Model
        The model being built, holding the bound site.

    Returns
    -------
    ComputeParts
        The expressions the later blocks need.

    References
    ----------
    docs/model.md, "Compute".
    """
    skus = model.bound.compute
    sizing = model.bound.site.power.sizing
    cap = it_cap_kw(model)
    uppers = [math.floor(cap / sku.sizing_kw(sizing) + 1e-9) for sku in skus]
    variables = model.layout.add("rack-count", [sku.id for sku in skus], upper=uppers)
    gpus_max = 0.0
    for sku, var, upper in zip(skus, variables, uppers, strict=True):
        model.rack_vars[sku.id] = var
        model.fields[f"racks.{sku.id}"] = var
        gpus_max += sku.gpu_count * upper
    pairs = list(zip(skus, variables, strict=True))
    fields = model.fields
    fields["totals.compute_racks"] = total(var for _, var in pairs)
    fields["totals.gpus"] = total(sku.gpu_count * var for sku, var in pairs)
    fields["totals.hbm_tb"] = total(sku.gpu_count * sku.hbm_gb_per_gpu / 1000 * var
                                    for sku, var in pairs)
    for precision in PRECISIONS:
        fields[f"totals.{precision}_dense_pflops"] = total(sku.dense_pflops(precision) * var
                                                           for sku, var in pairs)
    fields["power_mw.compute"] = total(sku.sizing_kw(sizing) / 1000 * var for sku, var in pairs)
    fields["network.dpus"] = total(sku.dpu_count * var for sku, var in pairs)
    fields["cost.capex_breakdown_usd.compute"] = total(sku.price_usd * var for sku, var in pairs)
    return ComputeParts(
        gpus_max=gpus_max,
        cpus=total(sku.cpu_count * var for sku, var in pairs),
        cpu_cores=total(sku.cpu_core_count * var for sku, var in pairs),
        liquid_kw=total(sku.liquid_frac * sku.sizing_kw(sizing) * var for sku, var in pairs),
        expected_mw=total(sku.expected_kw / 1000 * var for sku, var in pairs))


def define_cpu_pool(model: Model, compute: ComputeParts) -> CpuPoolParts:
    """CPU racks ``c`` for data preparation and orchestration.

    ``cores_rack·c ≥ cores_per_gpu·GPUs + cores`` (engineering-model.md §5.4: one management
    or CPU node per ~250 GPUs at scale, plus a user-specified pool).

    Parameters
    ----------
    model : Model
        The model being built, holding the bound site.
    compute : ComputeParts
        What :func:`define_compute` returned (GPUs, compute power).

    Returns
    -------
    CpuPoolParts
        The required cores and the pool's liquid-cooled heat [kW].

    References
    ----------
    docs/model.md, "CPU pool"; docs/engineering-model.md §5.4.
    """
    site, rack = model.bound.site, model.bound.cpu_rack
    fields = model.fields
    parts = CpuPoolParts(required_cores=Expr(), liquid_kw=Expr())
    if rack is None:
        _zero(model, "cpu.racks", "cpu.cores", "power_mw.cpu", "cost.capex_breakdown_usd.cpu")
    else:
        need_max = site.cpu.cores_per_gpu * compute.gpus_max + site.cpu.cores
        (racks,) = model.layout.add("cpu-rack-count",
                                    upper=math.ceil(need_max / rack.cpu_core_count) + 1)
        required = site.cpu.cores_per_gpu * fields["totals.gpus"] + site.cpu.cores
        pool = rack.cpu_core_count * racks
        model.add_row(Row("cpu-capacity", "CPU pool cores", pool - required, lower=0.0,
                          unit="cores", group="cpu.cores_per_gpu", step=rack.cpu_core_count,
                          shown_used=pool,
                          shown_limit=required))
        for sku in model.bound.compute:
            model.add_support(sku.id, racks, site.cpu.cores_per_gpu * sku.gpu_count
                              / rack.cpu_core_count)
        fields["cpu.racks"] = racks
        fields[f"racks.{rack.id}"] = racks
        fields["cpu.cores"] = pool
        fields["power_mw.cpu"] = rack.power_kw / 1000 * racks
        fields["cost.capex_breakdown_usd.cpu"] = rack.price_usd * racks
        parts = CpuPoolParts(required_cores=required,
                             liquid_kw=rack.liquid_frac * rack.power_kw * racks)
    pool_cpus = rack.cpu_count * fields["cpu.racks"] if rack else Expr()
    fields["totals.cpus"] = compute.cpus + pool_cpus
    fields["totals.cpu_cores"] = compute.cpu_cores + fields["cpu.cores"]
    return parts


def define_storage(model: Model, compute: ComputeParts) -> StorageParts:
    """Storage racks ``s``: capacity and read bandwidth both cover the GPUs.

    ``cap_rack·s ≥ c_store·GPUs/1000`` [PB] and ``bw_rack·s ≥ b_read·GPUs`` [GB/s]
    (engineering-model.md §6: 10 PB per 1,000 GPUs, 0.5 GB/s per GPU by default).

    Parameters
    ----------
    model : Model
        The model being built, holding the bound site.
    compute : ComputeParts
        What :func:`define_compute` returned (GPUs, compute power).

    Returns
    -------
    StorageParts
        Required capacity [PB] and read bandwidth [GB/s], and what the racks give.

    References
    ----------
    docs/model.md, "Storage"; docs/engineering-model.md §6.
    """
    site, rack = model.bound.site, model.bound.storage_rack
    fields = model.fields
    if rack is None:
        _zero(model, "storage.racks", "storage.capacity_pb", "power_mw.storage",
              "cost.capex_breakdown_usd.storage")
        return StorageParts(Expr(), Expr(), Expr(), Expr())
    gpus = fields["totals.gpus"]
    gpus_max = compute.gpus_max
    need_pb = site.storage.pb_per_1000_gpus / 1000
    need_read = site.storage.read_gb_per_s_per_gpu
    upper = math.ceil(max(need_pb * gpus_max / rack.capacity_pb,
                          need_read * gpus_max / rack.read_gb_per_s)) + 1
    (racks,) = model.layout.add("storage-rack-count", upper=upper)
    capacity, bandwidth = rack.capacity_pb * racks, rack.read_gb_per_s * racks
    for sku in model.bound.compute:
        model.add_support(sku.id, racks, sku.gpu_count * max(
            need_pb / rack.capacity_pb, need_read / rack.read_gb_per_s))
    model.add_row(Row("storage-capacity", "storage capacity", capacity - need_pb * gpus,
                      lower=0.0, unit="PB", group="storage.pb_per_1000_gpus", step=rack.capacity_pb,
                      shown_used=capacity, shown_limit=need_pb * gpus))
    model.add_row(Row("storage-bandwidth", "storage read bandwidth", bandwidth - need_read * gpus,
                      lower=0.0, unit="GB/s", group="storage.read_gb_per_s_per_gpu",
                      step=rack.read_gb_per_s,
                      shown_used=bandwidth, shown_limit=need_read * gpus))
    fields["storage.racks"] = racks
    fields[f"racks.{rack.id}"] = racks
    fields["storage.capacity_pb"] = rack.capacity_pb * racks
    fields["power_mw.storage"] = rack.power_kw / 1000 * racks
    fields["cost.capex_breakdown_usd.storage"] = rack.price_usd * racks
    return StorageParts(required_pb=need_pb * gpus, read_gb_per_s=bandwidth,
                        required_read_gb_per_s=need_read * gpus,
                        liquid_kw=rack.liquid_frac * rack.power_kw * racks)


def define_power(model: Model, compute: ComputeParts) -> PowerParts:
    """The power budget (engineering-model.md §0, §1.4, §2.2).

    ``P_IT = P_compute + P_cpu + P_storage + P_network + P_auxiliary`` and, on a facility
    basis, ``PUE_pk·P_IT ≤ budget·u_red·(1 − headroom)``; on a grid basis the grid or
    generation connection also covers its headroom, ``h·PUE_pk·P_IT ≤ …`` (h =
    ``power.grid_headroom``, 1.10 by default); on an IT basis ``P_IT ≤ …`` (no PUE).
    ``P_IT,expected`` counts the compute racks at their expected draw (energy uses it).

    Parameters
    ----------
    model : Model
        The model being built, holding the bound site.
    compute : ComputeParts
        What :func:`define_compute` returned (GPUs, compute power).

    Returns
    -------
    PowerParts
        The redundancy and headroom reserves [MW].

    References
    ----------
    docs/model.md, "Power budget"; docs/engineering-model.md §0, §1.4, §2.2.
    """
    site = model.bound.site
    fields = model.fields
    others = (fields["power_mw.cpu"] + fields["power_mw.storage"] + fields["power_mw.network"]
              + fields["power_mw.auxiliary_networks"])
    it = fields["power_mw.compute"] + others
    facility = site.power.pue * it
    grid = site.power.grid_headroom * facility
    limit = usable_mw(model)
    budget = site.power.budget_mw
    drawn = {"grid": grid, "facility": facility, "it": it}[site.power.basis]
    name = {"grid": "grid connection", "facility": "facility power",
            "it": "IT power"}[site.power.basis]
    model.add_row(Row("power-budget", name, drawn, upper=limit, unit="MW", group="power.budget",
                      step=model.compute_step(drawn)))
    fields.update({
        "power_mw.budget": Expr(const=budget),
        "power_mw.usable": Expr(const=limit),
        "power_mw.it": it,
        "power_mw.it_expected": compute.expected_mw + others,
        "power_mw.facility": facility,
        "power_mw.grid": grid,
        "power_mw.overhead": facility - it,
        "power_mw.headroom": limit - drawn,
    })
    return PowerParts(
        redundancy_reserve_mw=budget * (1 - site.power.usable_frac),
        headroom_reserve_mw=budget * site.power.usable_frac * site.power.headroom_frac)


def define_space(model: Model) -> None:
    """Rack positions and white space: ``N_racks ≤ positions``, ``a_rack·N_racks ≤ A_white``.

    ``N_racks`` counts compute, CPU, storage and network racks; ``a_rack`` defaults to
    3.7 m² per position including aisles (engineering-model.md §4: 30–50 ft² for AI halls).

    Parameters
    ----------
    model : Model
        The model being built, holding the bound site.

    References
    ----------
    docs/model.md, "Space"; docs/engineering-model.md §4.
    """
    space = model.bound.site.space
    fields = model.fields
    racks = (fields["totals.compute_racks"] + fields["cpu.racks"] + fields["storage.racks"]
             + fields["network.racks"] + fields["network.auxiliary_racks"])
    area = space.area_per_rack_m2 * racks
    fields["totals.racks"] = racks
    fields["space.racks"] = racks
    fields["space.white_space_m2"] = area
    if space.rack_positions is not None:
        model.add_row(Row("space-positions", "rack positions", racks,
                          upper=float(space.rack_positions), unit="racks",
                          group="space.rack_positions", step=model.compute_step(racks)))
    if space.white_space_m2 is not None:
        model.add_row(Row("space-area", "white space", area, upper=space.white_space_m2,
                          unit="m2", group="space.white_space", step=model.compute_step(area)))


def define_cooling(model: Model, liquid_kw: Expr) -> None:
    """Heat rejection: ``Σ f_liq,i·P_i ≤ Q_liquid`` and ``Σ (1 − f_liq,i)·P_i ≤ Q_air``.

    All IT power becomes heat; each SKU's ``liquid_frac`` goes to the liquid loop and the
    rest to air (engineering-model.md §3.1: 0.85–0.90 for NVL72 racks, an estimate).

    Parameters
    ----------
    model : Model
        The model being built, holding the bound site.
    liquid_kw : Expr
        IT heat that goes to the liquid loop [kW].

    References
    ----------
    docs/model.md, "Cooling"; docs/engineering-model.md §3.1.
    """
    cooling = model.bound.site.cooling
    fields = model.fields
    liquid = liquid_kw / 1000
    air = fields["power_mw.it"] - liquid
    fields["cooling.liquid_mw"] = liquid
    fields["cooling.air_mw"] = air
    for limit, expr, name, group in ((cooling.liquid_mw, liquid, "liquid cooling",
                                      "cooling.liquid"),
                                     (cooling.air_mw, air, "air cooling", "cooling.air")):
        if limit is not None:
            model.add_row(Row(f"cooling-{group.split('.')[1]}", name, expr, upper=limit,
                              unit="MW", group=group, step=model.compute_step(expr)))


def define_capex(model: Model) -> None:
    """Capex (upfront): equipment ``Σ price_i·n_i`` plus facility, and its cap.

    Facility capex = P_IT [MW] · facility_capex_per_mw · (0.47 + 0.53·0.75/u_red): C&W's
    $11.7M per MW of critical load with the 8.5 % AI premium, $12.7M/MW (EM §7.1 [D]), scaled
    for the redundancy that plant is built with (EM §7.1 [E]). ``budget.capex`` caps the total.

    Parameters
    ----------
    model : Model
        The model being built, holding the bound site.

    References
    ----------
    docs/model.md, "Capex, upfront"; docs/engineering-model.md §7.1, §7.2.
    """
    fields = model.fields
    fields["cost.capex_breakdown_usd.facility"] = facility_capex_per_mw(model) \
        * fields["power_mw.it"]
    parts = ("compute", "cpu", "storage", "network_switches", "optics", "auxiliary_networks",
             "facility")
    capex = total(fields[f"cost.capex_breakdown_usd.{part}"] for part in parts)
    fields["cost.capex_usd"] = capex
    cap = model.bound.site.budget.capex_usd
    if cap is not None:
        model.add_row(Row("capex", "capex (equipment and facility)", capex, upper=cap,
                          unit="USD", group="budget.capex", step=model.compute_step(capex)))


def define_sku_limits(model: Model) -> None:
    """``compute.min_racks`` and ``compute.max_racks``: ``min_i ≤ n_i ≤ max_i``.

    Parameters
    ----------
    model : Model
        The model being built, holding the bound site.

    References
    ----------
    docs/model.md, "Compute".
    """
    compute = model.bound.site.compute
    for sku_id, var in model.rack_vars.items():
        low, high = compute.min_racks.get(sku_id), compute.max_racks.get(sku_id)
        if low:
            model.add_row(Row("sku-min", f"compute.min_racks.{sku_id}", var, lower=float(low),
                              unit="racks", group=f"compute.min_racks.{sku_id}", step=1.0))
        if high is not None:
            model.add_row(Row("sku-max", f"compute.max_racks.{sku_id}", var, upper=float(high),
                              unit="racks", group=f"compute.max_racks.{sku_id}", step=1.0))


def define_requirements(model: Model) -> None:
    """Each requirement ``field op value`` as a row on the field's linear expression.

    Parameters
    ----------
    model : Model
        The model being built, holding the bound site.

    References
    ----------
    docs/model.md, "Requirements".
    """
    for requirement in model.bound.requirements:
        if requirement.field == "cost.usd_per_million_tokens":
            # a cost per token is defined only when every built rack has a token rate
            for sku in model.bound.compute:
                if sku.inference_tokens_per_s_per_gpu is None:
                    model.add_row(Row("requirement", f"{requirement.text}: {sku.id} has no "
                                      "token rate", model.rack_vars[sku.id], upper=0.0,
                                      report=False))
        lower = requirement.value if requirement.op in (">=", "==") else -INF
        upper = requirement.value if requirement.op in ("<=", "==") else INF
        unit = FIELDS.get(requirement.field, (None, "racks"))[1]
        if requirement.field in model.ratios:
            # numerator ÷ denominator op X  ⇔  numerator − X·denominator op 0 (denominator ≥ 0)
            numerator, denominator = model.ratios[requirement.field]
            expr = numerator - requirement.value * denominator
            model.add_row(Row("requirement", requirement.text, expr,
                              lower=0.0 if lower > -INF else -INF,
                              upper=0.0 if upper < INF else INF, unit=unit,
                              group=requirement.text, shown_used=numerator,
                              shown_limit=requirement.value * denominator))
            continue
        expr = model.fields[requirement.field]
        model.add_row(Row("requirement", requirement.text, expr, lower=lower, upper=upper,
                          unit=unit, group=requirement.text, step=model.compute_step(expr)))


OBJECTIVE_FIELDS = {  # name: (field, unit, maximise?)
    "gpus": ("totals.gpus", "GPUs", True),
    "hbm": ("totals.hbm_tb", "TB of HBM", True),
    **{p: (f"totals.{p}_dense_pflops", f"dense {p.upper()} PFLOPS", True) for p in PRECISIONS},
    "tokens": ("workload.tokens_per_second", "tokens per second", True),
    "capex": ("cost.capex_usd", "USD of capex (upfront)", False),
    "tco": ("cost.tco_usd_per_year", "USD of TCO per year", False),
}


FALLBACK = {"fp4": ("fp8", "bf16"), "fp8": ("bf16",)}  # a precision the racks lack -> these


def effective_objective(bound: Any) -> str:
    """The objective planned: the site's, or for a dense-precision objective that every
    allowed compute rack lacks (FP4 on Hopper) the next precision some rack has: FP4 → FP8 →
    BF16 (a warning says so; docs/model.md, "Objective and ties").

    Parameters
    ----------
    bound : BoundSite
        The site, bound to its catalog.

    Returns
    -------
    str
        The objective's name, such as ``fp4`` or ``fp8``.

    References
    ----------
    docs/model.md, "Objective and ties".
    """
    objective = bound.site.objective
    for precision in FALLBACK.get(objective, ()):
        if any(getattr(sku, f"{objective}_dense_pflops_per_gpu") for sku in bound.compute):
            return objective
        if any(getattr(sku, f"{precision}_dense_pflops_per_gpu") for sku in bound.compute):
            return precision
    return objective


def define_objective(model: Model) -> None:
    """The site's objective (:func:`effective_objective`); :mod:`gigaplan.solve` breaks ties by
    capex, then power.

    Parameters
    ----------
    model : Model
        The model being built, holding the bound site.

    References
    ----------
    docs/model.md, "Objective and ties".
    """
    field, unit, maximize = OBJECTIVE_FIELDS[effective_objective(model.bound)]
    model.objective = model.fields[field]
    model.objective_name = effective_objective(model.bound)
    model.objective_unit = unit
    model.maximize = maximize
