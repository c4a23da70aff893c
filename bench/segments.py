"""Benchmark `pinrec segment build`: N endpoints of a gzipped export streamed through a segment definition.

    python bench/segments.py                      # 1,000,000 endpoints (and 100,000 to show memory stays flat)
    python bench/segments.py --endpoints 200000   # a quicker run

Each build runs in a fresh child process (the real `pinrec` command), so its peak RSS is its own. The export is
written as Pinpoint writes them: gzipped JSON Lines in files named without an extension. The figures go into
bench/RESULTS.md (the "Segment build" section, replaced on each run).
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).with_name("RESULTS.md")
BEGIN = "<!-- segment build: begin -->"
END = "<!-- segment build: end -->"
FILES = 4
"""Files of the export, as an export job splits its output."""
LIMIT_MB = 100

DEFINITION = {
    "SegmentResponse": {
        "Id": "bench",
        "Name": "engaged hikers",
        "SegmentType": "DIMENSIONAL",
        "Dimensions": {"Demographic": {"Channel": {"DimensionType": "INCLUSIVE", "Values": ["EMAIL"]}}},
        "SegmentGroups": {
            "Include": "ALL",
            "Groups": [
                {
                    "Type": "ANY",
                    "SourceType": "ALL",
                    "Dimensions": [
                        {"Attributes": {"Interests": {"AttributeType": "INCLUSIVE", "Values": ["hiking", "climbing"]}}},
                        {"Metrics": {"visits": {"ComparisonOperator": "GREATER_THAN_OR_EQUAL", "Value": 8}}},
                        {"Location": {"Country": {"DimensionType": "INCLUSIVE", "Values": ["FR", "DE"]}}},
                    ],
                },
                {
                    "Type": "ALL",
                    "Dimensions": [
                        {"Behavior": {"Recency": {"Duration": "DAY_30", "RecencyType": "ACTIVE"}}},
                        {"UserAttributes": {"Plan": {"AttributeType": "EXCLUSIVE", "Values": ["cancelled"]}}},
                    ],
                },
            ],
        },
    }
}
INTERESTS = ["hiking", "climbing", "cycling", "running", "reading", "cooking", "travel", "music"]
COUNTRIES = ["US", "FR", "DE", "GB", "ES", "IT", "JP", "BR"]


def endpoint(number: int, rng: random.Random) -> dict[str, object]:
    return {
        "Id": f"ep-{number:08d}",
        "ChannelType": "EMAIL" if rng.random() < 0.8 else "SMS",
        "Address": f"user{number}@example.com",
        "EndpointStatus": "ACTIVE",
        "OptOut": "NONE",
        "EffectiveDate": f"2026-{rng.randint(4, 6):02d}-{rng.randint(1, 28):02d}T10:00:00.000Z",
        "Attributes": {"Interests": rng.sample(INTERESTS, 2)},
        "User": {
            "UserId": f"u-{number}",
            "UserAttributes": {"FirstName": ["Ana"], "Plan": [rng.choice(["free", "pro", "cancelled"])]},
        },
        "Metrics": {"visits": rng.randint(0, 10)},
        "Demographic": {"Platform": rng.choice(["ios", "android"]), "AppVersion": "3.2.1"},
        "Location": {"Country": rng.choice(COUNTRIES), "City": "Paris", "Latitude": 48.85, "Longitude": 2.35},
    }


def write_export(folder: Path, count: int) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(15)
    size = 0
    per_file = -(-count // FILES)
    for part in range(FILES):
        path = folder / f"{part:04d}-a1b2c3d4"
        with gzip.open(path, "wt", encoding="utf-8", compresslevel=1) as out:
            for number in range(part * per_file, min(count, (part + 1) * per_file)):
                out.write(json.dumps(endpoint(number, rng), separators=(",", ":")) + "\n")
        size += path.stat().st_size
    return size


def run_build(definition: Path, export: Path, out: Path) -> dict[str, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    command = [sys.executable, "-m", "campaign_tools.cli", "segment", "build", str(definition)]
    command += ["--endpoints", str(export), "--out", str(out), "--now", "2026-06-15T00:00:00Z", "--output", "json"]
    started = time.perf_counter()
    finished = subprocess.run(command, check=True, capture_output=True, text=True, cwd=REPO)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    report = json.loads(finished.stdout)
    return {
        "rows": report["rows"],
        "members": report["members"],
        "seconds": seconds,
        "peak_mb": max(peak, before) / 1024,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoints", type=int, default=1_000_000)
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/RESULTS.md alone")
    arguments = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="pinrec-segments-") as temporary:
        folder = Path(temporary)
        definition = folder / "segment.json"
        definition.write_text(json.dumps(DEFINITION), encoding="utf-8")
        # The small run first: ru_maxrss of children is the largest child so far.
        for count in (arguments.endpoints // 10, arguments.endpoints):
            export = folder / f"export-{count}"
            started = time.perf_counter()
            size = write_export(export, count)
            print(f"wrote {count:,} endpoints ({size / 1e6:.1f} MB gzipped) in {time.perf_counter() - started:.1f}s")
            figures = run_build(definition, export, folder / f"audience-{count}.jsonl")
            figures["export_mb"] = size / 1e6
            rows.append(figures)
            print(
                f"{count:,} endpoints: {figures['members']:,} members in {figures['seconds']:.1f}s "
                f"({figures['rows'] / figures['seconds']:,.0f} endpoints/s), peak RSS {figures['peak_mb']:.1f} MB"
            )
    largest = rows[-1]
    verdict = "met" if largest["peak_mb"] < LIMIT_MB else "**missed**"
    section = "\n".join(
        [
            BEGIN,
            "## Segment build (`pinrec segment build`)",
            "",
            f"Command: `python bench/segments.py --endpoints {arguments.endpoints}` — "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, Python {sys.version.split()[0]}, 2 shared cores.",
            "",
            "A gzipped export in 4 files named without an extension (~430 bytes of JSON per endpoint), a definition "
            "with top-level Dimensions, two segment groups (ANY of attribute / metric / country; ALL of recency and an "
            "EXCLUSIVE user attribute); each build is a fresh `pinrec` child process, peak RSS is its ru_maxrss.",
            "",
            "| endpoints | export (gzipped) | members | seconds | endpoints/s | peak RSS |",
            "|---|---|---|---|---|---|",
            *(
                f"| {int(row['rows']):,} | {row['export_mb']:.1f} MB | {int(row['members']):,} | {row['seconds']:.1f} | "
                f"{row['rows'] / row['seconds']:,.0f} | {row['peak_mb']:.1f} MB |"
                for row in rows
            ),
            "",
            f"Target: {int(largest['rows']):,} endpoints streamed in under {LIMIT_MB} MB peak: {verdict} "
            f"({largest['peak_mb']:.1f} MB; the run at a tenth of the size peaked at {rows[0]['peak_mb']:.1f} MB).",
            END,
        ]
    )
    print(section)
    if not arguments.no_write:
        text = RESULTS.read_text(encoding="utf-8")
        if BEGIN in text:
            text = text[: text.index(BEGIN)] + section + text[text.index(END) + len(END) :]
        else:
            text = text.rstrip("\n") + "\n\n" + section + "\n"
        RESULTS.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
