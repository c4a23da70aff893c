"""Delivery event ingestion throughput: SES events (EventBridge-wrapped, as the events queue receives them) replayed
through the real `pinrec events ingest` into a SQLite ledger with the suppression list on.

    python -m bench.events [--events 200000] [--messages 50000]

Part of `python -m bench` (the "events ingestion" row and section of bench/RESULTS.md)."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from campaign_tools.cli import main as pinrec
from campaign_tools.events.tags import message_tags
from campaign_tools.send.ledgers.base import ClaimPolicy
from campaign_tools.send.ledgers.sqlite import SqliteLedger

CAMPAIGN = "bench-events"
SENT_AT = "2025-03-03T09:00:00.000Z"
MIX = (("Send", 0.25), ("Delivery", 0.25), ("Open", 0.25), ("Click", 0.2), ("Bounce", 0.04), ("Complaint", 0.01))
TARGET_EVENTS_PER_SECOND = 2_000


@dataclass(frozen=True)
class EventsResult:
    events: int
    records: int
    seconds: float
    file_bytes: int
    suppressions_added: int

    @property
    def rate(self) -> float:
        return self.events / self.seconds


def record(kind: str, number: int, messages: int, rng: random.Random) -> str:
    endpoint = rng.randrange(messages)
    message_id = f"0100019f-bench-{endpoint:08d}-000000"
    address = f"person{endpoint}@example.com"
    tags = {"ses:configuration-set": ["pinrec-events"]}
    tags.update({name: [value] for name, value in message_tags(CAMPAIGN, f"ep-{endpoint}").items()})
    moment = f"2025-03-03T{9 + number // 3_600_000 % 12:02d}:{number // 60_000 % 60:02d}:{number // 1000 % 60:02d}.{number % 1000:03d}Z"
    detail: dict[str, object] = {
        "eventType": kind,
        "mail": {
            "timestamp": SENT_AT,
            "source": "news@example.com",
            "sendingAccountId": "123456789012",
            "messageId": message_id,
            "destination": [address],
            "headersTruncated": False,
            "tags": tags,
        },
    }
    if kind == "Delivery":
        detail["delivery"] = {"timestamp": moment, "recipients": [address], "smtpResponse": "250 ok"}
    elif kind == "Open":
        detail["open"] = {"timestamp": moment, "ipAddress": "192.0.2.1", "userAgent": "Mozilla/5.0"}
    elif kind == "Click":
        detail["click"] = {"timestamp": moment, "link": f"https://shop.example.com/items/{number % 97}"}
    elif kind == "Bounce":
        detail["bounce"] = {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": address}],
            "timestamp": moment,
        }
    elif kind == "Complaint":
        detail["complaint"] = {"complainedRecipients": [{"emailAddress": address}], "timestamp": moment}
    else:
        detail["send"] = {}
    return json.dumps(
        {"version": "0", "id": f"e-{number}", "detail-type": "Email", "source": "aws.ses", "detail": detail}
    )


def measure(work: Path, events: int, messages: int) -> EventsResult:
    ledger = SqliteLedger(work / "events-ledger.db", durable=False)
    policy = ClaimPolicy("bench")
    for endpoint in range(messages):
        ledger.claim(CAMPAIGN, f"ep-{endpoint}", 1.0, policy)
        ledger.mark_sent(CAMPAIGN, f"ep-{endpoint}", f"0100019f-bench-{endpoint:08d}-000000", 1.0)
    ledger.close()
    rng = random.Random(13)
    kinds = [kind for kind, _ in MIX]
    weights = [weight for _, weight in MIX]
    source = work / "events.jsonl"
    with open(source, "w", encoding="utf-8") as handle:
        for number in range(events):
            handle.write(record(rng.choices(kinds, weights)[0], number, messages, rng) + "\n")
    output = io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(output):
        status = pinrec(
            [
                "events", "ingest", str(source), "--ledger", f"sqlite:{work / 'events-ledger.db'}",
                "--suppression", f"sqlite:{work / 'events-suppression.db'}", "--output", "json",
            ]
        )  # fmt: skip
    seconds = time.perf_counter() - started
    report = json.loads(output.getvalue())
    if status != 0 or report["unknown"] or report["malformed"]:
        raise RuntimeError(f"events ingest failed: {report}")
    return EventsResult(
        sum(report["events"].values()), report["records"], seconds, source.stat().st_size, report["suppressions_added"]
    )


def row(result: EventsResult) -> str:
    met = "met" if result.rate >= TARGET_EVENTS_PER_SECOND else "**missed**"
    return f"| events ingestion into SQLite (suppression on) | ≥ 2,000 events/s | {result.rate:,.0f} events/s | {met} |"


def section(result: EventsResult, messages: int) -> list[str]:
    return [
        "## Delivery events ingestion",
        "",
        f"`pinrec events ingest` of {result.records:,} SES records (EventBridge events, JSON Lines, "
        f"{result.file_bytes / 1_048_576:.1f} MiB; 25% Send, 25% Delivery, 25% Open, 20% Click, 4% permanent Bounce, "
        f"1% Complaint) for {messages:,} sent messages of one campaign, into a SQLite ledger with the SQLite "
        f"suppression list on, in one process: {result.events:,} events in {result.seconds:.2f} s = "
        f"**{result.rate:,.0f} events/s** ({result.suppressions_added:,} suppressions added). Run alone: "
        "`python -m bench.events`.",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.events", description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--messages", type=int, default=50_000)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pinrec-bench-events-") as directory:
        result = measure(Path(directory), arguments.events, arguments.messages)
    print(row(result))
    print("\n".join(section(result, arguments.messages)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
