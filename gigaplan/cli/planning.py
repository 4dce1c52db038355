"""``gigaplan plan`` (sites, phased sites and studies) and ``gigaplan init``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from gigaplan.cli.app import (
    FormatOpt,
    OutputOpt,
    ScenarioArgs,
    TimeLimitOpt,
    TimingsOpt,
    app,
    explain_command_line,
    handles_errors,
    one_line,
    output_file,
    render_table,
    scenario_options,
    solving,
    stderr_console,
    write_output,
)
from gigaplan.errors import (
    EXIT_INFEASIBLE,
    EXIT_SOLVER_LIMIT,
    InputError,
)
from gigaplan.kinds import OutputFormat

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



@app.command("plan", epilog=PLAN_EPILOG)
@handles_errors
@scenario_options
def plan_command(
    args: ScenarioArgs,
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
    # lazily: keeps pydantic, numpy and scipy off --help and `catalog list`
    from gigaplan.output import report
    from gigaplan.planner import plan
    from gigaplan.solve import limit_message

    site = args.site
    scenario = args.scenario()
    if site is not None and _is_study(site):
        _plan_study(scenario, reference, format, output, time_limit)
        return
    if reference is not None:
        raise InputError("--reference: needs a study file with [[sites]]")
    bound = scenario.bind()
    with solving(time_limit):
        result = plan(bound, time_limit_s=time_limit, timings=timings)
    err = stderr_console()
    if not result.found:
        if format is not OutputFormat.TABLE:
            write_output(str(report.render(result, format.value)), output)
        err.print(f"error: {one_line(result.message)}")
        if result.status == "infeasible":
            err.print("what to change: "
                      + explain_command_line(site, args.flags, args.require, args.sets,
                                                          args.catalog))
        raise typer.Exit(EXIT_INFEASIBLE if result.status == "infeasible" else EXIT_SOLVER_LIMIT)
    rendered = report.render(result, format.value)
    if isinstance(rendered, str):
        write_output(rendered, output)
    else:
        render_table(rendered, output)
    for warning in result.warnings:
        err.print(f"warning: {one_line(warning)}")
    if result.status != "optimal":
        solver = result.solver
        err.print("warning: " + limit_message(solver.stages, solver.stages_total, solver.mip_gap))
        raise typer.Exit(EXIT_SOLVER_LIMIT)


def _is_study(path: Path) -> bool:
    # lazily: keeps pydantic, numpy and scipy off --help and `catalog list`
    from gigaplan.inputs.study import is_study

    return is_study(path)


def _plan_study(scenario: Any, reference: str | None, format: OutputFormat,
                output: Path | None, time_limit: float | None) -> None:
    """``plan`` on a study file: the joint plan of its sites, or a reference design."""
    # lazily: keeps pydantic, numpy and scipy off --help and `catalog list`
    from gigaplan.inputs.catalog import load_catalog
    from gigaplan.inputs.site import parse_set
    from gigaplan.inputs.study import load_study
    from gigaplan.output import report
    from gigaplan.planner import plan_study, reference_copies

    if scenario.require:
        raise InputError("--require: a study's requirements go in its [study] table")
    overrides = tuple(parse_set(item) for item in scenario.sets) + scenario.overrides
    study = load_study(Path(scenario.site), load_catalog(scenario.catalogs), overrides)
    with solving(time_limit):
        result = (reference_copies(study, reference, time_limit) if reference
                  else plan_study(study, time_limit))
    rendered = report.render(result, format.value)
    if isinstance(rendered, str):
        write_output(rendered, output)
    else:
        render_table(rendered, output)
    status = getattr(result, "status", "optimal")  # a reference design is always planned
    if status != "optimal":
        stderr_console().print(f"error: {result.message or status}")
        raise typer.Exit(EXIT_INFEASIBLE if status == "infeasible" else EXIT_SOLVER_LIMIT)


@app.command("init", epilog="Examples:\n\n\b\n  gigaplan init\n  gigaplan init "
             "sites/abilene.toml --force\n  gigaplan init - > site.toml")
@handles_errors
def init_command(
    path: Annotated[Path, typer.Argument(
        metavar="PATH", parser=output_file,
        help="Where to write the site file ('-' for stdout).")] = Path("site.toml"),
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Write the embedded default site as a commented TOML file to start from."""
    # lazily: keeps pydantic, numpy and scipy off --help and `catalog list`
    from gigaplan.inputs.site import default_site_text

    text = default_site_text()
    if str(path) == "-":
        write_output(text, None)
        return
    if path.exists() and not force:
        raise InputError(f"{path}: already exists; use --force to overwrite it")
    write_output(text, path)
    shown = one_line(str(path))
    stderr_console().print(f"wrote {shown}; plan it with: gigaplan plan {shown}")


