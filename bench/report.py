"""Benchmark `pinrec send report`: a campaign of N messages and about 3.5 events each in a SQLite ledger, reported as
text and as HTML, each in a fresh process (time and peak RSS of the whole command).

    python bench/report.py                      # 100,000 messages
    python bench/report.py --messages 20000
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CAMPAIGN = "bench-report"
T0 = 1_800_000_000.0
LINKS = [f"https://shop.example.com/p/{number}?utm_source=pinrec" for number in range(200)]


def build(path: Path, messages: int) -> int:
    """Rows and events of a plausible campaign: 97 % delivered, 2 % hard and 1 % soft bounces, 40 % opens (some
    twice), 8 % clicks, 0.05 % complaints. Returns the events recorded."""
    from campaign_tools.events.model import DeliveryEvent, EventKind
    from campaign_tools.send.binding import Bound, CampaignBinding
    from campaign_tools.send.ledgers.base import ClaimPolicy
    from campaign_tools.send.ledgers.sqlite import SqliteLedger

    rng = random.Random(13)
    ledger = SqliteLedger(path, durable=False)
    ledger.bind_campaign(CAMPAIGN, CampaignBinding({"channel": Bound("email", "d")}).to_json(), T0)
    policy = ClaimPolicy("bench")
    events: list[DeliveryEvent] = []
    for number in range(messages):
        endpoint, message = f"ep{number}", f"m{number}"
        ledger.claim(CAMPAIGN, endpoint, T0, policy)
        ledger.mark_sent(CAMPAIGN, endpoint, message, T0)
        at = T0 + number * 0.01

        def add(kind: EventKind, delay: float, endpoint: str = endpoint, message: str = message, **fields: str) -> None:
            events.append(DeliveryEvent(f"{kind}-{len(events)}", "email", kind, at + delay, message, **fields))  # noqa: B023

        add(EventKind.SEND, 0)
        draw = rng.random()
        if draw < 0.02:
            add(EventKind.BOUNCE, 5, subtype="Permanent")
            continue
        if draw < 0.03:
            add(EventKind.BOUNCE, 5, subtype="Transient")
            continue
        add(EventKind.DELIVERY, 3)
        if rng.random() < 0.4:
            add(EventKind.OPEN, rng.expovariate(1 / 20_000))
            if rng.random() < 0.3:
                add(EventKind.OPEN, rng.expovariate(1 / 40_000))
            if rng.random() < 0.2:
                add(EventKind.CLICK, rng.expovariate(1 / 25_000), link=rng.choice(LINKS))
        if rng.random() < 0.0005:
            add(EventKind.COMPLAINT, 7200)
    for start in range(0, len(events), 5000):
        ledger.record_events(events[start : start + 5000], T0)
    ledger.close()
    return len(events)


CHILD = (
    "import resource, sys\n"
    "from campaign_tools.cli import main\n"
    "status = main(sys.argv[1:])\n"
    "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(status)\n"
)


def measure(arguments: list[str]) -> tuple[float, float]:
    """Seconds and peak RSS (MiB) of `pinrec ARGUMENTS` in a fresh process."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, *arguments],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    seconds = time.perf_counter() - started
    return seconds, int(done.stderr.strip().splitlines()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=100_000)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        ledger = Path(folder) / "ledger.db"
        events = build(ledger, options.messages)
        spec = f"sqlite:{ledger}"
        text = measure(["send", "report", CAMPAIGN, "--ledger", spec])
        page = Path(folder) / "report.html"
        html = measure(["send", "report", CAMPAIGN, "--ledger", spec, "--html", str(page)])
        print(f"messages {options.messages:,}, events {events:,}")
        print(f"text: {text[0]:.1f} s, peak RSS {text[1]:.0f} MiB ({events / text[0]:,.0f} events/s)")
        print(f"html: {html[0]:.1f} s, peak RSS {html[1]:.0f} MiB, page {page.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
