"""The SQLite batch-latency part of `python -m bench` alone (cold, hot and steady through the handler, enrichment alone,
the naive baseline spread through the run), over a 100,000-item catalog built once in a work folder and reused.

    python bench/sqlite_latency.py [--work DIR] [--runs COLD HOT WARMUP STEADY NAIVE] [--catalog ITEMS]

It measures the code of the source tree it sits in, so running each checkout's copy alternately over the same --work
folder compares them on one catalog. Prints one line of medians (ms) and ratios.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

TREE = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(TREE))
    from bench.__main__ import FULL, config_for, quiet_logs, write_toml
    from bench.latency import sqlite_latency
    from bench.loading import load_with_cli, write_jsonl
    from transformer.stores.sqlite import sqlite_stats

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("/tmp/pinrec-sqlite-latency"))
    parser.add_argument(
        "--runs", type=int, nargs=5, default=list(FULL.sqlite_runs), metavar="N", help="as the full run's"
    )
    parser.add_argument("--catalog", type=int, default=FULL.catalog, help="items, when the work folder has none yet")
    arguments = parser.parse_args(argv)
    quiet_logs()
    work: Path = arguments.work
    work.mkdir(parents=True, exist_ok=True)
    catalog = work / "catalog.db"
    toml = write_toml(work / "sqlite.toml", {"kind": "sqlite", "path": str(catalog)})
    if not catalog.exists():
        write_jsonl(work / "catalog.jsonl", arguments.catalog)
        print(load_with_cli(str(work / "catalog.jsonl"), "--config", str(toml))[1], file=sys.stderr)
    os.environ["PINREC_CONFIG"] = str(toml)  # the handler module reads it when first imported
    result = sqlite_latency(
        config_for({"kind": "sqlite", "path": str(catalog)}, work),
        catalog,
        arguments.runs,
        catalog_size=sqlite_stats(catalog, str(catalog)).figures["items"],
        progress=lambda _: None,
    )
    print(
        f"naive {result.naive.median_ms:.3f} | through the handler: cold {result.cold.median_ms:.3f} "
        f"({result.ratio(result.cold):.1f}x), hot {result.hot.median_ms:.3f} ({result.ratio(result.hot):.1f}x), "
        f"steady {result.steady.median_ms:.3f} ({result.ratio(result.steady):.1f}x) | enrichment alone: "
        f"hot {result.hot_enrich.median_ms:.3f}, steady {result.steady_enrich.median_ms:.3f}, "
        f"steady all cached {result.steady_cached.median_ms:.3f} | identical to naive: {result.identical_output}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
