"""Paired runs of the SQLite latency bench with the response built in Python (as shipped) and in C (the experiment):

    python -m bench.native_builder [--work DIR] [--rounds N]

The extension is compiled once; each run is a fresh process (`bench/sqlite_latency.py` over one catalog built once
in --work), alternating the two, each round in the other order than the one before.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from bench.native_builder import NoCompiler, compile_builder

ROOT = Path(__file__).resolve().parents[2]
CHILD = """
import sys
from pathlib import Path
sys.path.insert(0, {root!r})
if {library!r}:
    from bench.native_builder import use_native_builder
    use_native_builder(Path({library!r}))
from bench.sqlite_latency import main
raise SystemExit(main(["--work", {work!r}]))
"""


def run(work: Path, library: Path | None) -> str:
    """One `bench/sqlite_latency.py` run in a fresh process, with the extension at `library` in use (None: Python's)."""
    code = CHILD.format(root=str(ROOT), library=str(library) if library else "", work=str(work))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return result.stdout.strip().splitlines()[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("/tmp/pinrec-sqlite-latency"))
    parser.add_argument("--rounds", type=int, default=2)
    arguments = parser.parse_args(argv)
    try:
        library = compile_builder(arguments.work / "native")  # once: each C run loads it
    except NoCompiler as error:
        print(f"cannot build the extension here: {error}", file=sys.stderr)
        return 1
    for round_number in range(arguments.rounds):
        order = (None, library) if round_number % 2 == 0 else (library, None)
        for built in order:
            print(f"{'C     ' if built else 'Python'} {run(arguments.work, built)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
