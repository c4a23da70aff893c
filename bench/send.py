"""Benchmark `pinrec send`: a campaign of N endpoints through the real pipeline, printing endpoints/s and memory.

    python bench/send.py                     # 100,000 endpoints to the outbox with file recommendations
    python bench/send.py --endpoints 20000 --target ses   # SES v2 through moto's server on loopback
    python bench/send.py --template recommended-for-you   # the real renderer (needs campaign_tools.rendering)

Each run happens in a fresh child process so its peak RSS is its own; a run at a tenth of the size is measured
too, to show that memory does not grow with the segment (the segment is streamed; recommendations of a `file:`
source are held as ids only).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CATALOG_ITEMS = 2_000


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


def prepare(directory: Path, endpoints: int) -> None:
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
    demo = (Path(__file__).resolve().parent.parent / "campaign_tools" / "demo_data" / "pinrec.toml").read_text()
    (directory / "pinrec.toml").write_text(demo, encoding="utf-8")
    with (
        (directory / "segment.jsonl").open("w", encoding="utf-8") as segment,
        (directory / "recs.jsonl").open("w", encoding="utf-8") as recommendations,
    ):
        for n in range(endpoints):
            segment.write(
                json.dumps(
                    {
                        "Id": f"ep-{n}",
                        "ChannelType": "EMAIL",
                        "Address": f"user{n}@example.com",
                        "OptOut": "ALL" if n % 100 == 0 else "NONE",
                        "User": {"UserId": f"u-{n}", "UserAttributes": {"FirstName": [f"Name{n}"]}},
                        "Attributes": {"Interests": ["hiking", "camping"]},
                    }
                )
                + "\n"
            )
            picks = [f"P{(n * 7 + k * 13) % CATALOG_ITEMS}" for k in range(5)]
            recommendations.write(json.dumps({"id": f"ep-{n}", "items": picks}) + "\n")


def child(directory: Path, target: str, template: str | None, processes: int) -> None:
    """Runs inside the child process: one `pinrec send`, then prints its figures as JSON."""
    from campaign_tools.cli import main

    arguments = [
        "send",
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
        "8",
        "--compose-processes",
        str(processes),
    ]
    arguments += ["--template", template] if template else ["--composer", "send:make_composer"]
    server = None
    if target == "ses":
        import os

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
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"code": code, "seconds": seconds, "peak_rss_mib": peak_kib / 1024}), file=sys.stderr)


def measure(endpoints: int, target: str, template: str | None, processes: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="pinrec-bench-send-") as folder:
        directory = Path(folder)
        prepare(directory, endpoints)
        command = [
            sys.executable,
            __file__,
            "--child",
            folder,
            "--target",
            target,
            "--compose-processes",
            str(processes),
        ]
        if template:
            command += ["--template", template]
        result = subprocess.run(command, capture_output=True, text=True, check=True, cwd=directory, env=_environment())
        figures = json.loads(result.stderr.strip().splitlines()[-1])
        summary = next(line for line in result.stdout.splitlines() if line.startswith("campaign bench"))
        figures["summary"] = summary
        if target == "outbox":
            figures["files"] = sum(1 for _ in (directory / "outbox" / "bench").glob("*.eml"))
        return figures


def _environment() -> dict[str, str]:
    import os

    return {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'bench'}"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoints", type=int, default=100_000)
    parser.add_argument("--target", choices=["outbox", "ses"], default="outbox")
    parser.add_argument("--template", help="render with a pinrec template instead of the bench composer")
    parser.add_argument("--compose-processes", type=int, default=1, help="pinrec send --compose-processes")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        child(Path(arguments.child), arguments.target, arguments.template, arguments.compose_processes)
        return 0
    composer = f"template {arguments.template}" if arguments.template else "bench composer"
    print(
        f"pinrec send bench: {arguments.target}, file recommendations, {CATALOG_ITEMS:,}-item SQLite catalog, "
        f"{composer}, {arguments.compose_processes} compose process(es)"
    )
    for endpoints in (max(arguments.endpoints // 10, 1), arguments.endpoints):
        figures = measure(endpoints, arguments.target, arguments.template, arguments.compose_processes)
        rate = endpoints / figures["seconds"]
        extra = f", {figures['files']:,} .eml files" if "files" in figures else ""
        print(
            f"  {endpoints:>9,} endpoints: {figures['seconds']:7.1f}s  {rate:8,.0f} endpoints/s  "
            f"peak RSS {figures['peak_rss_mib']:6.1f} MiB{extra}"
        )
        print(f"      {figures['summary']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
