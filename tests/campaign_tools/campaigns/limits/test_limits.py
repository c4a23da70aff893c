"""The limits stores against one contract (SQLite, DynamoDB through moto), and concurrent campaigns racing on shared
endpoints with a daily cap of 1: each endpoint is reserved once."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from campaign_tools.campaigns.limits.base import DAY_SECONDS, Caps, Counts, LimitStore, Refusal, refusal
from campaign_tools.campaigns.limits.dynamodb import DynamoDbLimits
from campaign_tools.campaigns.limits.registry import open_limits
from campaign_tools.campaigns.limits.sqlite import SqliteLimits
from campaign_tools.send.ledgers.dynamodb import DynamoDbLedger, create_ledger_table
from campaign_tools.send.ledgers.sqlite import SqliteLedger

T0 = 2_000_000_000.0


def dynamodb_client(endpoint_url: str) -> Any:
    return boto3.client(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url=endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


class Serialised:
    """A client whose calls run one at a time: moto's server does not apply a conditional write atomically under
    concurrency (DynamoDB does), so a race against it would test moto. Between a reader's GetItem and its
    conditional PutItem other threads still write: the version check is what is tested."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)

        def call(**parameters: Any) -> Any:
            with self._lock:
                return method(**parameters)

        return call


@pytest.fixture(params=["sqlite", "dynamodb"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_store(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Stores sharing one place: each call opens another handle (another process's, as it were)."""
    opened: list[LimitStore] = []
    if kind == "sqlite":

        def make() -> LimitStore:
            opened.append(SqliteLimits(tmp_path / "ledger.db"))
            return opened[-1]

    else:
        endpoint = request.getfixturevalue("moto_module_endpoint")
        table = f"limits-{uuid.uuid4().hex[:8]}"
        create_ledger_table(dynamodb_client(endpoint), table)

        def make() -> LimitStore:
            opened.append(DynamoDbLimits(table, Serialised(dynamodb_client(endpoint)), sleep=lambda _: None))
            return opened[-1]

    yield make
    for store in opened:
        store.close()


def test_refusal_reports_total_before_daily_and_none_caps_never_refuse() -> None:
    assert refusal(Counts(5, 5, 5, 5), Caps()) is None
    assert refusal(Counts(daily=1), Caps(daily=1)) is Refusal.CAP_DAILY
    assert refusal(Counts(project_daily=2), Caps(project_daily=2)) is Refusal.CAP_DAILY
    assert refusal(Counts(daily=1, total=3), Caps(daily=1, total=3)) is Refusal.CAP_TOTAL
    assert refusal(Counts(project_total=1), Caps(daily=5, project_total=1)) is Refusal.CAP_TOTAL
    assert not Caps() and Caps(project_total=1)


def test_daily_is_a_rolling_24_hours_either_side_and_total_counts_for_ever(make_store: Any) -> None:
    store = make_store()
    caps = Caps(daily=1, total=2)
    assert store.reserve("c.1", "c", ["e"], caps, T0) == {"e": None}
    assert store.reserve("c.2", "c", ["e"], caps, T0 + DAY_SECONDS - 1) == {"e": Refusal.CAP_DAILY}
    assert store.reserve("c.2", "c", ["e"], caps, T0 - DAY_SECONDS + 1) == {"e": Refusal.CAP_DAILY}, "clock set back"
    assert store.reserve("c.2", "c", ["e"], caps, T0 + DAY_SECONDS) == {"e": None}, "24 hours later: not a calendar day"
    assert store.reserve("c.3", "c", ["e"], caps, T0 + 9 * DAY_SECONDS) == {"e": Refusal.CAP_TOTAL}
    assert store.counts("c", "e", T0 + 9 * DAY_SECONDS) == Counts(0, 2, 0, 2)


def test_project_caps_count_every_campaign_and_campaign_caps_only_their_own(make_store: Any) -> None:
    store = make_store()
    assert store.reserve("a.1", "a", ["e", "f"], Caps(daily=1), T0) == {"e": None, "f": None}
    assert store.reserve("b.1", "b", ["e"], Caps(daily=1), T0 + 1) == {"e": None}, "another campaign's cap"
    assert store.reserve("c.1", "c", ["e", "f"], Caps(project_daily=2), T0 + 2) == {"e": Refusal.CAP_DAILY, "f": None}
    assert store.reserve("d.1", "d", ["f"], Caps(project_total=2), T0 + 3 * DAY_SECONDS) == {"f": Refusal.CAP_TOTAL}
    assert store.counts("c", "e", T0 + 3) == Counts(0, 0, 2, 2)


def test_reserving_again_for_the_same_unit_counts_nothing_twice_and_release_frees_it(make_store: Any) -> None:
    store = make_store()
    caps = Caps(daily=1)
    assert store.reserve("c.1", "c", ["e", "e"], caps, T0) == {"e": None}
    assert store.reserve("c.1", "c", ["e"], caps, T0 + 5) == {"e": None}, "a resumed run reuses its reservation"
    assert store.counts("c", "e", T0 + 5) == Counts(1, 1, 1, 1)
    assert store.reserve("c.2", "c", ["e"], caps, T0 + 6) == {"e": Refusal.CAP_DAILY}
    store.release("c.1", ["e", "never-reserved"])
    assert store.counts("c", "e", T0 + 7) == Counts()
    assert store.reserve("c.2", "c", ["e"], caps, T0 + 8) == {"e": None}
    store.release("other-unit", ["e"])
    assert store.counts("c", "e", T0 + 9) == Counts(1, 1, 1, 1)


def test_two_campaigns_racing_on_shared_endpoints_with_a_daily_cap_of_1_reserve_each_endpoint_once(
    make_store: Any,
) -> None:
    endpoints = [f"e{i}" for i in range(25)]
    won: list[tuple[str, str]] = []
    lock = threading.Lock()
    caps = Caps(daily=1, project_daily=1)

    def run(campaign: str, store: LimitStore, order: list[str]) -> None:
        for endpoint_id in order:
            if store.reserve(f"{campaign}.slot", campaign, [endpoint_id], caps, T0)[endpoint_id] is None:
                with lock:
                    won.append((campaign, endpoint_id))

    threads = [
        threading.Thread(target=run, args=(f"camp{n}", make_store(), endpoints[::-1] if n % 2 else endpoints))
        for n in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(endpoint for _, endpoint in won) == sorted(endpoints), "each endpoint once, none lost"


def test_the_stores_live_beside_the_ledger_without_touching_its_rows(tmp_path: Path, moto_module_endpoint: str) -> None:
    ledger = SqliteLedger(tmp_path / "ledger.db")
    limits = open_limits(f"sqlite:{tmp_path / 'ledger.db'}", lambda service: None)
    limits.reserve("c.1", "c", ["e"], Caps(), T0)
    assert limits.describe() == f"sqlite:{tmp_path / 'ledger.db'}"
    assert ledger.summary("c.1", T0, 900).total == 0
    client = dynamodb_client(moto_module_endpoint)
    create_ledger_table(client, "beside-ledger")
    dynamo = open_limits("dynamodb:beside-ledger", lambda service: client)
    dynamo.reserve("c.1", "c", ["e"], Caps(), T0)
    item = client.get_item(
        TableName="beside-ledger", Key={"campaign_id": {"S": "#caps#e"}, "endpoint_id": {"S": "#caps"}}
    )
    assert item["Item"]["total"] == {"N": "1"}
    assert DynamoDbLedger("beside-ledger", client).summary("c.1", T0, 900).total == 0
