"""The sample output in the READMEs is what gigaplan prints now (docs/update_samples.py)."""

from __future__ import annotations

import importlib.util

import pytest
from conftest import ROOT

spec = importlib.util.spec_from_file_location("update_samples", ROOT / "docs" / "update_samples.py")
update_samples = importlib.util.module_from_spec(spec)
spec.loader.exec_module(update_samples)


@pytest.mark.parametrize("path", update_samples.FILES, ids=lambda path: path.name)
def test_samples_are_current(path):
    text = path.read_text(encoding="utf-8")
    assert update_samples.BLOCK.search(text), f"{path}: no generated sample"
    assert update_samples.regenerate(text) == text, (
        f"{path.relative_to(ROOT)}: sample output drifted; run python docs/update_samples.py")


def test_a_hand_edited_sample_is_caught(tmp_path, capsys):
    readme = tmp_path / "README.md"
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    readme.write_text(text.replace("│ gb300-nvl72 ", "│ gb300-nvl99 ", 1), encoding="utf-8")
    assert update_samples.main(["--check", str(readme)]) == 1
    diff = capsys.readouterr().out
    assert "-│ gb300-nvl99" in diff and "+│ gb300-nvl72" in diff
    assert update_samples.main([str(readme)]) == 0
    assert readme.read_text(encoding="utf-8") == text


def test_sections_keep_the_header_and_the_named_tables_only():
    output = "head line\nA\n┏━┓\n│1│\n└─┘\nB\n┏━┓\n│2│\n└─┘\nC\n┏━┓\n│3│\n└─┘"
    assert update_samples.select(output, ["B"]) == "head line\n...\nB\n┏━┓\n│2│\n└─┘\n..."
    with pytest.raises(ValueError, match="no table titled D"):
        update_samples.select(output, ["D"])
