"""The public API works as docs/api.md says, and its example runs as printed."""

from __future__ import annotations

import contextlib
import io
import re

import pytest
from conftest import ROOT

import gigaplan
from gigaplan.errors import SiteError


def _blocks(language: str) -> list[str]:
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    fences = re.findall(r"^```(\w*)\n(.*?)^```$", text, flags=re.S | re.M)
    return [body for lang, body in fences if lang == language]


def test_the_documented_example_runs_and_prints_its_statuses():
    (code,), printed = _blocks("python"), _blocks("")[0]
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        exec(compile(code, "docs/api.md", "exec"), {})
    lines = buffer.getvalue().splitlines()
    expected = printed.splitlines()
    # the status lines are exact; the figures move with the catalog, so only their shape is
    assert [line for line in lines if line.startswith("status:")] == \
        [line for line in expected if line.startswith("status:")]
    assert [re.sub(r"[\d,.]+", "N", line) for line in lines] == \
        [re.sub(r"[\d,.]+", "N", line) for line in expected]


def test_plan_of_a_loaded_site_equals_the_cli_plan(run):
    from conftest import parse_json

    from gigaplan.output.serialize import plain

    assert plain(gigaplan.plan(gigaplan.load_site()).to_dict()) == \
        parse_json(run("plan", "-f", "json"))


def test_plan_takes_a_path_and_a_bad_key_is_a_site_error(tmp_path):
    path = tmp_path / "site.toml"
    path.write_text('[power]\nbudget = "20 MW"\n')
    assert gigaplan.plan(path).inputs["source"] == str(path)
    with pytest.raises(SiteError, match=r"power\.budgte: .*did you mean power\.budget"):
        gigaplan.load_site(overrides={"power.budgte": 1})


def test_only_the_documented_names_are_public():
    assert set(gigaplan.__all__) == {"PlanResult", "__version__", "load_catalog", "load_site",
                                     "plan"}
    with pytest.raises(AttributeError):
        gigaplan.solve_everything  # noqa: B018
