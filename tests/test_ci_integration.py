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
