"""Catalog schema, provenance and the bundled facts (gigaplan/catalog.py)."""

from __future__ import annotations

import textwrap

import pytest

from gigaplan.errors import CatalogError
from gigaplan.inputs.catalog import KINDS, ComputeRack, load_catalog, validate_files
from gigaplan.kinds import SkuKind

GOOD = """
[[sku]]
id = "test-rack"
name = "Test rack"
kind = "compute_rack"
status = "shipping"
available_from = 2025-01-01
gpu_count = 8
cpu_count = 2
cpu_core_count = 128
power_kw = 10
fp4_dense_pflops_per_gpu = 1
fp8_dense_pflops_per_gpu = 1
bf16_dense_pflops_per_gpu = 1
tf32_dense_pflops_per_gpu = 1
fp64_dense_pflops_per_gpu = 0.01
hbm_gb_per_gpu = 80
nic_count = 8
nic_gbps = 400
liquid_frac = 0
footprint_m2 = 0.7
mass_kg = 500
price_usd = 100000
sources = ["https://example.com/datasheet"]
"""


def write(tmp_path, text, name="cat.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_kind_enum_matches_models():
    from gigaplan.kinds import OBJECTIVES, Objective

    assert set(KINDS) == {kind.value for kind in SkuKind}
    assert set(OBJECTIVES) == {objective.value for objective in Objective}


def test_bundled_catalog_holds_documented_facts():
    catalog = load_catalog()
    gb300 = catalog.get("gb300-nvl72")
    assert isinstance(gb300, ComputeRack)
    assert (gb300.gpu_count, gb300.cpu_count, gb300.cpu_core_count) == (72, 36, 2592)
    assert gb300.power_kw == 142  # NVIDIA Enterprise RA: "up to 142 kW"
    assert gb300.dense_pflops("fp4") == 1080  # 15 PF dense NVFP4 per GPU
    assert gb300.hbm_gb_per_gpu == 288
    assert gb300.status == "shipping"
    assert catalog.get("vera-rubin-nvl72").status == "announced"
    assert "power_kw" in catalog.get("vera-rubin-nvl72").estimates
    q3400 = catalog.get("quantum-x800-q3400")
    assert (q3400.port_count, q3400.port_gbps) == (144, 800)
    for required in ("gb200-nvl72", "dgx-b300-rack", "dgx-b200-rack", "grace-cpu-rack",
                     "spectrum-x-sn5600", "osfp-800g-2x400g", "storage-rack-qlc"):
        assert required in catalog
    assert {sku.kind for sku in catalog.sorted()} == set(KINDS)


def test_every_bundled_sku_has_sources_and_marks_estimated_prices():
    for sku in load_catalog().sorted():
        assert sku.sources
        assert "price_usd" in sku.estimates  # no public list prices exist
        for key, (low, high) in sku.ranges.items():
            assert low <= getattr(sku, key) <= high, (sku.id, key)


def test_bundled_files_validate():
    from gigaplan.inputs.catalog import bundled_catalog_paths

    assert validate_files(bundled_catalog_paths()) == []


def test_missing_sources_is_rejected(tmp_path):
    path = write(tmp_path, GOOD.replace('sources = ["https://example.com/datasheet"]', ""))
    assert validate_files([path]) == [f"{path}: sku.test-rack.sources: required key is missing"]
    path = write(tmp_path, GOOD.replace('["https://example.com/datasheet"]', "[]"))
    assert "sku.test-rack.sources" in validate_files([path])[0]


def test_misspelled_key_is_reported_with_its_path(tmp_path):
    path = write(tmp_path, GOOD.replace("power_kw = 10", "power_kW = 10"))
    problems = validate_files([path])
    assert f"{path}: sku.test-rack.power_kW: unknown key (misspelled?)" in problems
    assert f"{path}: sku.test-rack.power_kw: required key is missing" in problems


def test_negative_power_is_rejected(tmp_path):
    path = write(tmp_path, GOOD.replace("power_kw = 10", "power_kw = -10"))
    (problem,) = validate_files([path])
    assert problem.startswith(f"{path}: sku.test-rack.power_kw: ")
    assert "greater than 0" in problem


def test_estimates_must_name_fields(tmp_path):
    path = write(tmp_path, GOOD + 'estimates = ["power_kilowatts"]\n')
    assert "power_kilowatts" in validate_files([path])[0]


def test_duplicate_ids_in_one_file(tmp_path):
    path = write(tmp_path, GOOD + GOOD)
    expected = f"{path}: sku.test-rack: duplicate id (first defined at sku[0])"
    assert validate_files([path]) == [expected]


def test_toml_syntax_error_has_line_and_column(tmp_path):
    path = write(tmp_path, "[[sku]\nid = 1\n")
    (problem,) = validate_files([path])
    assert problem.startswith(f"{path}: TOML syntax error:")
    assert "line 1" in problem and "column" in problem


def test_unknown_kind(tmp_path):
    path = write(tmp_path, GOOD.replace('kind = "compute_rack"', 'kind = "toaster"'))
    assert "kind: expected one of compute_rack" in validate_files([path])[0]


def test_user_catalog_overrides_by_id_and_adds(tmp_path):
    override = GOOD.replace('id = "test-rack"', 'id = "gb300-nvl72"').replace(
        "power_kw = 10", "power_kw = 150")
    path = write(tmp_path, override + GOOD)
    catalog = load_catalog([path])
    assert catalog.get("gb300-nvl72").power_kw == 150
    assert catalog.origin["gb300-nvl72"] == str(path)
    assert "test-rack" in catalog and "gb200-nvl72" in catalog


def test_load_reports_every_problem_at_once(tmp_path):
    one = write(tmp_path, GOOD.replace("power_kw = 10", "power_kw = -1"), "one.toml")
    two = write(tmp_path, "not toml at all [", "two.toml")
    with pytest.raises(CatalogError) as error:
        load_catalog([one, two])
    assert len(error.value.problems) == 2
    assert "(and 1 more)" in str(error.value)


@pytest.mark.parametrize("kind", ["dir", "missing", "binary", "empty"])
def test_unreadable_files_are_input_errors(tmp_path, kind):
    path = tmp_path / "x.toml"
    if kind == "dir":
        path.mkdir()
    elif kind == "binary":
        path.write_bytes(b"\x00\xff\xfe\x00")
    elif kind == "empty":
        path.write_text("")
    problems = validate_files([path])
    if kind == "empty":
        assert problems == []  # an empty catalog is valid and adds nothing
    else:
        assert len(problems) == 1 and problems[0].startswith(f"{path}: ")


def test_unknown_id_suggests_close_ids():
    with pytest.raises(CatalogError, match="did you mean gb300-nvl72"):
        load_catalog().get("gb300")


def test_precompiled_bundled_catalog_is_up_to_date():
    """bundled_catalog.json must equal the validated TOML; rebuild it with
    python -m gigaplan.output.serialize"""
    from gigaplan.inputs.bundled import JSON_PATH
    from gigaplan.output.serialize import compile_bundled

    assert JSON_PATH.read_text() == compile_bundled(load_catalog())
