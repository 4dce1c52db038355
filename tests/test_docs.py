"""The README and docs state what the code does."""

from __future__ import annotations

from conftest import ROOT, parse_json


def test_readme_figures_match_the_default_plan(run):
    readme = (ROOT / "README.md").read_text()
    data = parse_json(run("plan", "--format", "json"))
    gb300 = data["racks"][0]
    assert f"{data['totals']['gpus']:,} GB300 GPUs in {gb300['count']:,}" in readme
    assert f"${data['cost']['capex_usd'] / 1e9:.2f}B" in readme
    assert f"${data['cost']['usd_per_gpu_hour']:.2f}" in readme
    assert f"{data['energy']['mwh_per_year'] / 1e6:.2f} TWh" in readme


def test_readme_set_up_is_two_commands_and_ci_runs_its_test_command():
    readme = (ROOT / "README.md").read_text()
    setup = readme.split("## Set-up", 1)[1].split("##", 1)[0]
    commands = [line for line in setup.splitlines() if line.startswith("python3 -m pip")]
    assert commands == ["python3 -m pip install . && gigaplan plan",
                        "python3 -m pip install -e '.[test]' && python3 -m pytest -q"]
    assert "python -m pytest -q" in (ROOT / ".ci" / "run").read_text()


def test_model_doc_names_every_constraint_family():
    import gigaplan.constraints as constraints
    import gigaplan.economics as economics

    model_doc = (ROOT / "docs" / "model.md").read_text()
    for module in (constraints, economics):
        for name in dir(module):
            if name.startswith("define_"):
                assert name in model_doc, name
