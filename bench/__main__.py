"""Run the benchmark suite and write bench/RESULTS.md: `python -m bench` (also `make bench`); `python -m bench --quick`
(`make bench-quick`) runs reduced sizes and prints the targets and batch-latency tables without writing the file."""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "INFO")  # as deployed (infra/template.yaml): the batch line is written

from bench import aws, data, events, subprocesses
from bench import send as send_bench
from bench.campaign import CampaignResult, hit_ratio_model, simulate
from bench.data import Campaign
from bench.kept import carry_over
from bench.latency import LatencyResult, batch_latency, sqlite_latency
from bench.loading import load_with_cli, write_jsonl
from bench.naive import dynamodb_lookup
from bench.observability import observability_cost
from bench.timing import Timing
from transformer.config import PinrecConfig, parse_config

RESULTS = Path(__file__).with_name("RESULTS.md")
PYTHON_COLLECTOR = gc.get_threshold()
"""The collector's thresholds before the transformer's handler (imported for the latency runs) raised them."""
CACHE = {"ttl_seconds": 3600, "max_items": 100_000}


@dataclass(frozen=True)
class Scale:
    catalog: int
    dynamodb_catalog: int
    sqlite_runs: tuple[int, int, int, int, int]  # cold, hot, warm-up, steady, naive
    dynamodb_runs: tuple[int, int, int, int, int]
    invocations: int
    containers: int
    loader_items: int
    cold_start_runs: int
    events: tuple[int, int] = (200_000, 50_000)
    """Delivery events ingested, for this many sent messages."""


FULL = Scale(100_000, 100_000, (40, 300, 2000, 300, 40), (15, 300, 2000, 100, 5), 20_000, 4, 1_000_000, 10)
QUICK = Scale(20_000, 10_000, (10, 50, 200, 50, 10), (5, 50, 200, 20, 2), 1_000, 4, 100_000, 3, (20_000, 5_000))


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def config_for(store: dict[str, Any], base: Path) -> PinrecConfig:
    return parse_config({"store": store, "cache": CACHE, "attributes": data.ATTRIBUTES}, base_dir=base)


def write_toml(path: Path, store: dict[str, Any]) -> Path:
    lines = ["[store]", *(f"{key} = {json.dumps(value)}" for key, value in store.items()), "[cache]"]
    lines += [f"{key} = {value}" for key, value in CACHE.items()]
    for name, spec in data.ATTRIBUTES.items():
        lines.append(f"[attributes.{name}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in spec.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def machine() -> list[str]:
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return [
        f"- CPU: {cpu}, {os.cpu_count()} logical cores (shared with other jobs while measured)",
        f"- OS: {platform.platform()}",
        f"- Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, boto3 {version('boto3')}, "
        f"moto {version('moto')} (ThreadedMotoServer on 127.0.0.1)",
        "- Load average (1/5/15 min) at the end of the run: " + " / ".join(f"{v:.1f}" for v in os.getloadavg()),
    ]


def quiet_logs() -> None:
    """The transformer's log lines go to /dev/null: written (and so timed), never shown."""
    import logging

    from transformer.observability import logger

    sink = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
    for handler in logger.handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sink)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a quick check (under 2 min)")
    parser.add_argument(
        "--output", type=Path, default=None, help="where to write the report (default: bench/RESULTS.md; --quick: none)"
    )
    arguments = parser.parse_args()
    scale = QUICK if arguments.quick else FULL
    output = arguments.output if arguments.output is not None or arguments.quick else RESULTS
    quiet_logs()
    started = time.perf_counter()
    server, endpoint = aws.start_moto()
    try:
        with tempfile.TemporaryDirectory(prefix="pinrec-bench-") as directory:
            report = run(scale, Path(directory), endpoint)
        report["send"] = send_bench.suite(send_bench.QUICK if arguments.quick else send_bench.FULL)
    finally:
        server.stop()
    command = "python -m bench --quick   (make bench-quick)" if arguments.quick else "python -m bench   (make bench)"
    minutes = (time.perf_counter() - started) / 60
    text = render(report, scale, command, minutes)
    print(text.split("\n## 2.", 1)[0])  # the targets and the batch-latency tables
    if output is not None:
        write_keeping(output, text, GENERATED_HEADINGS)
        if not arguments.quick:  # the send figures in full beside it (a quick run shows them in its targets)
            write_keeping(
                output.with_name(send_bench.RESULTS.name),
                send_bench.results(report["send"], command),
                send_bench.GENERATED_HEADINGS,
            )
        say(f"wrote {output} after {minutes:.1f} min")
    else:
        say(f"done after {minutes:.1f} min")
    return 0


GENERATED_HEADINGS = (
    "Targets",
    "1. Batch latency",
    "2. Cold start",
    "3. Campaign simulation",
    "4. Loader throughput",
    "5. Memory with a full cache",
    "Where a target is missed",
    "Store requests per batch",
    "Delivery events ingestion",
)
"""The sections `render` writes (some only when they apply); the others of RESULTS.md are kept (bench/kept.py)."""


def write_keeping(path: Path, text: str, generated_headings: tuple[str, ...]) -> None:
    """Write the report to `path`, keeping the sections and footnoted targets of the one there that it does not
    generate."""
    if path.exists():
        text = carry_over(text, path.read_text(encoding="utf-8"), generated_headings)
    path.write_text(text, encoding="utf-8")


def run(scale: Scale, work: Path, endpoint: str) -> dict[str, Any]:
    from campaign_tools.catalog.records import read_jsonl
    from transformer.aws import AwsOptions
    from transformer.precompute import LoadProjection
    from transformer.stores.dynamodb import DynamoDbItemStore, DynamoDbLoader, loader_client
    from transformer.stores.sqlite import SqliteItemStore

    report: dict[str, Any] = {}
    catalog_file = work / "catalog.jsonl"
    say(f"generating {scale.catalog:,} products")
    write_jsonl(catalog_file, scale.catalog)
    sqlite_path = work / "catalog.db"
    sqlite_toml = write_toml(work / "sqlite.toml", {"kind": "sqlite", "path": str(sqlite_path)})
    # Through the configuration: the load stores each item's configured values (transformer.precompute).
    seconds, line = load_with_cli(str(catalog_file), "--config", str(sqlite_toml))
    report["sqlite_load_with_values"] = (scale.catalog, seconds)
    say(line)

    say(f"loading {scale.dynamodb_catalog:,} items into DynamoDB (moto), with the configured values")
    aws.create_table(endpoint, "catalog")
    projection = LoadProjection(config_for({"kind": "sqlite", "path": str(sqlite_path)}, work).attributes)
    loader = DynamoDbLoader(loader_client(AwsOptions(endpoint_url=endpoint)), "catalog", "id", attributes=projection)
    with open(catalog_file, encoding="utf-8") as lines:
        records = read_jsonl((line for _, line in zip(range(scale.dynamodb_catalog), lines, strict=False)), "id")
        summary = loader.load(records)
    report["dynamodb_load"] = (summary.loaded, summary.seconds)

    sqlite_config = config_for({"kind": "sqlite", "path": str(sqlite_path)}, work)
    # The handler module reads its configuration when first imported (bench.latency.ThroughHandler).
    os.environ["PINREC_CONFIG"] = str(sqlite_toml)
    report["sqlite"] = sqlite_latency(
        sqlite_config, sqlite_path, scale.sqlite_runs, catalog_size=scale.catalog, progress=say
    )
    dynamodb_store = {"kind": "dynamodb", "table": "catalog", "region": aws.REGION, "endpoint_url": endpoint}
    dynamodb_config = config_for(dynamodb_store, work)
    report["dynamodb"] = batch_latency(
        "DynamoDB (moto)",
        dynamodb_config,
        DynamoDbItemStore("catalog", aws=AwsOptions(region=aws.REGION, endpoint_url=endpoint)),
        dynamodb_lookup(aws.client("dynamodb", endpoint), "catalog"),
        scale.dynamodb_runs,
        catalog_size=scale.dynamodb_catalog,
        progress=say,
    )

    say("observability: pinrec's batch logs and metrics against the Powertools calls they replaced")
    from transformer.service import Transformer

    observed = Transformer(sqlite_config, store=SqliteItemStore(sqlite_path))
    event = Campaign(scale.catalog, seed=data.SEED + 2).event()
    observed.enrich_event(event)
    enrichment = observed.enrich_event(event)
    report["observability"] = observability_cost(enrichment, observed.resolver.last, scale.sqlite_runs[1] * 4)

    report["campaign"] = simulate(
        sqlite_config,
        SqliteItemStore(sqlite_path),
        invocations=scale.invocations,
        containers=scale.containers,
        catalog_size=scale.catalog,
        progress=say,
    )

    say("hit ratio for other exponents and container counts (model)")
    report["sensitivity"] = {
        (exponent, containers): hit_ratio_model(
            exponent, invocations=scale.invocations, containers=containers, catalog_size=scale.catalog
        )
        for exponent in (0.9, 1.1, 1.3)
        for containers in (1, 2, 4, 8)
    }

    say("moto's cost per item read")
    report["moto_costs"] = moto_costs(endpoint)

    say("cold starts")
    s3 = aws.client("s3", endpoint)
    s3.create_bucket(Bucket="catalogs")
    s3.upload_file(str(sqlite_path), "catalogs", "catalog.db")
    configs = {
        "SQLite (local file)": (write_toml(work / "sqlite.toml", {"kind": "sqlite", "path": str(sqlite_path)}), {}),
        "SQLite from S3 (moto)": (
            write_toml(work / "s3.toml", {"kind": "sqlite", "path": "s3://catalogs/catalog.db"}),
            {"AWS_ENDPOINT_URL": endpoint, "TMPDIR": str(work)},
        ),
        "DynamoDB (moto)": (write_toml(work / "dynamodb.toml", dynamodb_store), {}),
    }
    report["cold_start"] = {
        name: subprocesses.cold_start(path, scale.cold_start_runs, environment)
        for name, (path, environment) in configs.items()
    }

    say("memory with a full cache")
    report["memory"] = subprocesses.full_cache_memory(configs["SQLite (local file)"][0], scale.catalog)

    # The commands measured from here run in users' processes with Python's collector settings, not the handler's.
    gc.unfreeze()
    gc.set_threshold(*PYTHON_COLLECTOR)
    say(f"loader: {scale.loader_items:,} JSONL items into SQLite")
    big = work / "big.jsonl"
    write_jsonl(big, scale.loader_items)
    seconds, line = load_with_cli(str(big), "--store", f"sqlite:{work / 'big.db'}")
    report["sqlite_load"] = (scale.loader_items, seconds, big.stat().st_size)
    say(line)

    say(f"events: {scale.events[0]:,} SES events into a SQLite ledger and suppression list")
    report["events"] = events.measure(work, *scale.events)
    return report


def moto_costs(endpoint: str) -> dict[str, float]:
    """Milliseconds moto spends per item on a 100-key BatchGetItem and on a GetItem (medians)."""
    import statistics

    from bench.timing import timed

    dynamodb = aws.client("dynamodb", endpoint)
    keys = [{"id": {"S": data.item_id(rank)}} for rank in range(1, 101)]
    batch = [timed(lambda: dynamodb.batch_get_item(RequestItems={"catalog": {"Keys": keys}})) for _ in range(10)]
    single = [timed(lambda k=key: dynamodb.get_item(TableName="catalog", Key=k)) for key in keys]
    return {
        "batch_per_item_ms": statistics.median(batch) * 1000 / len(keys),
        "get_item_ms": statistics.median(single) * 1000,
    }


def _ratio_row(label: str, ratio: float, target: float) -> str:
    return f"| {label} | ≥ {target:g}× | {ratio:,.1f}× | {'met' if ratio >= target else '**missed**'} |"


def render(report: dict[str, Any], scale: Scale, command: str, minutes: float) -> str:
    sqlite: LatencyResult = report["sqlite"]
    dynamodb: LatencyResult = report["dynamodb"]
    campaign: CampaignResult = report["campaign"]
    cold_starts: dict[str, tuple[Timing, Timing, bool]] = report["cold_start"]
    memory = report["memory"]
    loaded, load_seconds, load_bytes = report["sqlite_load"]
    sqlite_rate = loaded / load_seconds
    dynamodb_items, dynamodb_seconds = report["dynamodb_load"]
    values_items, values_seconds = report["sqlite_load_with_values"]
    sqlite_cold = cold_starts["SQLite (local file)"][0]
    ours_obs, powertools_obs = report["observability"]
    lines = [
        "# pinrec benchmark results",
        "",
        f"Command: `{command}` — finished {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} "
        f"in {minutes:.1f} minutes.",
        "",
        *machine(),
        "",
        "Synthetic data, seeded (`bench/data.py`): products of ~0.8 KB JSON (name, brand, category, price, rating, "
        "image URL, 30–90-word description, tags); recommended ids drawn by Zipf popularity (s = "
        f"{data.ZIPF_EXPONENT}), 5 distinct items per endpoint, 50 endpoints per batch (~157 unique ids), 10 "
        "attributes (8 fields, 2 jinja2 templates, 2 truncations). Cache: "
        f"ttl_seconds = {CACHE['ttl_seconds']}, max_items = {CACHE['max_items']:,}. "
        "Times are a batch through the deployed handler (`handlers.transformer.lambda_handler`: Powertools' Lambda "
        "context for the logger, enrichment, the batch's EMF document and its log line at INFO, written to /dev/null) "
        "unless marked 'enrichment alone' (`Transformer.enrich_event`); the naive baseline is enrichment alone, its "
        "batches spread through the cold, hot and steady phases (one after every few of pinrec's samples), so that "
        "both sides of a ratio are measured over the same stretch of the run. "
        "Figures are median / p95 in milliseconds.",
        "",
        "## Targets",
        "",
        "| target | goal | measured | |",
        "|---|---|---|---|",
        _ratio_row("SQLite steady state vs naive (through the handler)", sqlite.ratio(sqlite.steady), 25),
        _ratio_row("SQLite hot cache vs naive (through the handler)", sqlite.ratio(sqlite.hot), 60),
        _ratio_row("SQLite cold cache vs naive (through the handler)", sqlite.ratio(sqlite.cold), 3),
        _ratio_row("DynamoDB steady state vs naive (through the handler)", dynamodb.ratio(dynamodb.steady), 25),
        _ratio_row("DynamoDB hot cache vs naive (through the handler)", dynamodb.ratio(dynamodb.hot), 60),
        _ratio_row("DynamoDB cold cache vs naive (through the handler)", dynamodb.ratio(dynamodb.cold), 3),
        f"| observability per batch (EMF document + log line) | ≤ 0.05 ms | {ours_obs.median_ms:.3f} ms median "
        f"(Powertools calls it replaced: {powertools_obs.median_ms:.3f} ms) | "
        f"{'met' if ours_obs.median_ms <= 0.05 else '**missed**'} |",
        f"| handler cold start, SQLite, no boto3 | ≤ 200 ms | {sqlite_cold.median_ms:,.0f} ms median "
        f"(boto3 loaded: {cold_starts['SQLite (local file)'][2]}) | "
        f"{'met' if sqlite_cold.median_ms <= 200 else '**missed**'} |",
        f"| campaign cache hit ratio | ≥ 95% | {campaign.hit_ratio:.2%} | "
        f"{'met' if campaign.hit_ratio >= 0.95 else '**missed**'} |",
        f"| SQLite load rate | ≥ 100,000 items/s | {sqlite_rate:,.0f} items/s | "
        f"{'met' if sqlite_rate >= 100_000 else '**missed**'} |",
        events.row(report["events"]),
        *send_bench.target_rows(report["send"]),
        "",
        f"## 1. Batch latency (50 endpoints × 5 items × 10 attributes, {scale.catalog:,}-item catalog)",
        "",
        f"| store | cache cold | cache hot (same batch) | steady (after {scale.sqlite_runs[2]:,}-batch warm-up) | naive baseline | "
        "naive ÷ cold | naive ÷ hot | naive ÷ steady |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for result in (sqlite, dynamodb):
        lines.append(
            f"| {result.store} | {result.cold.cell()} | {result.hot.cell()} | {result.steady.cell()} | "
            f"{result.naive.cell()} | {result.ratio(result.cold):,.1f}× | {result.ratio(result.hot):,.1f}× | "
            f"{result.ratio(result.steady):,.1f}× |"
        )
    lines += [
        "",
        "Samples: "
        + "; ".join(
            f"{r.store}: cold {r.cold.samples}, hot {r.hot.samples}, steady {r.steady.samples}, naive {r.naive.samples}"
            for r in (sqlite, dynamodb)
        )
        + f". The DynamoDB catalog holds {scale.dynamodb_catalog:,} items. Both implementations produced identical "
        f"responses on a sample batch: SQLite {sqlite.identical_output}, DynamoDB {dynamodb.identical_output}.",
        "",
        "Enrichment alone (`Transformer.enrich_event`, measured alternately with the handler on the same batches):",
        "",
        "| store | hot, enrichment alone | steady, enrichment alone | naive ÷ hot | naive ÷ steady | "
        "handler − enrichment, hot (medians) | the steady batches again, all cached |",
        "|---|---|---|---|---|---|---|",
        *(
            f"| {r.store} | {r.hot_enrich.cell()} | {r.steady_enrich.cell()} | {r.ratio(r.hot_enrich):,.1f}× | "
            f"{r.ratio(r.steady_enrich):,.1f}× | {r.hot.median_ms - r.hot_enrich.median_ms:.3f} | "
            f"{r.steady_cached.cell()} |"
            for r in (sqlite, dynamodb)
        ),
        "",
        f"Logs and metrics of one batch, measured alone ({ours_obs.samples} samples each, alternating): pinrec's "
        f"`record_batch` {ours_obs.cell()}; the Powertools calls it replaced (`Metrics.add_metric` × 18, "
        f"`flush_metrics`, `Logger.info` with the same fields) {powertools_obs.cell()}.",
        "",
        "BatchGetItem requests per batch (measured; expected = ceil(uncached unique ids / 100)):",
        "",
        "| store | cold: measured / expected | steady: measured / expected | hot | steady-state hit ratio |",
        "|---|---|---|---|---|",
    ]
    for result in (sqlite, dynamodb):
        lines.append(
            f"| {result.store} | {result.cold_calls_per_batch:.2f} / {result.expected_cold_calls_per_batch:.2f} | "
            f"{result.steady_calls_per_batch:.2f} / {result.expected_steady_calls_per_batch:.2f} | "
            f"{result.hot_calls} requests in {result.hot.samples} batches | {result.steady_hit_ratio:.2%} |"
        )
    lines += [
        "",
        "(For SQLite the count is what DynamoDB would need for the same lookups, counted by a wrapper around the "
        "real store; for DynamoDB it is the requests the store sent to moto.)",
        "",
        "## 2. Cold start (fresh process per run)",
        "",
        "| store | import handler + read config + open store | whole process incl. interpreter | boto3 imported |",
        "|---|---|---|---|",
    ]
    for name, (inside, whole, boto3_loaded) in cold_starts.items():
        lines.append(f"| {name} | {inside.cell()} | {whole.cell()} | {boto3_loaded} |")
    lines += [
        "",
        f"{scale.cold_start_runs} runs each. The SQLite-from-S3 figure includes downloading the "
        f"{scale.catalog:,}-item catalog from moto.",
        "",
        f"## 3. Campaign simulation ({campaign.endpoints:,} endpoints, {campaign.invocations:,} invocations, "
        f"{campaign.containers} warm containers)",
        "",
        "| BatchGetItem requests | items read from the store | unique-id lookups | cache hit ratio | "
        "enrichment time | wall time |",
        "|---|---|---|---|---|---|",
        f"| {campaign.batch_get_calls:,} | {campaign.items_read:,} | {campaign.unique_id_lookups:,} | "
        f"{campaign.hit_ratio:.2%} | {campaign.enrich_seconds:,.1f} s | {campaign.wall_seconds:,.1f} s |",
        "",
        "Invocations are routed to a container at random (seeded). The store is the SQLite catalog behind a "
        "wrapper counting the BatchGetItem requests DynamoDB would receive (ceil(ids / 100) per lookup); "
        "wall time includes generating the events.",
        "",
        "Every item read is a compulsory miss: the caches hold the whole catalog and nothing expires during the "
        "run, so each container reads each distinct item it meets exactly once, and the hit ratio is "
        "1 − (containers × distinct items per container) / lookups. The same campaign for other Zipf exponents "
        "and container counts, from a model of the caches (sets that never evict; same seeds and routing; at "
        f"s = {data.ZIPF_EXPONENT} with {campaign.containers} containers it reproduces the measured ratio):",
        "",
        "| Zipf exponent | 1 container | 2 containers | 4 containers | 8 containers |",
        "|---|---|---|---|---|",
        *(
            f"| {exponent:g} | "
            + " | ".join(f"{report['sensitivity'][(exponent, count)]:.2%}" for count in (1, 2, 4, 8))
            + " |"
            for exponent in (0.9, 1.1, 1.3)
        ),
        "",
        "## 4. Loader throughput",
        "",
        "| target | items | size | seconds | items/s |",
        "|---|---|---|---|---|",
        f"| SQLite (`pinrec catalog load file.jsonl --store sqlite:…`) | {loaded:,} | {load_bytes / 1e6:,.0f} MB | "
        f"{load_seconds:,.1f} | {sqlite_rate:,.0f} |",
        f"| SQLite with the configured values (`pinrec catalog load file.jsonl --config pinrec.toml`) | "
        f"{values_items:,} | | {values_seconds:,.1f} | {values_items / values_seconds:,.0f} |",
        f"| DynamoDB on moto with the configured values (`DynamoDbLoader`, 8 writers) | {dynamodb_items:,} | | "
        f"{dynamodb_seconds:,.1f} | "
        f"{dynamodb_items / dynamodb_seconds:,.0f} |",
        "",
        "The DynamoDB figure is bounded by moto (a Python HTTP server handling ~1–2k item writes/s on this "
        f"machine), so it was measured on {dynamodb_items:,} items rather than 1,000,000 (which would take "
        f"about {1_000_000 / (dynamodb_items / dynamodb_seconds) / 60:,.0f} minutes); it includes the exact-count "
        "scan before the load and the purge scan after it.",
        "",
        "## 5. Memory with a full cache",
        "",
        f"A fresh process with the SQLite configuration, then every one of the {scale.catalog:,} items resolved "
        f"into the cache ({memory['cached']:,} entries): peak RSS {memory['rss_before_kb'] / 1024:,.0f} MB after "
        f"cold start, {memory['rss_after_kb'] / 1024:,.0f} MB with the full cache "
        f"(≈ {(memory['rss_after_kb'] - memory['rss_before_kb']) * 1024 / max(memory['cached'], 1):,.0f} bytes "
        "per cached item: 10 attribute strings).",
        "",
    ]
    lines += notes(report)
    costs = report["moto_costs"]
    lines += [
        "## Store requests per batch",
        "",
        "The naive baseline sends one request per recommended item: "
        f"{data.ENDPOINTS_PER_BATCH * data.ITEMS_PER_ENDPOINT} per batch. pinrec sends ceil(uncached unique ids / "
        "100), concurrently: 2 for a cold batch, 1 in steady state, 0 hot (table in section 1). On loopback the "
        "round trip that batching removes is tiny and moto's own per-item work dominates: it spends "
        f"{costs['batch_per_item_ms']:.2f} ms per item inside a 100-key BatchGetItem and {costs['get_item_ms']:.2f} "
        "ms per GetItem (measured on an idle moto after the runs), which bounds the cold-cache ratio on moto near "
        f"{costs['get_item_ms'] * 250 / (costs['batch_per_item_ms'] * 157):.1f}× (250 GetItems against ~157 "
        "batched reads). Against DynamoDB, where each request's round trip (milliseconds) dominates and "
        "BatchGetItem reads its keys in parallel, the same counts mean 250 sequential round trips against 2 "
        "concurrent ones.",
        "",
        *events.section(report["events"], scale.events[1]),
        "",
    ]
    return "\n".join(lines) + "\n"


def notes(report: dict[str, Any]) -> list[str]:
    sqlite: LatencyResult = report["sqlite"]
    campaign: CampaignResult = report["campaign"]
    loaded, load_seconds, _ = report["sqlite_load"]
    out = ["## Where a target is missed, and what bounds it", ""]
    if sqlite.ratio(sqlite.cold) < 3:
        out.append(
            f"- SQLite, cold cache: {sqlite.ratio(sqlite.cold):.1f}× (target 3×). A cold batch reads the ~157 ids' "
            "stored values (one query, one JSON parse) and builds the response; an embedded lookup costs "
            "microseconds, so batching has little to save against the naive baseline's per-item lookups."
        )
    dynamodb: LatencyResult = report["dynamodb"]
    if dynamodb.ratio(dynamodb.cold) < 3:
        out.append(
            f"- DynamoDB (moto), cold cache: {dynamodb.ratio(dynamodb.cold):.1f}× (target 3×). Bounded by moto's "
            "per-item work on loopback, not by round trips: see 'Store requests per batch' for moto's measured "
            "per-item costs and the bound they imply. The request count itself drops from 250 to 2 per cold batch."
        )
    if campaign.hit_ratio < 0.95:
        out.append(
            f"- Campaign hit ratio {campaign.hit_ratio:.2%}: bounded by the workload, not the cache (which holds "
            "the whole catalog and never expires during the run): every item read is a compulsory first miss of "
            "one container, so the ratio is set by containers × distinct items met per container against the "
            "lookups. 95% needs fewer containers per million endpoints (section 3's table)."
        )
    for result in (sqlite, report["dynamodb"]):
        overhead = result.hot.median_ms - result.hot_enrich.median_ms
        if result.ratio(result.steady) < 25:
            floor = result.steady_cached.median_ms + overhead
            out.append(
                f"- {result.store}, steady state: {result.ratio(result.steady):.1f}× (target 25×: a batch in "
                f"{result.naive.median_ms / 25:.3f} ms against this run's naive {result.naive.median_ms:.3f} ms). "
                f"With every id cached the same batches take {result.steady_cached.median_ms:.3f} ms to enrich, "
                f"{floor:.3f} ms with the handler's {overhead:.3f} ms ({result.naive.median_ms / floor:.1f}×): a "
                "steady batch touches ~157 entries of a 100,000-entry cache and their ~1,570 value strings, "
                "scattered in memory, where the hot batch "
                f"({result.hot_enrich.median_ms:.3f} ms) touches the same few in the CPU's caches. The misses "
                f"({1 - result.steady_hit_ratio:.1%} of a batch's unique ids, read from the stored values) add "
                f"the rest: {result.steady_enrich.median_ms - result.steady_cached.median_ms:.3f} ms. Building the "
                "response in C would not reach the target either (16.7–17.7× in paired runs: section 'Issue 16, "
                "fourth round')."
            )
        if result.ratio(result.hot) < 60:
            out.append(
                f"- {result.store}, hot cache: {result.ratio(result.hot):.1f}× (target 60×: a batch in "
                f"{result.naive.median_ms / 60:.3f} ms). The batch is all cache hits: "
                f"{result.hot_enrich.median_ms:.3f} ms of enrichment (collecting ~157 ids, their cache lookups, "
                f"50 endpoints of 10 lists each built in whole-batch passes) and {overhead:.3f} ms of handler, "
                "logs and metrics (building the response's ~550 new lists and dicts takes ~0.06 ms of it, measured alone: "
                "section 'Issue 16, third round'). Built in C, the response took the hot batch to 69.8–71.5× in "
                "paired runs (`python -m bench.native_builder`; pinrec ships no native code: section 'Issue 16, "
                "fourth round')."
            )
    if loaded / load_seconds < 100_000:
        out.append(
            f"- SQLite load rate {loaded / load_seconds:,.0f} items/s: bounded by per-line Python work on one core "
            "(read and decode the line, parse it with orjson, check the key and the number range, build the "
            "record: ~8 µs) plus the SQLite insert (~3 µs), with the collector's youngest generation run every "
            "20,000 allocations instead of 700 during the load (`transformer.collector`); the figure also depends "
            "on what else the shared machine runs (see the load average above)."
        )
    if len(out) == 2:
        out.append("- None: every target above was met in this run.")
    return [*out, ""]


if __name__ == "__main__":
    sys.exit(main())
