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
from gigaplan.inputs.catalog import MAX_DEPTH, nested_too_deeply, read_toml, ship_catalogs
from gigaplan.inputs.files import MAX_LINE_BYTES, MIB, LongLine, open_regular
from gigaplan.inputs.scenario import Scenario
from gigaplan.inputs.site import site_keys
from gigaplan.inputs.units import shorten
from gigaplan.inputs.values import MAX_DIGITS, toml_value
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
    """One scenario of a batch: ``problem`` is set when the input row itself is unusable."""

    id: str
    site: str | dict[str, Any] | None = None
    sets: tuple[tuple[str, Any], ...] = ()
    problem: str = ""
    base_dir: str = "."
    catalogs: tuple[str, ...] = field(default=())
    where: str = ""  # FILE:LINE of the input row, for messages
    # set by ship(): the site file's name when ``site`` holds its table, and the user
    # catalogs as (name, text); a shipped row needs none of the client's files
    source: str = ""
    catalog_texts: tuple[tuple[str, str], ...] = ()


def _row_from_mapping(data: Any, label: str, base_dir: str) -> Row:
    if not isinstance(data, dict):
        return Row(id="", where=label, problem=f"{label}: expected a JSON object with an id")
    row_id = data.get("id")
    if not isinstance(row_id, str | int) or isinstance(row_id, bool) or str(row_id) == "":
        return Row(id="", where=label, problem=f"{label}: id: expected a non-empty string")
    row_id = str(row_id)
    if nested_too_deeply(data, MAX_DEPTH + 1):  # the row is one level above its site
        return Row(id=row_id, where=label, problem=f"{label}: tables and arrays are nested "
                   f"more than {MAX_DEPTH} levels deep; no gigaplan site needs that")
    unknown = sorted(set(data) - {"id", "site", "set"})
    if unknown:
        return Row(id=row_id, where=label, problem=f"{label}: unknown keys "
                   f"{', '.join(unknown)}; a row has id, site and set")
    site = data.get("site")
    if site is not None and not isinstance(site, str | dict):
        return Row(id=row_id, where=label,
                   problem=f"{label}: site: expected a path or an inline table")
    sets = data.get("set") or {}
    if not isinstance(sets, dict):
        return Row(id=row_id, where=label,
                   problem=f"{label}: set: expected a table of dotted keys")
    return Row(id=row_id, site=site, sets=tuple(sorted(sets.items())), base_dir=base_dir,
               where=label)


def _json_row(line: str, label: str, base_dir: str) -> Row:
    """One JSON Lines row; a line that is not JSON (or too deep or too long to be) is a problem."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as error:
        problem = f"not JSON ({error.msg})"
    except RecursionError:
        problem = "not a row: JSON nested too deeply"
    except ValueError:  # int() refuses more than sys.get_int_max_str_digits() digits
        problem = f"an integer has more than {MAX_DIGITS:,} digits"
    else:
        return _row_from_mapping(data, label, base_dir)
    return Row(id="", where=label, problem=f"{label}: {problem}")


def csv_cell(key: str, text: str, where: str, list_keys: Iterable[str]) -> Any:
    """A CSV cell as a site value: TOML when it is TOML (``1.2``, ``true``, ``"a"``), else
    the bare string; a list key (``compute.skus``) takes ``a;b`` (or one item) as a list.

    Parameters
    ----------
    key : str
        The cell's column, a dotted site key.
    text : str
        The cell as written.
    where : str
        File and line, at the start of an error message.
    list_keys : iterable of str
        Keys whose values are lists.

    Returns
    -------
    Any
        The site value.
    """
    if key in list_keys and not text.lstrip().startswith("["):
        return [toml_value(part.strip(), where) for part in text.split(";") if part.strip()]
    return toml_value(text, where)


def _csv_row(record: dict[str, Any], label: str, base_dir: str) -> Row:
    if None in record:  # more cells than columns
        return Row(id="", where=label, problem=f"{label}: more cells than columns")
    values = {key: value for key, value in record.items()
              if key not in ("id", "site") and value not in ("", None)}
    try:
        list_keys = {key for key, is_list in site_keys().items() if is_list}
        data = {"id": record["id"], "set": {k: csv_cell(k, v, f"{label}: {k}", list_keys)
                                           for k, v in values.items()}}
    except SiteError as error:
        return Row(id=record["id"] or "", where=label, problem=str(error))
    if record.get("site"):
        data["site"] = record["site"]
    return _row_from_mapping(data, label, base_dir)


def read_rows(text: str, source: str, base_dir: str = ".", fmt: str | None = None) -> list[Row]:
    """Parse JSON Lines or CSV (by ``fmt``, else the first character) into rows.

    A row that cannot be read becomes an error row; one without an id of its own gets
    ``line-N``, made unique against every id in the input. A duplicated id is an
    :class:`InputError` naming both lines: ``--resume`` relies on ids being unique.

    Parameters
    ----------
    text : str
        The whole input.
    source : str
        The input's name in messages.
    base_dir : str, default "."
        Directory that relative site paths in rows are resolved against.
    fmt : str or None, default None
        ``"jsonl"`` or ``"csv"``; guessed from the first character when None.

    Returns
    -------
    list of Row
        One row per non-blank line (CSV: per record).

    References
    ----------
    docs/json.md, "batch rows".
    """
    return list(iter_rows(io.StringIO(text), source, base_dir, fmt,
                          taken=user_ids(io.StringIO(text), source, fmt)))


def iter_rows(lines: Iterable[str], source: str, base_dir: str = ".", fmt: str | None = None,
              taken: set[str] | None = None) -> Iterator[Row]:
    """:func:`read_rows` over a stream of lines (an open file): one row at a time.

    ``taken`` holds every user id of the input when it is known up front (a file is read
    twice: :func:`user_ids` first), so a synthetic ``line-N`` id never equals a user's id.
    Without it (standard input, read once) synthetic ids avoid the ids seen so far, and a
    repeated id becomes an error row naming both lines. Only ids are kept, so a batch of any
    length is read in bounded memory.

    Parameters
    ----------
    lines : iterable of str
        The input's lines.
    source : str
        The input's name in messages.
    base_dir : str, default "."
        Directory that relative site paths in rows are resolved against.
    fmt : str or None, default None
        ``"jsonl"`` or ``"csv"``; guessed from the first line when None.
    taken : set of str or None, default None
        Every user id of the input, when known up front.

    Returns
    -------
    iterator of Row
        The rows, in input order.
    """
    first: dict[str, str] = {}
    reserved = set(taken or ())
    for row in _raw_rows(lines, source, base_dir, fmt):
        if not row.id:
            row = replace(row, id=_synthetic(row.where, reserved, first))
        elif row.id in first:
            row = Row(id=row.id, where=row.where, problem=_duplicate(row, first[row.id]))
        first.setdefault(row.id, row.where)
        yield row


def user_ids(lines: Iterable[str], source: str, fmt: str | None = None) -> set[str]:
    """Every id the input's rows give; a repeated id is an :class:`InputError` naming both
    lines (``--resume`` relies on ids being unique).

    Parameters
    ----------
    lines : iterable of str
        The input's lines.
    source : str
        The input's name in messages.
    fmt : str or None, default None
        ``"jsonl"`` or ``"csv"``; guessed when None.

    Returns
    -------
    set of str
        The ids the rows give.
    """
    first: dict[str, str] = {}
    problems = []
    for row in _raw_rows(lines, source, ".", fmt):
        if row.id in first:
            problems.append(_duplicate(row, first[row.id]))
        elif row.id:
            first[row.id] = row.where
    if problems:
        raise InputError.listing(problems)
    return set(first)


def _duplicate(row: Row, first: str) -> str:
    return (f"{first} and {row.where}: id {shorten(row.id)!r} appears twice; ids must be "
            "unique (--resume relies on them)")


def _synthetic(where: str, reserved: set[str], seen: dict[str, str]) -> str:
    """``line-N`` for the row at ``FILE:N``, suffixed until it is no user's id."""
    line = where.rsplit(":", 1)[-1]
    candidate, suffix = f"line-{line}", 0
    while candidate in reserved or candidate in seen:
        suffix += 1
        candidate = f"line-{line}-{suffix}"
    return candidate


def _raw_rows(lines: Iterable[str], source: str, base_dir: str, fmt: str | None
              ) -> Iterator[Row]:
    """Rows as written: an unreadable row has an empty id and its problem."""
    stream = iter(lines)
    start = next(stream, None)
    if start is None:
        return
    if not isinstance(start, LongLine):
        start = start.removeprefix("\ufeff")  # the byte-order mark a spreadsheet may write
    stream = itertools.chain([start], stream)
    buffered: list[str] = []
    if fmt is None:
        for line in stream:
            buffered.append(line)
            if line.strip():
                break
        head = "".join(buffered).lstrip()
        fmt = "jsonl" if not head or head[0] in "{[" else "csv"
    rows = _jsonl_rows if fmt == "jsonl" else _csv_rows
    yield from rows(itertools.chain(buffered, stream), source, base_dir)


def _jsonl_rows(stream: Iterable[str], source: str, base_dir: str) -> Iterator[Row]:
    number = 0
    for physical in stream:
        if isinstance(physical, LongLine):
            number += 1
            yield Row(id="", where=f"{source}:{number}", problem=f"{source}:{number}: "
                      f"a line of more than {physical.limit // MIB} MiB")
            continue
        for line in physical.splitlines():  # as str.splitlines() splits the whole text
            number += 1
            if line.strip():
                yield _json_row(line, f"{source}:{number}", base_dir)


def _csv_rows(stream: Iterable[str], source: str, base_dir: str) -> Iterator[Row]:
    read = {"lines": 0}

    def checked() -> Iterator[str]:
        for line in stream:
            if isinstance(line, LongLine):
                raise InputError(f"{source}: a CSV line of more than {line.limit // MIB} MiB")
            read["lines"] += 1
            yield line

    # strict: an unclosed quote is an error, not a cell that swallows every line after it
    # (rows silently lost); a cell over csv's field limit (131,072 characters) is one too
    reader = csv.DictReader(checked(), strict=True)
    try:
        names = reader.fieldnames
        if not names or "id" not in names:
            raise InputError(f"{source}: a CSV batch needs an 'id' column")
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise InputError(f"{source}:1: columns {', '.join(map(repr, twice))} appear more "
                             "than once; each key may have one column")
        for record in reader:
            yield _csv_row(record, f"{source}:{reader.line_num}", base_dir)
    except csv.Error as error:
        hint = "; a quote opened and never closed?" if "end of data" in str(error) else ""
        raise InputError(f"{source}:{read['lines']}: not valid CSV ({error}){hint}") from None


def count_lines(path: Path) -> int:
    """Non-blank lines of a UTF-8 file, read in blocks (a progress total, and an early
    one-line error for a file that is not UTF-8, before any row runs).

    Parameters
    ----------
    path : pathlib.Path
        The input file.

    Returns
    -------
    int
        Non-blank lines [count].
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    count, partial = 0, ""
    try:
        with open_regular(path, kind="JSON Lines or CSV file") as stream:
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

    Parameters
    ----------
    rows : iterable of Row
        The rows, naming site and catalog files.

    Returns
    -------
    iterator of Row
        The self-contained rows, in order.
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
            yield Row(id=row.id, where=row.where, problem=f"{row.where} (id {row.id}): {problem}"
                      if row.where else problem)
            continue
        yield replace(row, site=table, source=path, catalogs=(), catalog_texts=texts)


def summarize(plan: dict[str, Any]) -> dict[str, Any]:
    """The summary fields of a plan dict, keyed by their dotted names.

    Parameters
    ----------
    plan : dict
        A ``gigaplan.plan/1`` document.

    Returns
    -------
    dict
        Dotted field name to its value, in the field's unit (docs/json.md, "batch rows").
    """
    summary: dict[str, Any] = {"objective": plan["objective"]["name"]}
    for name in SUMMARY_FIELDS:
        summary[name] = plan["objective"]["value"] if name == "objective.value" \
            else field_value(plan, name)
    summary["racks"] = {line["sku"]: line["count"] for line in plan.get("racks", [])}
    return summary


def plan_row(row: Row) -> dict[str, Any]:
    """Plan one row; every failure becomes an error row with its exit-code class.

    Parameters
    ----------
    row : Row
        One shipped row.

    Returns
    -------
    dict
        The result line: ``id``, ``status``, ``exit_code``, and the summary or ``error``.
    """
    if row.problem:
        return {"id": row.id, "status": "error", "exit_code": InputError.exit_code,
                "error": row.problem}
    named = f"{row.where} (id {row.id})" if row.where else f"row {row.id}"
    try:
        site: Any = row.site
        if isinstance(site, str):
            site = Path(row.base_dir) / site
        scenario = Scenario(site=site, overrides=row.sets,
                            source=row.source or f"{named} (inline site)",
                            origin=f"{named}: set", catalogs=row.catalogs,
                            catalog_texts=row.catalog_texts)
        result = plan(scenario.bind()).to_dict()
    except GigaplanError as error:
        message = str(error)
        if not message.startswith(named):  # a problem in the row's site file: name the row too
            message = f"{named}: {message}"
        return {"id": row.id, "status": "error", "exit_code": error.exit_code,
                "error": message}
    except Exception as error:  # a bug: the row says so, and the batch goes on
        return {"id": row.id, "status": "error", "exit_code": EXIT_INTERNAL,
                "error": f"internal error: {type(error).__name__}: {error}"}
    line: dict[str, Any] = {"id": row.id, "status": result["status"],
                            "exit_code": EXIT_CLASS.get(result["status"], EXIT_INTERNAL)}
    if "totals" in result:
        line.update(summarize(result))
        line["warnings"] = result.get("warnings", [])
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

    Parameters
    ----------
    rows : iterable of Row
        The rows to plan.
    jobs : int, default 1
        Parallel workers [count].
    executor : str, default "local"
        ``"local"`` (a process pool) or ``"dask"``.
    scheduler : str or None, default None
        Address of an existing Dask scheduler.
    count : int or None, default None
        Number of rows when ``rows`` is an iterator [count].

    Returns
    -------
    iterator of dict
        One result line per row, in input order.
    """
    if count is None and isinstance(rows, Sequence):
        count = len(rows)
    yield from executors.run(plan_row, ship(rows), jobs, executor, scheduler,
                             on_error=_failed, count=count)


def done_ids(path: Path, fmt: str) -> dict[str, str]:
    """Ids (and statuses) already in an output file; a torn last line is cut off first.

    A SIGKILL can stop a run mid-line: everything after the last newline is truncated, so
    that row is planned again and no line is torn or duplicated. Only a regular file is read
    (a FIFO or a device has nothing to resume from, and reading one would block or never
    end); it is streamed line by line, so an output of any length fits in memory, and a line
    longer than ``MAX_LINE_BYTES`` (not one gigaplan wrote) is skipped unread.

    Parameters
    ----------
    path : pathlib.Path
        The output file of an earlier run.
    fmt : str
        Its format, ``"jsonl"`` or ``"csv"``.

    Returns
    -------
    dict of str to str
        Row id to its status.
    """
    if not path.exists():
        return {}
    with open_regular(path, kind="batch output file to resume"
                      ) as stream:
        try:
            end = _end_of_last_line(stream)
            if end < os.fstat(stream.fileno()).st_size:
                os.truncate(path, end)
            stream.seek(0)
            text = _complete_lines(stream, end)
            found: dict[str, str] = {}
            if fmt == "csv":
                for record in csv.DictReader(text):
                    if record.get("id"):
                        found[record["id"]] = record.get("status") or ""
                return found
            for line in text:
                try:
                    item = json.loads(line)
                except (json.JSONDecodeError, RecursionError, ValueError):
                    continue  # not a row gigaplan wrote
                if isinstance(item, dict) and "id" in item:
                    found[str(item["id"])] = str(item.get("status", ""))
            return found
        except OSError as error:
            raise InputError(f"{path}: cannot be resumed ({error.strerror or error})") from None
        except csv.Error as error:
            raise InputError(f"{path}: not a batch CSV output ({error})") from None


def _end_of_last_line(stream: Any) -> int:
    """The offset just past the last newline of ``stream`` (0 if it has none), read backwards
    in blocks so a long torn tail costs no memory."""
    position = os.fstat(stream.fileno()).st_size
    while position > 0:
        step = min(1 << 16, position)
        position -= step
        stream.seek(position)
        found = stream.read(step).rfind(b"\n")
        if found >= 0:
            return position + found + 1
    return 0


def _complete_lines(stream: Any, end: int) -> Iterator[str]:
    """The lines of ``stream`` before offset ``end`` (which follows a newline), decoded with
    replacement; a line over ``MAX_LINE_BYTES`` is skipped without holding it."""
    offset = 0
    while offset < end:
        line = stream.readline(min(MAX_LINE_BYTES + 1, end - offset))
        if not line:
            return
        offset += len(line)
        if not line.endswith(b"\n"):
            while offset < end and (rest := stream.readline(min(1 << 20, end - offset))):
                offset += len(rest)
                if rest.endswith(b"\n"):
                    break
            continue
        yield line.decode("utf-8", errors="replace")


class LineWriter:
    """Appends whole lines with one ``write(2)`` each, so a kill never leaves half a line."""

    def __init__(self, path: Path, *, append: bool) -> None:
        self._path = path
        flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
        try:
            self._fd = os.open(path, flags, 0o666)  # the umask applies, as for any new file
        except OSError as error:
            raise InputError(f"{path}: cannot be written ({error.strerror or error})") from None

    def write(self, text: str) -> None:
        """Append ``text`` with one ``write(2)`` per chunk until all of it is written.

        Parameters
        ----------
        text : str
            The text to append.
        """
        data = text.encode("utf-8")
        while data:
            try:
                written = os.write(self._fd, data)
            except OSError as error:  # a full disk, a quota, a file size limit
                raise InputError(f"{self._path}: cannot be written ({error.strerror or error})"
                                 ) from None
            data = data[written:]

    def close(self) -> None:
        """Close the file."""
        os.close(self._fd)


