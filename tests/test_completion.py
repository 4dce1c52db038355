"""Shell completion (issue 16, point 8): SKU ids from the bundled and --catalog catalogs,
objectives, formats, and site keys for --set, --vary and --uncertain."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

GIGAPLAN = shutil.which("gigaplan", path=str(Path(sys.executable).parent)) or \
    shutil.which("gigaplan")


def complete(words: str, cwd: Path = ROOT) -> list[str]:
    """What bash completion offers for the last word of ``words``."""
    parts = words.split(" ")
    env = {**os.environ, "_GIGAPLAN_COMPLETE": "complete_bash", "COMP_WORDS": words,
           "COMP_CWORD": str(len(parts) - 1), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([GIGAPLAN], env=env, capture_output=True, text=True, cwd=cwd,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


pytestmark = pytest.mark.skipif(GIGAPLAN is None, reason="needs the gigaplan command")


def test_sku_ids_complete_from_the_bundled_catalog():
    offered = complete("gigaplan plan --sku gb")
    assert offered == ["gb200-nvl72", "gb300-nvl72"]
    assert "grace-cpu-rack" not in complete("gigaplan plan --sku g")  # not a compute rack
    assert "quantum-x800-q3400" in complete("gigaplan catalog show quantum")


def test_sku_ids_complete_from_a_user_catalog(tmp_path):
    catalog = tmp_path / "my.toml"
    text = subprocess.run([sys.executable, "-m", "gigaplan", "catalog", "show", "gb300-nvl72",
                           "-f", "json"], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout
    import json

    import tomli_w

    sku = json.loads(text)
    sku["id"], sku["name"] = "gb300-custom", "custom GB300"
    sku = {key: value for key, value in sku.items() if value is not None}
    catalog.write_text(tomli_w.dumps({"sku": [sku]}))
    assert "gb300-custom" in complete(f"gigaplan plan --catalog {catalog} --sku gb300")
    assert "gb300-custom" not in complete("gigaplan plan --sku gb300")


def test_objectives_and_formats_complete():
    assert complete("gigaplan plan --objective t") == ["tf32", "tokens", "tco"]
    assert set(complete("gigaplan plan --format ")) == {"table", "json", "toml", "csv"}


def test_site_keys_complete_for_set_vary_and_uncertain():
    assert complete("gigaplan plan --set power.bu") == ["power.budget="]
    assert "space.rack_positions=" in complete("gigaplan sweep --vary space.")
    assert "compute.max_racks.gb300-nvl72=" in complete("gigaplan plan --set compute.max_")
    uncertain = complete("gigaplan montecarlo --uncertain catalog.gb300-nvl72.pow")
    assert "catalog.gb300-nvl72.power_kw=" in uncertain
    assert "power.pue=" in complete("gigaplan montecarlo --uncertain power.p")
