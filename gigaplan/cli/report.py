"""``gigaplan report``: a self-contained HTML report or an xlsx workbook.

The input is a gigaplan JSON document (``plan``, a phased plan, ``study``, ``reference``,
``sweep``, ``montecarlo``; ``batch`` JSON Lines for xlsx), or a site or study TOML file that is
planned first, or nothing for the embedded default site. The renderers read only the public
JSON contract (docs/json.md).
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from gigaplan.cli.app import (
    CatalogFiles,
    OutputOpt,
    SetOpt,
    app,
    handles_errors,
    one_line,
    stderr_console,
    write_output,
)
from gigaplan.errors import EXIT_INFEASIBLE, EXIT_SOLVER_LIMIT, InputError

EXTRA_HINT = ("gigaplan report needs the 'report' extra (matplotlib, jinja2, openpyxl): "
              "python3 -m pip install 'gigaplan[report]' (from a clone: "
              "python3 -m pip install '.[report]')")

REPORT_EPILOG = """Examples:

\b
  gigaplan report -o plan.html            # the embedded default site
  gigaplan report site.toml -o site.html  # plan a site file, then report it
  gigaplan report docs/examples/phased-site.toml -o phased.html
  gigaplan report docs/examples/three-sites.toml -o sites.html
  gigaplan report plan.json -o plan.html  # from plan/sweep/montecarlo -f json
  gigaplan report site.toml -o plan.xlsx  # a workbook, one sheet per table
  gigaplan report rows.jsonl -o rows.xlsx # batch output as a workbook"""


class ReportFormat(StrEnum):
    HTML = "html"
    XLSX = "xlsx"


@app.command("report", epilog=REPORT_EPILOG)
@handles_errors
def report_command(
    source: Annotated[Path | None, typer.Argument(
        metavar="INPUT", show_default=False,
        help="A gigaplan JSON document (plan, study, reference, sweep, montecarlo; '-' reads "
        "stdin), batch JSON Lines (xlsx only), or a site or study TOML file to plan first; "
        "the embedded default site when left out.")] = None,
    format: Annotated[ReportFormat | None, typer.Option(
        "--format", "-f", show_default=False,
        help="html (the default) or xlsx; taken from the --output suffix when left out.")
    ] = None,
    output: OutputOpt = None,
    set_: SetOpt = None,
    catalog: CatalogFiles = None,
    reference: Annotated[str | None, typer.Option(
        metavar="SITE", help="With a study TOML file: report SITE as the standard design "
        "and the copies that fit each site.")] = None,
    marginals: Annotated[bool, typer.Option(
        help="When planning a single site: re-plan with each limit moved (as 'gigaplan "
        "explain') and show the marginal values.")] = True,
) -> None:
    """A self-contained HTML report (charts, power flow, floor plan) or an xlsx workbook.

    The HTML file loads nothing from the network, prints to PDF and follows the reader's
    light or dark scheme. Exit 3 when the input is not a gigaplan document or the report
    extra is missing; 4 or 5 (after writing the report) when a planned site is infeasible or
    stopped at its time limit.
    """
    fmt = format or (ReportFormat.XLSX if output and output.suffix.lower() == ".xlsx"
                     else ReportFormat.HTML)
    if fmt is ReportFormat.XLSX and output is None and sys.stdout.isatty():
        raise typer.BadParameter("refusing to write a binary workbook to a terminal; give "
                                 "--output FILE.xlsx or redirect stdout", param_hint="--format")
    renderer = _renderer(fmt)
    doc, explain, entries = _document(source, tuple(set_ or ()), tuple(catalog or ()),
                                      reference, marginals)
    if isinstance(doc, list) and fmt is ReportFormat.HTML:
        raise InputError(f"{source}: batch rows make a workbook, not a report; use -f xlsx")
    try:
        rendered = (renderer(doc, catalog=entries, explain=explain) if fmt is ReportFormat.HTML
                    else renderer(doc, catalog=entries))
    except _document_errors() as error:  # evaluated only when the renderer raised
        if not _is_json(source):
            raise  # a document gigaplan just made: a bug
        raise InputError(_incomplete(source, doc, error)) from None
    write_output(rendered, output)
    status = doc.get("status", "optimal") if isinstance(doc, dict) else "optimal"
    if status == "infeasible":
        stderr_console().print(f"error: {one_line(str(doc.get('message', 'infeasible')))}")
        raise typer.Exit(EXIT_INFEASIBLE)
    if status == "time_limit":
        stderr_console().print("warning: the solver stopped at its time limit; the report "
                               "shows the best plan found")
        raise typer.Exit(EXIT_SOLVER_LIMIT)


def _is_json(source: Path | None) -> bool:
    """Whether the input is a JSON document read from a file or stdin (not planned here)."""
    return source is not None and (str(source) == "-" or
                                   source.suffix.lower() in (".json", ".jsonl"))


def _document_errors() -> tuple[type[Exception], ...]:
    """What a renderer raises on a document lacking a key or holding a value of the wrong
    kind: Python's lookup and type errors, and jinja2's undefined value in the template."""
    errors: tuple[type[Exception], ...] = (LookupError, TypeError, ValueError, AttributeError,
                                           ArithmeticError)
    try:
        # lazily: the HTML renderer (and its jinja2) is the report extra, on this path only
        from gigaplan.output import html
    except ImportError:
        return errors
    return (*errors, html.jinja2.UndefinedError)


def _incomplete(source: Path | None, doc: Any, error: Exception) -> str:
    """One line for a JSON document the renderer could not read: a key it lacks, or a value
    of the wrong kind (a hand-edited, truncated or foreign file), never an internal error."""
    name = "stdin" if str(source) == "-" else str(source)
    schema = doc.get("schema") if isinstance(doc, dict) else "batch rows"
    detail = (f"no key {error.args[0]!r}" if isinstance(error, KeyError) and error.args
              else f"{type(error).__name__}: {error}")
    return (f"{name}: not a complete {schema} document ({detail}); write it again with "
            "gigaplan's own --format json")


def _renderer(fmt: ReportFormat) -> Any:
    """The render function; a missing report extra is one line and exit 3."""
    try:
        # lazily: matplotlib, jinja2 and openpyxl load on the report path only, never on
        # plan or --help
        if fmt is ReportFormat.HTML:
            from gigaplan.output.html import render_html as render  # report path only
        else:
            from gigaplan.output.xlsx import render_xlsx as render  # report path only
    except ImportError as error:
        raise InputError(f"{EXTRA_HINT}; missing: {error.name}") from None
    return render


def _document(source: Path | None, sets: tuple[str, ...], catalogs: tuple[Path, ...],
              reference: str | None, marginals: bool
              ) -> tuple[Any, dict[str, Any] | None, list[dict[str, Any]]]:
    """The document to render, the explain document (or None) and the catalog entries."""
    # lazily: keeps pydantic, numpy and scipy off --help and `catalog list`
    from gigaplan.cli.catalog import _catalog_entries

    entries, _ = _catalog_entries(list(catalogs) or None)
    if _is_json(source):
        if sets or reference:
            raise InputError("--set and --reference apply to a site file, not to a JSON "
                             "document (plan it again instead)")
        return _read_json(source), None, entries
    return (*_plan(source, sets, catalogs, reference, marginals), entries)


def _read_json(source: Path) -> Any:
    """A gigaplan JSON document or batch JSON Lines, from a regular file or stdin.

    Read like every other input (:mod:`gigaplan.inputs.files`): a regular file only, never
    blocking on a FIFO, at most ``MAX_FILE_BYTES``; every failure is one line and exit 3.
    """
    # lazily: keeps pydantic off --help (files imports only the error classes)
    from gigaplan.inputs import files

    name = "stdin" if str(source) == "-" else str(source)
    if str(source) == "-":
        try:
            data = files.read_stream(sys.stdin.buffer, name)
        except OSError as error:
            raise InputError(f"{name}: cannot be read ({error.strerror or error})") from None
    else:
        data = files.read_bytes(source, kind="JSON document")
    text = files.decode(data, name, kind="JSON document")
    try:
        try:
            data = json.loads(text, parse_constant=files.no_non_finite)
        except json.JSONDecodeError:
            try:  # batch output: one JSON object per line
                data = [json.loads(line, parse_constant=files.no_non_finite)
                        for line in text.splitlines() if line.strip()]
            except json.JSONDecodeError as error:
                raise InputError(f"{name}: not JSON or JSON Lines: {error}") from None
    except files.NonFinite as error:
        raise InputError(f"{name}: not a gigaplan document: {error}") from None
    except (RecursionError, ValueError):  # nesting too deep, an integer over 4,300 digits
        raise InputError(f"{name}: not a gigaplan document (nested too deeply or a number "
                         "too long)") from None
    if isinstance(data, dict) and "schema" in data:
        return data
    rows = data if isinstance(data, list) else [data]
    if rows and all(isinstance(row, dict) and {"id", "status", "exit_code"} <= row.keys()
                    for row in rows):
        return rows
    raise InputError(f"{name}: not a gigaplan document: expected the JSON of plan, sweep, "
                     "montecarlo or a study (with a 'schema' key), or batch JSON Lines")


def _plan(source: Path | None, sets: tuple[str, ...], catalogs: tuple[Path, ...],
          reference: str | None, marginals: bool) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Plan a site or study file the way ``gigaplan plan`` does; the plan JSON as a dict."""
    # lazily: keeps pydantic, numpy and scipy off --help and `catalog list`
    from gigaplan.cli.planning import _is_study
    from gigaplan.inputs.catalog import load_catalog
    from gigaplan.inputs.scenario import Scenario
    from gigaplan.inputs.site import parse_set
    from gigaplan.inputs.study import load_study
    from gigaplan.output import serialize
    from gigaplan.planner import plan, plan_study, reference_copies
    from gigaplan.studies.explain import explain

    if source is not None and _is_study(source):
        overrides = tuple(parse_set(item) for item in sets)
        study = load_study(source, load_catalog(catalogs), overrides)
        data = reference_copies(study, reference, None) if reference else plan_study(study)
        return json.loads(serialize.to_json(data)), None
    if reference is not None:
        raise InputError("--reference: needs a study file with [[sites]]")
    scenario = Scenario(source, sets, (), (), catalogs)
    doc = json.loads(serialize.to_json(plan(scenario.bind()).to_dict()))
    phased = bool(doc.get("phases"))
    explained = None
    if marginals and not phased and doc.get("status") == "optimal":
        explained = json.loads(serialize.to_json(explain(scenario)))
    return doc, explained
