"""A seeded hostile-input campaign: mutated site and catalog files through the real CLI.

    python benchmarks/fuzz.py --count 2000 --seed 1           # about 15 minutes on 2 cores
    python benchmarks/fuzz.py --count 200 --seed 7 --keep /tmp/fuzz-failures

Each case is a mutation of the embedded default site (run through ``gigaplan plan SITE -f
json``) or of a bundled catalog file (run through ``gigaplan catalog validate FILE``, and every
fourth one also through ``gigaplan plan --catalog FILE``). Mutations: hostile values (NaN,
infinities, negative, zero, wrong dimensions, wrong types), deleted and unknown keys, control
and separator characters, huge numbers (beyond float range and over Python's 4,300-digit
limit), deep nesting, long strings, and byte-level damage (truncation, flips, NUL bytes).

Every case runs as its own subprocess with a wall-clock timeout and an address-space cap
(``RLIMIT_AS``), on a process pool of one worker per core. The campaign passes when no case
exits 70, prints a traceback, hangs or dies of a signal; it prints the exit-code distribution,
those counts, and the slowest case. ``--keep DIR`` saves each failing input for reproduction.
"""

from __future__ import annotations

import argparse
import collections
import copy
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import tomllib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
SITE_TEXT = (ROOT / "gigaplan" / "inputs" / "default_site.toml").read_text(encoding="utf-8")
CATALOG_FILES = sorted((ROOT / "catalogs").glob("*.toml"))

# Values a user (or an attacker) might write; strings cover every dimension's units.
HOSTILE: list[Any] = [
    0, -1, 1, 2**63, -(2**63), 10**30, 1e308, -1e308, 5e-324, float("nan"), float("inf"),
    -float("inf"), True, False, "", " ", "0", "-5 MW", "1.2 GWh", "12 furlongs", "$-5",
    "1e999 MW", "nan MW", "inf GW", "ⅷ MW", "💥", "5 years", "true", "null", "1,2,3", "0x10",
    "--", "__import__('os').system('id')", "$(id)", "`id`", "'; DROP TABLE x; --",
    "%s%s%s%n", "{0.__class__}", "[/x]", "[bold]x", "\x1b[2J\x1b[H", "\x1b]0;pwned\x07",
    "\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "a\nb", "a\rb", "a\x00b", "a\x1eb", "a\u0085b",
    "a\u2028b", "a\u2029b", "\u202etxt.exe", "\ufeff1 GW", "１ GW", "1 GW" + " " * 5000,
    "1 x" + "<" * 2000 + "y", "1" + "0" * 400 + " MW", [], {}, [1, "a"], [[[[]]]],
    {"a": {"b": {"c": 1}}}, ["gb300-nvl72"] * 50, "2024-13-45",
]
LONG_CHARS = "a\x1b\u2028\x1e\u0085<>[]{}$,.:=%/ 0123456789GWkMm"


@dataclass(frozen=True)
class Case:
    index: int
    kind: str  # "site" or "catalog"
    mutation: str
    text: bytes


@dataclass(frozen=True)
class Outcome:
    index: int
    kind: str
    mutation: str
    command: str
    exit_code: int | None  # None: timed out
    seconds: float
    traceback: bool
    internal: bool
    signal: int | None
    stderr_tail: str


def _paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    found = []
    if isinstance(data, dict):
        for key, value in data.items():
            found.append((*prefix, key))
            found.extend(_paths(value, (*prefix, key)))
    elif isinstance(data, list):
        for index, value in enumerate(data[:3]):
            found.append((*prefix, index))
            found.extend(_paths(value, (*prefix, index)))
    return found


def _parent(data: Any, path: tuple) -> Any:
    node = data
    for part in path[:-1]:
        node = node[part]
    return node


def _long_string(rng: random.Random) -> str:
    size = rng.choice([300, 5_000, 100_000, 1_000_000])
    if rng.random() < 0.5:
        return "".join(rng.choice(LONG_CHARS) for _ in range(min(size, 5000))) * (
            max(1, size // 5000))
    return "1 " + "x" * size


def _nested(rng: random.Random) -> Any:
    depth = rng.choice([40, 200, 1000])
    value: Any = 1
    for _ in range(depth):
        value = [value] if rng.random() < 0.5 else {"k": value}
    return value


def _structural(data: Any, rng: random.Random) -> tuple[Any, str]:
    """One mutation of parsed TOML data; returns the new data and its name."""
    data = copy.deepcopy(data)
    paths = _paths(data)
    path = rng.choice(paths)
    parent = _parent(data, path)
    key = path[-1]
    choice = rng.random()
    if choice < 0.15:
        if isinstance(parent, dict):
            parent.pop(key, None)
        elif isinstance(parent, list) and parent:
            parent.pop(key)
        return data, f"delete {'.'.join(map(str, path))}"
    if choice < 0.25 and isinstance(parent, dict):
        name = rng.choice(["budgt", "extra", "power_kW", "\x1b[2J", "a\x1eb", "k" * 300,
                           "__proto__", "ü"])
        parent[name] = rng.choice(HOSTILE[:20])
        return data, f"unknown key under {'.'.join(map(str, path[:-1])) or '(top)'}"
    if choice < 0.35:
        parent[key] = _long_string(rng)
        return data, f"long string at {'.'.join(map(str, path))}"
    if choice < 0.42:
        parent[key] = _nested(rng)
        return data, f"deep nesting at {'.'.join(map(str, path))}"
    value = rng.choice(HOSTILE)
    parent[key] = value
    return data, f"{'.'.join(map(str, path))} = {value!r:.40}"


def _dump(data: Any) -> str | None:
    try:
        return tomli_w.dumps(data)
    except (TypeError, ValueError, RecursionError):
        return None


def _textual(text: str, rng: random.Random) -> tuple[bytes, str]:
    """Damage to the file text itself: numbers, bytes, truncation."""
    lines = text.splitlines(keepends=True)
    value_lines = [i for i, line in enumerate(lines) if " = " in line and
                   not line.lstrip().startswith("#")]
    choice = rng.random()
    if choice < 0.30 and value_lines:
        i = rng.choice(value_lines)
        key = lines[i].split(" = ", 1)[0]
        digits = rng.choice([309, 400, 4301, 5000, 100_000])
        number = rng.choice(["1" + "0" * digits, "-" + "9" * digits, f"1e{digits}",
                             "0." + "0" * digits + "1", "1" + "0" * digits + ".5"])
        lines[i] = f"{key} = {number}\n"
        return "".join(lines).encode(), f"{key.strip()} = <{digits}-digit number>"
    if choice < 0.45:
        cut = rng.randrange(len(text))
        return text[:cut].encode(), f"truncated at {cut}"
    if choice < 0.60:
        raw = bytearray(text.encode())
        for _ in range(rng.randint(1, 20)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        return bytes(raw), "byte flips"
    if choice < 0.70:
        raw = text.encode()
        at = rng.randrange(len(raw))
        junk = rng.choice([b"\x00", b"\xff\xfe", b"\x1b[2J", b"[[[[[[[[", b"{" * 500,
                           b"a = " + b"[" * 5000, b"\"\"\"", b"\r", b"\xe2\x80\xa8"])
        return raw[:at] + junk + raw[at:], f"insert {junk[:12]!r}"
    if choice < 0.80 and value_lines:
        i = rng.choice(value_lines)
        key = lines[i].split(" = ", 1)[0]
        lines[i] = f"{key} = {'[' * 3000}1{']' * 3000}\n"
        return "".join(lines).encode(), f"{key.strip()} = <3000 nested arrays>"
    if choice < 0.90:
        return (text * rng.choice([2, 50])).encode(), "file repeated"
    return (text + "\n" + "x = \"" + "y" * 2_000_000 + "\"\n").encode(), "2 MB string"


def make_case(index: int, seed: int) -> Case:
    rng = random.Random(f"{seed}:{index}")
    kind = "site" if index % 2 == 0 else "catalog"
    text = SITE_TEXT if kind == "site" else rng.choice(CATALOG_FILES).read_text(encoding="utf-8")
    if rng.random() < 0.6:
        data = tomllib.loads(text)
        for _ in range(10):
            mutated, name = _structural(data, rng)
            dumped = _dump(mutated)
            if dumped is not None:
                return Case(index, kind, name, dumped.encode())
    raw, name = _textual(text, rng)
    return Case(index, kind, name, raw)


def _limit_memory(limit_bytes: int) -> Any:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))

    return apply


def run_case(case: Case, timeout_s: float, memory_mb: int, keep: str | None) -> list[Outcome]:
    outcomes = []
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", "COLUMNS": "100"}
    with tempfile.TemporaryDirectory(prefix="gigaplan-fuzz-") as folder:
        path = Path(folder) / f"{case.kind}-{case.index}.toml"
        path.write_bytes(case.text)
        if case.kind == "site":
            commands = [["plan", str(path), "-f", "json"]]
        else:
            commands = [["catalog", "validate", str(path)]]
            if case.index % 4 == 1:
                commands.append(["plan", "--catalog", str(path), "-f", "json"])
        for args in commands:
            label = " ".join(a for a in args[:3] if not a.startswith("/") and a != "-f")
            start = time.perf_counter()
            try:
                done = subprocess.run([PY, "-m", "gigaplan", *args], capture_output=True,
                                      timeout=timeout_s, env=env, cwd=folder,
                                      preexec_fn=_limit_memory(memory_mb * 2**20))
                code: int | None = done.returncode
                stderr = done.stderr.decode("utf-8", "replace")
            except subprocess.TimeoutExpired as expired:
                code = None
                stderr = (expired.stderr or b"").decode("utf-8", "replace")
            seconds = time.perf_counter() - start
            outcome = Outcome(
                index=case.index, kind=case.kind, mutation=case.mutation,
                command=label, exit_code=code, seconds=seconds,
                traceback="Traceback (most recent call last)" in stderr,
                internal=code == 70 or "internal error" in stderr,
                signal=-code if code is not None and code < 0 else None,
                stderr_tail=stderr.strip()[-300:])
            outcomes.append(outcome)
            if keep and (code is None or code < 0 or outcome.internal or outcome.traceback):
                Path(keep).mkdir(parents=True, exist_ok=True)
                (Path(keep) / path.name).write_bytes(case.text)
    return outcomes


def _job(args: tuple[int, int, float, int, str | None]) -> list[Outcome]:
    index, seed, timeout_s, memory_mb, keep = args
    return run_case(make_case(index, seed), timeout_s, memory_mb, keep)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000, help="mutated files (half sites)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per run")
    parser.add_argument("--memory-mb", type=int, default=2048, help="RLIMIT_AS per run")
    parser.add_argument("--keep", metavar="DIR", help="save failing inputs here")
    options = parser.parse_args()

    started = time.perf_counter()
    outcomes: list[Outcome] = []
    work = [(i, options.seed, options.timeout, options.memory_mb, options.keep)
            for i in range(options.count)]
    with ProcessPoolExecutor(max_workers=options.jobs) as pool:
        for done, result in enumerate(pool.map(_job, work, chunksize=4), start=1):
            outcomes.extend(result)
            if done % 100 == 0:
                print(f"... {done}/{options.count} files", file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - started

    codes = collections.Counter("hang" if o.exit_code is None else str(o.exit_code)
                                for o in outcomes)
    by_command = collections.Counter(o.command for o in outcomes)
    internal = [o for o in outcomes if o.internal]
    tracebacks = [o for o in outcomes if o.traceback]
    hangs = [o for o in outcomes if o.exit_code is None]
    signals = [o for o in outcomes if o.signal is not None]
    slowest = max(outcomes, key=lambda o: o.seconds)
    print(f"gigaplan fuzz campaign: seed {options.seed}, {options.count} files "
          f"({options.count - options.count // 2} sites, {options.count // 2} catalogs), "
          f"{len(outcomes)} runs ({', '.join(f'{k}: {v}' for k, v in sorted(by_command.items()))})"
          f", timeout {options.timeout:g} s, RLIMIT_AS {options.memory_mb} MiB, "
          f"{options.jobs} workers, {elapsed:.0f} s")
    print("exit codes: " + ", ".join(f"{code}: {count}" for code, count in
                                     sorted(codes.items(), key=lambda kv: kv[0])))
    print(f"exit 70 / internal errors: {len(internal)}")
    print(f"tracebacks: {len(tracebacks)}")
    print(f"hangs (timeout): {len(hangs)}")
    print(f"killed by a signal: {len(signals)}")
    print(f"slowest: {slowest.seconds:.2f} s ({slowest.command}, {slowest.kind} "
          f"#{slowest.index}: {slowest.mutation})")
    for outcome in [*internal, *tracebacks, *hangs, *signals][:20]:
        print(f"  FAIL #{outcome.index} {outcome.kind} {outcome.command} "
              f"exit={outcome.exit_code} ({outcome.mutation}): {outcome.stderr_tail[-200:]!r}")
    return 1 if internal or tracebacks or hangs or signals else 0


if __name__ == "__main__":
    sys.exit(main())
