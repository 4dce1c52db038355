"""Documents for the report tests, made through the CLI's public JSON (never solver internals)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from gigaplan.cli import app

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "docs" / "examples"


def cli_json(*args: str) -> Any:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@cache
def _cached(*args: str) -> str:
    return json.dumps(cli_json(*args))


def doc(name: str) -> dict[str, Any]:
    """A fresh copy of one document: default, phased, three-sites, sweep, montecarlo, ..."""
    args = {
        "default": ("plan", "-f", "json"),
        "phased": ("plan", str(EXAMPLES / "phased-site.toml"), "-f", "json"),
        "three-sites": ("plan", str(EXAMPLES / "three-sites.toml"), "-f", "json"),
        "reference": ("plan", str(EXAMPLES / "three-sites.toml"), "--reference", "ohio",
                      "-f", "json"),
        "sweep": ("sweep", "--vary", "power.budget=0.5GW:1.5GW:0.5GW", "--vary",
                  "power.pue=1.1,1.3", "-f", "json"),
        "montecarlo": ("montecarlo", "--samples", "24", "--seed", "7", "--uncertain",
                       "power.pue=uniform(1.1, 1.3)", "-f", "json"),
        "explain": ("explain", "-f", "json"),
        "catalog": ("catalog", "list", "-f", "json"),
    }[name]
    return json.loads(_cached(*args))
