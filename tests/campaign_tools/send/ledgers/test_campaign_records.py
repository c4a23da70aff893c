"""Campaign records, the same behaviour from SQLite (a real file) and DynamoDB (moto's server): one per campaign,
written atomically once, never counted as an endpoint; and each kind's preflight check."""

from __future__ import annotations

import threading
from pathlib import Path

import boto3
from botocore.stub import Stubber

from campaign_tools.send.ledgers import registry
from campaign_tools.send.ledgers.base import ClaimPolicy, Ledger, State
from campaign_tools.send.ledgers.dynamodb import CAMPAIGNS_PARTITION, DynamoDbLedger, create_ledger_table
from campaign_tools.send.ledgers.sqlite import SqliteLedger
from tests.aws_fixtures import dynamodb_client
from tests.campaign_tools.send.ledgers.test_ledgers import LEASE, T0

RUN = ClaimPolicy("run-1", LEASE)


def test_the_first_binding_stays_unless_replaced(ledger: Ledger) -> None:
    assert ledger.campaign_record("spring") is None
    first = ledger.bind_campaign("spring", '{"template": "a"}', T0)
    assert (first.campaign_id, first.binding, first.created_at, first.updated_at) == (
        "spring",
        '{"template": "a"}',
        T0,
        T0,
    )
    assert ledger.bind_campaign("spring", '{"template": "b"}', T0 + 1).binding == '{"template": "a"}'
    replaced = ledger.bind_campaign("spring", '{"template": "b"}', T0 + 2, replace=True)
    assert (replaced.binding, replaced.created_at, replaced.updated_at) == ('{"template": "b"}', T0, T0 + 2)
    assert ledger.campaign_record("spring") == replaced
    assert ledger.campaign_record("autumn") is None


def test_a_campaign_record_is_never_counted_or_listed_as_an_endpoint(ledger: Ledger) -> None:
    ledger.bind_campaign("spring", "{}", T0)
    ledger.claim("spring", "e1", T0, RUN)
    ledger.mark_sent("spring", "e1", "m-1", T0 + 1)
    ledger.mark_skipped("spring", "e2", "opted_out", T0 + 1)
    summary = ledger.summary("spring", T0 + 2, LEASE)
    assert (summary.total, summary.sent, dict(summary.skipped)) == (2, 1, {"opted_out": 1})
    for state in State:
        assert all(row.endpoint_id in {"e1", "e2"} for row in ledger.rows("spring", state))
    assert ledger.sent_among("spring", ["e1", "spring", CAMPAIGNS_PARTITION]) == {"e1"}


def test_concurrent_runs_agree_on_one_binding(tmp_path: Path) -> None:
    shared = SqliteLedger(tmp_path / "ledger.db")
    seen: list[str] = []
    lock = threading.Lock()

    def bind(binding: str) -> None:
        record = shared.bind_campaign("race", binding, T0)
        with lock:
            seen.append(record.binding)

    threads = [threading.Thread(target=bind, args=(f'{{"run": {n}}}',)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(seen)) == 1 and len(seen) == 6


def test_the_dynamodb_record_lives_in_a_partition_no_campaign_id_can_name(moto_module_endpoint: str) -> None:
    client = dynamodb_client(moto_module_endpoint)
    create_ledger_table(client, "records-ledger")
    DynamoDbLedger("records-ledger", client).bind_campaign("spring", "{}", T0)
    item = client.get_item(
        TableName="records-ledger", Key={"campaign_id": {"S": "#campaigns"}, "endpoint_id": {"S": "spring"}}
    )["Item"]
    assert item["binding"] == {"S": "{}"}
    assert (
        client.query(
            TableName="records-ledger",
            KeyConditionExpression="campaign_id = :c",
            ExpressionAttributeValues={":c": {"S": "spring"}},
        )["Items"]
        == []
    )


def test_each_kind_checks_its_ledger_without_creating_it(tmp_path: Path, moto_module_endpoint: str) -> None:
    assert registry.check_ledger(f"sqlite:{tmp_path / 'new' / 'folder' / 'ledger.db'}", lambda _: None) == []
    assert not (tmp_path / "new").exists()
    client = dynamodb_client(moto_module_endpoint)
    create_ledger_table(client, "checked-ledger")
    assert registry.check_ledger("dynamodb:checked-ledger", lambda _: client) == []
    assert registry.check_ledger("dynamodb:absent-ledger", lambda _: client) == [
        "ledger dynamodb:absent-ledger: the table does not exist in this account and region: deploy "
        "infra/send-statemachine.yaml (its LedgerTable) or create a table with partition key campaign_id (S) and "
        "sort key endpoint_id (S)"
    ]
    denied = boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(denied) as stubber:
        stubber.add_client_error("describe_table", "AccessDeniedException", http_status_code=400)
        assert registry.check_ledger("dynamodb:t", lambda _: denied) == [
            "ledger dynamodb:t: cannot describe the table (DescribeTable: AccessDeniedException; the send needs "
            "dynamodb:DescribeTable)"
        ]
