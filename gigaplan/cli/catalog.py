"""``gigaplan catalog list|show|validate``."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated, Any

import typer

from gigaplan.cli.app import (
    CatalogFiles,
    catalog_app,
    complete_any_sku,
    handles_errors,
    one_line,
    render_table,
    write_output,
)
from gigaplan.errors import (
    InputError,
)
from gigaplan.inputs.bundled import entries
from gigaplan.inputs.units import shorten
from gigaplan.kinds import SkuKind, TableOrJson


def _catalog_entries(files: list[Path] | None) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """SKU dicts and their files: precompiled when only the bundled catalog is asked for."""
    if not files:
        return entries()
    # lazily: the catalog module imports pydantic, which listing the bundled catalog skips
    from gigaplan.inputs.catalog import load_catalog
    from gigaplan.output.serialize import catalog_entries  # lazily, as load_catalog above

    loaded = load_catalog(files)
    return catalog_entries(loaded), dict(loaded.origin)


@catalog_app.command("list", epilog="Examples:\n\n\b\n  gigaplan catalog list\n  gigaplan "
                     "catalog list --kind compute_rack --format json")
@handles_errors
def catalog_list(
    kind: Annotated[SkuKind | None, typer.Option(help="Only SKUs of this kind.")] = None,
    format: Annotated[TableOrJson, typer.Option("--format", "-f")] = TableOrJson.TABLE,
    catalog: CatalogFiles = None,
) -> None:
    """List the SKUs of the catalog with their key figures (* marks an estimate)."""

    entries, _ = _catalog_entries(catalog)
    if format is TableOrJson.JSON:
        # lazily: the serializers (tomllib, tomli_w) stay off the table's start-up path
        from gigaplan.output.serialize import to_json

        rows = [entry for entry in entries if kind in (None, entry["kind"])]
        write_output(to_json(rows), None)
    else:
        # lazily: keeps rich's tables off --help (and the plan renderers off `catalog list`)
        from gigaplan.output.catalog_view import catalog_table

        render_table(catalog_table(entries, kind), None)


@catalog_app.command("show", epilog="Examples:\n\n\b\n  gigaplan catalog show gb300-nvl72\n  "
                     "gigaplan catalog show gb300-nvl72 --format json")
@handles_errors
def catalog_show(
    sku_id: Annotated[str, typer.Argument(metavar="ID", autocompletion=complete_any_sku,
                                          help="The SKU id, e.g. gb300-nvl72.")],
    format: Annotated[TableOrJson, typer.Option("--format", "-f")] = TableOrJson.TABLE,
    catalog: CatalogFiles = None,
) -> None:
    """Show every field of one SKU with its unit, estimate markers and sources."""

    entries, origin = _catalog_entries(catalog)
    found = {entry["id"]: entry for entry in entries}
    if sku_id not in found:
        close = difflib.get_close_matches(sku_id[:100], sorted(found), n=3, cutoff=0.4)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise InputError(f"unknown SKU id {shorten(sku_id)!r}{hint}")
    if format is TableOrJson.JSON:
        from gigaplan.output.serialize import to_json  # lazily, as in catalog_list

        write_output(to_json(found[sku_id]), None)
    else:
        from gigaplan.output import report  # lazily: keeps rich's tables off --help

        render_table(report.sku_table(found[sku_id], origin.get(sku_id, "")), None)


@catalog_app.command("validate", epilog="Example:\n\n\b\n  gigaplan catalog validate "
                     "my-racks.toml")
@handles_errors
def catalog_validate(
    files: Annotated[list[Path], typer.Argument(metavar="FILE...", help="Catalog files.")],
) -> None:
    """Check catalog files; list every problem as FILE: dotted.key: message (exit 3)."""
    # lazily: the catalog module imports pydantic, which listing the bundled catalog skips
    from gigaplan.inputs.catalog import validate_files

    problems = validate_files(files)
    if problems:
        raise InputError(problems[0], problems)
    for path in files:
        typer.echo(f"ok: {one_line(str(path))}")


