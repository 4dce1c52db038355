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
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from gigaplan import __version__
from gigaplan.errors import (
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    GigaplanError,
    InputError,
)
from gigaplan.kinds import SkuKind, TableOrJson

EXIT_CODES_HELP = (
    "Exit codes: 0 success; 1 a check requirement is not met; 2 usage error; "
    "3 invalid input (the message names file and key); 4 infeasible; "
    "5 solver limit reached (best plan printed with its gap); 70 internal error; "
    "130 interrupted."
)

app = typer.Typer(
    name="gigaplan",
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
                err.print(f"error: {line}")
            raise typer.Exit(EXIT_INPUT) from None
        except GigaplanError as error:
            err.print(f"error: {error}")
            if _state["debug"]:
                err.print(traceback.format_exc())
            raise typer.Exit(error.exit_code) from None
        except KeyboardInterrupt:
            err.print("interrupted")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except Exception as error:  # a bug: one line, and how to see more
            if _state["debug"]:
                err.print(traceback.format_exc())
            err.print(f"internal error: {type(error).__name__}: {error} "
                      "(a bug; rerun with --debug for the traceback)")
            raise typer.Exit(EXIT_INTERNAL) from None

    return wrapper  # type: ignore[return-value]


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
    typer.Option("--catalog", "-c", help="A catalog TOML file that adds or overrides SKUs by "
                 "id (repeatable).", show_default=False),
]


def _catalog(files: list[Path] | None):
    from gigaplan.catalog import load_catalog

    return load_catalog(files or ())


@catalog_app.command("list", epilog="Examples:  gigaplan catalog list  |  gigaplan catalog "
                     "list --kind compute_rack --format json")
@handles_errors
def catalog_list(
    kind: Annotated[SkuKind | None, typer.Option(help="Only SKUs of this kind.")] = None,
    format: Annotated[TableOrJson, typer.Option("--format", "-f")] = TableOrJson.TABLE,
    catalog: CatalogFiles = None,
) -> None:
    """List the SKUs of the catalog with their key figures (* marks an estimate)."""
    from gigaplan import report

    loaded = _catalog(catalog)
    if format is TableOrJson.JSON:
        rows = [report.sku_dict(sku) for sku in loaded.sorted() if kind in (None, sku.kind)]
        write_output(report.to_json(rows), None)
    else:
        render_table(report.catalog_table(loaded, kind), None)


@catalog_app.command("show", epilog="Examples:  gigaplan catalog show gb300-nvl72  |  "
                     "gigaplan catalog show gb300-nvl72 --format json")
@handles_errors
def catalog_show(
    sku_id: Annotated[str, typer.Argument(metavar="ID", help="The SKU id, e.g. gb300-nvl72.")],
    format: Annotated[TableOrJson, typer.Option("--format", "-f")] = TableOrJson.TABLE,
    catalog: CatalogFiles = None,
) -> None:
    """Show every field of one SKU with its unit, estimate markers and sources."""
    from gigaplan import report

    loaded = _catalog(catalog)
    sku = loaded.get(sku_id)
    if format is TableOrJson.JSON:
        write_output(report.to_json(report.sku_dict(sku)), None)
    else:
        render_table(report.sku_table(sku, loaded.origin.get(sku_id, "")), None)


@catalog_app.command("validate", epilog="Example:  gigaplan catalog validate my-racks.toml")
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


def main() -> None:
    """Console-script entry point."""
    app()
