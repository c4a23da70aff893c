"""The send ledger, the same behaviour from SQLite (a real file) and DynamoDB (moto's server)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from botocore.stub import Stubber

from campaign_tools.send.ledgers.base import Claim, ClaimPolicy, Ledger, LedgerError, State
from campaign_tools.send.ledgers.dynamodb import DynamoDbLedger
from campaign_tools.send.ledgers.sqlite import SqliteLedger
from campaign_tools.send.pacing import Backoff
from tests.aws_fixtures import dynamodb_client

LEASE = 60.0
T0 = 1_800_000_000.0
RUN = ClaimPolicy(run_id="run-1", lease_seconds=LEASE)


def test_claim_then_sent_is_final(ledger: Ledger) -> None:
    assert ledger.claim("c", "e1", T0, RUN) is Claim.CLAIMED
    ledger.mark_sent("c", "e1", "msg-1", T0 + 1)
    for policy in (RUN, ClaimPolicy("run-2", LEASE, reclaim_pending=True, reclaim_expired=True)):
        assert ledger.claim("c", "e1", T0 + 10_000, policy) is Claim.ALREADY_SENT
    ledger.mark_failed("c", "e1", "late", T0 + 2)
    ledger.mark_skipped("c", "e1", "opted_out", T0 + 3)
    summary = ledger.summary("c", T0 + 5, LEASE)
    assert (summary.sent, summary.total) == (1, 1)
    assert ledger.sent_among("c", ["e1", "e2"]) == {"e1"}
    assert ledger.sent_among("other-campaign", ["e1"]) == set()


def test_failed_and_skipped_rows_are_claimed_again_by_a_later_run(ledger: Ledger) -> None:
    ledger.claim("c", "e1", T0, RUN)
    ledger.mark_failed("c", "e1", "ses_MessageRejected", T0)
    ledger.mark_skipped("c", "e2", "no_recommendations", T0)
    summary = ledger.summary("c", T0, LEASE)
    assert summary.failed == {"ses_MessageRejected": 1} and summary.skipped == {"no_recommendations": 1}
    later = ClaimPolicy("run-2", LEASE)
    assert ledger.claim("c", "e1", T0 + 1, later) is Claim.CLAIMED
    assert ledger.claim("c", "e2", T0 + 1, later) is Claim.CLAIMED
    ledger.mark_sent("c", "e1", "m1", T0 + 2)
    ledger.mark_sent("c", "e2", "m2", T0 + 2)
    assert ledger.summary("c", T0 + 3, LEASE).sent == 2


def test_a_skip_never_replaces_a_pending_or_sent_row(ledger: Ledger) -> None:
    ledger.claim("c", "e1", T0, RUN)
    ledger.mark_skipped("c", "e1", "opted_out", T0 + 1)
    summary = ledger.summary("c", T0 + 2, LEASE)
    assert summary.pending_in_lease == 1 and not summary.skipped


def test_pending_rows_in_lease_and_in_doubt(ledger: Ledger) -> None:
    ledger.claim("c", "e1", T0, RUN)
    other = ClaimPolicy("run-2", LEASE)
    assert ledger.claim("c", "e1", T0 + 10, other) is Claim.IN_PROGRESS
    assert ledger.claim("c", "e1", T0 + LEASE + 1, other) is Claim.IN_DOUBT
    summary = ledger.summary("c", T0 + LEASE + 1, LEASE)
    assert (summary.pending_in_lease, summary.pending_in_doubt, summary.oldest_pending) == (0, 1, T0)
    assert ledger.summary("c", T0 + 1, LEASE).pending_in_lease == 1
    retry = ClaimPolicy("run-3", LEASE, reclaim_expired=True)
    assert ledger.claim("c", "e1", T0 + 10, retry) is Claim.IN_PROGRESS, "--retry-pending waits for the lease"
    assert ledger.claim("c", "e1", T0 + LEASE + 1, retry) is Claim.CLAIMED
    idempotent = ClaimPolicy("run-4", LEASE, reclaim_pending=True)
    assert ledger.claim("c", "e1", T0 + LEASE + 2, idempotent) is Claim.CLAIMED


def test_a_batch_of_claims_and_sends_is_decided_row_by_row(ledger: Ledger) -> None:
    ledger.claim("c", "held", T0, ClaimPolicy("other", LEASE))
    ledger.claim("c", "done", T0, RUN)
    ledger.mark_sent("c", "done", "m0", T0)
    ledger.claim("c", "retry", T0, RUN)
    ledger.mark_failed("c", "retry", "ses_MessageRejected", T0)
    claims = ledger.claim_many("c", ["new", "held", "done", "retry"], T0 + 1, ClaimPolicy("run-2", LEASE))
    assert claims == {
        "new": Claim.CLAIMED,
        "held": Claim.IN_PROGRESS,
        "done": Claim.ALREADY_SENT,
        "retry": Claim.CLAIMED,
    }
    ledger.mark_sent_many("c", [("new", "m1"), ("retry", "m2"), ("held", "m3")], T0 + 2)
    assert ledger.sent_among("c", ["new", "held", "done", "retry"]) == {"new", "done", "retry", "held"}
    assert [row.attempts for row in ledger.rows("c", State.SENT)] == [1, 1, 1, 2]
    assert ledger.claim_many("c", [], T0 + 3, RUN) == {}


def test_concurrent_claims_give_each_endpoint_to_exactly_one_run(tmp_path: Path) -> None:
    # SQLite only: moto's server does not serialise concurrent conditional writes to one item (real DynamoDB
    # does), so racing it tests moto. The DynamoDB claim is one conditional UpdateItem, asserted below.
    ledger = SqliteLedger(tmp_path / "ledger.db")
    endpoints = [f"e{i}" for i in range(20)]
    won: list[tuple[str, str]] = []
    lock = threading.Lock()

    def run(run_id: str) -> None:
        for endpoint_id in endpoints:
            if ledger.claim("race", endpoint_id, T0, ClaimPolicy(run_id, LEASE)) is Claim.CLAIMED:
                with lock:
                    won.append((run_id, endpoint_id))
        claims = ledger.claim_many("race", [f"b{i}" for i in range(20)], T0, ClaimPolicy(run_id, LEASE))
        with lock:
            won.extend((run_id, endpoint) for endpoint, claim in claims.items() if claim is Claim.CLAIMED)

    threads = [threading.Thread(target=run, args=(f"run-{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(endpoint for _, endpoint in won) == sorted([*endpoints, *(f"b{i}" for i in range(20))])


def test_sqlite_ledger_is_a_wal_file_with_one_row_per_message(tmp_path: Path) -> None:
    ledger = SqliteLedger(tmp_path / "ledger.db")
    ledger.claim("c", "e1", T0, RUN)
    ledger.mark_failed("c", "e1", "x", T0 + 1)
    ledger.claim("c", "e1", T0 + 2, RUN)
    ledger.mark_sent("c", "e1", "m-1", T0 + 3)
    assert ledger._connection.execute("PRAGMA synchronous").fetchone()[0] == 2, "durable by default: FULL"
    ledger.close()
    relaxed = SqliteLedger(tmp_path / "ledger.db", durable=False)
    assert relaxed._connection.execute("PRAGMA synchronous").fetchone()[0] == 1, "NORMAL for the idempotent outbox"
    relaxed.close()
    connection = sqlite3.connect(tmp_path / "ledger.db")
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    rows = connection.execute(
        "SELECT state, reason, attempts, message_id, created_at, updated_at FROM messages"
    ).fetchall()
    assert rows == [("sent", None, 2, "m-1", T0, T0 + 3)]


def test_sqlite_ledger_unwritable_path_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(LedgerError, match="cannot open the send ledger"):
        SqliteLedger(tmp_path / "file" / "ledger.db")


def test_dynamodb_claim_is_one_conditional_update() -> None:
    client = dynamodb_client()
    with Stubber(client) as stubber:
        stubber.add_response(
            "update_item",
            {},
            {
                "TableName": "ledger",
                "Key": {"campaign_id": {"S": "c"}, "endpoint_id": {"S": "e1"}},
                "UpdateExpression": "SET #state = :pending, run_id = :run, claimed_at = :now, updated_at = :now,"
                " created_at = if_not_exists(created_at, :now), attempts = if_not_exists(attempts, :zero) + :one"
                " REMOVE reason",
                "ConditionExpression": "attribute_not_exists(endpoint_id) OR #state IN (:failed, :skipped)"
                " OR (#state = :pending AND claimed_at <= :cutoff)",
                "ExpressionAttributeNames": {"#state": "state"},
                "ExpressionAttributeValues": {
                    ":pending": {"S": "pending"},
                    ":failed": {"S": "failed"},
                    ":skipped": {"S": "skipped"},
                    ":run": {"S": "run-1"},
                    ":now": {"N": repr(T0)},
                    ":one": {"N": "1"},
                    ":zero": {"N": "0"},
                    ":cutoff": {"N": repr(T0 - LEASE)},
                },
            },
        )
        policy = ClaimPolicy("run-1", LEASE, reclaim_expired=True)
        assert DynamoDbLedger("ledger", client).claim("c", "e1", T0, policy) is Claim.CLAIMED


def test_dynamodb_sent_among_retries_unprocessed_keys() -> None:
    client = dynamodb_client()
    slept: list[float] = []
    ledger = DynamoDbLedger("ledger", client, backoff=Backoff(random=lambda: 1.0), sleep=slept.append)
    key = {"campaign_id": {"S": "c"}, "endpoint_id": {"S": "e2"}}
    with Stubber(client) as stubber:
        stubber.add_response(
            "batch_get_item",
            {
                "Responses": {"ledger": [{"endpoint_id": {"S": "e1"}, "state": {"S": "sent"}}]},
                "UnprocessedKeys": {"ledger": {"Keys": [key]}},
            },
        )
        stubber.add_response(
            "batch_get_item",
            {"Responses": {"ledger": [{"endpoint_id": {"S": "e2"}, "state": {"S": "sent"}}]}},
            {"RequestItems": {"ledger": {"Keys": [key]}}},
        )
        assert ledger.sent_among("c", ["e1", "e2"]) == {"e1", "e2"}
    assert slept == [0.2]


def test_dynamodb_missing_table_is_a_clear_error(moto_module_endpoint: str) -> None:
    ledger = DynamoDbLedger("no-such-table", dynamodb_client(moto_module_endpoint))
    with pytest.raises(LedgerError, match="ResourceNotFoundException"):
        ledger.claim("c", "e1", T0, RUN)


def test_rows_by_state_for_status_listing(ledger: Ledger) -> None:
    ledger.claim("c", "e2", T0, RUN)
    ledger.mark_failed("c", "e2", "ses_MessageRejected", T0 + 1)
    ledger.claim("c", "e1", T0, RUN)
    ledger.mark_sent("c", "e1", "m", T0 + 1)
    ledger.mark_skipped("c", "e3", "opted_out", T0)
    ledger.claim("other", "e9", T0, RUN)
    ledger.mark_failed("other", "e9", "x", T0)
    failed = list(ledger.rows("c", State.FAILED))
    assert [(row.endpoint_id, row.reason, row.attempts, row.updated_at) for row in failed] == [
        ("e2", "ses_MessageRejected", 1, T0 + 1)
    ]
    assert [row.endpoint_id for row in ledger.rows("c", State.SENT)] == ["e1"]
    assert [row.reason for row in ledger.rows("c", State.SKIPPED)] == ["opted_out"]
    assert list(ledger.rows("c", State.PENDING)) == []
