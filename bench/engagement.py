"""Engagement forwarding throughput: `pinrec engagement forward`'s library entry point over a SQLite ledger of
tracked click events, against a loopback stub of Amazon Personalize Events (an HTTP server on 127.0.0.1, in a
process of its own, answering every PutEvents with 200 {}), boto3 pointed at it by endpoint_url.

    python -m bench.engagement [--clicks 20000] [--messages 12000] [--concurrency 8]

Measured: reading the campaign's events, parsing the tracked links, reading the recipient records, the PutEvents
calls (one per message's session, up to 10 events each) and the forwarded marks; then a second run over the same
ledger (everything already forwarded: no call). Target: >= 1,000 events/s per process."""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from campaign_tools.engagement.links import tracked_url
from campaign_tools.engagement.run import ForwardSettings, forward_engagement
from campaign_tools.engagement.store import Recipient, SqliteEngagement
from campaign_tools.events.model import DeliveryEvent, EventKind
from campaign_tools.send.ledgers.base import ClaimPolicy
from campaign_tools.send.ledgers.sqlite import SqliteLedger

CAMPAIGN = "bench-engagement"
TARGET_EVENTS_PER_SECOND = 1_000
T0 = 1_800_000_000.0


RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


class PutEventsStub(asyncio.Protocol):
    """HTTP/1.1 with keep-alive: reads each request's headers and Content-Length body, answers 200 {}. Minimal on
    purpose, so the stub costs little next to the forwarder it measures."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            length = 0
            for line in self.buffer[:end].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length :]
            self.transport.write(RESPONSE)


def serve(port: multiprocessing.Queue[int]) -> None:
    async def run() -> None:
        server = await asyncio.get_running_loop().create_server(PutEventsStub, "127.0.0.1", 0)
        port.put(server.sockets[0].getsockname()[1])
        await server.serve_forever()

    asyncio.run(run())


def build_ledger(path: Path, clicks: int, messages: int, seed: int = 17) -> None:
    rng = random.Random(seed)
    ledger = SqliteLedger(path, durable=False)
    for number in range(messages):
        ledger.claim(CAMPAIGN, f"ep-{number}", T0, ClaimPolicy("bench"))
        ledger.mark_sent(CAMPAIGN, f"ep-{number}", f"msg-{number}", T0)
    items = [f"P{n:05d}" for n in range(5_000)]
    store = SqliteEngagement(path)
    chosen: dict[int, list[str]] = {number: rng.sample(items, 5) for number in range(messages)}
    store.record_recipients(
        CAMPAIGN, [Recipient(f"ep-{n}", f"user-{n}", f"rid-{n}", tuple(chosen[n])) for n in range(messages)], T0
    )
    events = []
    for number in range(clicks):
        message = number % messages if number < messages else rng.randrange(messages)
        position = rng.randrange(5)
        item = chosen[message][position]
        link = tracked_url(f"https://shop.example.com/p/{item}?utm_source=pinpoint", item, position + 1, CAMPAIGN)
        events.append(
            DeliveryEvent(
                f"{number:032x}",
                "email",
                EventKind.CLICK,
                T0 + 60 + number,
                f"msg-{message}",
                CAMPAIGN,
                f"ep-{message}",
                link=link,
            )
        )
    for start in range(0, len(events), 5_000):
        ledger.record_events(events[start : start + 5_000], T0)
    store.close()
    ledger.close()


@dataclass(frozen=True)
class EngagementResult:
    clicks: int
    calls: int
    seconds: float
    replay_seconds: float

    @property
    def rate(self) -> float:
        return self.clicks / self.seconds


def measure(clicks: int, messages: int, concurrency: int) -> EngagementResult:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    ports: multiprocessing.Queue[int] = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(ports,), daemon=True)
    server.start()
    try:
        port = ports.get(timeout=30)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "ledger.db"
            build_ledger(path, clicks, messages)
            settings = ForwardSettings(
                campaign_ids=(CAMPAIGN,),
                tracking_id="bench-tracking",
                ledger=f"sqlite:{path}",
                concurrency=concurrency,
                region="us-east-1",
                endpoint_url=f"http://127.0.0.1:{port}",
            )
            started = time.perf_counter()
            report = forward_engagement(settings)
            seconds = time.perf_counter() - started
            assert report.forwarded == clicks and not report.queued, report.to_dict()
            started = time.perf_counter()
            again = forward_engagement(settings)
            replay = time.perf_counter() - started
            assert again.forwarded == 0 and again.already == clicks, again.to_dict()
        return EngagementResult(clicks, report.calls, seconds, replay)
    finally:
        server.terminate()
        server.join()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clicks", type=int, default=20_000)
    parser.add_argument("--messages", type=int, default=12_000)
    parser.add_argument("--concurrency", type=int, default=8)
    arguments = parser.parse_args(argv)
    result = measure(arguments.clicks, arguments.messages, arguments.concurrency)
    print(
        json.dumps(
            {
                "clicks": result.clicks,
                "put_events_calls": result.calls,
                "seconds": round(result.seconds, 2),
                "events_per_second": round(result.rate),
                "calls_per_second": round(result.calls / result.seconds),
                "replay_seconds": round(result.replay_seconds, 2),
                "target_events_per_second": TARGET_EVENTS_PER_SECOND,
                "met": result.rate >= TARGET_EVENTS_PER_SECOND,
                "load_average": os.getloadavg(),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
