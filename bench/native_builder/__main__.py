"""Paired runs of the SQLite latency bench with the response built in Python (as shipped) and in C (the experiment):

    python -m bench.native_builder [--work DIR] [--rounds N]

Each run is a fresh process (`bench/sqlite_latency.py` over one catalog built once in --work), alternating the two,
each round in the other order than the one before.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from bench.native_builder import NoCompiler, compile_builder

ROOT = Path(__file__).resolve().parents[2]
CHILD = """
import runpy, sys
from pathlib import Path
sys.path.insert(0, {root!r})
if {native!r}:
    from bench.native_builder import use_native_builder
    use_native_builder(Path({work!r}) / "native")
sys.argv = ["bench/sqlite_latency.py", "--work", {work!r}]
runpy.run_path({script!r}, run_name="__main__")
"""


def run(work: Path, native: bool) -> str:
    code = CHILD.format(root=str(ROOT), native=native, work=str(work), script=str(ROOT / "bench/sqlite_latency.py"))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return result.stdout.strip().splitlines()[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("/tmp/pinrec-sqlite-latency"))
    parser.add_argument("--rounds", type=int, default=2)
    arguments = parser.parse_args(argv)
    try:
        compile_builder(arguments.work / "native")
    except NoCompiler as error:
        print(f"cannot build the extension here: {error}", file=sys.stderr)
        return 1
    for round_number in range(arguments.rounds):
        order = (False, True) if round_number % 2 == 0 else (True, False)
        for native in order:
            print(f"{'C     ' if native else 'Python'} {run(arguments.work, native)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
