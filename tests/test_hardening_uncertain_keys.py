"""Only numbers can be sampled (issue 12, defect 6, second pass).

The up-front check of ``catalog.<sku-id>.<field>`` counted a field as numeric when numbers
appeared anywhere in its type, so ``ranges`` (a table of number pairs) passed and every
sample failed; site keys were not checked at all (``name=uniform(1,2)`` failed every sample).
A distribution that draws numbers now needs a key that holds one number: anything else is
exit 3 with one line naming the key and what can be sampled. ``choice(...)`` still picks the
values of any site key (``power.basis``). A number drawn for a count key is rounded, as a
catalog count is.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal, Optional

import pytest
from pydantic import Field
from test_hardening import input_error

from gigaplan.inputs.site import is_count_key, is_numeric

CATALOG_FIELDS = ["ranges", "sources", "estimates", "kind", "id", "name", "vendor", "status",
                  "available_from", "notes", "nic", "fabric_switch", "inference_benchmark"]


@pytest.mark.parametrize("field", CATALOG_FIELDS)
def test_a_catalog_field_that_is_not_one_number_is_refused_up_front(run, field):
    key = f"catalog.gb300-nvl72.{field}"
    result = run("montecarlo", "--samples", "3", "--uncertain", f"{key}=uniform(1, 2)")
    input_error(result, key, "not a numeric field", "power_kw", "gpu_count")
    assert f" {field}," not in result.stderr.split("sampled:")[1]  # not offered back


def test_a_misspelled_catalog_field_gets_a_suggestion(run):
    result = run("montecarlo", "--samples", "3", "--uncertain",
                 "catalog.gb300-nvl72.power_KW=uniform(130 kW, 150 kW)")
    input_error(result, "catalog.gb300-nvl72.power_KW", "did you mean power_kw?")


def test_a_switch_lists_its_own_numeric_fields(run):
    result = run("montecarlo", "--samples", "3", "--uncertain",
                 "catalog.quantum-x800-q3400.ranges=uniform(1, 2)")
    input_error(result, "port_count", "power_w")
    assert "gpu_count" not in result.stderr


@pytest.mark.parametrize(("key", "hint"), [
    ("name", "choice(...)"), ("compute.skus", "choice(...)"),
    ("power.basis", "'facility'"), ("economics.heat_rejection", "'evaporative'"),
    ("compute.min_racks", "choice(...)"), ("requirements", "choice(...)"),
    ("network.enabled", "oversubscription"), ("compute.build_date", "choice(...)"),
])
def test_a_site_key_that_is_not_a_number_is_refused_up_front(run, key, hint):
    result = run("montecarlo", "--samples", "3", "--uncertain", f"{key}=uniform(1, 2)")
    input_error(result, f"uncertainty {key}", "uniform(...) draws numbers", hint)


@pytest.mark.parametrize("key", ["uncertainty", "uncertainty.x", "phases"])
def test_the_uncertainty_table_and_phases_cannot_be_uncertain(run, key):
    for dist in ("uniform(1, 2)", "choice(1, 2)"):
        result = run("montecarlo", "--samples", "3", "--uncertain", f"{key}={dist}")
        input_error(result, f"uncertainty {key}", "cannot itself be uncertain")


def test_a_non_numeric_key_in_a_site_files_uncertainty_table(run, tmp_path):
    from gigaplan.inputs.site import default_site_text

    site = tmp_path / "site.toml"
    site.write_text(default_site_text() + '\n[uncertainty]\n"power.basis" = "uniform(1, 2)"\n')
    input_error(run("montecarlo", str(site), "--samples", "3"), str(site), "power.basis",
                "choice(...)")


def test_choice_still_picks_the_values_of_any_site_key(run):
    result = run("montecarlo", "--samples", "4", "-f", "json", "--uncertain",
                 'power.basis=choice("it", "facility")')
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["planned"] == 4


@pytest.mark.parametrize("dist", ["space.rack_positions=uniform(1000, 200000)",
                                  "power.redundancy_blocks=uniform(2, 4)",
                                  "compute.max_racks.gb300-nvl72=uniform(100000, 200000)"])
def test_a_number_drawn_for_a_count_key_is_rounded(run, dist):
    """These used to fail every sample: 1636.96 is not a whole number of racks."""
    result = run("montecarlo", "--samples", "4", "-f", "json", "--uncertain", dist)
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["planned"] == 4 and doc["errors"] == []


def test_numbers_are_single_numbers_only():
    assert is_numeric(float) and is_numeric(int) and is_numeric(float | None)
    assert is_numeric(Optional[Annotated[float, Field(gt=0)]])  # noqa: UP045 (as pydantic has it)
    assert not is_numeric(bool)
    assert not is_numeric(dict[str, tuple[float, float]])
    assert not is_numeric(list[float]) and not is_numeric(tuple[float, ...])
    assert not is_numeric(Literal[1, 2]) and not is_numeric(str) and not is_numeric(str | float)


def test_count_keys_are_the_integer_ones():
    assert is_count_key("space.rack_positions") and is_count_key("power.redundancy_blocks")
    assert is_count_key("compute.max_racks.gb300-nvl72")
    assert not is_count_key("power.pue") and not is_count_key("power.budget")
    assert not is_count_key("economics.prices.gb300-nvl72") and not is_count_key("name")
