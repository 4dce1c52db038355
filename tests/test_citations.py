"""Docs and code cite only what is in this repository."""

from __future__ import annotations

import re

from conftest import ROOT

SOURCES = [*ROOT.glob("gigaplan/**/*.py"), *ROOT.glob("gigaplan/**/*.toml"),
           *ROOT.glob("docs/**/*.md"), *ROOT.glob("docs/**/*.toml"), ROOT / "README.md",
           *ROOT.glob("catalogs/*.toml")]


def test_no_file_cites_notes_outside_the_repository():
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        for absent in ("../shared", "DESIGN.md", "STYLE.md", "hardware-facts.md"):
            assert absent not in text, f"{path.relative_to(ROOT)} cites {absent}"


def test_every_cited_markdown_file_exists():
    present = {path.name for path in [*ROOT.glob("docs/**/*.md"), *ROOT.glob("*.md")]}
    for path in SOURCES:
        # a name after a slash is part of a URL or a path the test does not follow
        for name in re.findall(r"(?<![/\w.-])([\w.-]+\.md)\b", path.read_text(encoding="utf-8")):
            assert name in present, f"{path.relative_to(ROOT)} cites {name}, not in the repo"


def test_every_em_section_cited_exists_in_docs_engineering_model():
    headings = set(re.findall(r"^#+ (\d+(?:\.\d+)?)\.? ",
                              (ROOT / "docs" / "engineering-model.md").read_text(),
                              flags=re.M))
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        for cited in re.findall(r"(?:EM|engineering-model(?:\.md)?) ((?:§[\d.]+(?:[,–-] ?)?)+)",
                                text):
            for section in re.findall(r"§(\d+(?:\.\d+)?)", cited):
                assert section in headings, f"{path.relative_to(ROOT)} cites EM §{section}"
