"""Commands for CI and scripts: ``check``, ``batch``, ``sweep``, ``montecarlo``."""

from __future__ import annotations

import os
import shlex
import signal
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from gigaplan.cli.app import (
    CatalogFiles,
    Executor,
    ExecutorOpt,
    FormatOpt,
    JobsOpt,
    OutputOpt,
    RequireOpt,
    SchedulerOpt,
    SetOpt,
    SiteArg,
    app,
    complete_site_key,
    complete_uncertain_key,
    handles_errors,
    one_line,
    output_file,
    refuse_input_as_output,
    render_table,
    run_rows,
    run_summary,
    stderr_console,
    with_progress,
    write_output,
)
from gigaplan.errors import (
    EXIT_INFEASIBLE,
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_REQUIREMENT_FAILED,
    EXIT_SOLVER_LIMIT,
    GigaplanError,
    InputError,
)
from gigaplan.kinds import OutputFormat, TableOrJson


class BatchFormat(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"


# --- check -----------------------------------------------------------------------------------

CHECK_EPILOG = """Examples:

\b
  gigaplan check site.toml                                   # the site's own requirements
  gigaplan check site.toml --require 'totals.gpus >= 400000' --junit check.xml
  gigaplan check site.toml --junit check.xml --plan-json plan.json   # CI: keep the plan
  gigaplan check sites/*.toml                                # several sites (pre-commit)
  gigaplan check site.toml --format json | jq .passed"""


@app.command("check", epilog=CHECK_EPILOG)
@handles_errors
def check_command(
    sites: Annotated[list[Path], typer.Argument(
        metavar="SITE...", help="Site TOML files (one or more).")],
    require: RequireOpt = None,
    set_: SetOpt = None,
    catalog: CatalogFiles = None,
    junit: Annotated[Path | None, typer.Option(metavar="FILE", parser=output_file,
                                               help="Also write JUnit XML, "
                                               "one test case per requirement.")] = None,
    plan_json: Annotated[Path | None, typer.Option(
        metavar="FILE", parser=output_file,
        help="Also write the plan as JSON (gigaplan.plan/1), for an artifact "
        "or gigaplan diff; one SITE only.")] = None,
    format: Annotated[TableOrJson, typer.Option("--format", "-f")] = TableOrJson.TABLE,
) -> None:
    """Plan each site, then assert its requirements on the optimal plan (a CI gate).

    Requirements (the site's own plus --require) are assertions here, not constraints.
    Exit 0 when all hold, 1 when any fails, 3 on invalid input, 4 when infeasible; with
    several sites, each is checked and the exit code is the highest of theirs.
    """
    if len(sites) > 1:
        for flag, given in (("--plan-json", plan_json), ("--format json",
                                                         format is TableOrJson.JSON)):
            if given:
                raise InputError(f"{flag}: takes one SITE, got {len(sites)}; run "
                                 "gigaplan check once per site")
    suites: list[tuple[Any, ...]] = []
    codes = []
    for site in sites:
        try:
            codes.append(_check_site(site, require, set_, catalog,
                                     plan_json if len(sites) == 1 else None, format, suites))
        except GigaplanError as error:  # recorded in the JUnit file, which is always written
            suites.append((str(site), [], (error.exit_code, one_line(str(error)))))
            if len(sites) == 1 or not isinstance(error, InputError):
                _write_junit(junit, suites)
                raise
            for line in error.problems:
                stderr_console().print(f"error: {one_line(line)}")
            codes.append(EXIT_INPUT)
    _write_junit(junit, suites)
    if max(codes):
        raise typer.Exit(max(codes))


def _write_junit(junit: Path | None, suites: list[tuple[Any, ...]]) -> None:
    if junit is not None:
        # lazily: keeps pydantic, numpy and scipy off --help and `catalog list`
        from gigaplan.studies import check

        write_output(check.junit_suites(suites), junit)


def _check_site(site: Path, require: list[str] | None, set_: list[str] | None,
                catalog: list[Path] | None, plan_json: Path | None, format: TableOrJson,
                suites: list[tuple[Any, ...]]) -> int:
    """Check one site: render its report and return its exit code."""
    # lazily: keeps pydantic, numpy and scipy off --help and `catalog list`
    from gigaplan.inputs.scenario import Scenario
    from gigaplan.output import report, serialize
    from gigaplan.planner import plan
    from gigaplan.studies import check

    scenario = Scenario(site, tuple(set_ or ()), (), tuple(require or ()), tuple(catalog or ()))
    bound = scenario.bind()
    if not bound.requirements:
        raise InputError(f"{bound.source}: requirements: nothing to check; add requirements "
                         "to the site or give --require")
    result = plan(replace(bound, requirements=()))
    if not result.found:
        stderr_console().print(f"error: {one_line(result.message)}")
        code = EXIT_INFEASIBLE if result.status == "infeasible" else EXIT_SOLVER_LIMIT
        suites.append((bound.source, [], (code, result.message)))
        return code
    data = result.to_dict()
    if plan_json is not None:
        write_output(serialize.to_json(data), plan_json)
    outcomes = check.evaluate(data, bound.requirements)
    suites.append((bound.source, outcomes))
    summary = check.CheckReport(result, tuple(outcomes))
    if format is TableOrJson.JSON:
        write_output(serialize.to_json(summary), None)
    else:
        render_table(report.render(summary, "table"), None)
    if not summary.passed:
        failed = sum(not outcome.passed for outcome in outcomes)
        stderr_console().print(f"{one_line(bound.source)}: {failed} of {len(outcomes)} "
                               "requirements not met")
        return EXIT_REQUIREMENT_FAILED
    return 0


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

@app.command("batch", epilog=BATCH_EPILOG)
@handles_errors
def batch_command(
    input: Annotated[str, typer.Argument(metavar="INPUT", help="JSON Lines or CSV file, or - "
                                         "for stdin.")],
    jobs: JobsOpt = 1,
    output: Annotated[Path | None, typer.Option("--output", "-o", metavar="FILE",
                                                parser=output_file,
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
    # lazily: keeps pydantic, numpy and scipy off --help and `catalog list`
    from gigaplan.inputs import files
    from gigaplan.output import serialize
    from gigaplan.studies import batch

    if resume and output is None:
        raise InputError("--resume: needs --output FILE to know which rows are done")
    fmt_in = "csv" if input.lower().endswith(".csv") else None
    if input == "-":
        stream, source, base, total = sys.stdin.buffer, "<stdin>", ".", None
        taken = None  # standard input is read once: a repeated id becomes an error row
    else:
        path = Path(input)
        source, base = str(path), str(path.parent)
        total = batch.count_lines(path)  # an unreadable or non-UTF-8 file fails here, once
        with files.open_regular(path, kind="JSON Lines or CSV file") as first_pass:
            taken = batch.user_ids(files.lines(first_pass, source), source, fmt_in)
        stream = files.open_regular(path, kind="JSON Lines or CSV file")
    if fmt_in == "csv" and total:
        total -= 1  # the header
    if output is not None:
        refuse_input_as_output(output)  # before --resume reads it, or the writer truncates it
    statuses = batch.done_ids(output, format.value) if resume and output else {}
    counts = {"rows": 0, "todo": 0}

    def todo() -> Iterator[Any]:
        """Rows as they are read (a batch streams: memory does not grow with its length)."""
        for row in batch.iter_rows(files.lines(stream, source), source, base, fmt_in,
                                   taken=taken):
            counts["rows"] += 1
            if row.id not in statuses:
                counts["todo"] += 1
                yield replace(row, catalogs=tuple(map(str, catalog or ())))

    writer = None
    if output is not None:
        writer = batch.LineWriter(output, append=resume)
        if format is BatchFormat.CSV and not statuses:
            writer.write(serialize.csv_header(batch.CSV_COLUMNS))
    elif format is BatchFormat.CSV:
        sys.stdout.write(serialize.csv_header(batch.CSV_COLUMNS))
    tally = Counter(statuses.values())  # statuses of every row done, for the summary
    written = {"now": 0}
    resume_command = _resume_command(input, output, jobs, format, catalog, executor, scheduler)
    main_process = os.getpid()
    stopping = {"now": False}  # set by the first Ctrl-C

    def interrupted(signum: int, frame: Any) -> None:
        """Ctrl-C: say at once what was written and how to finish, then stop."""
        if os.getpid() != main_process:  # a forked worker inherits the handler: just stop
            raise KeyboardInterrupt
        done = len(statuses) + written["now"]
        of = f" of {total:,}" if total is not None else ""
        where = f"to {output}" if output is not None else "to stdout"
        hint = f"finish with: {resume_command}" if output is not None else \
            "rerun with --output FILE to be able to --resume"
        stderr_console().print(f"interrupted: {done:,}{of} rows written {where}; {hint}")
        # the workers and the cluster shut down in order; a second Ctrl-C must not cut that
        # short (it would leave a cluster to close at exit, with tracebacks), nor break into
        # the exit that follows: SIGINT stays ignored until the process ends
        stopping["now"] = True
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise KeyboardInterrupt

    started = time.perf_counter()
    previous = signal.signal(signal.SIGINT, interrupted)
    try:
        remaining = None if total is None else max(0, total - len(statuses))
        for line in run_rows(todo(), jobs, executor, scheduler, total=remaining):
            text_line = serialize.format_line(line, format.value, batch.CSV_COLUMNS)
            if writer is None:
                sys.stdout.write(text_line)
                sys.stdout.flush()
            else:
                writer.write(text_line)
            written["now"] += 1
            tally[line["status"]] += 1
    except KeyboardInterrupt:
        raise typer.Exit(EXIT_INTERRUPTED) from None
    finally:
        if not stopping["now"]:
            signal.signal(signal.SIGINT, previous)
        if writer is not None:
            writer.close()
        if stream is not sys.stdin.buffer:
            stream.close()
    if resume:
        stderr_console().print(f"{counts['rows'] - counts['todo']} rows already done, "
                               f"{counts['todo']} planned")
    stderr_console().print(run_summary("batch", ("row", "rows"), tally,
                                       time.perf_counter() - started))
    if sum(tally.values()) - tally["optimal"]:
        raise typer.Exit(EXIT_REQUIREMENT_FAILED)


def _resume_command(input: str, output: Path | None, jobs: int, format: BatchFormat,
                    catalog: list[Path] | None, executor: Executor,
                    scheduler: str | None) -> str:
    """The batch command that finishes this run: the same options, plus --resume."""
    words = ["gigaplan", "batch", input, "--output", str(output), "--resume"]
    if jobs != 1:
        words += ["--jobs", str(jobs)]
    if format is not BatchFormat.JSONL:
        words += ["--format", format.value]
    for path in catalog or ():
        words += ["--catalog", str(path)]
    if executor is not Executor.LOCAL:
        words += ["--executor", executor.value]
    if scheduler:
        words += ["--scheduler", scheduler]
    return shlex.join(words)


SWEEP_EPILOG = """Examples:

\b
  gigaplan sweep site.toml --vary power.budget=0.5GW:2GW:0.25GW
  gigaplan sweep --vary power.pue=1.1,1.2,1.3 --vary compute.skus='["gb200-nvl72"]'
  gigaplan sweep site.toml --vary economics.electricity_price='$40/MWh:$100/MWh:$20/MWh' -f csv"""


@app.command("sweep", epilog=SWEEP_EPILOG)
@handles_errors
def sweep_command(
    site: SiteArg = None,
    vary: Annotated[list[str], typer.Option(metavar="KEY=RANGE",
                                            autocompletion=complete_site_key,
                                            help="KEY=START:STOP:STEP or "
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
    # lazily: keeps pydantic, numpy and scipy off --help and `catalog list`
    from gigaplan.inputs.site import parse_set
    from gigaplan.output import report, serialize
    from gigaplan.studies import batch, sweep

    varies = [sweep.parse_vary(spec) for spec in vary]
    sets = [parse_set(item) for item in set_ or ()]
    rows = sweep.rows(site, varies, sets, tuple(map(str, catalog or ())))
    started = time.perf_counter()
    lines = list(run_rows(rows, jobs, executor, scheduler))
    seconds = time.perf_counter() - started
    result = sweep.SweepResult(
        keys=[vary.key for vary in varies],
        combos=[tuple(value for key, value in row.sets[len(sets):]) for row in rows],
        lines=lines)
    if format is OutputFormat.TABLE:
        render_table(report.render(result, "table"), output)
    elif format is OutputFormat.CSV:  # one batch row per combination, not key/value pairs
        columns = [f"vary.{key}" for key in result.keys] + list(batch.CSV_COLUMNS)
        text = serialize.csv_header(columns) + "".join(
            serialize.csv_line(record, columns) for record in result.records)
        write_output(text, output)
    else:
        write_output(serialize.render_data(result, format.value), output)
    tally = Counter(line["status"] for line in lines)
    stderr_console().print(run_summary("sweep", ("combination", "combinations"), tally,
                                       seconds))
    if len(lines) - tally["optimal"]:
        raise typer.Exit(EXIT_REQUIREMENT_FAILED)


# Every sample's results stay in memory for the percentiles (about 2.5 kB each) and each
# takes about 15 ms per worker: 100,000 is ~250 MB and half an hour on two workers;
# 10,000,000 ran out of memory before the first sample (exit 70).
MAX_SAMPLES = 100_000

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
    samples: Annotated[int, typer.Option(min=1, max=MAX_SAMPLES,
                                         help="How many samples (at most 100,000).")] = 100,
    seed: Annotated[int, typer.Option(min=0, help="Seed of numpy's Generator; the same seed "
                                      "gives byte-identical output.")] = 0,
    uncertain: Annotated[list[str] | None, typer.Option(
        metavar="KEY=DIST", autocompletion=complete_uncertain_key,
        help="An uncertain site key or catalog.<sku>.<field> "
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
    # lazily: keeps pydantic, numpy and scipy off --help and `catalog list`
    from gigaplan.inputs.scenario import Scenario
    from gigaplan.output import report, serialize
    from gigaplan.studies.montecarlo import montecarlo

    specs = {}
    for item in uncertain or ():
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--uncertain {item!r}: expected KEY=DIST, e.g. "
                             "'power.pue=uniform(1.1, 1.3)'")
        if key.strip() in specs:  # the later one silently won
            raise InputError(f"--uncertain {key.strip()}: given more than once; give one "
                             "distribution per key")
        specs[key.strip()] = text.strip()
    scenario = Scenario(site, tuple(set_ or ()), (), (), tuple(map(str, catalog or ())))
    started = time.perf_counter()
    result = montecarlo(scenario, specs, samples, seed, jobs, executor.value, scheduler,
                        progress=with_progress)
    seconds = time.perf_counter() - started
    if format is TableOrJson.JSON:
        write_output(serialize.to_json(result), output)
    else:
        render_table(report.render(result, "table"), output)
    errors = len(result.errors)
    feasible = round((result.optimal_plans["feasible_probability"] or 0) * (samples - errors))
    tally = Counter({"optimal": feasible, "infeasible": samples - errors - feasible,
                     "error": errors})
    stderr_console().print(run_summary("montecarlo", ("sample re-planned", "samples re-planned"),
                                       tally, seconds)
                           + ("; see 'errors' in --format json" if errors else ""))
    if errors:
        classes = ", ".join(f"{count} {name}" for name, count in result.failures.items())
        stderr_console().print(f"{errors} of {samples} samples failed: {classes}")
    if not result.planned:
        stderr_console().print("error: no sample was planned (every one failed or was "
                               "infeasible)")
        raise typer.Exit(EXIT_REQUIREMENT_FAILED)


