"""Offers benchmark: batch latency of offer selection for both scoring modes, 50 endpoints per batch.

`python -m bench.offers [--batches N] [--quick]` prints a report and writes bench/RESULTS-offers.md.
Personalize is answered by a stub GetPersonalizedRanking server on 127.0.0.1 (no AWS, no internet), with an
optional simulated service latency per call; the transformer talks to it through a real boto3 client.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from campaign_tools.catalog.records import read_jsonl
from transformer.config import parse_config
from transformer.observability import logger
from transformer.offers.engine import build_offer_engine
from transformer.service import Transformer
from transformer.stores.sqlite import SqliteItemStore, write_snapshot

ENDPOINTS = 50
OFFERS = 40
ITEMS_PER_ENDPOINT = 5
SEND_TIME = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
CAMPAIGN_ARN = "arn:aws:personalize:us-east-1:123456789012:campaign/bench-offers"
CHANNELS = ["EMAIL", "SMS", "GCM"]
RESULTS = Path(__file__).with_name("RESULTS-offers.md")


def offer_documents(rng: random.Random) -> list[dict[str, Any]]:
    documents = []
    for index in range(OFFERS):
        document: dict[str, Any] = {
            "id": f"OFF-{index:03d}",
            "title": f"Offer {index}",
            "description": f"Description of offer {index}",
            "code": f"CODE-{index:03d}",
            "preference": round(rng.uniform(0.2, 3.0), 2),
        }
        if index % 5 == 0:
            document["expires_at"] = "2026-11-01T00:00:00Z"  # expired at the send time
        if index % 7 == 0:
            document["channels"] = [rng.choice(CHANNELS)]
        documents.append(document)
    return documents


def batch_event(rng: random.Random, batch: int) -> dict[str, Any]:
    ids = [f"OFF-{index:03d}" for index in range(OFFERS)]
    return {
        "ScheduledTime": SEND_TIME.isoformat(),
        "Endpoints": {
            f"ep-{batch}-{n}": {
                "ChannelType": rng.choice(CHANNELS),
                "Address": f"user{n}@example.com",
                "User": {"UserId": f"user-{batch}-{n}"},
                "RecommendationItems": rng.sample(ids, ITEMS_PER_ENDPOINT),
            }
            for n in range(ENDPOINTS)
        },
    }


class RankingStub(BaseHTTPRequestHandler):
    """GetPersonalizedRanking over HTTP: scores every input item, after `delay` seconds."""

    delay = 0.0
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes: avoid the delayed-ACK stall

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.delay:
            time.sleep(self.delay)
        user = body["userId"]
        ranking = [
            {"itemId": item, "score": zlib.crc32(f"{user}/{item}".encode()) % 1000 / 1000 + 0.001}
            for item in body["inputList"]
        ]
        ranking.sort(key=lambda entry: -entry["score"])
        data = json.dumps({"personalizedRanking": ranking, "recommendationId": "RID-bench"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


def serve_stub(delay: float) -> None:
    """Run the stub on a free loopback port (printed first) until killed."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("Stub", (RankingStub,), {"delay": delay}))
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


@contextmanager
def ranking_server(delay: float) -> Iterator[str]:
    """The stub in its own process, so its CPU time does not compete with the transformer's for the GIL."""
    command = [sys.executable, "-m", "bench.offers", "--serve-stub", str(delay)]
    root = Path(__file__).resolve().parent.parent
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=root)
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def make_transformer(workdir: Path, offers: dict[str, Any], ttl: float) -> Transformer:
    data = {
        "store": {"kind": "sqlite", "path": str(workdir / "catalog.db")},
        "cache": {"ttl_seconds": ttl, "max_items": 50_000},
        "attributes": {"OfferTitle": {"field": "title"}, "OfferCode": {"field": "code"}},
        "offers": {"catalog": str(workdir / "offers.jsonl"), "score_attribute": "OfferScore", **offers},
    }
    config = parse_config(data, base_dir=workdir)
    store = SqliteItemStore(workdir / "catalog.db")
    return Transformer(config, store=store, offers=build_offer_engine(config, store))


def measure(transformer: Transformer, events: list[dict[str, Any]], warm: bool) -> tuple[list[float], str]:
    """Per-batch latency in ms, and the Personalize calls per measured batch (warm-up calls not counted)."""
    timings = []
    calls = 0
    for event in events:
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):  # the batch's EMF document
            if warm:
                transformer.handle(event)
            started = time.perf_counter()
            response = transformer.handle(event)
            timings.append((time.perf_counter() - started) * 1000)
        if not response:
            raise SystemExit("benchmark batch produced no offers: the setup is broken")
        assert transformer.offers is not None
        calls += transformer.offers.last.ranking.calls
    return timings, f"{calls / len(events):g}"


def summary(name: str, measured: tuple[list[float], str]) -> dict[str, str]:
    timings, calls = measured
    ordered = sorted(timings)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "case": name,
        "batches": str(len(timings)),
        "p50 ms": f"{statistics.median(ordered):.2f}",
        "p95 ms": f"{p95:.2f}",
        "max ms": f"{ordered[-1]:.2f}",
        "Personalize calls/batch": calls,
    }


def run(batches: int) -> list[dict[str, str]]:
    rng = random.Random(6)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    logger.setLevel("WARNING")
    rows = []
    with tempfile.TemporaryDirectory(prefix="pinrec-bench-offers-") as temp:
        workdir = Path(temp)
        documents = offer_documents(rng)
        (workdir / "offers.jsonl").write_text("\n".join(json.dumps(d) for d in documents) + "\n", encoding="utf-8")
        lines = [json.dumps(d) for d in documents]
        write_snapshot(read_jsonl(lines, "id"), workdir / "catalog.db", key="id", source="bench")
        events = [batch_event(rng, batch) for batch in range(batches)]

        rank = make_transformer(workdir, {"scoring": "rank"}, ttl=300)
        rows.append(summary("rank, offers file", measure(rank, events, warm=False)))
        store = make_transformer(workdir, {"scoring": "rank", "catalog": "store"}, ttl=0)
        rows.append(summary("rank, item store (no cache)", measure(store, events, warm=False)))

        for delay_ms in (0, 20):
            with ranking_server(delay_ms / 1000) as url:
                settings = {
                    "scoring": "personalize",
                    "campaign_arn": CAMPAIGN_ARN,
                    "id_type": "user",
                    "region": "us-east-1",
                    "endpoint_url": url,
                }
                cold = make_transformer(workdir, settings, ttl=0)
                measure(cold, events[:2], warm=False)  # connection pool and first-call setup, not measured
                name = f"personalize, stub +{delay_ms} ms/call"
                rows.append(summary(f"{name}, cache cold", measure(cold, events, warm=False)))
                serial = make_transformer(workdir, {**settings, "concurrency": 1}, ttl=0)
                measure(serial, events[:1], warm=False)
                sample = events[: max(3, batches // 5)]
                rows.append(summary(f"{name}, concurrency 1, cache cold", measure(serial, sample, warm=False)))
                warm = make_transformer(workdir, settings, ttl=300)
                rows.append(summary(f"{name}, cache warm", measure(warm, events, warm=True)))
    return rows


def report(rows: list[dict[str, str]], batches: int) -> str:
    headers = list(rows[0])
    lines = [
        "# Offers benchmark",
        "",
        f"`python -m bench.offers --batches {batches}`: {ENDPOINTS} endpoints per batch, {OFFERS} offers "
        f"(1 in 5 expired, 1 in 7 restricted to a channel), {ITEMS_PER_ENDPOINT} RecommendationItems per endpoint, "
        "per_endpoint 1, score attribute on. Latency of `Transformer.handle` per batch, in-process.",
        "Personalize is a stub GetPersonalizedRanking server on 127.0.0.1 (its own process) reached through a real "
        "boto3 client; "
        "`+N ms/call` simulates the service's own latency. Default concurrency 10 unless stated.",
        "'cache warm' = the batch ran once before, so every ranking comes from the per-container cache "
        "(same users, same offer sets). Warm-up calls are not counted in calls/batch.",
        "",
        f"Machine: {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs "
        f"({platform.machine()}), shared with other work; run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---" for _ in headers) + "|",
    ]
    lines += ["| " + " | ".join(row[h] for h in headers) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None, write: Callable[[str], Any] = RESULTS.write_text) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.offers", description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=100, help="measured batches per case (default 100)")
    parser.add_argument("--quick", action="store_true", help="10 batches per case, for a smoke run")
    parser.add_argument("--serve-stub", type=float, metavar="DELAY", help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.serve_stub is not None:
        serve_stub(arguments.serve_stub)
        return 0
    batches = 10 if arguments.quick else arguments.batches
    if batches < 1:
        parser.error("--batches must be at least 1")
    text = report(run(batches), batches)
    print(text)
    write(text)
    print(f"written to {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
