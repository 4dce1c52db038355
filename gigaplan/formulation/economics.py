"""Economics, energy and what the factory delivers: formulas and their model fields.

Sources are docs/engineering-model.md (EM): §7 costs, electricity, carbon,
depreciation and $/GPU-hour; §3.3 water; §9 workload translation. Every quantity here is a
linear expression of the plan's variables, or a ratio of two (``$/GPU-hour``, training days),
so each can be a requirement: ``ratio ≤ X`` is the linear row ``numerator − X·denominator ≤ 0``.
"""

from __future__ import annotations

import math

from gigaplan.formulation.model import Expr, Model, total
from gigaplan.inputs.site import FACILITY_TIERS_USD_PER_MW

HOURS_PER_YEAR = 8760.0  # 365 days, as EM §0 and §7.5 use for energy and GPU-hours
SECONDS_PER_DAY = 86_400.0
REFERENCE_USABLE_FRAC = 0.75  # redundancy implicit in the C&W benchmark, EM §7.1 [E]
CRITICAL_PLANT_SHARE = 0.53  # electrical/mechanical share of C&W facility cost, EM §7.1 [P]


def capital_recovery_factor(rate: float, years: float) -> float:
    """CRF(r, n) = r(1+r)ⁿ / ((1+r)ⁿ − 1): the annual payment per dollar of capex (EM §7.5).

    With r = 0 it is 1/n (straight-line). (1+r)ⁿ − 1 is computed as expm1(n·log1p(r)), so a
    tiny rate (1e-20) tends to 1/n instead of dividing by a rounded-off zero.

    Parameters
    ----------
    rate : float
        Discount rate r [fraction per year].
    years : float
        Life n [years].

    Returns
    -------
    float
        Annual payment per dollar of capex [1/year].

    References
    ----------
    docs/model.md, "Cost per year"; docs/engineering-model.md §7.5.
    """
    if rate == 0:
        return 1.0 / years
    growth_minus_one = math.expm1(years * math.log1p(rate))
    return rate * (growth_minus_one + 1.0) / growth_minus_one


def facility_redundancy_factor(usable_frac: float) -> float:
    """Facility capex scale for redundancy: 0.47 + 0.53·(u_ref ÷ u) (EM §7.1 [E]).

    Electrical and mechanical plant (53 % of the C&W cost) scales with installed capacity,
    u_ref = 0.75 is the redundancy implied by the benchmark: N (u = 1) ≈ −13 %, 2N ≈ +27 %.

    Parameters
    ----------
    usable_frac : float
        Usable-capacity fraction u of the redundancy design [fraction 0-1].

    Returns
    -------
    float
        Multiplier of the facility capex benchmark [dimensionless].

    References
    ----------
    docs/model.md, "Capex, upfront"; docs/engineering-model.md §7.1.
    """
    return (1 - CRITICAL_PLANT_SHARE) + CRITICAL_PLANT_SHARE * REFERENCE_USABLE_FRAC / usable_frac


def facility_capex_per_mw(model: Model) -> float:
    """USD of facility capex per MW of IT power, after the redundancy scaling.

    Parameters
    ----------
    model : Model
        The model being built, holding the bound site.

    Returns
    -------
    float
        Facility capex per IT power [USD/MW].

    References
    ----------
    docs/model.md, "Capex, upfront"; docs/engineering-model.md §7.1.
    """
    site = model.bound.site
    economics = site.economics
    factor = (facility_redundancy_factor(site.power.usable_frac)
              if economics.facility_redundancy_scaling else 1.0)
    per_mw = (economics.facility_capex_usd_per_mw
              if economics.facility_capex_usd_per_mw is not None
              else FACILITY_TIERS_USD_PER_MW[economics.facility_tier])
    return per_mw * factor


def define_economics(model: Model) -> None:
    """Annualised cost, opex, TCO, $/GPU-hour and $ per million tokens (EM §7.5).

    - annualised capex = capex_IT·CRF(r_IT, L_IT) + capex_facility·CRF(r_fac, L_fac)
    - energy [MWh/yr] = P_IT,expected·load_factor·PUE_annual·8760;  energy cost = energy·price,
      where P_IT,expected counts each compute rack at its expected (typical) draw whatever
      power.sizing says, and load_factor is the average share of that draw
    - O&M [USD/yr] = om_IT·capex_IT + om_fac·capex_facility
    - opex = energy cost + O&M;  TCO [USD/yr] = annualised capex + opex
    - $/GPU-hour = TCO ÷ (GPUs·8760·utilization)
    - $/M tokens = TCO ÷ (tokens/s·3600·8760·utilization ÷ 10⁶)

    Parameters
    ----------
    model : Model
        The model being built, holding the bound site.

    References
    ----------
    docs/model.md, "Cost per year"; docs/engineering-model.md §7.3-§7.5.
    """
    site = model.bound.site
    economics = site.economics
    fields = model.fields
    facility_capex = fields["cost.capex_breakdown_usd.facility"]
    it_capex = fields["cost.capex_usd"] - facility_capex
    annual_it = capital_recovery_factor(economics.it_cost_of_capital,
                                        economics.it_life_years) * it_capex
    annual_facility = capital_recovery_factor(economics.facility_cost_of_capital,
                                              economics.facility_life_years) * facility_capex
    energy_mwh = (economics.load_factor * site.power.pue_annual * HOURS_PER_YEAR
                  * fields["power_mw.it_expected"])
    energy_cost = economics.electricity_usd_per_mwh * energy_mwh
    operations = (economics.it_om_frac_per_year * it_capex
                  + economics.facility_om_frac_per_year * facility_capex)
    opex = energy_cost + operations
    tco = annual_it + annual_facility + opex
    fields.update({
        "cost.annualised_capex_usd_per_year.it": annual_it,
        "cost.annualised_capex_usd_per_year.facility": annual_facility,
        "cost.opex_breakdown_usd_per_year.energy": energy_cost,
        "cost.opex_breakdown_usd_per_year.operations": operations,
        "cost.opex_usd_per_year": opex,
        "cost.tco_usd_per_year": tco,
        "energy.mwh_per_year": energy_mwh,
    })
    gpu_hours = HOURS_PER_YEAR * economics.utilization * fields["totals.gpus"]
    model.ratios["cost.usd_per_gpu_hour"] = (tco, gpu_hours)
    tokens_per_year = (3600 * HOURS_PER_YEAR * economics.utilization / 1e6
                       * fields["workload.tokens_per_second"])
    model.ratios["cost.usd_per_million_tokens"] = (tco, tokens_per_year)


def define_energy(model: Model) -> None:
    """Carbon and water per year (EM §7.3, §3.3).

    - CO₂ [t/yr] = energy [MWh/yr] · grid intensity [g/kWh] ÷ 1000
    - water [m³/yr] = WUE [L/kWh of IT energy] · P_IT,expected·load_factor·8760 [MWh]
      (L/kWh·MWh = m³)

    Parameters
    ----------
    model : Model
        The model being built, holding the bound site.

    References
    ----------
    docs/model.md, "Energy, carbon, water"; docs/engineering-model.md §3.3, §7.3.
    """
    economics = model.bound.site.economics
    fields = model.fields
    fields["energy.co2_t_per_year"] = economics.grid_co2_g_per_kwh / 1000 \
        * fields["energy.mwh_per_year"]
    it_mwh = economics.load_factor * HOURS_PER_YEAR * fields["power_mw.it_expected"]
    fields["energy.water_m3_per_year"] = economics.water_l_per_kwh * it_mwh


def define_workload(model: Model) -> None:
    """Inference rate and training time over the plan's GPUs (EM §9).

    - tokens/s = Σ tokens_per_s_per_gpu,i · gpu_count_i · n_i · availability, over the SKUs
      whose catalog entry has a reference throughput (with its benchmark conditions)
    - tokens/s per MW = tokens/s ÷ facility MW
    - training days = 6·N·D ÷ (dense PFLOPS(p)·10¹⁵·MFU·goodput) ÷ 86,400

    Parameters
    ----------
    model : Model
        The model being built, holding the bound site.

    References
    ----------
    docs/model.md, "What it delivers"; docs/engineering-model.md §9.
    """
    bound = model.bound
    workload = bound.site.workload
    fields = model.fields
    fields["workload.tokens_per_second"] = workload.availability * total(
        (sku.inference_tokens_per_s_per_gpu or 0.0) * sku.gpu_count * model.rack_vars[sku.id]
        for sku in bound.compute)
    model.ratios["workload.tokens_per_second_per_mw"] = (fields["workload.tokens_per_second"],
                                                        fields["power_mw.facility"])
    if workload.train_params is not None and workload.train_tokens is not None:
        days_at_one_pflops = training_days(workload.train_params, workload.train_tokens, 1.0,
                                           workload.mfu, workload.goodput)
        pflops = fields[f"totals.{workload.train_precision}_dense_pflops"]
        model.ratios["workload.train_days"] = (Expr(const=days_at_one_pflops), pflops)


def training_days(params: float, tokens: float, dense_pflops: float, mfu: float,
                  goodput: float) -> float:
    """6·N·D ÷ (PFLOPS·10¹⁵·MFU·goodput) in days (EM §9.1); the plan's ratio field is this
    at 1 PFLOPS divided by the plan's dense PFLOPS.

    Parameters
    ----------
    params : float
        Model parameters N [count].
    tokens : float
        Training tokens D [count].
    dense_pflops : float
        Dense throughput of the GPUs at the training precision [PFLOPS].
    mfu : float
        Model FLOPS utilisation [fraction 0-1].
    goodput : float
        Share of wall-clock time spent on useful training [fraction 0-1].

    Returns
    -------
    float
        Training time [days].

    References
    ----------
    docs/model.md, "What it delivers"; docs/engineering-model.md §9.1.
    """
    return 6 * params * tokens / (dense_pflops * 1e15 * mfu * goodput) / SECONDS_PER_DAY

