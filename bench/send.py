"""Benchmark `pinrec send`: campaigns through the real pipeline to the outbox, with the shipped
`recommended-for-you` template and `file:` recommendations; writes bench/RESULTS-send.md.

    python bench/send.py                  # the suite: email and SMS rates, pinrec's own cost apart from the
                                          # outbox's, peak memory at 1,000,000 endpoints; writes RESULTS-send.md
    python bench/send.py --quick          # the same at small sizes (about a minute), printed only
    python bench/send.py --channel sms --endpoints 20000          # one measurement, printed
    python bench/send.py --endpoints 20000 --target ses           # SES v2 through moto's server on loopback
    python bench/send.py --composer bench # a ≈2 KB composer that needs no template engine
    python bench/send.py --channel sms --endpoints 20000 --under /dev/shm     # the outbox in RAM: no disk cost

Each run is a fresh child process (its peak RSS is its own) running `pinrec send` with one delivery worker, so the
time inside the deliverer (the outbox writing files: the delivery target's cost) and everything else (pinrec's own
cost: segment, recommendations, transformer, rendering, MIME, ledger) add up to the run's time exactly.
`PINREC_BENCH_REPO=/path/to/checkout` runs the same bench against another checkout (how the baselines were taken).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(os.environ.get("PINREC_BENCH_REPO") or Path(__file__).resolve().parent.parent)
BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "RESULTS-send.md"
sys.path.insert(0, str(REPO))

CATALOG_ITEMS = 2_000
TEMPLATE = "recommended-for-you"
TARGETS = {"email": 1_000.0, "sms": 5_000.0}
"""Messages per second per process (issue 16), to the outbox."""
MEMORY_TARGET_MIB = 100.0
BASELINE: dict[str, Any] = {
    "commit": "78978c2",
    "email": {"rate": 60.0, "cpu_rate": 143.0, "own_ms": 11.3, "delivery_ms": 5.9, "own_cpu_ms": 3.7,
              "delivery_cpu_ms": 3.3},
    "sms": {"rate": 590.0, "cpu_rate": 970.0, "own_ms": 1.0, "delivery_ms": 0.7, "own_cpu_ms": 0.45,
            "delivery_cpu_ms": 0.6},
    "memory_endpoints": 100_000,
    "memory_mib": 98.3,
    "recommendations": {"endpoints": 1_000_000, "peak_rss_mib": 201.9, "load_seconds": 14.5},
}  # fmt: skip
"""main before issue 16 (78978c2), measured with this bench on this machine (PINREC_BENCH_REPO=<main checkout>,
2,000 email and 5,000 SMS endpoints, alternating with the branch under the same load); used when the suite is not
given a baseline checkout to measure alongside."""


@dataclass(frozen=True)
class Scale:
    email: int
    sms: int
    memory: int
    settle_seconds: float
    """How long a run may wait for the disk to settle (`settle`)."""


FULL = Scale(email=5_000, sms=20_000, memory=1_000_000, settle_seconds=180.0)
QUICK = Scale(email=300, sms=1_000, memory=5_000, settle_seconds=5.0)


class BenchComposer:
    """A composer of a realistic size (≈2 KB of HTML) that needs no template engine."""

    def __init__(self, channel: Any) -> None:
        self.channel = channel

    def compose(self, endpoint_id: str, endpoint: Mapping[str, Any]) -> Any:
        from campaign_tools.channels.email import EmailMessage

        name = endpoint.get("User", {}).get("UserAttributes", {}).get("FirstName", ["there"])[0]
        titles = endpoint["Recommendations"]["Title"]
        rows = "".join(f"<tr><td>{title}</td><td>{'&nbsp;' * 200}</td></tr>" for title in titles)
        return EmailMessage(
            to=endpoint["Address"],
            subject=f"{name}, picked for you: {titles[0]}",
            html=f"<html><body><p>Hi {name}</p><table>{rows}</table></body></html>",
            text=f"Hi {name}\n" + "\n".join(titles),
            unsubscribe_url=f"https://shop.example.com/u?e={endpoint_id}",
        )


def make_composer(options: Any) -> BenchComposer:
    return BenchComposer(options.channel)


def _address(channel: str, n: int) -> str:
    return f"+1206555{n % 10_000:04d}" if channel == "sms" else f"user{n}@example.com"


def prepare(directory: Path, endpoints: int, channel: str = "email") -> None:
    from campaign_tools.catalog.records import read_jsonl
    from transformer.stores.sqlite import write_snapshot

    items = [
        json.dumps(
            {
                "id": f"P{n}",
                "name": f"Product {n}",
                "price": n % 300 + 0.99,
                "image_url": f"https://cdn.example.com/img/P{n}.jpg",
                "category": ("footwear", "outerwear", "packs")[n % 3],
            }
        )
        for n in range(CATALOG_ITEMS)
    ]
    write_snapshot(read_jsonl(items, "id"), directory / "catalog.db", key="id", source="bench")
    # The demo configuration's attributes: what the built-in recommended-for-you template prints.
    demo = (REPO / "campaign_tools" / "demo_data" / "pinrec.toml").read_text()
    (directory / "pinrec.toml").write_text(demo, encoding="utf-8")
    channel_type = "SMS" if channel == "sms" else "EMAIL"
    with (
        (directory / "segment.jsonl").open("w", encoding="utf-8") as segment,
        (directory / "recs.jsonl").open("w", encoding="utf-8") as recommendations,
    ):
        for n in range(endpoints):
            segment.write(
                json.dumps(
                    {
                        "Id": f"ep-{n}",
                        "ChannelType": channel_type,
                        "Address": _address(channel, n),
                        "OptOut": "ALL" if n % 100 == 0 else "NONE",
                        "User": {"UserId": f"u-{n}", "UserAttributes": {"FirstName": [f"Name{n}"]}},
                        "Attributes": {"Interests": ["hiking", "camping"]},
                    }
                )
                + "\n"
            )
            picks = [f"P{(n * 7 + k * 13) % CATALOG_ITEMS}" for k in range(5)]
            recommendations.write(json.dumps({"id": f"ep-{n}", "items": picks}) + "\n")


def peak_rss_mib() -> float:
    """This process's peak resident memory since it started (Linux VmHWM: `ru_maxrss` would also count the
    parent's memory before the child's exec), in MiB."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _time_deliveries() -> list[float]:
    """[wall, CPU] seconds spent inside the outbox's `deliver`, summed (the same measure on any checkout)."""
    from campaign_tools.send.outbox import OutboxDeliverer

    spent = [0.0, 0.0]
    original = OutboxDeliverer.deliver

    def deliver(self: Any, *arguments: Any) -> Any:
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            return original(self, *arguments)
        finally:
            spent[0] += time.perf_counter() - started
            spent[1] += time.thread_time() - cpu

    OutboxDeliverer.deliver = deliver  # type: ignore[method-assign]
    return spent


def _capture_summaries() -> list[Any]:
    """The run's summary, kept when the pipeline returns (the CLI prints it but returns only an exit code), with the
    process's CPU time during the run as `cpu_seconds`."""
    from campaign_tools.send import pipeline

    captured: list[Any] = []
    original = pipeline.CampaignRun.run

    def run(self: Any, endpoints: Any) -> Any:
        cpu = time.process_time()
        try:
            return original(self, endpoints)
        finally:
            self.summary.cpu_seconds = time.process_time() - cpu
            captured.append(self.summary)

    pipeline.CampaignRun.run = run  # type: ignore[method-assign]
    return captured


def child(directory: Path, target: str, template: str | None, channel: str, processes: int) -> None:
    """Runs inside the child process: one `pinrec send`, then prints its figures as JSON."""
    from campaign_tools.cli import main

    summaries = _capture_summaries()
    delivering = _time_deliveries()
    arguments = [
        "send",
        "--channel",
        channel,
        "--segment",
        str(directory / "segment.jsonl"),
        "--recommendations",
        f"file:{directory / 'recs.jsonl'}",
        "--config",
        str(directory / "pinrec.toml"),
        "--campaign-id",
        "bench",
        "--ledger",
        f"sqlite:{directory / 'ledger.db'}",
        "--workers",
        "8" if target == "ses" else "1",
        "--compose-processes",
        str(processes),
    ]
    arguments += ["--template", template] if template else ["--composer", "send:make_composer"]
    if channel == "sms":
        arguments += ["--sms-max-parts", "5"]
    server = None
    if target == "ses":
        import boto3
        from moto.server import ThreadedMotoServer

        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        os.environ.update(
            AWS_ENDPOINT_URL=f"http://{host}:{port}",
            AWS_DEFAULT_REGION="us-east-1",
            AWS_ACCESS_KEY_ID="bench",
            AWS_SECRET_ACCESS_KEY="bench",
        )
        from moto.ses.models import ses_backends

        boto3.client("sesv2").create_email_identity(EmailIdentity="news@shop.example.com")
        # moto creates identities unverified for sending, and the send's preflight checks the From identity.
        identity = ses_backends["123456789012"]["us-east-1"].email_identities["news@shop.example.com"]
        identity.verified_for_sending_status = True
        arguments += ["--deliver", "--from", "news@shop.example.com", "--rate", "100000"]
    else:
        arguments += ["--outbox", str(directory / "outbox")]
    started = time.perf_counter()
    code = main(arguments)
    seconds = time.perf_counter() - started
    if server is not None:
        server.stop()
    summary = summaries[-1]
    figures = {
        "code": code,
        "seconds": seconds,
        "run_seconds": summary.seconds,
        "sent": summary.sent,
        "delivery_seconds": delivering[0] if target == "outbox" else getattr(summary, "delivery_seconds", None),
        "cpu_seconds": summary.cpu_seconds,
        "delivery_cpu_seconds": delivering[1] if target == "outbox" else None,
        "peak_rss_mib": peak_rss_mib(),
    }
    print(json.dumps(figures), file=sys.stderr)


def probe_recommendations(directory: Path) -> None:
    """Inside a child: open the `file:` source and look every endpoint up in batches of 50; print its peak RSS."""
    from campaign_tools.send.recommendations.base import IdType
    from campaign_tools.send.recommendations.file import FileRecommendations
    from campaign_tools.send.segments import SegmentEndpoint

    started = time.perf_counter()
    source = FileRecommendations(str(directory / "recs.jsonl"), IdType.ENDPOINT, 5)
    loaded = time.perf_counter() - started
    found = 0
    with (directory / "segment.jsonl").open(encoding="utf-8") as lines:
        batch: list[SegmentEndpoint] = []
        for number, line in enumerate(lines, start=1):
            record = json.loads(line)
            batch.append(SegmentEndpoint(number, record["Id"], record))
            if len(batch) == 50:
                found += len(source.lookup(batch).items)
                batch = []
    figures = {
        "load_seconds": loaded,
        "seconds": time.perf_counter() - started,
        "found": found,
        "peak_rss_mib": peak_rss_mib(),
    }
    print(json.dumps(figures), file=sys.stderr)


def _environment(repo: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": f"{repo}{os.pathsep}{BENCH}", "PYTHONDONTWRITEBYTECODE": "1"}


def _child(folder: str, *options: str, repo: Path = REPO) -> dict[str, Any]:
    """Run this file as a child over `repo`'s pinrec (another checkout: the baseline)."""
    command = [sys.executable, __file__, "--child", folder, *options]
    environment = {**_environment(repo), "PINREC_BENCH_REPO": str(repo)}
    result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=folder, env=environment)
    if result.returncode != 0:
        raise RuntimeError(f"bench child failed ({result.returncode}): {result.stderr[-2000:]}")
    figures: dict[str, Any] = json.loads(result.stderr.strip().splitlines()[-1])
    summary = next((line for line in result.stdout.splitlines() if line.startswith("campaign bench")), "")
    figures["summary"] = summary
    return figures


SETTLED_US = 150.0
"""A file created and renamed into place in at most this many µs: the file system is not busy with earlier work."""


def file_creation_us(folder: Path, files: int = 200) -> float:
    """What the file system takes now, in `folder`, to create an empty file and rename it into place (µs each): the
    floor of the outbox's cost per message. Empty files, so removing them leaves the disk nothing to discard."""
    probe = folder / ".probe"
    probe.mkdir(exist_ok=True)
    temporary = str(probe / ".tmp")
    started = time.perf_counter()
    for n in range(files):
        os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
        os.rename(temporary, probe / str(n))
    spent = time.perf_counter() - started
    shutil.rmtree(probe)
    return spent * 1e6 / files


def settle(folder: Path, seconds: float = 180.0) -> float:
    """Wait (up to `seconds`) until creating a file in `folder` is back to its usual cost; that cost in µs.

    Removing many files (an earlier run's outbox, another job's temporary files) leaves an ext4 disk mounted with
    `discard`, as this machine's is, trimming the freed blocks for tens of seconds, and every file created meanwhile
    costs 10-40x its usual time: a run measured then measures that, not the outbox."""
    os.sync()
    deadline = time.monotonic() + seconds
    while True:
        cost = file_creation_us(folder)
        if cost <= SETTLED_US or time.monotonic() > deadline:
            return cost
        time.sleep(2)


RAM_FOLDER = Path("/dev/shm")
"""A RAM-backed file system (Linux): the outbox's file writes without the disk's cost, pinrec's pipeline at its own
pace."""
TRASH: list[Path] = []
"""Outboxes of the suite's runs, removed when it ends rather than between runs (see `settle`)."""


def measure(  # noqa: PLR0917 - the bench's knobs
    endpoints: int,
    target: str = "outbox",
    template: str | None = TEMPLATE,
    channel: str = "email",
    processes: int = 1,
    repo: Path = REPO,
    settle_seconds: float = 180.0,
    under: str | None = None,
) -> dict[str, Any]:
    """One `pinrec send` in a fresh child; `under`: the folder to work (and write the outbox) in, else the
    temporary folder's disk."""
    with tempfile.TemporaryDirectory(prefix="pinrec-bench-send-", dir=under) as folder:
        prepare(Path(folder), endpoints, channel)
        settled_us = settle(Path(folder), settle_seconds)
        options = ["--target", target, "--channel", channel, "--compose-processes", str(processes)]
        figures = _child(folder, *options, *(["--template", template] if template else []), repo=repo)
        figures["endpoints"] = endpoints
        figures["channel"] = channel
        figures["file_creation_us"] = settled_us
        outbox = Path(folder) / "outbox"
        if outbox.exists():
            kept = Path(under or tempfile.gettempdir()) / f"pinrec-bench-outbox-{os.getpid()}-{len(TRASH)}"
            outbox.rename(kept)
            TRASH.append(kept)
        sent = max(figures["sent"], 1)
        figures["rate"] = figures["sent"] / figures["run_seconds"]
        figures["cpu_rate"] = figures["sent"] / figures["cpu_seconds"]
        if figures.get("delivery_seconds") is not None:
            figures["delivery_ms"] = figures["delivery_seconds"] * 1000 / sent
            figures["own_ms"] = (figures["run_seconds"] - figures["delivery_seconds"]) * 1000 / sent
        if figures.get("delivery_cpu_seconds") is not None:
            figures["delivery_cpu_ms"] = figures["delivery_cpu_seconds"] * 1000 / sent
            figures["own_cpu_ms"] = (figures["cpu_seconds"] - figures["delivery_cpu_seconds"]) * 1000 / sent
        return figures


def _remove(folder: Path) -> None:
    """A million-file outbox: `rm -rf` removes it in a fraction of the time (and memory) `shutil.rmtree` takes."""
    if shutil.which("rm"):
        subprocess.run(["rm", "-rf", str(folder)], check=False)
    shutil.rmtree(folder, ignore_errors=True)


def measure_recommendations(endpoints: int, repo: Path = REPO) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="pinrec-bench-recs-") as folder:
        prepare(Path(folder), endpoints, "sms")
        figures = _child(folder, "--probe-recommendations", repo=repo)
        figures["endpoints"] = endpoints
        return figures


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def suite(scale: Scale, baseline: Path | None = None) -> dict[str, Any]:
    """Every send figure of issue 16: email and SMS rates with their cost split, memory at scale.memory endpoints.
    `baseline`: a checkout of the code before (e.g. main) measured alongside, run for run; else BASELINE's figures."""
    report: dict[str, Any] = {"baseline_repo": str(baseline) if baseline else None}
    for channel, endpoints in (("email", scale.email), ("sms", scale.sms)):
        say(f"send bench: {endpoints:,} {channel} endpoints to the outbox")
        report[channel] = measure(endpoints, channel=channel, settle_seconds=scale.settle_seconds)
        if baseline is not None:
            say(f"send bench: the same on {baseline}")
            report[f"baseline_{channel}"] = measure(
                endpoints, channel=channel, repo=baseline, settle_seconds=scale.settle_seconds
            )
    if RAM_FOLDER.is_dir() and os.access(RAM_FOLDER, os.W_OK):
        for channel, endpoints in (("email", scale.email), ("sms", scale.sms)):
            say(f"send bench: {endpoints:,} {channel} endpoints to an outbox in {RAM_FOLDER}")
            report[f"ram_{channel}"] = measure(endpoints, channel=channel, settle_seconds=0, under=str(RAM_FOLDER))
    say(f"send bench: {scale.memory:,} SMS endpoints for peak memory")
    report["memory"] = measure(scale.memory, channel="sms", settle_seconds=scale.settle_seconds)
    report["recommendations"] = measure_recommendations(scale.memory)
    if baseline is not None:
        report["baseline_recommendations"] = measure_recommendations(scale.memory, repo=baseline)
    report["load"] = os.getloadavg()
    while TRASH:
        _remove(TRASH.pop())
    return report


GENERATED_HEADINGS = ("Targets", "Throughput against the baseline", "Memory")
"""The sections `results` writes; `python -m bench` keeps the others of RESULTS-send.md (bench/kept.py)."""


def _met(value: float, goal: float, *, at_most: bool = False) -> str:
    return "met" if (value <= goal if at_most else value >= goal) else "**missed**"


def _baseline(report: dict[str, Any], name: str) -> dict[str, Any]:
    measured = report.get(f"baseline_{name}")
    return dict(measured) if measured else dict(BASELINE[name])


def _verdict(report: dict[str, Any], channel: str) -> str:
    goal, disk, ram = TARGETS[channel], report[channel], report.get(f"ram_{channel}")
    if disk["rate"] >= goal:
        return "met"
    if ram is not None and ram["rate"] >= goal:
        return "met with the outbox in RAM; **missed** on this disk"
    return "**missed**"


def target_rows(report: dict[str, Any]) -> list[str]:
    """Rows for the targets table of bench/RESULTS.md: | target | goal | measured | |."""
    rows = []
    for channel in ("email", "sms"):
        figures, baseline = report[channel], _baseline(report, channel)
        ram = report.get(f"ram_{channel}")
        in_ram = f"; outbox in RAM ({RAM_FOLDER}): {ram['rate']:,.0f}/s" if ram is not None else ""
        rows.append(
            f"| send {channel} to the outbox, {TEMPLATE}, one process (baseline {baseline['rate']:,.0f}/s) | "
            f"≥ {TARGETS[channel]:,.0f}/s | outbox on disk: {figures['rate']:,.0f}/s ({figures['cpu_rate']:,.0f}/s "
            f"per CPU second), the disk creating a file in {figures.get('file_creation_us', 0):,.0f} µs when the "
            f"run began{in_ram}; pinrec's own {figures['own_cpu_ms']:.2f} ms CPU per message "
            f"({1000 / figures['own_cpu_ms']:,.0f}/s) + the outbox's {figures['delivery_cpu_ms']:.2f} ms | "
            f"{_verdict(report, channel)} |"
        )
    memory = report["memory"]
    rows.append(
        f"| send peak memory, {memory['endpoints']:,} SMS endpoints, file: recommendations (baseline "
        f"{BASELINE['memory_mib']:.0f} MiB at {BASELINE['memory_endpoints']:,}) | ≤ {MEMORY_TARGET_MIB:.0f} MiB | "
        f"{memory['peak_rss_mib']:.0f} MiB | {_met(memory['peak_rss_mib'], MEMORY_TARGET_MIB, at_most=True)} |"
    )
    return rows


def results(report: dict[str, Any], command: str) -> str:
    memory, recs = report["memory"], report["recommendations"]
    old_recs = _baseline(report, "recommendations")
    load = " / ".join(f"{value:.1f}" for value in report["load"])
    live = report.get("baseline_repo")
    source = (
        f"measured in the same run from the checkout {live}"
        if live
        else f"main {BASELINE['commit']} measured earlier with this bench on this machine"
    )
    lines = [
        "# pinrec send benchmark results",
        "",
        f"Command: `{command}` — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Machine: 2 cores shared with "
        f"other jobs, Python {sys.version.split()[0]}; load average at the end {load}.",
        "",
        "Each run is a fresh child process running the real `pinrec send` to the outbox with the shipped "
        f"`{TEMPLATE}` template (28 KB email: subject, HTML and text part, List-Unsubscribe; the SMS body), `file:` "
        f"recommendations (5 ids per endpoint), a {CATALOG_ITEMS:,}-item SQLite catalog enriched by the in-process "
        "transformer and a SQLite ledger. 1% of the segment is opted out. The process has two threads at work: one "
        "prepares each batch of 50 (segment, suppression, recommendations, transformer, rendering, ledger claims) "
        "while the other writes the batch before into the outbox and records it sent. Rates are messages sent ÷ the "
        "run (from the first endpoint read to the last one recorded; setup such as building the template and "
        "indexing the recommendations file is excluded): per wall-clock second (the rate of the process: the "
        "targets) and per CPU second (both threads' CPU). *Outbox* is the CPU spent inside the deliverer, writing "
        "each message as the target takes it (the `.eml` or the JSON request) into its file; *pinrec's own* is "
        "the rest of the process's CPU.",
        "",
        "The outbox's cost is the file system's: on this virtual machine's ext4 disk, creating a file costs from "
        "~20 µs to over 700 µs as the host's I/O and the kernel's reclaim of earlier writes come and go. Each run "
        "therefore starts once creating a file is back near its usual cost (the bench probes it, waiting up to "
        "three minutes; the figure measured is given), outboxes are removed only after the suite, and the same "
        f"runs are repeated with the work folder in {RAM_FOLDER} (RAM): the pipeline without the disk.",
        "",
        "## Targets",
        "",
        "| target | goal | measured | |",
        "|---|---|---|---|",
        *target_rows(report),
        "",
        f"## Throughput against the baseline ({source})",
        "",
        "| channel | outbox folder | endpoints | messages/s (wall) | messages/s per CPU second | pinrec's own "
        "ms/message (CPU) | outbox ms/message (CPU) | creating a file at the start | peak RSS |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for channel, name in (("email", "email"), ("sms", "SMS")):
        baseline = _baseline(report, channel)
        for key, folder in ((channel, "disk"), (f"ram_{channel}", f"RAM ({RAM_FOLDER})")):
            figures = report.get(key)
            if figures is None:
                continue
            was = key == channel
            lines.append(
                f"| {name} | {folder} | {figures['endpoints']:,} | **{figures['rate']:,.0f}**"
                + (f" (was {baseline['rate']:,.0f})" if was else "")
                + f" | {figures['cpu_rate']:,.0f}"
                + (f" (was {baseline['cpu_rate']:,.0f})" if was else "")
                + f" | {figures['own_cpu_ms']:.2f}"
                + (f" (was {baseline['own_cpu_ms']:.2f})" if was else "")
                + f" | {figures['delivery_cpu_ms']:.2f}"
                + (f" (was {baseline['delivery_cpu_ms']:.2f})" if was else "")
                + f" | {figures.get('file_creation_us', 0):,.0f} µs | {figures['peak_rss_mib']:.0f} MiB |"
            )
    lines += [
        "",
        "The baseline sent each batch's messages in turn after preparing it; the two threads now overlap the "
        "outbox's file writes (the kernel's work, outside Python's lock) with the next batch's preparation.",
        "",
        "## Memory",
        "",
        f"`pinrec send` of {memory['endpoints']:,} SMS endpoints (SMS because it is faster; memory does not depend "
        f"on the channel) with a {memory['endpoints']:,}-line `file:` recommendations file: peak RSS "
        f"**{memory['peak_rss_mib']:.0f} MiB**, the run taking {memory['run_seconds'] / 60:.1f} minutes "
        f"({memory['rate']:,.0f} messages/s wall). The file is read once, streaming, into a temporary SQLite index "
        "and looked up per batch of 50, so memory is flat in the recommendations as in the segment. Before, the "
        f"file was held in a dict: {BASELINE['memory_mib']:.0f} MiB peak at {BASELINE['memory_endpoints']:,} "
        "endpoints, growing about 200 bytes per id.",
        "",
        f"The `file:` source alone (open it, then look up all {recs['endpoints']:,} endpoints in batches of 50): "
        f"peak RSS {recs['peak_rss_mib']:.0f} MiB, the index built in {recs['load_seconds']:.1f} s; before, "
        f"{old_recs['peak_rss_mib']:.0f} MiB for {old_recs['endpoints']:,} ids read in "
        f"{old_recs['load_seconds']:.1f} s.",
        "",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="the suite at small sizes, printed only")
    parser.add_argument("--endpoints", type=int, help="one measurement of this many endpoints instead of the suite")
    parser.add_argument("--channel", choices=["email", "sms"], default="email")
    parser.add_argument("--target", choices=["outbox", "ses"], default="outbox")
    parser.add_argument("--template", default=TEMPLATE, help="the pinrec template to render")
    parser.add_argument("--composer", choices=["template", "bench"], default="template")
    parser.add_argument("--compose-processes", type=int, default=1, help="pinrec send --compose-processes")
    parser.add_argument("--baseline", type=Path, help="a checkout of the code before, measured alongside (suite)")
    parser.add_argument("--under", help="work (and write the outbox) in this folder, e.g. /dev/shm (--endpoints)")
    parser.add_argument("--probe-recommendations", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    template = arguments.template if arguments.composer == "template" else None
    if arguments.child:
        if arguments.probe_recommendations:
            probe_recommendations(Path(arguments.child))
        else:
            child(Path(arguments.child), arguments.target, template, arguments.channel, arguments.compose_processes)
        return 0
    if arguments.endpoints:
        figures = measure(
            arguments.endpoints,
            arguments.target,
            template,
            arguments.channel,
            arguments.compose_processes,
            under=arguments.under,
        )
        print(json.dumps({key: value for key, value in figures.items() if key != "summary"}, indent=1))
        print(figures["summary"])
        while TRASH:
            _remove(TRASH.pop())
        return 0
    report = suite(QUICK if arguments.quick else FULL, arguments.baseline)
    command = "python bench/send.py" + (" --quick" if arguments.quick else "")
    command += f" --baseline {arguments.baseline}" if arguments.baseline else ""
    text = results(report, command)
    if arguments.quick:
        print(text)
    else:
        sys.path.insert(0, str(BENCH.parent))
        from bench.kept import carry_over

        if RESULTS.exists():
            text = carry_over(text, RESULTS.read_text(encoding="utf-8"), GENERATED_HEADINGS)
        RESULTS.write_text(text, encoding="utf-8")
        say(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
