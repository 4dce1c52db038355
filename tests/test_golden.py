"""Golden plans: ``gigaplan plan -f json`` is byte-identical to the files in tests/golden/.

They pin every figure of the embedded default site and of both examples, so a refactor that
changes no formula changes no byte. A change that legitimately moves a figure regenerates them
(from the repository root) with the one command

    python tests/test_golden.py

and says why in its commit message. Nothing in the output is non-deterministic: solver seconds
appear only with ``--timings`` and sources are the relative paths given here, so the plans are
planned from the repository root.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
# golden file name -> the arguments of ``gigaplan plan`` after which ``-f json`` follows
CASES = {
    "default.json": (),
    "phased-site.json": ("docs/examples/phased-site.toml",),
    "three-sites.json": ("docs/examples/three-sites.toml",),
}


def plan_json(args: tuple[str, ...]) -> str:
    """The stdout of ``gigaplan plan ARGS -f json``, run from the repository root."""
    from gigaplan.cli import app

    result = CliRunner().invoke(app, ["plan", *args, "-f", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("name", sorted(CASES))
def test_plan_json_is_byte_identical_to_the_golden_file(name, monkeypatch):
    monkeypatch.chdir(ROOT)
    expected = (GOLDEN / name).read_text(encoding="utf-8")
    assert plan_json(CASES[name]) == expected, (
        f"tests/golden/{name} changed; if the change is intended, regenerate with "
        "'python tests/test_golden.py' and give the reason in the commit message")


def regenerate() -> None:
    import os

    os.chdir(ROOT)
    for name, args in sorted(CASES.items()):
        (GOLDEN / name).write_text(plan_json(args), encoding="utf-8")
        print(f"wrote tests/golden/{name}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    regenerate()
