"""The Typer app: the only module that prints, reads the environment or exits.

Each command parses its arguments, calls one core function, renders, and maps errors to exit
codes (DESIGN.md §5). numpy and scipy are imported only by commands that solve.
"""

from __future__ import annotations

import functools
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from gigaplan import __version__
from gigaplan.errors import (
    EXIT_INFEASIBLE,
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_REQUIREMENT_FAILED,
    EXIT_SOLVER_LIMIT,
    GigaplanError,
    InputError,
)
from gigaplan.kinds import Basis, Objective, OutputFormat, SkuKind, TableOrJson

EXIT_CODES_HELP = (
    "Exit codes: 0 success; 1 a check requirement is not met; 2 usage error; "
    "3 invalid input (the message names file and key); 4 infeasible; "
    "5 solver limit reached (best plan printed with its gap); 70 internal error; "
    "130 interrupted."
)

ROOT_EPILOG = """Examples, one per command:

\b
  gigaplan plan                          # plan the embedded 1 GW default site
  gigaplan plan site.toml --format json  # plan a site file, JSON for scripts
  gigaplan init site.toml                # write the default site to edit
  gigaplan catalog list                  # the hardware catalog (* = estimate)
  gigaplan catalog show gb300-nvl72      # one SKU, every field and its sources
  gigaplan catalog validate my.toml      # check a catalog file before using it
  gigaplan check site.toml --junit c.xml # assert the site's requirements (CI gate)
  gigaplan batch rows.jsonl --jobs 2     # many scenarios, JSON Lines in and out
  gigaplan sweep --vary power.budget=0.5GW:2GW:0.5GW   # a table and chart per value
  gigaplan explain site.toml             # binding limits and marginal values
  gigaplan diff a.toml b.toml            # two sites or plan JSON files side by side
  gigaplan montecarlo site.toml --samples 1000 --seed 7   # percentiles under uncertainty

Run 'gigaplan COMMAND --help' for each command's options and more examples."""

app = typer.Typer(
    name="gigaplan",
    epilog=ROOT_EPILOG,
    help="Capacity planning for AI gigafactories: what to build on a site, and what it "
    "delivers.\n\n" + EXIT_CODES_HELP,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
catalog_app = typer.Typer(
    help="Browse and validate hardware catalogs.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(catalog_app, name="catalog")

_state = {"debug": False}
F = TypeVar("F", bound=Callable[..., Any])


def _stderr() -> Console:
    return Console(stderr=True, markup=False, highlight=False, soft_wrap=True)


def _stdout() -> Console:
    width = None if sys.stdout.isatty() else int(os.environ.get("COLUMNS", "120"))
    return Console(markup=False, highlight=False, width=width)


def handles_errors(command: F) -> F:
    """Map gigaplan's exceptions to one-line messages on stderr and documented exit codes."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        err = _stderr()
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except InputError as error:
            for line in error.problems:
                err.print(f"error: {_one_line(line)}")
            raise typer.Exit(EXIT_INPUT) from None
        except GigaplanError as error:
            err.print(f"error: {_one_line(str(error))}")
            if _state["debug"]:
                err.print(traceback.format_exc())
            raise typer.Exit(error.exit_code) from None
        except KeyboardInterrupt:
            err.print("interrupted")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except BrokenPipeError:  # the reader went away (| head): stop quietly, like cat
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise typer.Exit(0) from None
        except Exception as error:  # a bug: one line, and how to see more
            if _state["debug"]:
                err.print(traceback.format_exc())
            err.print(f"internal error: {type(error).__name__}: {error} "
                      "(a bug; rerun with --debug for the traceback)")
            raise typer.Exit(EXIT_INTERNAL) from None

    return wrapper  # type: ignore[return-value]


def _one_line(text: str) -> str:
    """A message stays on one line whatever the input it quotes."""
    return text.replace("\r", "\\r").replace("\n", "\\n")


def write_output(text: str, output: Path | None) -> None:
    """Write ``text`` to stdout, or atomically to ``output`` (temporary file, then rename)."""
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    folder = output.parent if str(output.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"{output}: folder {folder} does not exist")
    if output.is_dir():
        raise InputError(f"{output}: is a directory; give a file name")
    handle, temporary = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def render_table(renderable: Any, output: Path | None) -> None:
    if output is None:
        _stdout().print(renderable)
        return
    import io

    buffer = io.StringIO()
    Console(file=buffer, width=120, markup=False, highlight=False, color_system=None).print(
        renderable
    )
    write_output(buffer.getvalue(), output)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gigaplan {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors."
                                        )] = False,
) -> None:
    """Capacity planning for AI gigafactories."""
    _state["debug"] = debug


# --- catalog ---------------------------------------------------------------------------

CatalogFiles = Annotated[
    list[Path] | None,
    typer.Option("--catalog", "-c", metavar="FILE", show_default=False,
                 help="A catalog TOML file that adds or overrides SKUs by id (repeatable)."),
]


def _catalog_entries(files: list[Path] | None) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """SKU dicts and their files: precompiled when only the bundled catalog is asked for."""
    if not files:
        from gigaplan.bundled import entries

        return entries()
    from gigaplan.catalog import load_catalog
    from gigaplan.report import plain

    loaded = load_catalog(files)
    return ([plain(sku.model_dump(mode="json")) for sku in loaded.sorted()],
            dict(loaded.origin))


@catalog_app.command("list", epilog="Examples:\n\n\b\n  gigaplan catalog list\n  gigaplan "
                     "catalog list --kind compute_rack --format json")
@handles_errors
def catalog_list(
    kind: Annotated[SkuKind | None, typer.Option(help="Only SKUs of this kind.")] = None,
    format: Annotated[TableOrJson, typer.Option("--format", "-f")] = TableOrJson.TABLE,
    catalog: CatalogFiles = None,
) -> None:
    """List the SKUs of the catalog with their key figures (* marks an estimate)."""
    from gigaplan import report

    entries, _ = _catalog_entries(catalog)
    if format is TableOrJson.JSON:
        rows = [entry for entry in entries if kind in (None, entry["kind"])]
        write_output(report.to_json(rows), None)
    else:
        render_table(report.catalog_table(entries, kind), None)


@catalog_app.command("show", epilog="Examples:\n\n\b\n  gigaplan catalog show gb300-nvl72\n  "
                     "gigaplan catalog show gb300-nvl72 --format json")
@handles_errors
def catalog_show(
    sku_id: Annotated[str, typer.Argument(metavar="ID", help="The SKU id, e.g. gb300-nvl72.")],
    format: Annotated[TableOrJson, typer.Option("--format", "-f")] = TableOrJson.TABLE,
    catalog: CatalogFiles = None,
) -> None:
    """Show every field of one SKU with its unit, estimate markers and sources."""
    from gigaplan import report

    entries, origin = _catalog_entries(catalog)
    found = {entry["id"]: entry for entry in entries}
    if sku_id not in found:
        import difflib

        close = difflib.get_close_matches(sku_id, sorted(found), n=3, cutoff=0.4)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise InputError(f"unknown SKU id {sku_id!r}{hint}")
    if format is TableOrJson.JSON:
        write_output(report.to_json(found[sku_id]), None)
    else:
        render_table(report.sku_table(found[sku_id], origin.get(sku_id, "")), None)


@catalog_app.command("validate", epilog="Example:\n\n\b\n  gigaplan catalog validate "
                     "my-racks.toml")
@handles_errors
def catalog_validate(
    files: Annotated[list[Path], typer.Argument(metavar="FILE...", help="Catalog files.")],
) -> None:
    """Check catalog files; list every problem as FILE: dotted.key: message (exit 3)."""
    from gigaplan.catalog import validate_files

    problems = validate_files(files)
    if problems:
        raise InputError(problems[0], problems)
    for path in files:
        typer.echo(f"ok: {path}")


# --- plan and init ---------------------------------------------------------------------------

PLAN_EPILOG = """Examples:

\b
  gigaplan plan                                  # the embedded 1 GW default site
  gigaplan plan site.toml --format json --output plan.json
  gigaplan plan --power 1.5GW --pue 1.15 --sku gb300-nvl72 --sku gb200-nvl72
  gigaplan plan site.toml --require 'totals.gpus >= 100000' --set budget.capex='$20B'
  gigaplan plan --objective gpus --set space.rack_positions=4000
  gigaplan plan --train-params 1T --train-tokens 20T --require 'workload.train_days <= 30'
  gigaplan plan --objective tco --require 'totals.gpus >= 100000'

\b
Requirement fields: totals.gpus, totals.fp4_dense_pflops, power_mw.facility,
cost.capex_usd, cost.usd_per_gpu_hour, energy.mwh_per_year, workload.train_days,
network.switches, racks.<sku-id>, ... (an unknown field lists them all)."""


SiteArg = Annotated[Path | None, typer.Argument(
    metavar="SITE", show_default=False,
    help="A site TOML file; the embedded default site when left out.")]
PowerOpt = Annotated[str | None, typer.Option(
    metavar="QUANTITY", help="Power budget, e.g. 1.2GW (power.budget).")]
BasisOpt = Annotated[Basis | None, typer.Option(help="What the budget covers (power.basis).")]
PueOpt = Annotated[float | None, typer.Option(help="Sizing PUE (power.pue).")]
SkuOpt = Annotated[list[str] | None, typer.Option(
    metavar="ID", help="Restrict compute to this SKU id (repeatable; compute.skus).")]
ObjectiveOpt = Annotated[Objective | None, typer.Option(help="What to maximise (objective).")]
RequireOpt = Annotated[list[str] | None, typer.Option(
    metavar="EXPR", help="A requirement such as 'totals.gpus >= 400000' (repeatable).")]
SetOpt = Annotated[list[str] | None, typer.Option(
    "--set", metavar="KEY=VALUE", help="Override a site key: dotted.key=VALUE (repeatable).")]
TrainParamsOpt = Annotated[str | None, typer.Option(
    metavar="COUNT", help="Parameters of a training run, e.g. 1T (workload.train_params).")]
TrainTokensOpt = Annotated[str | None, typer.Option(
    metavar="COUNT", help="Tokens of the training run, e.g. 20T (workload.train_tokens).")]
TimeLimitOpt = Annotated[float | None, typer.Option(
    metavar="SECONDS", min=0.01,
    help="Solver time limit; exit 5 with the best plan found when it is reached.")]
TimingsOpt = Annotated[bool, typer.Option(
    help="Report solve time (output then differs from run to run).")]
FormatOpt = Annotated[OutputFormat, typer.Option("--format", "-f")]
OutputOpt = Annotated[Path | None, typer.Option(
    "--output", "-o", metavar="FILE", help="Write to this file atomically instead of stdout.")]


@app.command("plan", epilog=PLAN_EPILOG)
@handles_errors
def plan_command(
    site: SiteArg = None,
    power: PowerOpt = None,
    basis: BasisOpt = None,
    pue: PueOpt = None,
    sku: SkuOpt = None,
    objective: ObjectiveOpt = None,
    require: RequireOpt = None,
    set_: SetOpt = None,
    train_params: TrainParamsOpt = None,
    train_tokens: TrainTokensOpt = None,
    catalog: CatalogFiles = None,
    time_limit: TimeLimitOpt = None,
    timings: TimingsOpt = False,
    format: FormatOpt = OutputFormat.TABLE,
    output: OutputOpt = None,
    reference: Annotated[str | None, typer.Option(
        metavar="SITE", help="With a study file: plan this site as the standard design and "
        "count the copies that fit each site.")] = None,
) -> None:
    """Find the provably best build-out of a site and show what it delivers.

    Flags override --set, which overrides the site file, which overrides the defaults.
    Exit 0 when optimal, 4 when infeasible (naming the limits in conflict), 5 when the
    time limit stops the solver (the best plan found is printed with its gap).
    """
    from gigaplan import report
    from gigaplan.scenario import Scenario, flag_overrides
    from gigaplan.solve import plan

    flags = {"power.budget": power, "power.basis": basis and basis.value, "power.pue": pue,
             "compute.skus": sku or None, "objective": objective and objective.value,
             "workload.train_params": train_params, "workload.train_tokens": train_tokens}
    scenario = Scenario(site, tuple(set_ or ()), flag_overrides(flags), tuple(require or ()),
                        tuple(catalog or ()))
    if site is not None and _is_study(site):
        _plan_study(scenario, reference, format, output, time_limit)
        return
    if reference is not None:
        raise InputError("--reference: needs a study file with [[sites]]")
    result = plan(scenario.bind(), time_limit_s=time_limit, timings=timings)
    err = _stderr()
    if not result.found:
        if format is not OutputFormat.TABLE:
            write_output(str(report.render_plan(result, format.value)), output)
        err.print(f"error: {result.message}")
        raise typer.Exit(EXIT_INFEASIBLE if result.status == "infeasible" else EXIT_SOLVER_LIMIT)
    rendered = report.render_plan(result, format.value)
    if isinstance(rendered, str):
        write_output(rendered, output)
    else:
        render_table(rendered, output)
    if result.status != "optimal":
        err.print(f"warning: the solver stopped at its time limit ({result.status}); the plan "
                  f"shown is the best found, gap {result.solver.mip_gap}")
        raise typer.Exit(EXIT_SOLVER_LIMIT)


def _is_study(path: Path) -> bool:
    from gigaplan.study import is_study

    return is_study(path)


def _plan_study(scenario: Any, reference: str | None, format: OutputFormat,
                output: Path | None, time_limit: float | None) -> None:
    """``plan`` on a study file: the joint plan of its sites, or a reference design."""
    from gigaplan import report
    from gigaplan.catalog import load_catalog
    from gigaplan.site import parse_set
    from gigaplan.study import load_study, plan_study, reference_copies

    if scenario.require:
        raise InputError("--require: a study's requirements go in its [study] table")
    overrides = tuple(parse_set(item) for item in scenario.sets) + scenario.overrides
    study = load_study(Path(scenario.site), load_catalog(scenario.catalogs), overrides)
    data = (reference_copies(study, reference, time_limit) if reference
            else plan_study(study, time_limit))
    if format is OutputFormat.TABLE:
        render_table(report.study_renderable(data), output)
    else:
        write_output(str(report.render_data(data, format.value)), output)
    if data.get("status", "optimal") != "optimal":
        _stderr().print(f"error: {data.get('message', data['status'])}")
        raise typer.Exit(EXIT_INFEASIBLE if data["status"] == "infeasible"
                         else EXIT_SOLVER_LIMIT)


@app.command("init", epilog="Examples:\n\n\b\n  gigaplan init\n  gigaplan init "
             "sites/abilene.toml --force\n  gigaplan init - > site.toml")
@handles_errors
def init_command(
    path: Annotated[Path, typer.Argument(
        metavar="PATH", help="Where to write the site file ('-' for stdout).")] = Path("site.toml"),
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Write the embedded default site as a commented TOML file to start from."""
    from gigaplan.site import default_site_text

    text = default_site_text()
    if str(path) == "-":
        write_output(text, None)
        return
    if path.exists() and not force:
        raise InputError(f"{path}: already exists; use --force to overwrite it")
    write_output(text, path)
    _stderr().print(f"wrote {path}; plan it with: gigaplan plan {path}")


# --- check -----------------------------------------------------------------------------------

CHECK_EPILOG = """Examples:

\b
  gigaplan check site.toml                                   # the site's own requirements
  gigaplan check site.toml --require 'totals.gpus >= 400000' --junit check.xml
  gigaplan check site.toml --format json | jq .passed"""


@app.command("check", epilog=CHECK_EPILOG)
@handles_errors
def check_command(
    site: Annotated[Path, typer.Argument(metavar="SITE", help="A site TOML file.")],
    require: RequireOpt = None,
    set_: SetOpt = None,
    catalog: CatalogFiles = None,
    junit: Annotated[Path | None, typer.Option(metavar="FILE", help="Also write JUnit XML, "
                                               "one test case per requirement.")] = None,
    format: Annotated[TableOrJson, typer.Option("--format", "-f")] = TableOrJson.TABLE,
) -> None:
    """Plan a site, then assert its requirements on the optimal plan (a CI gate).

    Requirements (the site's own plus --require) are assertions here, not constraints.
    Exit 0 when all hold, 1 when any fails, 3 on invalid input, 4 when infeasible.
    """
    from dataclasses import replace

    from gigaplan import check, report
    from gigaplan.scenario import Scenario
    from gigaplan.solve import plan

    scenario = Scenario(site, tuple(set_ or ()), (), tuple(require or ()), tuple(catalog or ()))
    bound = scenario.bind()
    if not bound.requirements:
        raise InputError(f"{bound.source}: requirements: nothing to check; add requirements "
                         "to the site or give --require")
    result = plan(replace(bound, requirements=()))
    if not result.found:
        _stderr().print(f"error: {result.message}")
        raise typer.Exit(EXIT_INFEASIBLE if result.status == "infeasible" else EXIT_SOLVER_LIMIT)
    data = result.to_dict()
    outcomes = check.evaluate(data, bound.requirements)
    if junit is not None:
        write_output(check.junit_xml(outcomes, bound.source), junit)
    summary = check.report_dict(data, outcomes)
    if format is TableOrJson.JSON:
        write_output(report.to_json(summary), None)
    else:
        render_table(report.check_table(summary), None)
    if not summary["passed"]:
        failed = sum(not outcome.passed for outcome in outcomes)
        _stderr().print(f"{failed} of {len(outcomes)} requirements not met")
        raise typer.Exit(EXIT_REQUIREMENT_FAILED)


# --- batch and sweep ------------------------------------------------------------------------

BATCH_EPILOG = """Examples:

\b
  gigaplan batch scenarios.jsonl --jobs 2 --output results.jsonl
  gigaplan batch scenarios.jsonl --output results.jsonl --resume   # after an interruption
  gigaplan batch sites.csv --format csv > results.csv
  echo '{"id": "a", "set": {"power.budget": "2 GW"}}' | gigaplan batch -

\b
A JSON Lines row: {"id": "x", "site": "path.toml" or {inline table}, "set": {"key": value}}.
A CSV file: columns id, optionally site, and dotted keys. Paths are relative to the input."""
JobsOpt = Annotated[int, typer.Option(min=1, max=256, help="Parallel worker processes.")]


class Executor(StrEnum):
    LOCAL = "local"
    DASK = "dask"


ExecutorOpt = Annotated[Executor, typer.Option(
    help="local: a process pool; dask: a Dask cluster (pip install 'gigaplan[dask]').")]
SchedulerOpt = Annotated[str | None, typer.Option(
    metavar="ADDRESS", help="With --executor dask: an existing scheduler, e.g. "
    "tcp://10.0.0.5:8786; without it a LocalCluster of --jobs workers starts.")]


class BatchFormat(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"


def _progress(total: int) -> Any:
    """A rich progress bar on stderr (rows done, rate, ETA), or None off a terminal."""
    if not sys.stderr.isatty() or total < 2:
        return None
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RowsPerSecond(ProgressColumn):
        def render(self, task: Any) -> Text:
            return Text(f"{task.speed:.1f} rows/s" if task.speed else "- rows/s")

    return Progress(TextColumn("planning"), BarColumn(), MofNCompleteColumn(),
                    RowsPerSecond(), TimeRemainingColumn(), console=_stderr(), transient=True)


def _with_progress(lines: Iterator[dict[str, Any]], total: int) -> Iterator[dict[str, Any]]:
    progress = _progress(total)
    if progress is None:
        yield from lines
        return
    with progress:
        task = progress.add_task("rows", total=total)
        for line in lines:
            progress.advance(task)
            yield line


def _run_rows(rows: list[Any], jobs: int, executor: Executor = Executor.LOCAL,
              scheduler: str | None = None) -> Iterator[dict[str, Any]]:
    from gigaplan import batch

    yield from _with_progress(batch.run(rows, jobs, executor.value, scheduler), len(rows))


@app.command("batch", epilog=BATCH_EPILOG)
@handles_errors
def batch_command(
    input: Annotated[str, typer.Argument(metavar="INPUT", help="JSON Lines or CSV file, or - "
                                         "for stdin.")],
    jobs: JobsOpt = 1,
    output: Annotated[Path | None, typer.Option("--output", "-o", metavar="FILE",
                                                help="Write result lines here.")] = None,
    resume: Annotated[bool, typer.Option(help="Skip ids already in --output; append the "
                                         "rest.")] = False,
    format: Annotated[BatchFormat, typer.Option("--format", "-f")] = BatchFormat.JSONL,
    catalog: CatalogFiles = None,
    executor: ExecutorOpt = Executor.LOCAL,
    scheduler: SchedulerOpt = None,
) -> None:
    """Plan many scenarios: one result line per input row, in input order.

    A bad row becomes a row with "status": "error", its message and exit-code class; it
    never stops the batch. Exit 0 when every row was planned optimally, 1 otherwise.
    """
    from dataclasses import replace

    from gigaplan import batch

    if resume and output is None:
        raise InputError("--resume: needs --output FILE to know which rows are done")
    if input == "-":
        text, source, base = sys.stdin.read(), "<stdin>", "."
    else:
        path = Path(input)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise InputError(f"{path}: cannot be read ({error.__class__.__name__}: "
                             f"{getattr(error, 'strerror', None) or error})") from None
        source, base = str(path), str(path.parent)
    fmt_in = "csv" if input.lower().endswith(".csv") else None
    rows = [replace(row, catalogs=tuple(map(str, catalog or ())))
            for row in batch.read_rows(text, source, base, fmt_in)]
    statuses = batch.done_ids(output, format.value) if resume and output else {}
    todo = [row for row in rows if row.id not in statuses]
    writer = None
    if output is not None:
        writer = batch.LineWriter(output, append=resume)
        if format is BatchFormat.CSV and not statuses:
            writer.write(batch.csv_header())
    elif format is BatchFormat.CSV:
        sys.stdout.write(batch.csv_header())
    failed = sum(status != "optimal" for status in statuses.values())
    try:
        for line in _run_rows(todo, jobs, executor, scheduler):
            failed += line["status"] != "optimal"
            text_line = batch.format_line(line, format.value)
            if writer is None:
                sys.stdout.write(text_line)
                sys.stdout.flush()
            else:
                writer.write(text_line)
    finally:
        if writer is not None:
            writer.close()
    if resume:
        _stderr().print(f"{len(rows) - len(todo)} rows already done, {len(todo)} planned")
    if failed:
        _stderr().print(f"{failed} of {len(rows)} rows were not planned optimally")
        raise typer.Exit(EXIT_REQUIREMENT_FAILED)


SWEEP_EPILOG = """Examples:

\b
  gigaplan sweep site.toml --vary power.budget=0.5GW:2GW:0.25GW
  gigaplan sweep --vary power.pue=1.1,1.2,1.3 --vary compute.skus='["gb200-nvl72"]'
  gigaplan sweep site.toml --vary economics.electricity_price='$40/MWh:$100/MWh:$20/MWh' -f csv"""


@app.command("sweep", epilog=SWEEP_EPILOG)
@handles_errors
def sweep_command(
    site: SiteArg = None,
    vary: Annotated[list[str], typer.Option(metavar="KEY=RANGE", help="KEY=START:STOP:STEP or "
                                            "KEY=A,B,C (repeatable; Cartesian product).")
                    ] = ...,  # type: ignore[assignment]
    set_: SetOpt = None,
    jobs: JobsOpt = 1,
    executor: ExecutorOpt = Executor.LOCAL,
    scheduler: SchedulerOpt = None,
    catalog: CatalogFiles = None,
    format: FormatOpt = OutputFormat.TABLE,
    output: OutputOpt = None,
) -> None:
    """Plan every combination of the varied keys; table and chart of the objective."""
    from gigaplan import batch, report, sweep
    from gigaplan.site import parse_set

    varies = [sweep.parse_vary(spec) for spec in vary]
    sets = [parse_set(item) for item in set_ or ()]
    rows = sweep.rows(site, varies, sets, tuple(map(str, catalog or ())))
    lines = list(_run_rows(rows, jobs, executor, scheduler))
    combos = [tuple(value for key, value in row.sets[len(sets):]) for row in rows]
    keys = [vary.key for vary in varies]
    records = [{**{f"vary.{key}": value for key, value in zip(keys, combo, strict=True)},
                **line} for combo, line in zip(combos, lines, strict=True)]
    if format is OutputFormat.TABLE:
        render_table(report.sweep_table(keys, lines, combos), output)
    elif format is OutputFormat.CSV:
        columns = [f"vary.{key}" for key in keys] + list(batch.CSV_COLUMNS)
        text = ",".join(columns) + "\n" + "".join(
            ",".join(_csv_cell(record, column) for column in columns) + "\n"
            for record in records)
        write_output(text, output)
    elif format is OutputFormat.JSON:
        write_output(report.to_json({"schema": "gigaplan.sweep/1", "vary": keys,
                                     "rows": records}), output)
    else:
        write_output(report.to_toml({"schema": "gigaplan.sweep/1", "vary": keys,
                                     "rows": records}), output)
    failed = sum(line["status"] != "optimal" for line in lines)
    if failed:
        _stderr().print(f"{failed} of {len(lines)} combinations were not planned optimally")
        raise typer.Exit(EXIT_REQUIREMENT_FAILED)


def _csv_cell(record: dict[str, Any], column: str) -> str:
    import csv
    import io

    from gigaplan.report import plain

    value = plain(record.get(column))
    if column == "racks" and isinstance(value, dict):
        value = ";".join(f"{sku}={count}" for sku, count in sorted(value.items()))
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(["" if value is None else value])
    return buffer.getvalue()


MONTECARLO_EPILOG = """Examples:

\b
  gigaplan montecarlo site.toml --samples 1000 --seed 7 --jobs 2
  gigaplan montecarlo --samples 200 --uncertain 'power.pue=uniform(1.1, 1.3)' \\
      --uncertain 'catalog.gb300-nvl72.power_kw=triangular(130 kW, 142 kW, 150 kW)'
  gigaplan montecarlo site.toml --samples 10000 --executor dask --scheduler tcp://head:8786

\b
Distributions: uniform(low, high), normal(mean, sd), triangular(low, mode, high),
lognormal(median, sigma of the log), choice(a, b, ...); values may carry units."""


@app.command("montecarlo", epilog=MONTECARLO_EPILOG)
@handles_errors
def montecarlo_command(
    site: SiteArg = None,
    samples: Annotated[int, typer.Option(min=1, max=10_000_000, help="How many samples.")
                       ] = 100,
    seed: Annotated[int, typer.Option(min=0, help="Seed of numpy's Generator; the same seed "
                                      "gives byte-identical output.")] = 0,
    uncertain: Annotated[list[str] | None, typer.Option(
        metavar="KEY=DIST", help="An uncertain site key or catalog.<sku>.<field> "
        "(repeatable; adds to the site's [uncertainty] table).")] = None,
    set_: SetOpt = None,
    jobs: JobsOpt = 1,
    executor: ExecutorOpt = Executor.LOCAL,
    scheduler: SchedulerOpt = None,
    catalog: CatalogFiles = None,
    format: Annotated[TableOrJson, typer.Option("--format", "-f")] = TableOrJson.TABLE,
    output: OutputOpt = None,
) -> None:
    """Percentiles of a plan under uncertain inputs: the fixed plan, and re-planned optima."""
    from gigaplan import report
    from gigaplan.montecarlo import montecarlo
    from gigaplan.scenario import Scenario

    specs = {}
    for item in uncertain or ():
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--uncertain {item!r}: expected KEY=DIST, e.g. "
                             "'power.pue=uniform(1.1, 1.3)'")
        specs[key.strip()] = text.strip()
    scenario = Scenario(site, tuple(set_ or ()), (), (), tuple(map(str, catalog or ())))
    data = montecarlo(scenario, specs, samples, seed, jobs, executor.value, scheduler,
                      progress=_with_progress)
    if format is TableOrJson.JSON:
        write_output(report.to_json(data), output)
    else:
        render_table(report.montecarlo_renderable(data), output)
    if data["errors"]:
        _stderr().print(f"{len(data['errors'])} of {samples} samples failed; see 'errors'")


# --- explain and diff -----------------------------------------------------------------------


@app.command("explain", epilog="Examples:\n\n\b\n  gigaplan explain site.toml\n  gigaplan "
             "explain --power 10MW --require 'totals.gpus >= 100000'   # why infeasible")
@handles_errors
def explain_command(
    site: SiteArg = None,
    power: PowerOpt = None,
    require: RequireOpt = None,
    set_: SetOpt = None,
    catalog: CatalogFiles = None,
    format: Annotated[TableOrJson, typer.Option("--format", "-f")] = TableOrJson.TABLE,
) -> None:
    """Binding limits in plain language, measured marginal values, or why a site fails.

    Each limit is moved about 1 % looser and the site re-planned. For an infeasible site,
    an elastic re-solve says how far each conflicting limit must move (exit 4).
    """
    from gigaplan import report
    from gigaplan.explain import explain
    from gigaplan.scenario import Scenario, flag_overrides

    scenario = Scenario(site, tuple(set_ or ()), flag_overrides({"power.budget": power}),
                        tuple(require or ()), tuple(catalog or ()))
    data = explain(scenario)
    if format is TableOrJson.JSON:
        write_output(report.to_json(data), None)
    else:
        render_table(report.explain_renderable(data), None)
    if "conflicts" in data:
        raise typer.Exit(EXIT_INFEASIBLE)


@app.command("diff", epilog="Examples:\n\n\b\n  gigaplan diff a.toml b.toml\n  gigaplan "
             "diff plan-2026.json plan-2027.json --format json")
@handles_errors
def diff_command(
    a: Annotated[Path, typer.Argument(metavar="A", help="A site TOML file or a plan JSON file.")],
    b: Annotated[Path, typer.Argument(metavar="B", help="A site TOML file or a plan JSON file.")],
    catalog: CatalogFiles = None,
    format: Annotated[TableOrJson, typer.Option("--format", "-f")] = TableOrJson.TABLE,
) -> None:
    """Changed inputs and results of two sites or plans, with absolute and relative deltas."""
    from gigaplan import report
    from gigaplan.diff import compare, load_side

    catalogs = tuple(map(str, catalog or ()))
    data = compare(load_side(a, catalogs), load_side(b, catalogs), (str(a), str(b)))
    if format is TableOrJson.JSON:
        write_output(report.to_json(data), None)
    else:
        render_table(report.diff_table(data), None)


def main() -> None:
    """Console-script entry point."""
    app()
