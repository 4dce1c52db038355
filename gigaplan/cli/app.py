"""The Typer app, error mapping, output helpers and the options commands share.

Each command parses its arguments, calls one core function, renders, and maps errors to exit
codes (docs/json.md). numpy and scipy are imported only by commands that solve.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import inspect
import io
import os
import shlex
import stat
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console

from gigaplan.errors import (
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    GigaplanError,
    InputError,
)
from gigaplan.inputs.files import forget_reads, is_input
from gigaplan.inputs.units import counted
from gigaplan.kinds import Basis, Objective, OutputFormat
from gigaplan.output.escape import escaped
from gigaplan.solver_thread import interrupt_solves_at_once, solver_threads_started
from gigaplan.version import __version__

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
  gigaplan report site.toml -o plan.html # an HTML report with charts (or -f xlsx)

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


def stderr_console() -> Console:
    return Console(stderr=True, markup=False, highlight=False, soft_wrap=True,
                   **_size(sys.stderr, 80))


def stdout_console() -> Console:
    return Console(markup=False, highlight=False,
                   **_size(sys.stdout, 80 if sys.stdout.isatty() else 120))


def _size(stream: Any, default_width: int) -> dict[str, int]:
    """The width and height to render ``stream`` at: ``COLUMNS`` and ``LINES`` when each is a
    whole number, else the terminal's, else ``default_width`` by 25 lines.

    Given to rich explicitly, so that it never reads the variables itself: ``COLUMNS=abc``
    is fine, but ``COLUMNS=0`` rendered nothing at all (errors included), and a non-ASCII
    digit or a 5,000-digit value made rich's ``int()`` raise (exit 70).
    """
    width, height = _env_count("COLUMNS"), _env_count("LINES")
    try:
        if stream.isatty():
            size = os.get_terminal_size(stream.fileno())
            width, height = width or size.columns, height or size.lines
    except (AttributeError, ValueError, OSError):  # a stream with no descriptor (a test's)
        pass
    return {"width": width or default_width, "height": height or 25}


def _env_count(name: str) -> int | None:
    """The environment variable ``name`` as a positive whole number (at most 99,999), or None."""
    text = os.environ.get(name, "").strip()
    if text.isascii() and text.isdigit() and len(text) <= 5 and int(text) > 0:
        return int(text)
    return None


def handles_errors(command: F) -> F:
    """Map gigaplan's exceptions to one-line messages on stderr and documented exit codes."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        err = stderr_console()
        forget_reads()  # the inputs of this command only (tests run many in one process)
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except InputError as error:
            for line in error.problems:
                err.print(f"error: {one_line(line)}")
            raise typer.Exit(EXIT_INPUT) from None
        except GigaplanError as error:
            hint = " (a bug; rerun with --debug for the traceback)" \
                if error.exit_code == EXIT_INTERNAL else ""
            err.print(f"error: {one_line(str(error))}{hint}")
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
        except OSError as error:
            if error.errno not in OUTPUT_FULL:
                _internal(err, error)
            # stdout (or a batch's output) on a full disk, over a quota or a size limit: not
            # a bug, and the text still buffered must not fail again at exit
            err.print(f"error: the output cannot be written ({error.strerror})")
            with contextlib.suppress(OSError, ValueError, AttributeError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(EXIT_INPUT) from None
        except Exception as error:  # a bug: one line, and how to see more
            _internal(err, error)

    return wrapper  # type: ignore[return-value]


# Why an output cannot be written that is no bug of gigaplan's (exit 3, not 70).
OUTPUT_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def _internal(err: Console, error: BaseException) -> None:
    """A bug: one line, and how to see more (exit 70)."""
    if _state["debug"]:
        err.print(traceback.format_exc())
    err.print(f"internal error: {type(error).__name__}: {one_line(str(error))} "
              "(a bug; rerun with --debug for the traceback)")
    raise typer.Exit(EXIT_INTERNAL) from None


def one_line(text: str) -> str:
    """A message stays on one line whatever the input it quotes.

    Every character that is not printable (C0/C1 controls such as ``\\x1e`` or ESC, and the
    line and paragraph separators U+0085, U+2028, U+2029 that ``str.splitlines`` breaks on)
    is shown as its escape, so quoted input can neither split the line nor drive the terminal.
    """
    return escaped(text)


def write_output(text: str | bytes, output: Path | None) -> None:
    """Write ``text`` (or bytes: a workbook) to stdout, or to ``output``.

    A regular file (or a symlink to one, or a new file) is replaced atomically: a temporary
    file in the same folder, then a rename over the target, so a crash never leaves half a
    file. The symlink stays; an existing file keeps its mode; a new file gets the process
    umask. Anything else (a FIFO, a device, ``/dev/stdout``) is written through, never
    replaced. A path that cannot be written is an input error, one line.
    """
    if output is None:
        if isinstance(text, bytes):
            sys.stdout.buffer.write(text)
        else:
            sys.stdout.write(text)
        sys.stdout.flush()
        return
    refuse_input_as_output(output)
    try:
        # "replace": a lone surrogate (an undecodable byte of a file name, which Python keeps
        # as one) cannot be UTF-8; it is written as "?" instead of failing (exit 70)
        _write_file(text if isinstance(text, bytes) else text.encode("utf-8", "replace"),
                    output)
    except OSError as error:
        raise InputError(f"{output}: cannot be written ({error.strerror or error})") from None


def refuse_input_as_output(output: Path) -> None:
    """An input error when ``output`` is a file this command read: writing it would destroy
    the input (a batch truncates its rows before reading them)."""
    if is_input(output):
        raise InputError(f"{output}: is an input of this command; write the output to "
                         "another file")


def _write_file(data: bytes, output: Path) -> None:
    try:
        info: os.stat_result | None = os.stat(output)  # follows a symlink to its target
    except FileNotFoundError:
        info = None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise InputError(f"{output}: is a directory; give a file name")
    if info is not None and not stat.S_ISREG(info.st_mode):
        with open(output, "wb") as stream:  # a FIFO, a device, /dev/stdout: write through
            stream.write(data)
        return
    target = Path(os.path.realpath(output))  # a symlink's target is the file replaced
    folder = target.parent
    if not folder.is_dir():
        raise InputError(f"{output}: folder {folder} does not exist")
    mode = stat.S_IMODE(info.st_mode) if info is not None else 0o666 & ~_umask()
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "wb") as stream:
            os.fchmod(stream.fileno(), mode)  # mkstemp makes 0600
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)  # the only way to read it; set straight back
    os.umask(mask)
    return mask


def render_table(renderable: Any, output: Path | None) -> None:
    if output is None:
        # crop=False: a line left long on purpose (a URL) is printed whole, never cut
        stdout_console().print(renderable, crop=False)
        return
    buffer = io.StringIO()
    # height given: rich would otherwise read LINES, and a bad value raises
    Console(file=buffer, width=120, height=25, markup=False, highlight=False,
            color_system=None).print(
        renderable, crop=False
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
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors "
                                        "and the solver's own output (on stderr).")] = False,
) -> None:
    """Capacity planning for AI gigafactories."""
    _state["debug"] = debug
    interrupt_solves_at_once(True)  # Ctrl-C stops a long solve at once: the command exits
    if debug:
        # the solver's own output to stderr; lazy to keep ctypes off every start-up path
        from gigaplan.fdguard import send_solver_output_to_stderr

        send_solver_output_to_stderr(True)




# The flags that set a site key, for messages that name the flag (--power, not power.budget).
FLAG_NAMES = {"power.budget": "--power", "power.basis": "--basis", "power.pue": "--pue",
              "compute.skus": "--sku", "objective": "--objective",
              "workload.train_params": "--train-params", "workload.train_tokens": "--train-tokens"}


def flag_labels(flags: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """(site key, flag name) of each flag given, for :class:`Scenario` ``labels``."""
    return tuple((key, FLAG_NAMES[key]) for key, value in flags.items() if value is not None)


def site_flags(power: str | None = None, basis: Any = None, pue: float | None = None,
               sku: list[str] | None = None, objective: Any = None,
               train_params: str | None = None, train_tokens: str | None = None
               ) -> dict[str, Any]:
    """The site keys the scenario flags of ``plan`` and ``explain`` set (None: not given)."""
    return {"power.budget": power, "power.basis": basis and basis.value, "power.pue": pue,
            "compute.skus": sku or None, "objective": objective and objective.value,
            "workload.train_params": train_params, "workload.train_tokens": train_tokens}


def explain_command_line(site: Path | None, flags: dict[str, Any], require: list[str] | None,
                         sets: list[str] | None, catalogs: list[Path] | None) -> str:
    """The ``gigaplan explain`` command for the same scenario, to copy and run."""
    words = ["gigaplan", "explain"] + ([str(site)] if site is not None else [])
    for key, value in flags.items():
        for item in (value if isinstance(value, list) else [value]):
            if item is not None:
                words += [FLAG_NAMES[key], str(item)]
    for option, values in (("--require", require), ("--set", sets), ("--catalog", catalogs)):
        for value in values or ():
            words += [option, str(value)]
    return shlex.join(words)


# --- shell completion ---------------------------------------------------------------
# Each takes the words typed so far (click parses them into ctx.params) and what is being
# completed; they read the catalog and the site schema lazily, and never fail (a bad
# --catalog file completes the bundled ids).


def _sku_entries(ctx: typer.Context) -> list[dict[str, Any]]:
    from gigaplan.inputs.bundled import entries  # lazily: completion only

    files = ctx.params.get("catalog") or []
    if files:
        try:
            # lazily: pydantic, for a user catalog only
            from gigaplan.inputs.catalog import load_catalog
            from gigaplan.output.serialize import catalog_entries

            return catalog_entries(load_catalog(files))
        except Exception:  # a half-typed or broken file: the bundled ids still help
            pass
    return entries()[0]


def complete_sku(ctx: typer.Context, incomplete: str) -> list[str]:
    """Compute rack ids of the bundled catalog and any --catalog files."""
    return [entry["id"] for entry in _sku_entries(ctx)
            if entry["kind"] == "compute_rack" and entry["id"].startswith(incomplete)]


def complete_any_sku(ctx: typer.Context, incomplete: str) -> list[str]:
    """Every SKU id of the bundled catalog and any --catalog files."""
    return [entry["id"] for entry in _sku_entries(ctx) if entry["id"].startswith(incomplete)]


def _key_candidates(ctx: typer.Context) -> list[str]:
    from gigaplan.inputs.site import site_keys  # lazily: pydantic, completion only

    keys = []
    compute = [entry["id"] for entry in _sku_entries(ctx) if entry["kind"] == "compute_rack"]
    for key in site_keys():
        if key in ("compute.min_racks", "compute.max_racks"):
            keys += [f"{key}.{sku}" for sku in compute]
        elif key == "economics.prices":
            keys += [f"{key}.{entry['id']}" for entry in _sku_entries(ctx)]
        elif key != "uncertainty":
            keys.append(key)
    return keys


def complete_site_key(ctx: typer.Context, incomplete: str) -> list[str]:
    """Site keys for --set and --vary, as ``key=`` ready for the value."""
    return [f"{key}=" for key in _key_candidates(ctx) if key.startswith(incomplete)]


def complete_uncertain_key(ctx: typer.Context, incomplete: str) -> list[str]:
    """Site keys and ``catalog.<sku-id>.<numeric field>`` for --uncertain."""
    keys = _key_candidates(ctx)
    for entry in _sku_entries(ctx):
        keys += [f"catalog.{entry['id']}.{name}" for name, value in entry.items()
                 if isinstance(value, int | float) and not isinstance(value, bool)]
    return [f"{key}=" for key in keys if key.startswith(incomplete)]


# --- options shared by several commands ---------------------------------------------

CatalogFiles = Annotated[
    list[Path] | None,
    typer.Option("--catalog", "-c", metavar="FILE", show_default=False,
                 help="A catalog TOML file that adds or overrides SKUs by id (repeatable)."),
]


SiteArg = Annotated[Path | None, typer.Argument(
    metavar="SITE", show_default=False,
    help="A site TOML file; the embedded default site when left out.")]
PowerOpt = Annotated[str | None, typer.Option(
    metavar="QUANTITY", help="Power budget, e.g. 1.2GW (power.budget).")]
BasisOpt = Annotated[Basis | None, typer.Option(help="What the budget covers (power.basis).")]
PueOpt = Annotated[float | None, typer.Option(help="Sizing PUE (power.pue).")]
SkuOpt = Annotated[list[str] | None, typer.Option(
    metavar="ID", autocompletion=complete_sku,
    help="Restrict compute to this SKU id (repeatable; compute.skus).")]
ObjectiveOpt = Annotated[Objective | None, typer.Option(help="What to maximise (objective).")]
RequireOpt = Annotated[list[str] | None, typer.Option(
    metavar="EXPR", help="A requirement such as 'totals.gpus >= 400000' (repeatable).")]
SetOpt = Annotated[list[str] | None, typer.Option(
    "--set", metavar="KEY=VALUE", autocompletion=complete_site_key,
    help="Override a site key: dotted.key=VALUE (repeatable).")]
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


def output_file(text: str) -> Path:
    """The path of an output file, as typed: a name ending in a separator names a folder.

    ``Path("plans/")`` drops the trailing separator, so without this check ``-o plans/``
    would write a file called ``plans``. A usage error (exit 2), as for any bad flag value.
    """
    if text.endswith(("/", os.sep)) and text != "-":
        raise typer.BadParameter(f"{one_line(text)!r} names a folder; give the name of a file "
                                 "(in that folder, if that is where it should go)")
    return Path(text)


OutputOpt = Annotated[Path | None, typer.Option(
    "--output", "-o", metavar="FILE", parser=output_file,
    help="Write to this file atomically instead of stdout.")]

# The site argument and scenario options ``plan`` and ``explain`` share, in --help order.
SCENARIO_OPTIONS: tuple[tuple[str, Any], ...] = (
    ("site", SiteArg), ("power", PowerOpt), ("basis", BasisOpt), ("pue", PueOpt),
    ("sku", SkuOpt), ("objective", ObjectiveOpt), ("require", RequireOpt), ("set_", SetOpt),
    ("train_params", TrainParamsOpt), ("train_tokens", TrainTokensOpt),
    ("catalog", CatalogFiles))
_SITE_FLAG_NAMES = ("power", "basis", "pue", "sku", "objective", "train_params", "train_tokens")


@dataclass(frozen=True)
class ScenarioArgs:
    """The site argument and scenario options of ``plan`` and ``explain``, as given."""

    site: Path | None
    flags: dict[str, Any]
    require: list[str] | None
    sets: list[str] | None
    catalog: list[Path] | None

    def scenario(self) -> Any:
        """The :class:`~gigaplan.inputs.scenario.Scenario` these arguments describe."""
        # lazily: keeps pydantic, numpy and scipy off --help and `catalog list`
        from gigaplan.inputs.scenario import Scenario, flag_overrides

        return Scenario(self.site, tuple(self.sets or ()), flag_overrides(self.flags),
                        tuple(self.require or ()), tuple(self.catalog or ()),
                        labels=flag_labels(self.flags))


def scenario_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Give a command the shared site argument and scenario options in place of ``args``.

    Typer sees the parameters of ``SCENARIO_OPTIONS`` where the command's ``args`` parameter
    stands; the command receives them as one :class:`ScenarioArgs`.
    """
    signature = inspect.signature(command, eval_str=True)
    params: list[inspect.Parameter] = []
    for param in signature.parameters.values():
        if param.name == "args":
            params.extend(inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                            default=None, annotation=kind)
                          for name, kind in SCENARIO_OPTIONS)
        else:
            params.append(param)

    @functools.wraps(command)
    def wrapper(**kwargs: Any) -> Any:
        flags = site_flags(**{name: kwargs.pop(name) for name in _SITE_FLAG_NAMES})
        args = ScenarioArgs(kwargs.pop("site"), flags, kwargs.pop("require"),
                            kwargs.pop("set_"), kwargs.pop("catalog"))
        return command(args=args, **kwargs)

    wrapper.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {param.name: param.annotation for param in params} | {
        "return": signature.return_annotation}
    return wrapper



JobsOpt = Annotated[int, typer.Option(min=1, max=256, help="Parallel worker processes.")]


class Executor(StrEnum):
    LOCAL = "local"
    DASK = "dask"


ExecutorOpt = Annotated[Executor, typer.Option(
    help="local: a process pool; dask: a Dask cluster (pip install 'gigaplan[dask]').")]
SchedulerOpt = Annotated[str | None, typer.Option(
    metavar="ADDRESS", help="With --executor dask: an existing scheduler, e.g. "
    "tcp://10.0.0.5:8786; without it a LocalCluster of --jobs workers starts.")]


def progress_bar(total: int) -> Any:
    """A rich progress bar on stderr (rows done, rate, ETA), or None off a terminal."""
    if not sys.stderr.isatty() or total < 2:
        return None
    # lazily: rich's progress module is needed only on a terminal, never for --help
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
                    RowsPerSecond(), TimeRemainingColumn(), console=stderr_console(),
                    transient=True)


SPINNER_AFTER_S = 0.5  # a plan that takes less shows no spinner (no flicker)


@contextlib.contextmanager
def solving(time_limit_s: float | None) -> Iterator[None]:
    """On a terminal, a spinner on stderr while a plan takes more than a moment: the seconds
    so far and how to stop the search or bound it. Cleared before the plan is printed;
    nothing off a terminal."""
    err = stderr_console()
    if not sys.stderr.isatty() or err.is_dumb_terminal:
        yield
        return
    # lazily: rich's live display is needed only on a terminal, never for --help
    from rich.status import Status
    from rich.text import Text

    started = time.monotonic()
    bound = f" of the {time_limit_s:g} s limit" if time_limit_s is not None else ""
    hint = "" if time_limit_s is not None else "; --time-limit S bounds the search"

    class Elapsed:  # rendered at every refresh
        def __rich__(self) -> Text:
            seconds = time.monotonic() - started
            return Text(f"solving: {seconds:.0f} s{bound} (Ctrl-C stops{hint})")

    status = Status(Elapsed(), console=err, spinner="dots")
    lock = threading.Lock()
    shown = {"live": False, "over": False}

    def show() -> None:
        with lock:
            if not shown["over"]:
                status.start()
                shown["live"] = True

    timer = threading.Timer(SPINNER_AFTER_S, show)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        with lock:
            shown["over"] = True
            if shown["live"]:
                status.stop()


def with_progress(lines: Iterator[dict[str, Any]], total: int | None
                  ) -> Iterator[dict[str, Any]]:
    progress = progress_bar(total if total is not None else 0)
    if progress is None:
        yield from lines
        return
    with progress:
        task = progress.add_task("rows", total=total)
        for line in lines:
            progress.advance(task)
            yield line


def run_rows(rows: Iterable[Any], jobs: int, executor: Executor = Executor.LOCAL,
             scheduler: str | None = None, total: int | None = None
             ) -> Iterator[dict[str, Any]]:
    """Plan ``rows`` (a list, or a stream with ``total`` rows expected) with a progress bar."""
    # lazily: keeps pydantic, numpy and scipy off --help and `catalog list`
    from gigaplan.studies import batch

    if total is None and isinstance(rows, list):
        total = len(rows)
    yield from with_progress(batch.run(rows, jobs, executor.value, scheduler, count=total),
                             total)


def run_summary(command: str, noun: tuple[str, str], tally: Mapping[str, int],
                seconds: float) -> str:
    """One line for the end of a batch, sweep or Monte Carlo run (``tally``: rows by status):
    how many were planned, infeasible, stopped by the time limit or in error, and the time.
    ``noun`` is what was counted, singular and plural (``("row", "rows")``)."""
    counts = {status: count for status, count in tally.items() if count}
    total = sum(counts.values())
    parts = [f"{counts.pop('optimal', 0):,} planned",
             f"{counts.pop('infeasible', 0):,} infeasible"]
    if counts.get("time_limit"):
        parts.append(f"{counts.pop('time_limit'):,} stopped at the time limit")
    parts.append(counted(sum(counts.values()), "error"))
    return f"{command}: {counted(total, *noun)}: {', '.join(parts)}; {seconds:.1f} s"


def main() -> None:
    """Console-script entry point.

    ``gigaplan catalog ...`` runs on an app holding the catalog group alone: Typer builds a
    click command for every registered command before dispatching (about 17 ms for the whole
    app), and ``catalog list`` is a start-up path (docs/benchmarks.md: at most 1.5x a bare
    Typer app). Any other command line, completion included, runs on the whole app.
    """
    if _command_name(sys.argv[1:]) == "catalog" and "_GIGAPLAN_COMPLETE" not in os.environ:
        # this process runs one command line: the app can drop what it will not dispatch to
        app.registered_commands = []
        app.registered_groups = [group for group in app.registered_groups
                                 if group.typer_instance is catalog_app]
    _standard_streams()
    try:
        app()
    except SystemExit as done:
        if done.code == EXIT_INTERRUPTED and solver_threads_started():
            _exit_now(EXIT_INTERRUPTED)  # HiGHS's threads may run: no C++ teardown
        raise
    except InputError as error:  # --help or --version to a closed stdout
        sys.stderr.write(f"error: {error}\n")
        sys.exit(EXIT_INPUT)
    except OSError as error:  # --help or --version written outside any command's handler
        if error.errno != errno.EPIPE and error.errno not in OUTPUT_FULL:
            raise
        with contextlib.suppress(OSError, ValueError):  # nothing more to flush at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        if error.errno == errno.EPIPE:  # the reader went away (--help | head): like cat
            sys.exit(0)
        sys.stderr.write(f"error: the output cannot be written ({error.strerror})\n")
        sys.exit(EXIT_INPUT)


def _exit_now(code: int) -> NoReturn:
    """Flush what was written and end the process with ``code`` at once, skipping the
    interpreter's and the C++ runtime's teardown (:func:`solver_threads_started`)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            stream.flush()
    os._exit(code)


class _Closed:
    """Stands for a standard stream the caller closed (``gigaplan plan >&-``), which Python
    leaves as None: using it is a one-line input error, not an AttributeError (exit 70)."""

    def __init__(self, name: str, hint: str) -> None:
        self.name, self.hint = name, hint
        self.buffer = self

    def _closed(self, *args: Any, **kwargs: Any) -> Any:
        raise InputError(f"{self.name} is closed; {self.hint}")

    write = read = readline = fileno = __iter__ = _closed

    def isatty(self) -> bool:
        return False

    def flush(self) -> None:
        """Nothing was written, so nothing to flush (at exit too)."""


def _standard_streams() -> None:
    """Descriptors 0, 1 and 2 that the caller closed are opened on /dev/null, so that no file
    this command opens takes their place (the solver guard points descriptor 1 elsewhere and
    back); the Python streams for them stand as :class:`_Closed`."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            opened = os.open(os.devnull, os.O_RDWR)
            if opened != fd:
                os.dup2(opened, fd)
                os.close(opened)
    if sys.stdin is None:
        sys.stdin = _Closed("standard input", "give a file instead of -")  # type: ignore[assignment]
    if sys.stdout is None:
        sys.stdout = _Closed("standard output", "give --output FILE")  # type: ignore[assignment]
    if sys.stderr is None:  # messages have nowhere to go; the exit code still tells
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 (open for the process's life)


def _command_name(args: list[str]) -> str | None:
    """The command a command line names: its first word that is not a top-level option."""
    return next((arg for arg in args if not arg.startswith("-")), None)
