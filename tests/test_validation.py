"""docs/validation.md: gigaplan against publicly reported AI sites (issue 14).

Each site of tests/validation_sites.toml is planned with its reported power, basis and hardware
and gigaplan's defaults for everything else. Every firm row must land in its band (the reported
GPU range widened by 20% each way), and the table in docs/validation.md must be the one the
current model prints (``python benchmarks/validation.py --write`` regenerates it).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import validation  # noqa: E402

SITES = validation.sites()


def test_there_are_at_least_twelve_sourced_sites_of_both_eras():
    assert len(SITES) >= 12
    hardware = {sku for site in SITES for sku in site["site"]["compute"]["skus"]}
    assert hardware & {"hgx-h100-rack", "gh200-quad-node"}  # Hopper era
    assert hardware & {"gb200-nvl72", "gb300-nvl72"}  # Blackwell era
    for site in SITES:
        assert site["sources"] and all(url.startswith("https://") for url in site["sources"])
        assert site["basis"] in ("grid", "facility", "it")
        low, high = site["reported_gpus"]
        assert 0 < low <= high


@pytest.mark.parametrize("site", [s for s in SITES if s["firm"]], ids=lambda s: s["id"])
def test_firm_sites_land_in_their_reported_band(site):
    gpus, _ = validation.model_gpus(site)
    low, high = site["reported_gpus"]
    assert validation.in_band(gpus, low, high), (gpus, low, high)


def test_the_documented_table_is_what_the_model_prints():
    doc = (ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    table = doc.split(validation.BEGIN, 1)[1].split(validation.END, 1)[0].strip()
    assert table == validation.table(validation.rows()).strip()


def test_the_error_is_zero_inside_the_range_and_relative_outside():
    assert validation.error(105, 100, 110) == 0.0
    assert validation.error(90, 100, 110) == pytest.approx(-0.1)
    assert validation.error(121, 100, 110) == pytest.approx(0.1)
    assert validation.in_band(80, 100, 100) and not validation.in_band(79, 100, 100)
