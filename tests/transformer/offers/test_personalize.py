"""scoring = "personalize": GetPersonalizedRanking per endpoint on a real botocore client (Stubber, since moto
has no personalize-runtime), retries on throttling, partial and majority failure, the cache, and concurrency
against a loopback HTTP server."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tests.conftest import write_catalog
from tests.fakes import FakeClock
from transformer.config import parse_config
from transformer.enrich import LeftOut
from transformer.offers.engine import build_offer_engine
from transformer.offers.errors import RankingUnavailableError
from transformer.offers.personalize import PersonalizeRanker, RankingFailed, RankingRequest, make_client
from transformer.service import Transformer
from transformer.stores.sqlite import SqliteItemStore

ARN = "arn:aws:personalize:us-east-1:123456789012:campaign/offers"
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
OFFERS = [
    {"id": "A", "title": "tA", "description": "dA", "code": "CODE-A", "preference": 1},
    {"id": "B", "title": "tB", "description": "dB", "code": "CODE-B", "preference": 3},
    {"id": "C", "title": "tC", "description": "dC", "code": "CODE-C", "preference": 1, "channels": ["EMAIL"]},
    {
        "id": "D",
        "title": "tD",
        "description": "dD",
        "code": "CODE-D",
        "preference": 9,
        "expires_at": "2026-11-01T00:00Z",
    },
]
OP = "get_personalized_ranking"


def personalize_client() -> Any:
    return boto3.client(
        "personalize-runtime",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def stubbed() -> Iterator[tuple[Any, Stubber]]:
    client = personalize_client()
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def make_transformer(
    tmp_path: Path, client: Any, clock: Callable[[], float] | None = None, **settings: Any
) -> Transformer:
    store_path = write_catalog(tmp_path / "catalog.db", [{"id": "unused"}])
    (tmp_path / "offers.jsonl").write_text("\n".join(json.dumps(offer) for offer in OFFERS), encoding="utf-8")
    offers = {"catalog": "offers.jsonl", "scoring": "personalize", "campaign_arn": ARN, "concurrency": 1, **settings}
    data = {
        "store": {"kind": "sqlite", "path": str(store_path)},
        "attributes": {"OfferCode": {"field": "code"}},
        "offers": offers,
        "cache": {"ttl_seconds": 60, "max_items": 100},
    }
    config = parse_config(data, base_dir=tmp_path)
    clock = clock or FakeClock()
    store = SqliteItemStore(store_path)
    engine = build_offer_engine(config, store, clock, personalize_client=client, wall_clock=lambda: NOW)
    return Transformer(config, store=store, clock=clock, offers=engine)


def ranked(*pairs: tuple[str, float]) -> dict[str, Any]:
    return {"personalizedRanking": [{"itemId": item, "score": score} for item, score in pairs]}


def expect(stubber: Stubber, user: str, items: list[str], response: dict[str, Any]) -> None:
    stubber.add_response(OP, response, expected_params={"campaignArn": ARN, "inputList": items, "userId": user})


def throttle(stubber: Stubber, times: int = 1) -> None:
    for _ in range(times):
        stubber.add_client_error(OP, service_error_code="ThrottlingException", http_status_code=400)


def mail(user: str | None = "user-1", channel: str = "EMAIL") -> dict[str, Any]:
    endpoint: dict[str, Any] = {"ChannelType": channel, "Address": "someone@example.com"}
    if user is not None:
        endpoint["User"] = {"UserId": user}
    return endpoint


def test_one_ranking_per_endpoint_over_its_eligible_offers(tmp_path, stubbed):
    client, stubber = stubbed
    # ep-mail: A, B, C eligible (D expired). Scores .2, .05, 0 x preferences 1, 3, 1 -> .2, .15, 0 -> A (4/7).
    expect(stubber, "ep-mail", ["A", "B", "C"], ranked(("A", 0.2), ("B", 0.05), ("C", 0.0)))
    # ep-text: C is email-only. A, B: .1 x 1, .1 x 3 -> B = 0.75.
    expect(stubber, "ep-text", ["A", "B"], ranked(("B", 0.1), ("A", 0.1)))
    transformer = make_transformer(tmp_path, client, score_attribute="OfferScore")
    response = transformer.handle({"Endpoints": {"ep-mail": mail(), "ep-text": mail(channel="SMS")}})
    assert response["ep-mail"]["Recommendations"] == {"OfferCode": ["CODE-A"], "OfferScore": ["0.571429"]}
    assert response["ep-text"]["Recommendations"] == {"OfferCode": ["CODE-B"], "OfferScore": ["0.750000"]}
    stats = transformer.offers.last
    assert (stats.rankings_needed, stats.ranking.calls, stats.ranking.failures) == (2, 2, 0)


def test_user_id_type_ranks_each_user_once_and_leaves_out_endpoints_without_one(tmp_path, stubbed):
    client, stubber = stubbed
    expect(stubber, "user-1", ["A", "B", "C"], ranked(("C", 0.9), ("A", 0.05), ("B", 0.05)))
    transformer = make_transformer(tmp_path, client, id_type="user", per_endpoint=3)
    event = {"Endpoints": {"phone": mail(), "laptop": mail(), "anonymous": mail(user=None)}}
    response = transformer.handle(event)
    # C = .9, A = .05, B = .15 -> sum 1.1: C, B, A.
    assert response["phone"]["Recommendations"]["OfferCode"] == ["CODE-C", "CODE-B", "CODE-A"]
    assert response["laptop"] == {
        **event["Endpoints"]["laptop"],
        "Recommendations": response["phone"]["Recommendations"],
    }
    assert transformer.last.left_out == {"anonymous": LeftOut.NO_USER_ID}
    assert transformer.offers.last.ranking.calls == 1


def test_throttling_is_retried_with_jittered_backoff_then_succeeds(stubbed):
    client, stubber = stubbed
    throttle(stubber, 2)
    expect(stubber, "u", ["A", "B"], ranked(("A", 0.5), ("B", 0.25)))
    sleeps: list[float] = []
    ranker = PersonalizeRanker(client, ARN, max_attempts=3, base_delay=0.1, sleep=sleeps.append, jitter=lambda: 0.5)
    results = ranker.rank_many({"k": RankingRequest("u", ("A", "B"))}, deadline=float("inf"))
    assert results == {"k": {"A": 0.5, "B": 0.25}}
    assert sleeps == [0.05, 0.1]  # jitter 0.5 x min(max_delay, 0.1 x 2^attempt)
    assert (ranker.last.calls, ranker.last.retries, ranker.last.failures) == (3, 2, 0)


def test_errors_that_retrying_cannot_fix_fail_at_once(stubbed):
    client, stubber = stubbed
    stubber.add_client_error(OP, service_error_code="ResourceNotFoundException", http_status_code=404)
    ranker = PersonalizeRanker(client, ARN, sleep=lambda _: pytest.fail("must not back off"))
    result = ranker.rank_many({"k": RankingRequest("u", ("A",))}, deadline=float("inf"))["k"]
    assert isinstance(result, RankingFailed)
    assert ranker.last.calls == 1


def test_no_attempt_starts_past_the_deadline(stubbed):
    client, _ = stubbed
    clock = FakeClock()
    ranker = PersonalizeRanker(client, ARN, clock=clock)
    result = ranker.rank_many({"k": RankingRequest("u", ("A",))}, deadline=clock.now - 1)["k"]
    assert isinstance(result, RankingFailed)
    assert ranker.last.calls == 0


def test_a_failed_ranking_leaves_that_endpoint_out_and_is_counted(tmp_path, stubbed):
    client, stubber = stubbed
    expect(stubber, "one", ["A", "B", "C"], ranked(("A", 1.0), ("B", 0.0), ("C", 0.0)))
    throttle(stubber, 2)  # "two": both attempts throttled
    expect(stubber, "three", ["A", "B", "C"], ranked(("A", 0.0), ("B", 1.0), ("C", 0.0)))
    transformer = make_transformer(tmp_path, client, max_attempts=2)
    response = transformer.handle({"Endpoints": {"one": mail(), "two": mail(), "three": mail()}})
    assert {endpoint_id: r["Recommendations"]["OfferCode"] for endpoint_id, r in response.items()} == {
        "one": ["CODE-A"],
        "three": ["CODE-B"],
    }
    assert transformer.last.left_out == {"two": LeftOut.RANKING_FAILED}
    stats = transformer.offers.last.ranking
    assert (stats.calls, stats.retries, stats.failures) == (4, 1, 1)


def test_exactly_half_failing_still_sends_the_rest(tmp_path, stubbed):
    client, stubber = stubbed
    stubber.add_client_error(OP, service_error_code="InvalidInputException", http_status_code=400)
    expect(stubber, "two", ["A", "B", "C"], ranked(("A", 1.0), ("B", 0.0), ("C", 0.0)))
    transformer = make_transformer(tmp_path, client)
    response = transformer.handle({"Endpoints": {"one": mail(), "two": mail()}})
    assert list(response) == ["two"]


def test_most_of_the_batch_failing_raises_so_pinpoint_retries(tmp_path, stubbed):
    client, stubber = stubbed
    expect(stubber, "one", ["A", "B", "C"], ranked(("A", 1.0), ("B", 0.0), ("C", 0.0)))
    stubber.add_client_error(OP, service_error_code="InternalServerError", http_status_code=500)
    stubber.add_client_error(OP, service_error_code="InvalidInputException", http_status_code=400)
    transformer = make_transformer(tmp_path, client, max_attempts=1)
    with pytest.raises(RankingUnavailableError, match="2 of 3 Personalize rankings failed"):
        transformer.handle({"Endpoints": {"one": mail(), "two": mail(), "three": mail()}})


def test_rankings_are_cached_per_user_and_offer_set_for_the_ttl(tmp_path, stubbed):
    client, stubber = stubbed
    clock = FakeClock()
    transformer = make_transformer(tmp_path, client, clock)
    event = {"Endpoints": {"ep": mail()}}
    expect(stubber, "ep", ["A", "B", "C"], ranked(("A", 1.0), ("B", 0.0), ("C", 0.0)))
    first = transformer.handle(event)
    assert transformer.handle(event) == first  # no response queued: a call would fail the batch
    assert transformer.offers.last.ranking_cache_hits == 1
    expect(stubber, "ep", ["A", "B"], ranked(("A", 0.0), ("B", 1.0)))  # another channel, another offer set
    assert transformer.handle({"Endpoints": {"ep": mail(channel="SMS")}})["ep"]["Recommendations"]["OfferCode"] == [
        "CODE-B"
    ]
    clock.now += 61
    expect(stubber, "ep", ["A", "B", "C"], ranked(("A", 0.0), ("B", 0.0), ("C", 1.0)))
    assert transformer.handle(event)["ep"]["Recommendations"]["OfferCode"] == ["CODE-C"]


class _Ranking(BaseHTTPRequestHandler):
    """Answers GetPersonalizedRanking only once `parties` requests are in flight together."""

    barrier: threading.Barrier
    bodies: list[dict[str, Any]]

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).bodies.append({"path": self.path, **body})
        try:
            type(self).barrier.wait()
            payload, status = {"personalizedRanking": [{"itemId": i, "score": 0.5} for i in body["inputList"]]}, 200
        except threading.BrokenBarrierError:
            payload, status = {"message": "not concurrent"}, 500
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


def test_rankings_run_concurrently_over_http(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    handler = type("Handler", (_Ranking,), {"barrier": threading.Barrier(4, timeout=5), "bodies": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = make_client("us-east-1", f"http://127.0.0.1:{server.server_address[1]}", 5.0, 4)
        ranker = PersonalizeRanker(client, ARN, concurrency=4, max_attempts=1)
        requests = {f"k{n}": RankingRequest(f"user-{n}", ("A", "B")) for n in range(4)}
        results = ranker.rank_many(requests, deadline=float("inf"))
    finally:
        server.shutdown()
        server.server_close()
    assert results == {key: {"A": 0.5, "B": 0.5} for key in requests}
    assert sorted(body["userId"] for body in handler.bodies) == [f"user-{n}" for n in range(4)]
    assert all(body == {**body, "path": "/personalize-ranking", "campaignArn": ARN} for body in handler.bodies)


def test_boto3_stays_off_the_import_path_of_the_offers_flow():
    code = "import sys, transformer.service, transformer.offers.engine; print('boto3' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


class _Slow(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        time.sleep(1.5)
        self.send_response(500)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


class _Context:
    def __init__(self, seconds: float) -> None:
        self._ends = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return int((self._ends - time.monotonic()) * 1000)


def test_rankings_give_up_at_the_invocation_deadline(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        client = make_client("us-east-1", url, 5.0, 2)
        transformer = make_transformer(tmp_path, client, time.monotonic, concurrency=2)
        started = time.monotonic()
        # 1.5 s left in the invocation, 1 s kept back for the response: rankings get 0.5 s.
        with pytest.raises(RankingUnavailableError, match="2 of 2 Personalize rankings failed"):
            transformer.handle({"Endpoints": {"one": mail(), "two": mail()}}, _Context(1.5))
        assert time.monotonic() - started < 1.4
    finally:
        for thread in threading.enumerate():  # calls abandoned at the deadline finish in the background
            if thread.name.startswith("rank"):
                thread.join(timeout=5)
        server.shutdown()
        server.server_close()
