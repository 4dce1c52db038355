"""CI integration as CI users meet it: the pre-commit hook and the GitHub Actions recipe.

The hook test is real: a throwaway git repository with a site file runs this checkout's
``gigaplan-check`` hook through ``pre-commit try-repo``, which builds the hook's environment by
installing gigaplan from this checkout (its dependencies come from the package registry). It
builds that environment once, so the failing and the passing runs share one build.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

SITE = """\
requirements = ["totals.gpus >= {floor}"]

[power]
budget = "20 MW"
"""


def _git_env(home: Path) -> dict[str, str]:
    """The user's environment without this checkout on PYTHONPATH: the hook must run the
    gigaplan that pre-commit installed, not the one under test."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "VIRTUAL_ENV") and not key.startswith("GIT_")}
    env.update(PRE_COMMIT_HOME=str(home), GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com",
               PRE_COMMIT_COLOR="never", NO_COLOR="1")
    return env


def test_hook_manifest_declares_gigaplan_check():
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "gigaplan-check"
    assert hook["entry"] == "gigaplan check" and hook["language"] == "python"
    files = re.compile(hook["files"])
    assert files.search("sites/abilene.toml") and files.search("site.toml")
    assert not files.search("catalogs/nvidia.toml") and not files.search("pyproject.toml")


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_pre_commit_hook_fails_a_failing_requirement_and_passes_a_passing_one(tmp_path):
    """One hook environment, two runs: a GPU floor the site cannot meet fails the commit's
    hook (exit 1, the requirement named), a floor it meets passes."""
    repo = tmp_path / "sites-repo"
    repo.mkdir()
    env = _git_env(tmp_path / "pre-commit-home")
    git = lambda *args: subprocess.run(["git", *args], cwd=repo, env=env, check=True,  # noqa: E731
                                       capture_output=True, text=True)
    git("init", "-q")
    site = repo / "site.toml"

    def try_repo(floor: int) -> subprocess.CompletedProcess[str]:
        site.write_text(SITE.format(floor=floor))
        git("add", "site.toml")
        return subprocess.run(
            [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "gigaplan-check",
             "--verbose"], cwd=repo, env=env, capture_output=True, text=True, timeout=900)

    failing = try_repo(10_000_000)
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert re.search(r"gigaplan check\.+Failed", failing.stdout), failing.stdout
    assert "totals.gpus >= 10000000" in failing.stdout and "FAIL" in failing.stdout

    passing = try_repo(1_000)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert re.search(r"gigaplan check\.+Passed", passing.stdout), passing.stdout
    assert "all requirements hold" in passing.stdout


WORKFLOW = ROOT / "docs" / "examples" / "github-actions.yml"


def test_ci_doc_shows_the_workflow_file_verbatim():
    assert WORKFLOW.read_text() in (ROOT / "docs" / "ci.md").read_text()


def _workflow_steps() -> tuple[dict, list[dict]]:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    (job,) = workflow["jobs"].values()
    return workflow["env"], job["steps"]


def test_workflow_installs_gigaplan_and_keeps_plan_and_junit_even_when_the_check_fails():
    env, steps = _workflow_steps()
    runs = [step["run"] for step in steps if "run" in step]
    assert any("pip install" in run and "$GIGAPLAN" in run for run in runs)
    assert "gigaplan" in env["GIGAPLAN"]
    upload = next(step for step in steps if step.get("uses", "").startswith(
        "actions/upload-artifact@"))
    assert upload["if"] == "always()"
    assert set(upload["with"]["path"].split()) == {"plan.json", "check.xml"}


@pytest.mark.parametrize(("floor", "exit_code"), [(1_000, 0), (10_000_000, 1)])
def test_workflow_run_steps_gate_the_site_and_write_the_artifacts(tmp_path, floor, exit_code):
    """The workflow's own ``run:`` steps (after the install) on a site in a fresh folder."""
    env, steps = _workflow_steps()
    site = tmp_path / env["SITE"]
    site.parent.mkdir(parents=True)
    site.write_text(SITE.format(floor=floor))
    shell_env = {**os.environ, **env,
                 "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    codes = []
    for step in steps:
        if "run" in step and "pip install" not in step["run"]:
            done = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=tmp_path,
                                  env=shell_env, capture_output=True, text=True, timeout=300)
            codes.append(done.returncode)
    assert codes == [exit_code]
    import json
    from xml.etree import ElementTree

    plan = json.loads((tmp_path / "plan.json").read_text())
    assert plan["schema"] == "gigaplan.plan/1" and plan["totals"]["gpus"] > 1_000
    (case,) = ElementTree.parse(tmp_path / "check.xml").getroot().iter("testcase")
    assert case.get("name") == f"totals.gpus >= {floor}"
    assert (case.find("failure") is not None) == (exit_code == 1)


def test_check_takes_several_sites_and_exits_with_the_highest_code(run, tmp_path):
    from xml.etree import ElementTree

    passing, failing, empty = (tmp_path / name for name in ("a-site.toml", "b-site.toml",
                                                              "c-site.toml"))
    passing.write_text(SITE.format(floor=1_000))
    failing.write_text(SITE.format(floor=10_000_000))
    empty.write_text('[power]\nbudget = "20 MW"\n')
    junit = tmp_path / "check.xml"
    result = run("check", str(passing), str(failing), "--junit", str(junit))
    assert result.exit_code == 1
    assert result.stdout.count("gigaplan check:") == 2
    assert "all requirements hold" in result.stdout and "a requirement is not met" in result.stdout
    assert f"{failing}: 1 of 1 requirements not met" in result.stderr
    suites = ElementTree.parse(junit).getroot().findall("testsuite")
    assert [suite.get("failures") for suite in suites] == ["0", "1"]
    both = run("check", str(passing), str(empty))
    assert both.exit_code == 3 and "nothing to check" in both.stderr
    assert "all requirements hold" in both.stdout
    refused = run("check", str(passing), str(failing), "--plan-json", str(tmp_path / "p.json"))
    assert refused.exit_code == 3 and "--plan-json: takes one SITE, got 2" in refused.stderr
