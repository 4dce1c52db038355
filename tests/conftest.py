"""Shared test helpers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gigaplan.cli import app

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def run():
    """Invoke the CLI in-process; stdout and stderr stay separate."""
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    return invoke


def parse_json(result) -> object:
    return json.loads(result.stdout)
