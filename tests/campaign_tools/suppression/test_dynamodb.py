"""What only the DynamoDB suppression list does: one item per recipient read in BatchGetItem rounds (keys left
unprocessed asked again), the table named by its name or ARN, clear errors for a missing table, a read-only list
that refuses writes, and a complaint that arrives between a removal's read and its delete kept."""

from __future__ import annotations

from typing import Any

import pytest

from campaign_tools.suppression.base import Reason, Suppression, SuppressionError
from campaign_tools.suppression.dynamodb import DynamoDbSuppressionList, create_suppression_table
from campaign_tools.suppression.registry import open_suppression
from tests.aws_fixtures import dynamodb_client


@pytest.fixture
def client(moto_module_endpoint: str, request: pytest.FixtureRequest) -> Any:
    made = dynamodb_client(moto_module_endpoint)
    create_suppression_table(made, f"t-{request.node.name}"[:200])
    return made


def table(request: pytest.FixtureRequest) -> str:
    return f"t-{request.node.name}"[:200]


class Throttling:
    """The real client, but BatchGetItem leaves all but the first key of each request unprocessed `rounds` times."""

    def __init__(self, client: Any, rounds: int) -> None:
        self.client, self.rounds, self.requests = client, rounds, []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        ((name, request),) = RequestItems.items()
        self.requests.append(len(request["Keys"]))
        if self.rounds and len(request["Keys"]) > 1:
            self.rounds -= 1
            first = {name: {**request, "Keys": request["Keys"][:1]}}
            answer: dict[str, Any] = self.client.batch_get_item(RequestItems=first)
            answer["UnprocessedKeys"] = {name: {**request, "Keys": request["Keys"][1:]}}
            return answer
        return dict(self.client.batch_get_item(RequestItems=RequestItems))


def test_unprocessed_keys_are_asked_again_until_done(client: Any, request: pytest.FixtureRequest) -> None:
    writer = DynamoDbSuppressionList(table(request), client)
    writer.add(Suppression("email", f"u{n}@example.com", Reason.BOUNCE, 1.0) for n in range(5))
    throttled = Throttling(client, rounds=2)
    reader = DynamoDbSuppressionList(table(request), throttled, read_only=True, sleep=lambda _: None)
    found = reader.lookup("email", [f"u{n}@example.com" for n in range(8)])
    assert set(found) == {f"u{n}@example.com" for n in range(5)}
    assert throttled.requests == [8, 7, 6]


def test_a_lookup_throttled_every_round_fails_and_never_answers_not_suppressed(
    client: Any, request: pytest.FixtureRequest
) -> None:
    class AlwaysThrottled:
        def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
            return {"Responses": {}, "UnprocessedKeys": RequestItems}

    reader = DynamoDbSuppressionList(table(request), AlwaysThrottled(), sleep=lambda _: None)
    with pytest.raises(SuppressionError, match="unprocessed"):
        reader.lookup("email", ["a@example.com", "b@example.com"])


def test_the_registry_opens_it_by_name_and_a_read_only_list_refuses_writes(
    client: Any, request: pytest.FixtureRequest
) -> None:
    opened = open_suppression(f"dynamodb:{table(request)}", lambda service: client, read_only=True)
    assert opened.describe() == f"dynamodb:{table(request)}"
    with pytest.raises(SuppressionError, match="read-only"):
        opened.add([Suppression("email", "a@example.com", Reason.MANUAL, 1.0)])
    with pytest.raises(SuppressionError, match="read-only"):
        opened.record_sync("ses-account", 1.0)
    assert dict(opened.lookup("email", ["a@example.com"])) == {}


def test_a_missing_table_is_named_with_what_to_create(moto_module_endpoint: str) -> None:
    missing = DynamoDbSuppressionList("no-such-table", dynamodb_client(moto_module_endpoint))
    with pytest.raises(SuppressionError) as raised:
        missing.lookup("email", ["ana@example.com"])
    assert "dynamodb:no-such-table" in str(raised.value) and "partition key recipient (S)" in str(raised.value)
    assert "ana" not in str(raised.value)
    with pytest.raises(SuppressionError, match="table name or its ARN"):
        DynamoDbSuppressionList("a/b", None)


def test_a_complaint_arriving_before_the_delete_is_kept(client: Any, request: pytest.FixtureRequest) -> None:
    listed = DynamoDbSuppressionList(table(request), client)
    listed.add([Suppression("email", "a@example.com", Reason.BOUNCE, 1.0)])

    class ComplaintMeanwhile:
        def __getattr__(self, name: str) -> Any:
            return getattr(client, name)

        def delete_item(self, **request: Any) -> Any:
            listed.add([Suppression("email", "a@example.com", Reason.COMPLAINT, 2.0)])
            return client.delete_item(**request)

    racing = DynamoDbSuppressionList(table(request), ComplaintMeanwhile())
    with pytest.raises(SuppressionError, match="--force"):
        racing.remove("email", "a@example.com")
    assert listed.lookup("email", ["a@example.com"])["a@example.com"].reason is Reason.COMPLAINT
