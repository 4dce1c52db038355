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
    import gigaplan.formulation.constraints as constraints
    import gigaplan.formulation.economics as economics
    import gigaplan.formulation.networks as networks

    model_doc = (ROOT / "docs" / "model.md").read_text()
    for module in (constraints, economics, networks):
        for name in dir(module):
            if name.startswith("define_"):
                assert name in model_doc, name


def _commands():
    import click
    import typer.main

    from gigaplan.cli import app

    def walk(command, prefix):
        if isinstance(command, click.Group) or getattr(command, "commands", None):
            for name, sub in command.commands.items():
                yield from walk(sub, [*prefix, name])
        else:
            yield " ".join(prefix), command

    root = typer.main.get_command(app)
    return root, list(walk(root, ["gigaplan"]))


def test_every_command_and_option_is_documented_in_cli_md():
    cli_doc = (ROOT / "docs" / "cli.md").read_text()
    root, commands = _commands()
    for param in root.params:
        for opt in param.opts:
            assert f"`{opt}`" in cli_doc, opt
    for name, command in commands:
        assert f"## `{name}" in cli_doc, name
        section = cli_doc.split(f"## `{name}", 1)[1].split("\n## ", 1)[0]
        for param in command.params:
            if param.param_type_name != "option" or param.name == "help":
                continue
            for opt in param.opts:
                assert f"`{opt}" in section, f"{name}: {opt} is not in docs/cli.md"


def test_json_doc_lists_every_exit_code():
    from gigaplan import errors

    json_doc = (ROOT / "docs" / "json.md").read_text()
    for name in dir(errors):
        if name.startswith("EXIT_"):
            assert f"| {getattr(errors, name)} |" in json_doc, name
