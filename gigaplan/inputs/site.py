"""Site scenarios: strict pydantic models of ``site.toml``, overrides, and ``bind``.

A site describes limits and requirements, never the answer. Every numeric value
takes a number in the unit its key documents or a quantity string (``"1.2 GW"``). Keys a user
writes are short (``power.budget``); inside, attribute names carry their unit
(``budget_mw``). Defaults are the sourced values of engineering-model.md §10; the embedded
default site (``default_site.toml``) documents each with its source.

``bind(site, catalog)`` resolves every SKU reference and reports every problem at once.
"""

from __future__ import annotations

import copy
import difflib
import math
import tomllib
import types
import typing
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from gigaplan.errors import SiteError, validation_problems
from gigaplan.inputs.catalog import (
    Catalog,
    ComputeRack,
    CpuRack,
    Optic,
    StorageRack,
    Switch,
    read_toml,
)
from gigaplan.inputs.distributions import CATALOG_PREFIX, Distribution, parse_distribution
from gigaplan.inputs.requirements import (
    NEEDS_TOKENS,
    NEEDS_TRAINING,
    RACK_FIELD_PREFIX,
    Requirement,
    parse_requirement,
)
from gigaplan.inputs.units import (
    Dimension,
    count_type,
    format_quantity,
    quantity_type,
    shorten,
)
from gigaplan.inputs.values import toml_value
from gigaplan.kinds import OBJECTIVES, PRECISIONS

PowerMW = quantity_type(Dimension.POWER, "MW")
AreaM2 = quantity_type(Dimension.AREA, "m2")
MoneyUSD = quantity_type(Dimension.MONEY, "USD")
Fraction = Annotated[quantity_type(Dimension.FRACTION, ""), Field(ge=0, le=1)]
Count = count_type()
Number = quantity_type(Dimension.COUNT, "")
PBytes = quantity_type(Dimension.DATA, "PB")
GBytesPerS = quantity_type(Dimension.BANDWIDTH, "GB/s")
Objective = Literal[OBJECTIVES]  # type: ignore[valid-type]
Precision = Literal[PRECISIONS]  # type: ignore[valid-type]
Years = quantity_type(Dimension.TIME, "years")
UsdPerMWh = quantity_type(Dimension.MONEY_PER_ENERGY, "USD/MWh")
DEFAULT_SITE_NAME = "(embedded default site)"


# A site, phase or study has a handful of requirements; each is a row of every table and
# a line of output (10,000 took 10 s to render, 100,000 a minute and a half).
MAX_REQUIREMENTS = 1000

class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)


class PowerSection(_Section):
    budget_mw: Annotated[PowerMW, Field(gt=0, le=1e6, alias="budget")]  # at most 1 TW
    basis: Literal["grid", "facility", "it"] = "facility"
    # grid/generation MW per facility MW on basis "grid": firm supply ~ facility x 1.05-1.1 for
    # transients and growth [E]; Abilene 1.34 MW of generation per IT MW / PUE 1.22 = 1.10 [D];
    # islanded generation nameplate runs 1.4-1.5 x facility (Meta Socrates South, Hyperion) [S]
    grid_headroom: Annotated[float, Field(ge=1.0, le=3.0)] = 1.10
    # which rack power sizes the budget: the design load (what a planner signs off on) or
    # the expected draw; energy always uses the expected draw
    sizing: Literal["design", "typical"] = "design"
    pue: Annotated[float, Field(ge=1.0, le=3.0)] = 1.22  # [E] engineering-model §1.4, §10
    pue_annual: Annotated[float, Field(ge=1.0, le=3.0)] = 1.12  # [E] §1.4, §10
    redundancy: Literal["N", "N+1", "2N", "4N/3", "3N/2"] = "N"  # [S/E] §2.3
    redundancy_blocks: Annotated[Count, Field(ge=1, le=1000)] = 4  # N of N+1 [D] §2.2
    headroom_frac: Fraction = 0.0

    @property
    def usable_frac(self) -> float:
        """u_red, the usable share of installed capacity (engineering-model.md §2.2)."""
        return {
            "N": 1.0,
            "N+1": self.redundancy_blocks / (self.redundancy_blocks + 1),
            "2N": 0.5,
            "4N/3": 0.75,
            "3N/2": 2 / 3,
        }[self.redundancy]


class SpaceSection(_Section):
    rack_positions: Annotated[Count, Field(ge=0, le=10**7)] | None = None
    white_space_m2: Annotated[AreaM2, Field(ge=0, le=1e9)] | None = Field(None, alias="white_space")
    area_per_rack_m2: Annotated[AreaM2, Field(gt=0, alias="area_per_rack")] = 3.7  # [S] §4


class CoolingSection(_Section):
    liquid_mw: Annotated[PowerMW, Field(ge=0, le=1e6)] | None = Field(None, alias="liquid")
    air_mw: Annotated[PowerMW, Field(ge=0, le=1e6)] | None = Field(None, alias="air")


# a cable run from a compute rack to its leaf: up and down the two racks (2 x 1.5 m, an
# estimate) plus 0.6 m per rack position crossed (ORv3 / EIA racks are 600 mm wide)
RUN_SLACK_M = 3.0
RACK_PITCH_M = 0.6


class NetworkSection(_Section):
    enabled: bool = True
    switch: str | None = None  # None: the fabric of the compute racks' generation
    optic: str | None = None  # None: the generation's optic, else one matching the switch
    optics: bool = True
    oversubscription: Annotated[float, Field(ge=1.0, le=16.0)] = 1.0
    planes: Annotated[Count, Field(ge=1, le=16)] = 1
    rack_u: Annotated[Count, Field(ge=1, le=100)] = 42
    # link media per fabric tier (docs/model.md, "Link media"): NIC-to-leaf links are copper or
    # AEC where the run from the rack to its leaf allows, else optical; leaf-spine and
    # spine-core links are optical. Leaves sit at the end of the row in NVIDIA's AI-factory
    # layout [P, NVIDIA CPO blog]; a row holds one 8-rack scalable unit [P, DGX SuperPOD RA].
    leaf_placement: Literal["in-rack", "middle-of-row", "end-of-row"] = "end-of-row"
    row_racks: Annotated[Count, Field(ge=1, le=1000)] = 8
    access_media: Literal["auto", "optical", "copper", "aec"] = "auto"
    spine_media: Literal["optical", "copper", "aec"] = "optical"
    core_media: Literal["optical", "copper", "aec"] = "optical"
    # auxiliary networks, sized per GPU as two-tier leaf/spine trees of their switch:
    # front-end (north-south, CPU-converged): 2 x 400 Gb/s per 4-GPU node [P] NVL72 Enterprise RA
    frontend_gbps_per_gpu: Annotated[float, Field(ge=0, le=100_000)] = 200.0
    frontend_switch: str = "spectrum-x-sn5600"
    # storage: 12.5 Gb/s per GPU, the Enterprise RA's storage sizing signal [P]
    storage_gbps_per_gpu: Annotated[float, Field(ge=0, le=100_000)] = 12.5
    storage_switch: str = "spectrum-x-sn5600"
    # out-of-band management: 2 x SN2201 per 72-GPU NVL72 rack [P] NVL72 Enterprise RA, for
    # racks that do not carry their own (management_switch_count in the catalog)
    gpus_per_management_switch: Annotated[float, Field(ge=0, le=100_000)] = 36.0
    management_switch: str = "spectrum-sn2201"

    @property
    def access_run_m(self) -> float:
        """The longest NIC-to-leaf cable run [m] for ``leaf_placement`` (docs/model.md, "Link
        media"): ``RUN_SLACK_M`` of vertical runs plus ``RACK_PITCH_M`` per rack position
        crossed: one (the leaf in the same or the next rack), half the row, or the whole row."""
        crossed = {"in-rack": 1, "middle-of-row": math.ceil(self.row_racks / 2),
                   "end-of-row": self.row_racks}[self.leaf_placement]
        return RUN_SLACK_M + RACK_PITCH_M * crossed


class StorageSection(_Section):
    enabled: bool = True
    rack: str = "storage-rack-qlc"
    pb_per_1000_gpus: Annotated[PBytes, Field(ge=0, le=10_000)] = 10.0  # [D] §6
    read_gb_per_s_per_gpu: Annotated[GBytesPerS, Field(ge=0, le=1_000)] = 0.5  # [D] §6


class CpuSection(_Section):
    enabled: bool = True
    rack: str = "grace-cpu-rack"
    cores_per_gpu: Annotated[Number, Field(ge=0, le=10_000)] = 0.576  # [E] §5.4: 144 cores/250 GPUs
    cores: Annotated[Count, Field(ge=0, le=10**9)] = 0


class ComputeSection(_Section):
    skus: list[str] | None = None
    allow_announced: bool = False
    build_date: date | None = None
    min_racks: dict[str, Annotated[Count, Field(ge=0, le=10**7)]] = Field(default_factory=dict)
    max_racks: dict[str, Annotated[Count, Field(ge=0, le=10**7)]] = Field(default_factory=dict)


class BudgetSection(_Section):
    capex_usd: Annotated[MoneyUSD, Field(ge=0, le=1e15)] | None = Field(None, alias="capex")


FACILITY_TIERS_USD_PER_MW = {"air": 11.7e6, "liquid": 12.7e6, "liquid-generation": 14.7e6}


class EconomicsSection(_Section):
    """Prices, lifetimes, cost of capital, electricity, carbon and water (EM §3.3, §7)."""

    prices_usd: dict[str, Annotated[MoneyUSD, Field(ge=0, le=1e12)]] = Field(
        default_factory=dict, alias="prices")  # overrides catalog price_usd by SKU id
    # facility capex per MW of IT by design tier (docs/model.md, "Capex"): air $11.7M (C&W
    # 2025 average), liquid $12.7M (x 1.085 AI premium, T&T), liquid-generation $14.7M (+$2M
    # owned generation, BESS and substation; $1-3M per MW) [D]; an explicit value overrides
    facility_tier: Literal["air", "liquid", "liquid-generation"] = "liquid"
    facility_capex_usd_per_mw: Annotated[MoneyUSD, Field(ge=0, le=1e10)] | None = Field(
        None, alias="facility_capex_per_mw")
    facility_redundancy_scaling: bool = True  # plant cost scales with installed MW [E] §7.1
    electricity_usd_per_mwh: Annotated[UsdPerMWh, Field(ge=0, le=1e5)] = Field(
        66.0, alias="electricity_price")  # EIA 2023 Texas industrial [P] §7.3
    load_factor: Fraction = 0.8  # average / peak IT power [E] §1.2
    utilization: Annotated[Fraction, Field(gt=0)] = 0.9  # sold GPU-hours [E] §7.5
    # at least 0.01 years (about 4 days): a life of 5e-324 years overflows the annual payment
    it_life_years: Annotated[Years, Field(ge=0.01, le=100)] = Field(5.0, alias="it_life")  # §7.4
    facility_life_years: Annotated[Years, Field(ge=0.01, le=100)] = Field(
        20.0, alias="facility_life")  # MEP 15-20 yr [E/S] §7.4
    it_cost_of_capital: Fraction = 0.10  # [E] §7.5
    facility_cost_of_capital: Fraction = 0.08  # [E] §7.5
    it_om_frac_per_year: Fraction = 0.0  # no sourced default
    facility_om_frac_per_year: Fraction = 0.02  # [E] §7.5 worked example
    grid_co2_g_per_kwh: Annotated[float, Field(ge=0, le=2000)] = Field(
        367.0, alias="grid_co2")  # EIA US average 2023 [P] §7.3
    heat_rejection: Literal["dry", "evaporative"] = "dry"  # 45 C liquid loops, dry coolers §3.3
    wue_l_per_kwh: Annotated[float, Field(ge=0, le=10)] | None = Field(None, alias="wue")

    @property
    def water_l_per_kwh(self) -> float:
        """WUE: site water per IT kWh; dry coolers ~0.05, evaporative ~1.1 L/kWh [S/D] §3.3."""
        if self.wue_l_per_kwh is not None:
            return self.wue_l_per_kwh
        return {"dry": 0.05, "evaporative": 1.1}[self.heat_rejection]


class WorkloadSection(_Section):
    """What the factory delivers: a training run and an inference rate (EM §9)."""

    train_params: Annotated[Number, Field(gt=0, le=1e16)] | None = None
    train_tokens: Annotated[Number, Field(gt=0, le=1e18)] | None = None
    train_precision: Precision = "bf16"  # EM §9.1 worked example
    mfu: Annotated[Fraction, Field(gt=0)] = 0.40  # Llama 3: 38-43% [P/S] §9.1
    goodput: Annotated[Fraction, Field(gt=0)] = 0.90  # Llama 3: >90% effective time §9.1
    availability: Fraction = 0.999  # inference halls [S/E] §9.2


class PhaseSection(_Section):
    """One energization step: by ``date``, ``power`` (cumulative) is available."""

    name: Annotated[str, Field(min_length=1, max_length=80)]
    date: date
    power_mw: Annotated[PowerMW, Field(gt=0, le=1e6)] = Field(alias="power")
    rack_positions: Annotated[Count, Field(ge=0, le=10**7)] | None = None
    white_space_m2: Annotated[AreaM2, Field(ge=0, le=1e9)] | None = Field(None,
                                                                          alias="white_space")
    liquid_mw: Annotated[PowerMW, Field(ge=0, le=1e6)] | None = Field(None, alias="liquid")
    air_mw: Annotated[PowerMW, Field(ge=0, le=1e6)] | None = Field(None, alias="air")
    requirements: list[str] = Field(default_factory=list, max_length=MAX_REQUIREMENTS)


class ScheduleSection(_Section):
    """Lead times and how phases are weighed (EM §8)."""

    # xAI Colossus: 19 days from first rack to training [S] EM §8
    rack_install_days: Annotated[quantity_type(Dimension.TIME, "days"), Field(ge=0, le=3650)] = \
        Field(19.0, alias="rack_install_time")
    # the same 19 days covered the fabric: training needs it [S] EM §8
    network_install_days: Annotated[quantity_type(Dimension.TIME, "days"),
                                    Field(ge=0, le=3650)] = Field(19.0,
                                                                  alias="network_install_time")
    # first power block 12-18 months after notice to proceed [E] EM §8
    facility_build_months: Annotated[quantity_type(Dimension.TIME, "months"),
                                     Field(ge=0, le=240)] = Field(12.0,
                                                                  alias="facility_build_time")
    notice_to_proceed: date | None = None
    horizon_end: date | None = None  # default: first phase + economics.it_life
    objective_over_time: Literal["time_weighted", "final"] = "time_weighted"
    allow_refresh: bool = False  # may racks of an earlier phase be removed later?


class Site(_Section):
    """A whole site scenario; only ``power.budget`` is required."""

    name: str = "site"
    objective: Objective = "fp4"
    requirements: list[str] = Field(default_factory=list, max_length=MAX_REQUIREMENTS)
    power: PowerSection
    space: SpaceSection = SpaceSection()
    cooling: CoolingSection = CoolingSection()
    network: NetworkSection = NetworkSection()
    storage: StorageSection = StorageSection()
    cpu: CpuSection = CpuSection()
    compute: ComputeSection = ComputeSection()
    budget: BudgetSection = BudgetSection()
    economics: EconomicsSection = EconomicsSection()
    workload: WorkloadSection = WorkloadSection()
    schedule: ScheduleSection = ScheduleSection()
    phases: list[PhaseSection] = Field(default_factory=list)
    uncertainty: dict[str, str] = Field(default_factory=dict)  # key -> "uniform(1.1, 1.3)"

    @field_validator("uncertainty")
    @classmethod
    def _distributions_parse(cls, specs: dict[str, str]) -> dict[str, str]:
        for key, text in specs.items():
            try:
                parse_uncertainty(key, text)
            except SiteError as error:
                raise PydanticCustomError("distribution", str(error)) from None
        return specs

    @field_validator("phases")
    @classmethod
    def _phases_in_order(cls, phases: list[PhaseSection], info: ValidationInfo
                         ) -> list[PhaseSection]:
        """Phases are dated in order, never lose power, and fit the site's budget."""
        power, schedule = info.data.get("power"), info.data.get("schedule")
        if power is None or schedule is None:
            return phases  # reported as their own errors
        problems = []
        names = [phase.name for phase in phases]
        for index, phase in enumerate(phases):
            where = f"phases[{index}] ({phase.name!r})"
            if names.count(phase.name) > 1:
                problems.append(f"{where}: name appears more than once")
            if phase.power_mw > power.budget_mw + 1e-9:
                problems.append(f"{where}: power {phase.power_mw:g} MW is above power.budget "
                                f"{power.budget_mw:g} MW")
            if index == 0:
                continue
            before = phases[index - 1]
            if phase.date <= before.date:
                problems.append(f"{where}: date {phase.date} is not after the previous "
                                f"phase's {before.date}")
            if phase.power_mw < before.power_mw:
                problems.append(f"{where}: power {phase.power_mw:g} MW is less than the "
                                f"previous phase's {before.power_mw:g} MW; phase power is "
                                "cumulative")
        if phases and schedule.notice_to_proceed is not None:
            ready = _add_months(schedule.notice_to_proceed, schedule.facility_build_months)
            if phases[0].date < ready:
                problems.append(f"phases[0] ({phases[0].name!r}): date "
                                f"{phases[0].date} is before the facility can be ready: "
                                f"notice_to_proceed {schedule.notice_to_proceed} + "
                                f"facility_build_time {schedule.facility_build_months:g} "
                                f"months = {ready}")
        if phases and schedule.horizon_end is not None and \
                schedule.horizon_end <= phases[-1].date:
            problems.append(f"schedule.horizon_end {schedule.horizon_end} is not after the "
                            f"last phase's date {phases[-1].date}")
        if problems:
            raise PydanticCustomError("phases", "; ".join(problems))
        return phases

    @field_validator("requirements")
    @classmethod
    def _requirements_parse(cls, texts: list[str]) -> list[str]:
        for text in texts:
            try:
                parse_requirement(text)
            except SiteError as error:  # pydantic reports ValueError-like errors only
                raise PydanticCustomError("requirement", str(error)) from None
        return texts

    def resolved(self) -> dict[str, Any]:
        """The fully resolved site, with the keys a user writes.

        Returns
        -------
        dict
            Every site key with its value after defaults, file, ``--set`` and flags.
        """
        return self.model_dump(mode="json", by_alias=True)


def _add_months(start: date, months: float) -> date:
    """``start`` plus ``months`` (a month is a twelfth of 365.25 days)."""
    return start + timedelta(days=round(months * 365.25 / 12))


def default_site_text() -> str:
    """The embedded default site, as the commented TOML ``gigaplan init`` writes.

    Returns
    -------
    str
        The TOML text.
    """
    return (Path(__file__).parent / "default_site.toml").read_text(encoding="utf-8")


# --- loading and overrides ---------------------------------------------------------------


def _known_keys(model: type[BaseModel]) -> dict[str, Any]:
    """User-facing key -> field annotation of ``model``."""
    return {(info.alias or name): info for name, info in model.model_fields.items()}


def _section_model(key: str) -> type[BaseModel] | None:
    info = _known_keys(Site).get(key)
    annotation = getattr(info, "annotation", None)
    is_section = isinstance(annotation, type) and issubclass(annotation, BaseModel)
    return annotation if is_section else None


def site_keys() -> dict[str, bool]:
    """Every settable dotted site key (``power.budget``), and whether it takes a list.

    What ``--set``, ``--vary`` and ``--uncertain`` accept (shell completion offers these) and
    which CSV cells are lists (``compute.skus``). Per-SKU tables (``compute.max_racks.<id>``)
    are given without their SKU part; ``phases`` is a list of tables, set in a file.

    Returns
    -------
    dict of str to bool
        Dotted key to whether its value is a list.
    """
    keys: dict[str, bool] = {}
    for name, info in _known_keys(Site).items():
        section = _section_model(name)
        fields = _known_keys(section).items() if section is not None else [(None, info)]
        for key, field in fields:
            dotted = name if key is None else f"{name}.{key}"
            if dotted == "phases":
                continue
            annotation = field.annotation
            options = (annotation, *typing.get_args(annotation))
            keys[dotted] = any(typing.get_origin(arg) is list or arg is list for arg in options)
    return keys


def check_key(dotted: str, origin: str = "--set") -> None:
    """Raise :class:`SiteError` unless ``dotted`` names a site key (with a suggestion).

    ``origin`` says where the key came from in the message (``--set``, a batch row).

    Parameters
    ----------
    dotted : str
        A dotted site key such as ``power.budget``.
    origin : str, default "--set"
        Where the key came from, named in the message.
    """
    parts = dotted.split(".")
    model: type[BaseModel] = Site
    path: list[str] = []
    for depth, part in enumerate(parts):
        keys = _known_keys(model)
        if part not in keys:
            close = difflib.get_close_matches(part[:100], list(keys), n=1)
            prefix = ".".join(path)
            hint = f"; did you mean {'.'.join([*path, close[0]])}?" if close else ""
            where = f"section [{prefix}]" if prefix else "a site"
            raise SiteError(f"{origin} {shorten(dotted)}: {where} has no key "
                            f"{shorten(part)!r}{hint} (keys: {', '.join(keys)})")
        path.append(part)
        section = _section_model(part) if model is Site else None
        if section is not None:
            model = section
            continue
        rest = parts[depth + 1:]
        dict_field = part in ("min_racks", "max_racks", "prices", "uncertainty")
        if rest and not (dict_field and len(rest) == 1):
            raise SiteError(f"{origin} {shorten(dotted)}: {'.'.join(path)} is a value, not a "
                            "section")
        return
    raise SiteError(f"{origin} {shorten(dotted)}: names a whole section; set one of its keys")


def parse_set(assignment: str) -> tuple[str, Any]:
    """``power.budget=1.5GW`` -> ("power.budget", "1.5GW"); TOML values keep their type.

    Parameters
    ----------
    assignment : str
        ``dotted.key=VALUE``.

    Returns
    -------
    tuple of (str, Any)
        The checked key and its value.
    """
    key, sep, text = assignment.partition("=")
    key = key.strip()
    if not sep or not key:
        raise SiteError(f"--set {shorten(assignment)!r}: expected KEY=VALUE, e.g. "
                        "power.budget=1.5GW")
    check_key(key)
    return key, toml_value(text.strip(), f"--set {key}")  # a bare word or quantity stays a str


def parse_uncertainty(key: str, text: str) -> Distribution:
    """An ``[uncertainty]`` entry: a site key (or ``catalog.<sku-id>.<field>``) and its
    distribution; an error names the key and what would fix it.

    Parameters
    ----------
    key : str
        A site key or ``catalog.<sku-id>.<field>``.
    text : str
        The distribution, such as ``normal(1.2, 0.05)``.

    Returns
    -------
    Distribution
        The parsed distribution.
    """
    if not key.startswith(CATALOG_PREFIX):
        check_key(key, "uncertainty")
    distribution = parse_distribution(key, text)
    if not key.startswith(CATALOG_PREFIX):
        _check_sampleable(key, distribution.kind)
    return distribution


def is_numeric(annotation: Any) -> bool:
    """Whether a field of this annotation holds one number: ``float`` or ``int`` (never
    ``bool``), optional or constrained (``Annotated``) as it may be; a list, a table or a
    string of numbers is not one.

    Parameters
    ----------
    annotation : Any
        A pydantic field annotation.

    Returns
    -------
    bool
        True for a single number.
    """
    if annotation in (float, int):
        return True
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return is_numeric(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        options = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return bool(options) and all(map(is_numeric, options))
    return False


def is_count_key(dotted: str) -> bool:
    """Whether the checked site key ``dotted`` holds a whole number (``space.rack_positions``,
    ``compute.max_racks.<id>``), so a number drawn for it is rounded, as a catalog count is.

    Parameters
    ----------
    dotted : str
        A site key that :func:`check_key` accepts.

    Returns
    -------
    bool
        True for an integer key.
    """
    annotation = _key_annotation(dotted)
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            options = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
            if len(options) != 1:
                return False
            annotation = options[0]
        else:
            return annotation is int


def _key_annotation(dotted: str) -> Any:
    """The annotation of the checked site key ``dotted``; for one entry of a per-SKU table
    (``compute.max_racks.<id>``), the table's value type."""
    parts = dotted.split(".")
    section = _section_model(parts[0])
    model = section if section is not None and len(parts) > 1 else Site
    names = parts[1:] if model is not Site else parts
    annotation = _known_keys(model)[names[0]].annotation
    if len(names) > 1:  # a per-SKU table's entry
        annotation = typing.get_args(annotation)[-1]
    return annotation


def _check_sampleable(key: str, kind: str) -> None:
    """A distribution that draws numbers needs a numeric key; nothing samples the
    ``uncertainty`` table itself or ``phases``."""
    if key.split(".")[0] in ("uncertainty", "phases"):
        raise SiteError(f"uncertainty {key}: cannot itself be uncertain; give a site key "
                        "such as power.pue or catalog.<sku-id>.<field>")
    annotation = _key_annotation(key)
    if kind == "choice" or is_numeric(annotation):
        return
    options = typing.get_args(annotation) if typing.get_origin(annotation) is Literal else ()
    if options:
        hint = f"it is one of {', '.join(map(repr, options))}: pick with choice(...)"
    else:
        section = key.split(".")[0] if "." in key else None
        model = _section_model(section) if section else Site
        numbers = sorted(name for name, info in _known_keys(model).items()
                         if is_numeric(info.annotation)) if model is not None else []
        hint = (f"numeric keys of [{section}]: {', '.join(numbers)}" if section and numbers
                else "sample a numeric key such as power.pue, or pick values with choice(...)")
    raise SiteError(f"uncertainty {key}: {kind}(...) draws numbers and {key} is not a "
                    f"number; {hint}")


def apply_overrides(raw: dict[str, Any], overrides: list[tuple[str, Any]]) -> dict[str, Any]:
    """A copy of ``raw`` with each (dotted key, value) set; later overrides win.

    Parameters
    ----------
    raw : dict
        A site table, as read from TOML.
    overrides : list of tuple of (str, Any)
        (dotted key, value) pairs, applied in order.

    Returns
    -------
    dict
        The overridden copy; ``raw`` is unchanged.
    """
    data = copy.deepcopy(raw)
    for dotted, value in overrides:
        *parents, last = dotted.split(".")
        node = data
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[last] = value
    return data


def load_site(path: str | Path | dict[str, Any] | None = None,
              overrides: list[tuple[str, Any]] | None = None,
              require: list[str] | None = None, *, source: str | None = None
              ) -> tuple[Site, str]:
    """Read a site file (or an inline table, or the embedded default), override, validate.

    ``overrides`` are (dotted key, value) pairs from ``--set`` and flags; ``require`` adds
    requirements to the site's own. Returns the site and the name to use for it in messages.
    Raises :class:`SiteError` that lists every problem as ``FILE: dotted.key: message``.

    Parameters
    ----------
    path : str, pathlib.Path, dict or None, default None
        A site file, an inline site table, or None for the embedded default site.
    overrides : list of tuple of (str, Any) or None, default None
        (dotted key, value) pairs, applied after the file.
    require : list of str or None, default None
        Requirements added to the site's own, such as ``'totals.gpus >= 100000'``.
    source : str or None, default None
        The name used for the site in messages; derived from ``path`` when None.

    Returns
    -------
    tuple of (Site, str)
        The validated site and its name in messages.
    """
    if isinstance(path, dict):
        source = source or "(inline site)"
        raw = path
    elif path is None:
        source = DEFAULT_SITE_NAME
        raw = tomllib.loads(default_site_text())
    else:
        source = str(path)
        raw = read_toml(Path(path), SiteError)
    data = apply_overrides(raw, overrides or [])
    if require:
        existing = data.get("requirements", [])
        data["requirements"] = [*(existing if isinstance(existing, list) else [existing]),
                                *require]
    site = validate_site(data, source)
    if path is None and not any(key == "name" for key, _ in overrides or []):
        # the default site is named by its budget, so a title follows --power/--set
        budget = format_quantity(site.power.budget_mw, Dimension.POWER, "MW")
        site = site.model_copy(update={"name": f"default {budget} AI factory"})
    return site, source


def validate_site(raw: dict[str, Any], source: str) -> Site:
    """A :class:`Site` from a table of site keys; every problem at once as a :class:`SiteError`.

    Parameters
    ----------
    raw : dict
        A table of site keys.
    source : str
        The site's name in messages.

    Returns
    -------
    Site
        The validated site.
    """
    try:
        return Site.model_validate(raw)
    except ValidationError as exc:
        problems = validation_problems(source, exc.errors())
        raise SiteError.listing(problems) from None
    except RecursionError:
        raise SiteError(f"{source}: nesting is too deep") from None


# --- bind --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TierMedia:
    """The link ends of one fabric tier: the unit at each switch end (None: the switch's
    co-packaged optics, no module) and at the NIC end (``nic-leaf`` only; else None)."""

    tier: str  # nic-leaf, leaf-spine or spine-core
    switch_end: Optic | None
    nic_end: Optic | None = None


@dataclass(frozen=True)
class BoundSite:
    """A site with every SKU reference resolved against a catalog."""

    site: Site
    source: str
    compute: tuple[ComputeRack, ...]
    cpu_rack: CpuRack | None
    storage_rack: StorageRack | None
    switch: Switch | None
    optic: Optic | None
    requirements: tuple[Requirement, ...]
    # auxiliary networks: front-end (north-south), storage, out-of-band management
    frontend_switch: Switch | None = None
    storage_switch: Switch | None = None
    management_switch: Switch | None = None
    media: tuple[TierMedia, ...] = ()  # link ends per fabric tier (empty: none counted)
    # (site key, flag) for each key a command-line flag set: ("power.budget", "--power")
    flags: tuple[tuple[str, str], ...] = ()
    # the requirements --require gave, in order: the last ones of ``requirements``
    required: tuple[str, ...] = ()

    def from_require(self, position: int) -> bool:
        """Whether ``requirements[position]`` came from a ``--require`` flag, not the site.

        Parameters
        ----------
        position : int
            An index into :attr:`requirements`.

        Returns
        -------
        bool
            True for the requirements ``--require`` added after the site's own.
        """
        return position >= len(self.requirements) - len(self.required)

    def named(self, key: str) -> str:
        """What the user changes to move site key ``key``: the flag that set it, else the key.

        Parameters
        ----------
        key : str
            A dotted site key, such as ``power.budget``.

        Returns
        -------
        str
            ``--power`` when that flag set ``power.budget``, else ``key`` itself.
        """
        return dict(self.flags).get(key, key)

    @property
    def parts(self) -> list[Any]:
        """Every SKU the site may plan: racks, switches, optics and cables."""
        ends = [sku for tier in self.media for sku in (tier.switch_end, tier.nic_end)]
        chosen = [*self.compute, self.cpu_rack, self.storage_rack, self.switch, self.optic,
                  *ends, self.frontend_switch, self.storage_switch, self.management_switch]
        return list({sku.id: sku for sku in chosen if sku is not None}.values())

    @property
    def rack_ids(self) -> tuple[str, ...]:
        """The ids of every rack the plan may build: compute, then the CPU and storage racks."""
        extra = [sku.id for sku in (self.cpu_rack, self.storage_rack) if sku is not None]
        return (*(sku.id for sku in self.compute), *extra)

    def catalog_ids(self) -> list[str]:
        """The ids of every SKU the site uses, sorted.

        Returns
        -------
        list of str
            The SKU ids.
        """
        return sorted(sku.id for sku in self.parts)


def _repriced(catalog: Catalog, prices: dict[str, float]) -> Catalog:
    """``catalog`` with ``economics.prices`` replacing catalog prices by SKU id."""
    if not prices:
        return catalog
    skus = dict(catalog.skus)
    for sku_id, price in prices.items():
        if sku_id in skus:
            skus[sku_id] = skus[sku_id].model_copy(update={"price_usd": price})
    return Catalog(skus=skus, origin=catalog.origin)


def _available(sku: ComputeRack, compute: ComputeSection) -> str | None:
    """Why ``sku`` cannot be planned at this site, or None when it can."""
    if sku.status == "cancelled":
        return "is cancelled (dropped from the vendor's roadmap); it cannot be planned"
    if sku.status == "announced" and not compute.allow_announced:
        return "is announced, not shipping (set compute.allow_announced = true to plan it)"
    if compute.build_date is not None and sku.available_from > compute.build_date:
        return (f"is available from {sku.available_from}, after compute.build_date "
                f"{compute.build_date}")
    return None


DEFAULT_FABRIC = ("quantum-x800-q3400", "osfp-1.6t-2x800g")  # when no rack names one


def fabric_ids(switch_id: str | None, optic_id: str | None, compute: list[ComputeRack],
               catalog: Catalog) -> tuple[str, str | None]:
    """The scale-out switch and optic a site plans (docs/model.md, "Compute fabric").

    A site that names neither gets the fabric of its compute generation: the ``fabric_switch``
    and ``fabric_optic`` of the rack with the fastest NICs (NVIDIA's reference architectures:
    NDR Quantum-2 for Hopper and GB200, XDR Quantum-X800 for Blackwell Ultra and Rubin). A
    named switch without an optic gets that rack's optic when it pairs with the switch, else
    the catalog's optical module whose port-end speed is the switch's port speed.

    Parameters
    ----------
    switch_id : str or None
        The site's ``network.switch``, or None.
    optic_id : str or None
        The site's ``network.optic``, or None.
    compute : list of ComputeRack
        The compute racks the site allows.
    catalog : Catalog
        The catalog the ids come from.

    Returns
    -------
    tuple of (str, str or None)
        The switch id and the optic id (None when no optic applies).

    References
    ----------
    docs/model.md, "Compute fabric".
    """
    ranked = sorted((sku for sku in compute if sku.fabric_switch),
                    key=lambda sku: (-sku.nic_gbps, sku.id))
    lead = ranked[0] if ranked else None
    if switch_id is None:
        switch_id = lead.fabric_switch if lead and lead.fabric_switch else DEFAULT_FABRIC[0]
        if optic_id is None:
            optic_id = (lead.fabric_optic if lead and lead.fabric_optic else DEFAULT_FABRIC[1])
    if optic_id is None:
        if lead is not None and lead.fabric_switch == switch_id and lead.fabric_optic:
            return switch_id, lead.fabric_optic
        switch = catalog.skus.get(switch_id)
        speed = getattr(switch, "port_gbps", None)
        matching = [sku.id for sku in catalog.of_kind("optic")
                    if getattr(sku, "media", "") == "optical" and sku.gbps_per_end == speed]
        optic_id = matching[0] if matching else None
    return switch_id, optic_id


MEDIA_KEYS = (("nic-leaf", "access_media"), ("leaf-spine", "spine_media"),
              ("spine-core", "core_media"))


def cable_for(catalog: Catalog, kinds: tuple[str, ...], rate_gbps: float,
              run_m: float | None) -> Optic | None:
    """The catalog cable of media ``kinds`` that serves ``rate_gbps`` ports over ``run_m``
    metres (None: any reach) with the least power per port-end, then price, then id.

    Parameters
    ----------
    catalog : Catalog
        The catalog to choose from.
    kinds : tuple of str
        Media accepted (``copper``, ``aec``).
    rate_gbps : float
        The switch port rate [Gb/s].
    run_m : float or None
        The cable run to reach [m], or None.

    Returns
    -------
    Optic or None
        The cable, or None when none fits.
    """
    fits = [sku for sku in catalog.of_kind("optic")
            if isinstance(sku, Optic) and sku.media in kinds
            and sku.gbps_per_end >= rate_gbps - 1e-9
            and (run_m is None or (sku.reach_m is not None and sku.reach_m >= run_m - 1e-9))]
    return min(fits, key=lambda sku: (sku.power_w / sku.ends_at(rate_gbps),
                                      sku.price_usd / sku.ends_at(rate_gbps), sku.id),
               default=None)


def link_media(network: NetworkSection, switch: Switch, optic: Optic | None,
               catalog: Catalog, source: str) -> tuple[tuple[TierMedia, ...], list[str]]:
    """The link ends of each fabric tier (docs/model.md, "Link media"), and any problems.

    ``nic-leaf`` follows ``access_media``: ``auto`` takes the least-power copper or AEC cable
    of the catalog whose reach covers :attr:`NetworkSection.access_run_m`, else optics;
    ``leaf-spine`` and ``spine-core`` follow ``spine_media`` and ``core_media`` (optical by
    default). An optical end is ``network.optic``; the switch end of an optical link to a
    co-packaged-optics switch has no module. Copper and AEC cannot plug into co-packaged
    (fibre) ports.

    Parameters
    ----------
    network : NetworkSection
        The site's network section.
    switch : Switch
        The fabric switch.
    optic : Optic or None
        The optical module (``network.optic``), None when no optics are counted.
    catalog : Catalog
        The catalog cables come from.
    source : str
        The site's name in messages.

    Returns
    -------
    tuple of (tuple of TierMedia, list of str)
        One entry per tier, and the problems found.

    References
    ----------
    docs/model.md, "Link media"; NVIDIA LinkX 100G-PAM4 overview (reach and power per end).
    """
    if optic is None:
        return (), []
    problems: list[str] = []
    media = []
    cpo = switch.co_packaged_optics
    for tier, key in MEDIA_KEYS:
        choice = getattr(network, key)
        run_m = network.access_run_m if tier == "nic-leaf" else None
        cable = None
        if choice in ("copper", "aec"):
            if cpo:
                problems.append(f"{source}: network.{key}: {choice!r} cannot plug into the "
                                f"co-packaged optical ports of {switch.id!r}; use \"optical\"")
                continue
            cable = cable_for(catalog, (choice,), switch.port_gbps, run_m)
            if cable is None:
                reach = f" over the {run_m:g} m run of leaf_placement = " \
                        f"{network.leaf_placement!r}" if run_m is not None else ""
                problems.append(f"{source}: network.{key}: no {choice} cable in the catalog "
                                f"serves {switch.port_gbps:g} Gb/s ports{reach}; use "
                                "\"optical\" or add one")
                continue
        elif choice == "auto" and not cpo:
            cable = cable_for(catalog, ("copper", "aec"), switch.port_gbps, run_m)
        if cable is not None:
            media.append(TierMedia(tier, cable, cable if tier == "nic-leaf" else None))
        else:
            media.append(TierMedia(tier, None if cpo else optic,
                                   optic if tier == "nic-leaf" else None))
    return tuple(media), problems


def least_support_kw(site: Site, sku: ComputeRack, switch: Switch, cpu_rack: CpuRack | None,
                     storage_rack: StorageRack | None, auxiliary: dict[str, Switch | None]
                     ) -> float:
    """The least IT power [kW] one rack of ``sku`` brings beside its own, whatever the plan:
    its share of fabric switches, CPU pool, storage and auxiliary switches before rounding up.

    Non-blocking at oversubscription ``o``, a NIC of ``g`` Gb/s takes at least ``g·(1 + 1/o)``
    of leaf capacity and ``g/o`` of spine capacity in any plane count and shape, so at least
    ``g·(2 + o) ÷ (o·port_count·port_gbps)`` switches; the CPU pool, storage and auxiliary
    networks are linear per GPU (docs/model.md). Link ends are left out (a lower bound).

    Parameters
    ----------
    site : Site
        The validated site.
    sku : ComputeRack
        The compute rack.
    switch : Switch
        The fabric switch.
    cpu_rack : CpuRack or None
        The CPU pool's rack, None when disabled.
    storage_rack : StorageRack or None
        The storage rack, None when disabled.
    auxiliary : dict of str to Switch or None
        ``frontend_switch``, ``storage_switch`` and ``management_switch``.

    Returns
    -------
    float
        Power [kW], a lower bound.

    References
    ----------
    docs/model.md, "Compute fabric" (planes).
    """
    network, gpus = site.network, sku.gpu_count
    ratio = network.oversubscription
    capacity = switch.port_count * switch.port_gbps
    kw = sku.nic_count * sku.nic_gbps * (2 + ratio) / (ratio * capacity) * switch.power_w / 1000
    if cpu_rack is not None:
        kw += site.cpu.cores_per_gpu * gpus / cpu_rack.cpu_core_count * cpu_rack.power_kw
    if storage_rack is not None:
        kw += max(site.storage.pb_per_1000_gpus / 1000 * gpus / storage_rack.capacity_pb,
                  site.storage.read_gb_per_s_per_gpu * gpus / storage_rack.read_gb_per_s
                  ) * storage_rack.power_kw
    for key, share in (("frontend_switch", network.frontend_gbps_per_gpu),
                       ("storage_switch", network.storage_gbps_per_gpu)):
        aux = auxiliary.get(key)
        if aux is not None and share > 0:
            kw += 3 * share * gpus / (aux.port_count * aux.port_gbps) \
                * aux.power_with_optics_w / 1000
    aux = auxiliary.get("management_switch")
    if aux is not None and network.gpus_per_management_switch > 0 \
            and not sku.management_switch_count:
        kw += gpus / network.gpus_per_management_switch * aux.power_with_optics_w / 1000
    return kw


def fabric_planes(site: Site, switch: Switch, compute: list[ComputeRack],
                  support_kw: dict[str, float] | None = None) -> int:
    """The fewest fabric planes (1, 2, 4, ...) whose non-blocking 3-tier fat trees connect every
    GPU the budget (and ``compute.max_racks``) could feed, when the site sets neither
    ``network.planes`` nor ``network.switch`` (a named switch is the user's design). A rack
    takes at least its own power plus ``support_kw`` (:func:`least_support_kw`).

    A plane of radix k holds k³/4 endpoints (Al-Fares et al., SIGCOMM 2008); splitting each NIC
    across p planes runs the switch ports at 1/p of the NIC speed, so the radix grows p-fold
    while the switch count stays the same (NVIDIA's multi-plane, rail-optimised designs). A
    64-port NDR switch holds 65,536 400G GPUs in one plane; 2 planes of 200G hold 524,288.

    Parameters
    ----------
    site : Site
        The validated site.
    switch : Switch
        The fabric switch.
    compute : list of ComputeRack
        The compute racks the site allows.
    support_kw : dict of str to float or None, default None
        Per compute SKU id, the least power its rack brings beside its own [kW].

    Returns
    -------
    int
        Fabric planes [count], a power of two.

    References
    ----------
    docs/model.md, "Compute fabric"; docs/engineering-model.md, §5.3 "Fat-tree sizing
    formulas".
    """
    power = site.power
    factor = {"grid": power.grid_headroom * power.pue, "facility": power.pue,
              "it": 1.0}[power.basis]
    cap_kw = power.budget_mw * power.usable_frac * (1 - power.headroom_frac) * 1000 / factor
    racks = [sku for sku in compute if sku.nic_count > 0]
    if not racks:
        return 1
    limits = site.compute.max_racks
    support_kw = support_kw or {}
    endpoints = sum(sku.nic_count * min(
        cap_kw / (sku.sizing_kw(power.sizing) + support_kw.get(sku.id, 0.0)),
        limits.get(sku.id, math.inf)) for sku in racks)
    slowest = min(sku.nic_gbps for sku in racks)
    planes = 1
    while planes < 16:
        rate = min(switch.port_gbps, slowest / planes)
        radix = int(switch.port_count * switch.port_gbps / rate + 1e-9)
        if radix ** 3 / 4 >= endpoints:
            break
        planes *= 2
    return planes


def bind(site: Site, catalog: Catalog, source: str = "site.toml") -> BoundSite:
    """Resolve every reference of ``site`` in ``catalog``; raise one error listing all problems.

    Parameters
    ----------
    site : Site
        The validated site.
    catalog : Catalog
        The catalog its SKU ids refer to.
    source : str, default "site.toml"
        The site's name in messages.

    Returns
    -------
    BoundSite
        The site with its SKUs resolved.
    """
    problems: list[str] = []

    def resolve(key: str, sku_id: str, cls: type) -> Any:
        if sku_id not in catalog:
            problems.append(f"{source}: {key}: unknown SKU id {shorten(sku_id)!r}"
                            f"{catalog.suggest(sku_id)}")
            return None
        sku = catalog.get(sku_id)
        if not isinstance(sku, cls):
            problems.append(f"{source}: {key}: {sku_id!r} is a {sku.kind}, expected a "
                            f"{cls.kind_label}")
            return None
        return sku

    for sku_id in site.economics.prices_usd:
        if sku_id not in catalog:
            problems.append(f"{source}: economics.prices.{shorten(sku_id)}: unknown SKU id "
                            f"{shorten(sku_id)!r}{catalog.suggest(sku_id)}")
    catalog = _repriced(catalog, site.economics.prices_usd)
    compute: list[ComputeRack] = []
    if site.compute.skus is None:
        for sku in catalog.of_kind("compute_rack"):
            if _available(sku, site.compute) is None:  # type: ignore[arg-type]
                compute.append(sku)  # type: ignore[arg-type]
        if not compute:
            problems.append(f"{source}: compute.skus: no compute rack in the catalog is "
                            "available at this site")
    else:
        if not site.compute.skus:
            problems.append(f"{source}: compute.skus: list at least one compute rack SKU")
        for index, sku_id in enumerate(site.compute.skus):
            sku = resolve(f"compute.skus[{index}]", sku_id, ComputeRack)
            if sku is None:
                continue
            why = _available(sku, site.compute)
            if why:
                problems.append(f"{source}: compute.skus[{index}]: {sku_id!r} {why}")
            elif sku not in compute:
                compute.append(sku)
    compute.sort(key=lambda sku: sku.id)
    if site.objective == "tokens" and compute and not any(
            sku.inference_tokens_per_s_per_gpu for sku in compute):
        problems.append(f"{source}: objective: 'tokens' needs a compute rack with an inference "
                        "reference throughput (inference_tokens_per_s_per_gpu) in the catalog")
    ids = {sku.id for sku in compute}
    for table in ("min_racks", "max_racks"):
        for sku_id in getattr(site.compute, table):
            if sku_id not in ids:
                problems.append(f"{source}: compute.{table}.{sku_id}: not one of the compute "
                                f"racks planned here ({', '.join(sorted(ids)) or 'none'})")
    for sku_id, low in site.compute.min_racks.items():
        high = site.compute.max_racks.get(sku_id)
        if high is not None and low > high:
            problems.append(f"{source}: compute.min_racks.{sku_id}: {low} is above "
                            f"compute.max_racks.{sku_id} = {high}")

    cpu_rack = resolve("cpu.rack", site.cpu.rack, CpuRack) if site.cpu.enabled else None
    storage_rack = (resolve("storage.rack", site.storage.rack, StorageRack)
                    if site.storage.enabled else None)
    network = site.network
    switch_id, optic_id = fabric_ids(network.switch, network.optic, compute, catalog)
    switch = resolve("network.switch", switch_id, Switch) if network.enabled else None
    optic = (resolve("network.optic", optic_id, Optic)
             if network.enabled and network.optics and optic_id is not None else None)
    if network.enabled and network.optics and optic_id is None and switch is not None:
        problems.append(f"{source}: network.optic: no optic in the catalog serves "
                        f"{switch.port_gbps:g} Gb/s ports of {switch.id!r}; name one")
    media: tuple[TierMedia, ...] = ()
    if switch is not None and network.enabled and network.optics:
        media, found = link_media(network, switch, optic, catalog, source)
        problems.extend(found)
    auxiliary = {}
    for key, share in (("frontend_switch", network.frontend_gbps_per_gpu),
                       ("storage_switch", network.storage_gbps_per_gpu),
                       ("management_switch", network.gpus_per_management_switch)):
        auxiliary[key] = (resolve(f"network.{key}", getattr(network, key), Switch)
                          if network.enabled and share > 0 else None)
    if switch is not None and network.switch is None and "planes" not in network.model_fields_set:
        support = {sku.id: least_support_kw(site, sku, switch, cpu_rack, storage_rack, auxiliary)
                   for sku in compute}
        planes = fabric_planes(site, switch, compute, support)
        if planes != network.planes:
            network = network.model_copy(update={"planes": planes})
            site = site.model_copy(update={"network": network})

    rack_ids = tuple(sorted(ids | {sku.id for sku in (cpu_rack, storage_rack) if sku}))
    requirements: list[Requirement] = []
    for key, text in ((f"requirements[{i}]", t) for i, t in enumerate(site.requirements)):
        try:
            requirement = parse_requirement(text, rack_ids)
        except SiteError as error:
            problems.append(f"{source}: {key}: {error}")
            continue
        if requirement.field.startswith(RACK_FIELD_PREFIX) and \
                requirement.field.removeprefix(RACK_FIELD_PREFIX) not in rack_ids:
            problems.append(f"{source}: {key}: {text!r}: no rack {requirement.field!r} is "
                            f"planned here; racks: {', '.join(rack_ids)}")
            continue
        workload = site.workload
        if requirement.field in NEEDS_TRAINING and (workload.train_params is None
                                                   or workload.train_tokens is None):
            problems.append(f"{source}: {key}: {text!r}: set workload.train_params and "
                            "workload.train_tokens (or --train-params/--train-tokens) first")
            continue
        if requirement.field in NEEDS_TOKENS and not any(
                sku.inference_tokens_per_s_per_gpu for sku in compute):
            problems.append(f"{source}: {key}: {text!r}: no compute rack planned here has an "
                            "inference reference throughput in the catalog")
            continue
        requirements.append(requirement)

    if problems:
        raise SiteError.listing(problems)
    return BoundSite(site=site, source=source, compute=tuple(compute), cpu_rack=cpu_rack,
                     storage_rack=storage_rack, switch=switch, optic=optic,
                     requirements=tuple(requirements), media=media, **auxiliary)
