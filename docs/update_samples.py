"""Regenerate the sample output in README.md, docs/examples/README.md and docs/cli.md from the
real CLI.

A sample is a fenced block between two HTML comments that say which command it shows::

    <!-- sample: gigaplan plan | sections: Build-out, Constraints -->
    ```
    $ gigaplan plan
    ...what the command prints...
    ```
    <!-- /sample -->

``sections`` (optional) keeps the lines before the first table plus the named tables, with
``...`` where tables were left out; ``width`` (optional, default 100) is the terminal width.
Commands run in-process from the repository root with ``COLUMNS`` set, exactly as a user at
that width sees them (stdout only; trailing spaces removed).

    python docs/update_samples.py           # rewrite the samples in place
    python docs/update_samples.py --check   # exit 1 and show a diff when a sample drifted

``tests/test_readme_samples.py`` runs the check, so a change in output that is not
regenerated here fails the tests.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = (ROOT / "README.md", ROOT / "docs" / "examples" / "README.md", ROOT / "docs" / "cli.md")
DEFAULT_WIDTH = 100
BLOCK = re.compile(r"(?P<open><!-- sample: (?P<spec>.+?) -->\n)(?P<body>.*?)"
                   r"(?P<close><!-- /sample -->)", re.DOTALL)


def parse_spec(spec: str) -> tuple[str, list[str], int]:
    """``gigaplan plan | sections: A, B | width: 80`` -> (command, sections, width)."""
    command, *options = (part.strip() for part in spec.split("|"))
    sections: list[str] = []
    width = DEFAULT_WIDTH
    for option in options:
        name, _, value = option.partition(":")
        if name.strip() == "sections":
            sections = [item.strip() for item in value.split(",") if item.strip()]
        elif name.strip() == "width":
            width = int(value)
        else:
            raise ValueError(f"unknown sample option {name.strip()!r} in {spec!r}")
    if not command.startswith("gigaplan "):
        raise ValueError(f"a sample runs a gigaplan command, got {command!r}")
    return command, sections, width


def run_command(command: str, width: int) -> str:
    """stdout of ``command`` run in-process from the repository root at ``width`` columns."""
    from typer.testing import CliRunner

    from gigaplan.cli import app

    cwd = Path.cwd()
    os.chdir(ROOT)
    try:
        result = CliRunner().invoke(app, shlex.split(command)[1:],
                                    env={"COLUMNS": str(width), "NO_COLOR": "1"})
    finally:
        os.chdir(cwd)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return "\n".join(line.rstrip() for line in result.stdout.splitlines())


def split_sections(text: str) -> list[tuple[str, list[str]]]:
    """(title, lines) per table; the lines before the first table are titled ``header``."""
    lines = text.splitlines()
    starts = [index for index in range(len(lines) - 1)
              if lines[index + 1].startswith("┏") and lines[index].strip()
              and not lines[index].startswith(("┃", "│", "┏"))]
    sections = [("header", lines[:starts[0]] if starts else lines)]
    for number, start in enumerate(starts):
        end = starts[number + 1] if number + 1 < len(starts) else len(lines)
        sections.append((lines[start].strip(), lines[start:end]))
    return sections


def select(text: str, wanted: list[str]) -> str:
    """The header, then the ``wanted`` tables, with ``...`` marking what was left out."""
    if not wanted:
        return text
    sections = split_sections(text)
    titles = [title for title, _ in sections]
    missing = [name for name in wanted if name not in titles]
    if missing:
        raise ValueError(f"no table titled {', '.join(missing)}; tables: {', '.join(titles)}")
    out: list[str] = []
    skipped = False
    for title, lines in sections:
        if title == "header" or title in wanted:
            if skipped:
                out.append("...")
            out.extend(lines)
            skipped = False
        else:
            skipped = True
    if skipped:
        out.append("...")
    return "\n".join(out)


def render_block(spec: str) -> str:
    command, sections, width = parse_spec(spec)
    output = select(run_command(command, width), sections)
    return f"```\n$ {command}\n{output}\n```\n"


def regenerate(text: str) -> str:
    """``text`` with every sample block rendered afresh."""
    return BLOCK.sub(lambda match: match["open"] + render_block(match["spec"]) + match["close"],
                     text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 with a diff when a sample is out of date")
    parser.add_argument("files", nargs="*", type=Path, default=list(FILES))
    args = parser.parse_args(argv)
    stale = 0
    for path in args.files:
        before = path.read_text(encoding="utf-8")
        after = regenerate(before)
        if after == before:
            continue
        stale += 1
        if args.check:
            sys.stdout.writelines(difflib.unified_diff(
                before.splitlines(keepends=True), after.splitlines(keepends=True),
                f"{path} (as written)", f"{path} (as gigaplan prints it now)"))
        else:
            path.write_text(after, encoding="utf-8")
            print(f"updated {path}")
    if args.check and stale:
        print(f"\n{stale} file(s) out of date: run python docs/update_samples.py")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
