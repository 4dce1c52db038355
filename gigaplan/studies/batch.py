"""``gigaplan batch``: plan many scenarios, JSON Lines (or CSV) in, one result line each out.

Each input row is ``{"id": ..., "site": "path.toml" | {inline table}, "set": {"dotted.key":
value}}`` (JSON Lines), or a CSV row whose columns are ``id``, optionally ``site``, and dotted
keys. A bad row becomes an output row with ``"status": "error"``, its message and exit-code
class; it never stops the batch. Rows are planned in parallel processes with ``jobs > 1``
and come back in input order, so the output is identical for every ``jobs``.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from gigaplan.errors import EXIT_INTERNAL, GigaplanError, InputError, SiteError
from gigaplan.inputs.catalog import read_toml, ship_catalogs
from gigaplan.inputs.scenario import Scenario
from gigaplan.inputs.site import site_keys
from gigaplan.inputs.values import toml_value
from gigaplan.planner import plan
from gigaplan.studies import executors
from gigaplan.studies.check import field_value

SUMMARY_FIELDS = (
    "objective.value", "totals.gpus", "totals.compute_racks", "totals.fp4_dense_pflops",
    "totals.bf16_dense_pflops", "power_mw.facility", "power_mw.it", "network.switches",
    "cost.capex_usd", "cost.tco_usd_per_year", "cost.usd_per_gpu_hour", "energy.mwh_per_year",
    "workload.tokens_per_second", "workload.train_days",
)
CSV_COLUMNS = ("id", "status", "exit_code", "objective", *SUMMARY_FIELDS, "racks", "error")
EXIT_CLASS = {"optimal": 0, "infeasible": 4, "time_limit": 5}


@dataclass(frozen=True)
class Row:
    """One scenario of a batch: ``problem`` is set when the input row itself is unusable.

    ``label`` is where the row is (``rows.jsonl:8``); a row without a usable id gets the id
    ``line-8``, the same in its result line, its message and ``--resume``.
    """

    id: str
    site: str | dict[str, Any] | None = None
    sets: tuple[tuple[str, Any], ...] = ()
    problem: str = ""
    base_dir: str = "."
    catalogs: tuple[str, ...] = field(default=())
    # set by ship(): the site file's name when ``site`` holds its table, and the user
    # catalogs as (name, text); a shipped row needs none of the client's files
    source: str = ""
    catalog_texts: tuple[tuple[str, str], ...] = ()
    label: str = ""

    @property
    def where(self) -> str:
        """``rows.jsonl:8 (id a)``: how messages name this row."""
        return f"{self.label} (id {self.id})" if self.label else f"row {self.id}"


def _row_from_mapping(data: Any, label: str, base_dir: str, number: int) -> Row:
    fallback = f"line-{number}"
    if not isinstance(data, dict):
        return Row(id=fallback, label=label,
                   problem=f"{label} (id {fallback}): expected a JSON object with an id")
    row_id = data.get("id")
    if not isinstance(row_id, str | int) or isinstance(row_id, bool) or str(row_id) == "":
        return Row(id=fallback, label=label,
                   problem=f"{label} (id {fallback}): id: expected a non-empty string")
    row_id = str(row_id)
    where = f"{label} (id {row_id})"
    unknown = sorted(set(data) - {"id", "site", "set"})
    if unknown:
        return Row(id=row_id, label=label, problem=f"{where}: unknown keys "
                   f"{', '.join(unknown)}; a row has id, site and set")
    site = data.get("site")
    if site is not None and not isinstance(site, str | dict):
        return Row(id=row_id, label=label,
                   problem=f"{where}: site: expected a path or an inline table")
    sets = data.get("set") or {}
    if not isinstance(sets, dict):
        return Row(id=row_id, label=label,
                   problem=f"{where}: set: expected a table of dotted keys")
    return Row(id=row_id, site=site, sets=tuple(sorted(sets.items())), base_dir=base_dir,
               label=label)


def csv_cell(key: str, text: str, list_keys: Iterable[str]) -> Any:
    """A CSV cell as a site value: TOML when it is TOML (``1.2``, ``true``, ``"a"``), else
    the bare string; a list key (``compute.skus``) takes ``a;b`` (or one item) as a list."""
    if key in list_keys and not text.lstrip().startswith("["):
        return [toml_value(part.strip()) for part in text.split(";") if part.strip()]
    return toml_value(text)


def read_rows(text: str, source: str, base_dir: str = ".", fmt: str | None = None) -> list[Row]:
    """Parse JSON Lines or CSV (by ``fmt``, else the first character) into rows.

    Duplicate ids become error rows: ``--resume`` relies on ids being unique.
    """
    return list(iter_rows(io.StringIO(text), source, base_dir, fmt))


def iter_rows(lines: Iterable[str], source: str, base_dir: str = ".", fmt: str | None = None
              ) -> Iterator[Row]:
    """:func:`read_rows` over a stream of lines (an open file): one row at a time.

    Only the ids seen so far are kept (to turn a duplicate into an error row), so a batch
    of any length is read in bounded memory.
    """
    stream = iter(lines)
    buffered: list[str] = []
    if fmt is None:
        for line in stream:
            buffered.append(line)
            if line.strip():
                break
        first = "".join(buffered).lstrip()
        fmt = "jsonl" if not first or first[0] in "{[" else "csv"
    rows = _jsonl_rows if fmt == "jsonl" else _csv_rows
    seen: set[str] = set()
    for row in rows(itertools.chain(buffered, stream), source, base_dir):
        if row.id in seen and not row.problem:
            row = Row(id=row.id, label=row.label,
                      problem=f"{row.where}: id {row.id!r} appears more than once")
        seen.add(row.id)
        yield row


def _jsonl_rows(stream: Iterable[str], source: str, base_dir: str) -> Iterator[Row]:
    number = 0
    for physical in stream:
        for line in physical.splitlines():  # as str.splitlines() splits the whole text
            number += 1
            if not line.strip():
                continue
            label = f"{source}:{number}"
            try:
                data = json.loads(line)
            except json.JSONDecodeError as error:
                yield Row(id=f"line-{number}", label=label,
                          problem=f"{label} (id line-{number}): not JSON ({error.msg})")
                continue
            yield _row_from_mapping(data, label, base_dir, number)


def _csv_rows(stream: Iterable[str], source: str, base_dir: str) -> Iterator[Row]:
    reader = csv.DictReader(stream)
    if not reader.fieldnames or "id" not in reader.fieldnames:
        raise InputError(f"{source}: a CSV batch needs an 'id' column")
    list_keys = {key for key, is_list in site_keys().items() if is_list}
    for record in reader:
        number = reader.line_num  # the row's last line: a quoted cell may span lines
        label = f"{source}:{number}"
        if None in record:  # more cells than columns
            yield Row(id=record.get("id") or f"line-{number}", label=label,
                      problem=f"{label}: more cells than columns")
            continue
        values = {key: value for key, value in record.items()
                  if key not in ("id", "site") and value not in ("", None)}
        data = {"id": record["id"],
                "set": {k: csv_cell(k, v, list_keys) for k, v in values.items()}}
        if record.get("site"):
            data["site"] = record["site"]
        yield _row_from_mapping(data, label, base_dir, number)


def count_lines(path: Path) -> int:
    """Non-blank lines of a UTF-8 file, read in blocks (a progress total, and an early
    one-line error for a file that is not UTF-8, before any row runs)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    count, partial = 0, ""
    try:
        with path.open("rb") as stream:
            while block := stream.read(1 << 20):
                text = partial + decoder.decode(block)
                lines = text.split("\n")
                partial = lines.pop()
                count += sum(1 for line in lines if line.strip())
            partial += decoder.decode(b"", final=True)
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot be read ({error.__class__.__name__}: "
                         f"{getattr(error, 'strerror', None) or error})") from None
    return count + bool(partial.strip())


def ship(rows: Iterable[Row]) -> Iterator[Row]:
    """Rows with file contents in place of file paths, read on the client.

    Each site file is read once, and a row naming it carries its table (so a worker on
    another machine, in another directory, needs only the installed package); a site file
    that cannot be read makes its rows error rows here, without a task. The user catalogs
    are read and validated once: a bad one raises :class:`CatalogError` before any row runs.
    Lazy, so a long batch streams.
    """
    sites: dict[str, tuple[dict[str, Any] | None, str]] = {}
    catalogs: dict[tuple[str, ...], tuple[tuple[str, str], ...]] = {}
    for row in rows:
        if row.catalogs not in catalogs:
            catalogs[row.catalogs] = ship_catalogs(row.catalogs)
        if row.problem:
            yield row
            continue
        texts = row.catalog_texts + catalogs[row.catalogs]
        if not isinstance(row.site, str):
            yield replace(row, catalogs=(), catalog_texts=texts)
            continue
        path = str(Path(row.base_dir) / row.site)
        if path not in sites:
            try:
                sites[path] = (read_toml(Path(path), SiteError), "")
            except SiteError as error:
                sites[path] = (None, str(error))
        table, problem = sites[path]
        if table is None:
            yield Row(id=row.id, label=row.label, problem=f"{row.where}: {problem}")
            continue
        yield replace(row, site=table, source=path, catalogs=(), catalog_texts=texts)


def summarize(plan: dict[str, Any]) -> dict[str, Any]:
    """The summary fields of a plan dict, keyed by their dotted names."""
    summary: dict[str, Any] = {"objective": plan["objective"]["name"]}
    for name in SUMMARY_FIELDS:
        summary[name] = plan["objective"]["value"] if name == "objective.value" \
            else field_value(plan, name)
    summary["racks"] = {line["sku"]: line["count"] for line in plan.get("racks", [])}
    return summary


def plan_row(row: Row) -> dict[str, Any]:
    """Plan one row; every failure becomes an error row with its exit-code class."""
    if row.problem:
        return {"id": row.id, "status": "error", "exit_code": InputError.exit_code,
                "error": row.problem}
    try:
        site: Any = row.site
        if isinstance(site, str):
            site = Path(row.base_dir) / site
        scenario = Scenario(site=site, overrides=row.sets,
                            source=row.source or f"{row.where} (inline site)",
                            origin=f"{row.where}: set", catalogs=row.catalogs,
                            catalog_texts=row.catalog_texts)
        result = plan(scenario.bind()).to_dict()
    except GigaplanError as error:
        message = str(error)
        if not message.startswith(row.where):
            message = f"{row.where}: {message}"
        return {"id": row.id, "status": "error", "exit_code": error.exit_code,
                "error": message}
    except Exception as error:  # a bug: the row says so, and the batch goes on
        return {"id": row.id, "status": "error", "exit_code": EXIT_INTERNAL,
                "error": f"internal error: {type(error).__name__}: {error}"}
    line: dict[str, Any] = {"id": row.id, "status": result["status"],
                            "exit_code": EXIT_CLASS.get(result["status"], EXIT_INTERNAL)}
    if "totals" in result:
        line.update(summarize(result))
    else:
        line["error"] = result.get("message", "")
    return line


def _failed(row: Row, error: BaseException) -> dict[str, Any]:
    return {"id": row.id, "status": "error", "exit_code": EXIT_INTERNAL,
            "error": f"task failed: {type(error).__name__}: {error}"}


def run(rows: Iterable[Row], jobs: int = 1, executor: str = "local",
        scheduler: str | None = None, count: int | None = None) -> Iterator[dict[str, Any]]:
    """Plan ``rows`` on the executor and yield their result lines in input order.

    Rows are shipped (:func:`ship`) first, on every executor, so local and Dask runs read
    the same contents and give identical lines.
    """
    if count is None and isinstance(rows, Sequence):
        count = len(rows)
    yield from executors.run(plan_row, ship(rows), jobs, executor, scheduler,
                             on_error=_failed, count=count)


def done_ids(path: Path, fmt: str) -> dict[str, str]:
    """Ids (and statuses) already in an output file; a torn last line is cut off first.

    A SIGKILL can stop a run mid-line: everything after the last newline is truncated, so
    that row is planned again and no line is torn or duplicated.
    """
    if not path.exists():
        return {}
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    if end < len(data):
        with path.open("r+b") as stream:
            stream.truncate(end)
        data = data[:end]
    text = data.decode("utf-8", errors="replace")
    found: dict[str, str] = {}
    if fmt == "csv":
        for record in csv.DictReader(io.StringIO(text)):
            if record.get("id"):
                found[record["id"]] = record.get("status", "")
        return found
    for line in text.splitlines():
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(item, dict) and "id" in item:
            found[str(item["id"])] = str(item.get("status", ""))
    return found


class LineWriter:
    """Appends whole lines with one ``write(2)`` each, so a kill never leaves half a line."""

    def __init__(self, path: Path, *, append: bool) -> None:
        flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
        self._fd = os.open(path, flags, 0o644)

    def write(self, text: str) -> None:
        data = text.encode("utf-8")
        while data:
            written = os.write(self._fd, data)
            data = data[written:]

    def close(self) -> None:
        os.close(self._fd)


