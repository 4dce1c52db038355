"""Shared test helpers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import settings
from typer.testing import CliRunner

from gigaplan.cli import app

ROOT = Path(__file__).resolve().parent.parent

# Hypothesis runs derandomized by default, so a red run always means a real bug and reruns
# agree; HYPOTHESIS_PROFILE=explore draws fresh examples when hunting for new failures.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def run():
    """Invoke the CLI in-process; stdout and stderr stay separate."""
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    return invoke


def parse_json(result) -> object:
    return json.loads(result.stdout)
