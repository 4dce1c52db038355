"""``gigaplan explain`` and ``gigaplan diff``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gigaplan.cli.app import (
    CatalogFiles,
    ScenarioArgs,
    app,
    handles_errors,
    render_table,
    scenario_options,
    write_output,
)
from gigaplan.errors import (
    EXIT_INFEASIBLE,
    EXIT_REQUIREMENT_FAILED,
)
from gigaplan.kinds import TableOrJson

# --- explain and diff -----------------------------------------------------------------------


@app.command("explain", epilog="Examples:\n\n\b\n  gigaplan explain site.toml\n  gigaplan "
             "explain --power 10MW --require 'totals.gpus >= 100000'   # why infeasible")
@handles_errors
@scenario_options
def explain_command(
    args: ScenarioArgs,
    format: Annotated[TableOrJson, typer.Option("--format", "-f")] = TableOrJson.TABLE,
) -> None:
    """Binding limits in plain language, measured marginal values, or why a site fails.

    Each limit is moved about 1 % looser and the site re-planned. For an infeasible site,
    the alternatives, each enough alone: the least value of each limit that makes it feasible,
    rounded and checked by planning again; else the smallest combination (exit 4).
    """
    # lazily: keeps pydantic, numpy and scipy off --help and `catalog list`
    from gigaplan.output import report, serialize
    from gigaplan.studies.explain import explain

    result = explain(args.scenario())
    if format is TableOrJson.JSON:
        write_output(serialize.to_json(result), None)
    else:
        render_table(report.render(result, "table"), None)
    if result.alternatives is not None:
        raise typer.Exit(EXIT_INFEASIBLE)


@app.command("diff", epilog="Examples:\n\n\b\n  gigaplan diff a.toml b.toml\n  gigaplan "
             "diff plan-2026.json plan-2027.json --format json")
@handles_errors
def diff_command(
    a: Annotated[Path, typer.Argument(metavar="A", help="A site TOML file or a plan JSON file.")],
    b: Annotated[Path, typer.Argument(metavar="B", help="A site TOML file or a plan JSON file.")],
    catalog: CatalogFiles = None,
    format: Annotated[TableOrJson, typer.Option("--format", "-f")] = TableOrJson.TABLE,
    all_rows: Annotated[bool, typer.Option("--all", help="Also show unchanged and negligible "
                                           "rows.")] = False,
    exit_code: Annotated[bool, typer.Option("--exit-code", help="Exit 1 when the two differ, "
                                            "0 when they are the same (like git diff).")
                         ] = False,
) -> None:
    """The summary figures of two sites or plans with signed changes, then changed inputs."""
    # lazily: keeps pydantic, numpy and scipy off --help and `catalog list`
    from gigaplan.output import report, serialize
    from gigaplan.studies.diff import compare, load_side

    catalogs = tuple(map(str, catalog or ()))
    result = compare(load_side(a, catalogs), load_side(b, catalogs), (str(a), str(b)),
                     everything=all_rows)
    if format is TableOrJson.JSON:
        write_output(serialize.to_json(result), None)
    else:
        render_table(report.render(result, "table"), None)
    if exit_code and not result.same:
        raise typer.Exit(EXIT_REQUIREMENT_FAILED)


