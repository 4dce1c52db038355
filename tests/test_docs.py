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


def test_readme_set_up_works_under_pep_668_and_ci_runs_it_as_written():
    """Both set-up commands create and activate a virtual environment first (Debian's and
    Ubuntu's Python refuse pip outside one), and .ci/run reads them from the README."""
    import subprocess

    readme = (ROOT / "README.md").read_text()
    setup = readme.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    blocks = [block.split("```", 1)[0].strip() for block in setup.split("```sh\n")[1:]]
    assert blocks == [
        "python3 -m venv .venv && . .venv/bin/activate && python -m pip install . "
        "&& gigaplan plan",
        "python3 -m venv .venv && . .venv/bin/activate && python -m pip install -e '.[test]' "
        "&& python -m pytest -q"]
    assert "pipx" in setup and "uv tool install" in setup and "PEP 668" in setup
    read = subprocess.run(["bash", str(ROOT / ".ci" / "readme-setup")], capture_output=True,
                          text=True, check=True).stdout.splitlines()
    assert read == blocks
    ci = (ROOT / ".ci" / "run").read_text()
    assert ".ci/readme-setup" in ci and 'bash -euo pipefail -c "$command"' in ci
    assert "pip install" not in ci and "ruff check ." in ci  # no second copy to drift


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
