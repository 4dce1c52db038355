"""Hardware catalog: strict pydantic models of SKUs, and loading/merging catalog files.

A catalog file is TOML with one ``[[sku]]`` table per SKU. Every entry must cite ``sources``;
each value that is not a vendor datasheet figure is named in the entry's ``estimates`` list,
and where sources disagree the entry keeps the range in ``ranges`` and says why it chose its
value in ``notes``. Keys carry their unit (``power_kw``, ``price_usd``, ``hbm_gb_per_gpu``);
tensor throughput is stored dense, per GPU.

The bundled catalog is read first; each ``--catalog FILE`` then adds SKUs or replaces bundled
ones by id. Catalog files are read as data only, never executed.
"""

from __future__ import annotations

import difflib
import functools
import tomllib
import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from gigaplan.errors import CatalogError, InputError, validation_problems
from gigaplan.inputs.files import decode, read_bytes
from gigaplan.inputs.units import shorten

SkuId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=80)]
Fraction = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
PositiveCount = Annotated[int, Field(gt=0, le=10**7)]
Count = Annotated[int, Field(ge=0, le=10**7)]



def _is_number(annotation: Any) -> bool:
    """Whether a field holds a number (``float``, ``int``, optional or constrained)."""
    if annotation in (float, int):
        return True
    args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _is_number(args[0])
    return origin in (typing.Union, types.UnionType) and len(args) == 1 and _is_number(args[0])


class Sku(BaseModel):
    """Fields every SKU has: identity, availability, price and provenance."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)
    kind_label: ClassVar[str] = ""

    id: SkuId
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    vendor: str = ""
    status: Literal["shipping", "announced", "cancelled"]
    available_from: date
    price_usd: NonNegative
    sources: Annotated[list[Annotated[str, StringConstraints(min_length=1)]], Field(min_length=1)]
    estimates: list[str] = Field(default_factory=list)
    ranges: dict[str, tuple[float, float]] = Field(default_factory=dict)
    notes: str = ""

    @model_validator(mode="after")
    def _provenance_names_fields(self) -> Sku:
        numeric = {name for name, info in type(self).model_fields.items()
                   if _is_number(info.annotation)}
        for listed in (*self.estimates, *self.ranges):
            if listed not in numeric:
                raise ValueError(f"estimates/ranges name {listed!r}, which is not a numeric field "
                                 f"of a {self.kind_label}")
        for key, (low, high) in self.ranges.items():
            if low > high:
                raise ValueError(f"ranges.{key}: low {low} is above high {high}")
        return self

    def estimate_ranges(self) -> dict[str, tuple[float, float]]:
        """The low-high range of every estimated field that has one (montecarlo samples these).

        Returns
        -------
        dict of str to tuple of (float, float)
            Field name to its (low, high) range, in the field's own unit.
        """
        return {name: self.ranges[name] for name in self.estimates if name in self.ranges}


class ComputeRack(Sku):
    """A rack of GPUs, e.g. a GB300 NVL72 (72 GPUs, 36 Grace CPUs, up to 142 kW).

    ``power_kw`` is the electrical design load (the maximum a planner signs off on);
    ``power_typical_kw`` the expected draw under training (None: the design load). NICs and
    DPUs (``nic``, ``dpu``, ``dpu_count``) are fed from the rack's shelves, so they are inside
    ``power_kw``, and so are the ``management_switch_count`` out-of-band switches the rack
    carries (an NVL72 rack holds two SN2201, fed from its busbar). ``fabric_switch`` and
    ``fabric_optic`` name the scale-out fabric NVIDIA's reference architectures pair with the
    rack's generation (a site's default fabric).
    """

    kind_label: ClassVar[str] = "compute_rack"
    kind: Literal["compute_rack"]
    gpu_count: PositiveCount
    cpu_count: Count
    cpu_core_count: Count
    power_kw: Positive
    power_typical_kw: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    fp4_dense_pflops_per_gpu: NonNegative
    fp8_dense_pflops_per_gpu: NonNegative
    bf16_dense_pflops_per_gpu: NonNegative
    tf32_dense_pflops_per_gpu: NonNegative
    fp64_dense_pflops_per_gpu: NonNegative
    hbm_gb_per_gpu: Positive
    nic_count: Count
    nic_gbps: Positive
    nic: SkuId | None = None
    dpu: SkuId | None = None
    dpu_count: Count = 0
    management_switch_count: Count = 0
    fabric_switch: SkuId | None = None
    fabric_optic: SkuId | None = None
    liquid_frac: Fraction
    footprint_m2: Positive
    mass_kg: Positive
    inference_tokens_per_s_per_gpu: float | None = Field(None, ge=0, allow_inf_nan=False)
    inference_benchmark: str = ""

    @property
    def expected_kw(self) -> float:
        """The expected draw: ``power_typical_kw`` (at most the design load), or the design load
        when none is given."""
        if self.power_typical_kw is None:
            return self.power_kw
        return min(self.power_typical_kw, self.power_kw)

    def sizing_kw(self, sizing: str) -> float:
        """The power that sizes the electrical budget: design load or expected draw.

        Parameters
        ----------
        sizing : str
            ``"design"`` for the design load; any other value (``"typical"``) for the expected draw.

        Returns
        -------
        float
            Rack power [kW].

        References
        ----------
        docs/model.md, "Compute" (``power.sizing``).
        """
        return self.power_kw if sizing == "design" else self.expected_kw

    def dense_pflops(self, precision: str) -> float:
        """Dense PFLOPS of the whole rack at ``precision``.

        Parameters
        ----------
        precision : str
            ``fp4``, ``fp8``, ``bf16``, ``tf32`` or ``fp64``.

        Returns
        -------
        float
            Dense throughput of the rack [PFLOPS].
        """
        return self.gpu_count * getattr(self, f"{precision}_dense_pflops_per_gpu")


class CpuRack(Sku):
    """A rack of CPU servers for data preparation, orchestration and management."""

    kind_label: ClassVar[str] = "cpu_rack"
    kind: Literal["cpu_rack"]
    cpu_count: PositiveCount
    cpu_core_count: PositiveCount
    memory_gb: NonNegative = 0.0
    power_kw: Positive
    liquid_frac: Fraction
    footprint_m2: Positive
    mass_kg: Positive


class StorageRack(Sku):
    """A rack of storage servers: usable capacity and sustained read bandwidth."""

    kind_label: ClassVar[str] = "storage_rack"
    kind: Literal["storage_rack"]
    capacity_pb: Positive
    read_gb_per_s: Positive
    power_kw: Positive
    liquid_frac: Fraction
    footprint_m2: Positive
    mass_kg: Positive


class PoweredPart(Sku):
    """A networking part that draws ``power_w`` typically and ``power_max_w`` at most (its
    nameplate; None when not published); switches and NICs share these fields."""

    power_w: Positive
    power_max_w: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None


class Switch(PoweredPart):
    """A fabric switch; ``power_w`` is the typical chassis draw without optics, ``power_max_w``
    the maximum with optics in every cage (a nameplate). A ``co_packaged_optics`` switch
    (Quantum-X / Spectrum-X Photonics) carries its ports' optics on the package: its link ends
    need no pluggable module and their power is inside ``power_w``."""

    kind_label: ClassVar[str] = "switch"
    kind: Literal["switch"]
    port_count: PositiveCount
    port_gbps: Positive
    height_u: PositiveCount
    liquid_frac: Fraction
    co_packaged_optics: bool = False

    @property
    def power_with_optics_w(self) -> float:
        """The draw of a switch sized with its optics: the maximum, else the chassis."""
        return self.power_max_w if self.power_max_w is not None else self.power_w


class Optic(Sku):
    """A link end: a pluggable optical module, a cable end (copper, AEC) or a co-packaged port,
    serving ``port_end_count`` port-ends of ``gbps_per_end``."""

    kind_label: ClassVar[str] = "optic"
    kind: Literal["optic"]
    port_end_count: PositiveCount
    gbps_per_end: Positive
    power_w: NonNegative
    power_max_w: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    media: Literal["optical", "copper", "aec", "cpo"] = "optical"
    reach_m: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None

    def ends_at(self, rate_gbps: float) -> int:
        """Port-ends one unit serves at ``rate_gbps``: a split module or cable serves every
        slower end (an 800G twin-port module runs 4 x 200G at the same 17 W, LinkX datasheet).

        Parameters
        ----------
        rate_gbps : float
            The port rate it serves [Gb/s].

        Returns
        -------
        int
            Port-ends per unit [count].
        """
        return self.port_end_count * max(1, int(self.gbps_per_end // rate_gbps + 1e-9))


class Nic(PoweredPart):
    """A network adapter or DPU; it is powered from the compute rack that holds it."""

    kind_label: ClassVar[str] = "nic"
    kind: Literal["nic"]
    gbps: Positive
    dpu: bool = False


SKU_CLASSES: dict[str, type[Sku]] = {
    cls.kind_label: cls for cls in (ComputeRack, CpuRack, StorageRack, Switch, Optic, Nic)
}
KINDS = tuple(SKU_CLASSES)


@dataclass(frozen=True)
class Catalog:
    """SKUs by id, and the file each came from."""

    skus: dict[str, Sku]
    origin: dict[str, str] = field(default_factory=dict)

    def __contains__(self, sku_id: str) -> bool:
        return sku_id in self.skus

    def get(self, sku_id: str) -> Sku:
        """The SKU ``sku_id``; an unknown id is an input error that suggests the closest ids.

        Parameters
        ----------
        sku_id : str
            The SKU's id.

        Returns
        -------
        Sku
            The catalog entry.

        Raises
        ------
        CatalogError
            When no SKU has that id.
        """
        if sku_id in self.skus:
            return self.skus[sku_id]
        raise CatalogError(f"unknown SKU id {shorten(sku_id)!r}{self.suggest(sku_id)}")

    def suggest(self, sku_id: str) -> str:
        """``; did you mean ...?`` naming up to three close SKU ids, or an empty string.

        Parameters
        ----------
        sku_id : str
            An id the catalog does not hold.

        Returns
        -------
        str
            The suggestion, or ``""`` when no id is close.
        """
        close = difflib.get_close_matches(sku_id[:100], sorted(self.skus), n=3, cutoff=0.4)
        return f"; did you mean {', '.join(close)}?" if close else ""

    def of_kind(self, kind: str) -> list[Sku]:
        """The SKUs of one kind (``compute_rack``, ``switch``, ...), sorted by id.

        Parameters
        ----------
        kind : str
            The SKU kind, such as ``compute_rack`` or ``switch``.

        Returns
        -------
        list of Sku
            The SKUs of that kind.
        """
        return [sku for sku_id, sku in sorted(self.skus.items()) if sku.kind == kind]

    def sorted(self) -> list[Sku]:
        """Every SKU, sorted by id.

        Returns
        -------
        list of Sku
            The catalog's entries.
        """
        return [self.skus[sku_id] for sku_id in sorted(self.skus)]


def bundled_catalog_paths() -> list[Path]:
    """The catalog files that ship with gigaplan (package data, or the source tree).

    Returns
    -------
    list of pathlib.Path
        The bundled catalog TOML files.
    """
    package = Path(__file__).resolve().parent.parent
    for folder in (package / "catalogs", package.parent / "catalogs"):
        if folder.is_dir():
            return sorted(folder.glob("*.toml"))
    raise CatalogError("the bundled catalog is missing from the installation; reinstall gigaplan")


def read_text(path: Path, error: type[InputError]) -> str:
    """A UTF-8 text file's content; every way reading can fail is a one-line input error.

    Only a regular file is read (never a FIFO or a device), and at most
    :data:`~gigaplan.inputs.files.MAX_FILE_BYTES`.

    Parameters
    ----------
    path : pathlib.Path
        The file to read.
    error : type of InputError
        The error class raised on failure (``CatalogError`` or ``SiteError``).

    Returns
    -------
    str
        The decoded text.
    """
    return decode(read_bytes(path, error, kind="TOML file"), str(path), error, "text file")


def loads_toml(text: str, name: str | Path, error: type[InputError]) -> dict[str, Any]:
    """Parse TOML ``text`` (read from ``name``) as data; a failure is a one-line input error.

    Parameters
    ----------
    text : str
        TOML text.
    name : str or pathlib.Path
        Where the text came from, named in errors.
    error : type of InputError
        The error class raised on failure.

    Returns
    -------
    dict
        The parsed document.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{name}: TOML syntax error: {exc}") from None
    except RecursionError:
        raise error(f"{name}: TOML nesting is too deep") from None
    except ValueError:  # int() refuses more than sys.get_int_max_str_digits() digits
        raise error(f"{name}: an integer has more than {MAX_DIGITS:,} digits; no gigaplan "
                    "value needs that") from None
    if _depth(data) > MAX_DEPTH:
        raise error(f"{name}: tables and arrays are nested more than {MAX_DEPTH} levels deep; "
                    "no gigaplan file needs that")
    return data


def read_toml(path: Path, error: type[InputError]) -> dict[str, Any]:
    """Read a TOML file as data; every way it can fail is a one-line input error.

    Parameters
    ----------
    path : pathlib.Path
        The TOML file.
    error : type of InputError
        The error class raised on failure.

    Returns
    -------
    dict
        The parsed document.
    """
    return loads_toml(read_text(path, error), path, error)


MAX_DEPTH = 32
MAX_DIGITS = 4300  # Python's default int/str conversion limit (sys.get_int_max_str_digits)


def nested_too_deeply(data: Any, levels: int = MAX_DEPTH) -> bool:
    """Whether tables and arrays in ``data`` nest more than ``levels`` deep (checked without
    recursion, so any input is safe; deeper data would exhaust the recursion of later steps).

    Parameters
    ----------
    data : Any
        Parsed TOML or JSON.
    levels : int, default MAX_DEPTH
        Deepest nesting allowed [count].

    Returns
    -------
    bool
        True when ``data`` nests deeper than ``levels``.
    """
    return _depth(data, levels) > levels


def _depth(data: Any, limit: int = MAX_DEPTH) -> int:
    """How deeply tables and arrays nest, up to ``limit + 1`` (without recursion, so any
    input is safe)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if level > limit:
            break
        children = node.values() if isinstance(node, dict) else node \
            if isinstance(node, list) else ()
        stack.extend((child, level + 1) for child in children
                     if isinstance(child, dict | list))
    return deepest


def parse_entries(source: str, data: dict[str, Any]) -> tuple[list[Sku], list[str]]:
    """Validate every ``[[sku]]`` entry of one file; return the SKUs and every problem found.

    Parameters
    ----------
    source : str
        The file the data came from, named in each problem.
    data : dict
        The parsed catalog file.

    Returns
    -------
    tuple of (list of Sku, list of str)
        The valid SKUs and one line per problem.
    """
    problems: list[str] = []
    for key in data:
        if key != "sku":
            problems.append(f"{source}: {key}: unknown top-level key; a catalog holds [[sku]] "
                            "tables only")
    entries = data.get("sku", [])
    if not isinstance(entries, list):
        return [], [*problems, f"{source}: sku: expected [[sku]] tables"]
    skus: list[Sku] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        label = f"sku[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{source}: {label}: expected a table")
            continue
        if isinstance(entry.get("id"), str) and entry["id"]:
            label = f"sku.{entry['id']}"
        kind = entry.get("kind")
        cls = SKU_CLASSES.get(kind) if isinstance(kind, str) else None
        if cls is None:
            problems.append(f"{source}: {label}.kind: expected one of {', '.join(KINDS)}, "
                            f"got {entry.get('kind')!r}")
            continue
        try:
            sku = cls.model_validate(entry)
        except ValidationError as exc:
            problems.extend(validation_problems(source, exc.errors(), (label,)))
            continue
        if sku.id in seen:
            first = seen[sku.id]
            problems.append(f"{source}: {label}: duplicate id (first defined at sku[{first}])")
            continue
        seen[sku.id] = index
        skus.append(sku)
    return skus, problems


def load_catalog(extra: Sequence[str | Path] = (), *, bundled: bool = True,
                 texts: Sequence[tuple[str, str]] = ()) -> Catalog:
    """The bundled catalog, then each file of ``extra`` adding or overriding SKUs by id.

    ``texts`` are catalog files already read, as ``(name, TOML text)`` pairs (what a task
    carries to a worker that has none of the client's files); they come after ``extra``.
    Raises :class:`CatalogError` listing every problem in every file at once.

    Parameters
    ----------
    extra : sequence of str or pathlib.Path, default ()
        User catalog files, applied in order.
    bundled : bool, default True
        Start from the bundled catalog; an empty one when False.
    texts : sequence of tuple of (str, str), default ()
        Catalog files already read, as (name, TOML text).

    Returns
    -------
    Catalog
        The merged, validated catalog.

    References
    ----------
    docs/catalog.md, "Format".
    """
    paths = [*(bundled_catalog_paths() if bundled else []), *map(Path, extra)]
    skus: dict[str, Sku] = {}
    origin: dict[str, str] = {}
    problems: list[str] = []
    files: list[tuple[str, Path | None, str | None]] = [(str(path), path, None)
                                                        for path in paths]
    files += [(name, None, text) for name, text in texts]
    for name, path, text in files:
        try:
            data = read_toml(path, CatalogError) if path is not None else \
                loads_toml(text or "", name, CatalogError)
        except CatalogError as exc:
            problems.extend(exc.problems)
            continue
        entries, file_problems = parse_entries(name, data)
        problems.extend(file_problems)
        for sku in entries:
            skus[sku.id] = sku
            origin[sku.id] = name
    if problems:
        raise CatalogError.listing(problems)
    return Catalog(skus=skus, origin=origin)


def ship_catalogs(paths: Sequence[str | Path]) -> tuple[tuple[str, str], ...]:
    """User catalog files as ``(name, text)`` pairs, checked here: a task carries them.

    Raises :class:`CatalogError` for a missing, unreadable or invalid file, once, on the
    client, before any work is sent anywhere.

    Parameters
    ----------
    paths : sequence of str or pathlib.Path
        User catalog files.

    Returns
    -------
    tuple of tuple of (str, str)
        Each file's name and text, in order.
    """
    texts = tuple((str(path), read_text(Path(path), CatalogError)) for path in paths)
    shipped_catalog(texts)  # validate now: a bad catalog is one error, not one per row
    return texts


@functools.lru_cache(maxsize=8)
def shipped_catalog(texts: tuple[tuple[str, str], ...]) -> Catalog:
    """The catalog of shipped files, parsed and validated once per process.

    Parameters
    ----------
    texts : tuple of tuple of (str, str)
        Catalog files as (name, TOML text), from :func:`ship_catalogs`.

    Returns
    -------
    Catalog
        The bundled catalog with those files applied.
    """
    return load_catalog(texts=texts)


def validate_files(paths: Iterable[str | Path]) -> list[str]:
    """Every problem in ``paths`` (each checked on its own), as ``FILE: key: message`` lines.

    Parameters
    ----------
    paths : iterable of str or pathlib.Path
        Catalog files to check.

    Returns
    -------
    list of str
        One line per problem; empty when every file is valid.
    """
    problems: list[str] = []
    for path in paths:
        try:
            data = read_toml(Path(path), CatalogError)
        except CatalogError as exc:
            problems.extend(exc.problems)
            continue
        problems.extend(parse_entries(str(path), data)[1])
    return problems
