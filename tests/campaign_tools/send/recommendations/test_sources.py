"""Recommendation sources: file (simple and batch inference output) and Personalize through botocore Stubber."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from campaign_tools.send.pacing import Backoff
from campaign_tools.send.recommendations.base import IdType, RecommendationError
from campaign_tools.send.recommendations.file import FileRecommendations
from campaign_tools.send.recommendations.personalize import PersonalizeRecommendations
from campaign_tools.send.recommendations.segment import SegmentRecommendations
from campaign_tools.send.segments import SegmentEndpoint
from transformer.errors import PinrecError

CAMPAIGN = "arn:aws:personalize:us-east-1:123456789012:campaign/spring"
FILTER = "arn:aws:personalize:us-east-1:123456789012:filter/in-stock"


def seg(endpoint_id: str, user_id: str | None = None, **fields: Any) -> SegmentEndpoint:
    endpoint: dict[str, Any] = {"ChannelType": "EMAIL", "Address": f"{endpoint_id}@x.org", **fields}
    if user_id is not None:
        endpoint["User"] = {"UserId": user_id}
    return SegmentEndpoint(1, endpoint_id, endpoint)


def write_lines(path: Path, lines: list[Any]) -> str:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return str(path)


def test_simple_form_by_endpoint_id_truncated_to_per_message(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "recs.jsonl",
        [{"id": "a", "items": ["P1", "P2", "P3", "P2", "", "x" * 101, "P4"]}, {"id": "b", "items": []}],
    )
    source = FileRecommendations(path, IdType.ENDPOINT, per_message=3)
    lookup = source.lookup([seg("a"), seg("b"), seg("c")])
    assert lookup.items == {"a": ["P1", "P2", "P3"]}
    assert lookup.missing == {"b": "no_recommendations", "c": "no_recommendations"}


def test_batch_inference_output_by_user_id_with_error_lines(tmp_path: Path) -> None:
    lines = [
        {"input": {"userId": "u1"}, "output": {"recommendedItems": ["P9", "P8"], "scores": [0.4, 0.3]}},
        {"input": {"userId": "u2"}, "error": "User not found"},
        {"input": {"itemId": "P1"}, "output": {"recommendedItems": ["P2"]}},
        "{broken",
        {"something": "else"},
        {"input": {"userId": "u3"}, "output": {"recommendedItems": "P1"}},
    ]
    path = tmp_path / "batch.json.out"
    path.write_bytes(
        gzip.compress("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines).encode())
    )
    source = FileRecommendations(str(path), IdType.USER, per_message=5)
    assert (source.stats.lines, source.stats.ids, source.stats.error_lines, source.stats.malformed) == (6, 2, 1, 3)
    assert [line for line, _ in source.stats.malformed_examples] == [4, 5, 6]
    lookup = source.lookup([seg("e1", "u1"), seg("e2", "u2"), seg("e3"), seg("e4", "P1")])
    assert lookup.items == {"e1": ["P9", "P8"], "e4": ["P2"]}, "a similar-items line is keyed by its item id"
    assert lookup.missing == {"e2": "no_recommendations", "e3": "no_user_id"}


def test_segment_source_uses_the_items_the_endpoints_carry() -> None:
    source = SegmentRecommendations(per_message=2)
    lookup = source.lookup([seg("a", RecommendationItems=["P1", "P2", "P3"]), seg("b")])
    assert lookup.items == {"a": ["P1", "P2"]} and lookup.missing == {"b": "no_recommendations"}


@pytest.mark.parametrize("per_message", [0, 6])
def test_per_message_outside_pinpoint_limits_is_refused(tmp_path: Path, per_message: int) -> None:
    with pytest.raises(PinrecError, match="1 to 5"):
        FileRecommendations(write_lines(tmp_path / "r.jsonl", []), IdType.ENDPOINT, per_message)


def personalize(**options: Any) -> tuple[PersonalizeRecommendations, Stubber, list[float]]:
    client = boto3.client(
        "personalize-runtime", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    stubber = Stubber(client)
    slept: list[float] = []
    source = PersonalizeRecommendations(
        CAMPAIGN,
        options.pop("id_type", IdType.USER),
        options.pop("per_message", 3),
        client=client,
        concurrency=1,
        backoff=Backoff(base=0.5, cap=4, max_attempts=3, random=lambda: 1.0),
        sleep=slept.append,
        **options,
    )
    return source, stubber, slept


def items(*ids: str) -> dict[str, Any]:
    return {"itemList": [{"itemId": item_id, "score": 0.1} for item_id in ids], "recommendationId": "r"}


def test_personalize_exact_request_with_filter_and_cache_per_user() -> None:
    source, stubber, _ = personalize(filter_arn=FILTER, filter_values={"CATEGORY": '"shoes"'})
    expected = {
        "campaignArn": CAMPAIGN,
        "userId": "u1",
        "numResults": 3,
        "filterArn": FILTER,
        "filterValues": {"CATEGORY": '"shoes"'},
    }
    stubber.add_response("get_recommendations", items("P1", "P2", "P3", "P4"), expected)
    stubber.add_response("get_recommendations", items(), {**expected, "userId": "u2"})
    with stubber:
        first = source.lookup([seg("e1", "u1"), seg("e2", "u1"), seg("e3", "u2")])
        second = source.lookup([seg("e4", "u1")])
    stubber.assert_no_pending_responses()
    assert first.items == {"e1": ["P1", "P2", "P3"], "e2": ["P1", "P2", "P3"]}
    assert first.missing == {"e3": "no_recommendations"}
    assert second.items == {"e4": ["P1", "P2", "P3"]}
    assert source.calls == 2


def test_personalize_by_endpoint_id_and_recommender_arn() -> None:
    client = boto3.client(
        "personalize-runtime", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    recommender = "arn:aws:personalize:us-east-1:123456789012:recommender/top-picks"
    source = PersonalizeRecommendations(recommender, IdType.ENDPOINT, 2, client=client)
    with Stubber(client) as stubber:
        stubber.add_response(
            "get_recommendations", items("P1"), {"recommenderArn": recommender, "userId": "e1", "numResults": 2}
        )
        assert source.lookup([seg("e1", "u1")]).items == {"e1": ["P1"]}


def test_personalize_throttling_is_retried_with_backoff_then_counted_as_failure() -> None:
    source, stubber, slept = personalize()
    request = {"campaignArn": CAMPAIGN, "userId": "u1", "numResults": 3}
    stubber.add_client_error(
        "get_recommendations", "ThrottlingException", http_status_code=400, expected_params=request
    )
    stubber.add_client_error(
        "get_recommendations", "InternalServerError", http_status_code=500, expected_params=request
    )
    stubber.add_response("get_recommendations", items("P1"), request)
    for _ in range(3):
        stubber.add_client_error("get_recommendations", "ThrottlingException", http_status_code=400)
    with stubber:
        assert source.lookup([seg("e1", "u1")]).items == {"e1": ["P1"]}
        failed = source.lookup([seg("e2", "u2")])
    assert slept == [0.5, 1.0, 0.5, 1.0]
    assert failed.missing == {"e2": "personalize_ThrottlingException"}
    assert source.failures == {"personalize_ThrottlingException": 1}
    stubber.add_response("get_recommendations", items("P7"))
    with stubber:
        assert source.lookup([seg("e2", "u2")]).items == {"e2": ["P7"]}, "a failure is not cached"


def test_personalize_campaign_not_found_stops_the_run() -> None:
    source, stubber, _ = personalize()
    stubber.add_client_error("get_recommendations", "ResourceNotFoundException", "campaign not found", 404)
    with stubber, pytest.raises(RecommendationError, match="ResourceNotFoundException"):
        source.lookup([seg("e1", "u1")])


def test_personalize_needs_an_arn() -> None:
    with pytest.raises(RecommendationError, match="ARN"):
        PersonalizeRecommendations("spring", IdType.USER, 5, client=object())


class BarrierClient:
    """Answers GetRecommendations only once `parties` calls are in flight together; counts the most in flight."""

    def __init__(self, parties: int) -> None:
        import threading

        self.barrier = threading.Barrier(parties, timeout=10)
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most = 0
        self.users: list[str] = []

    def get_recommendations(self, **request: Any) -> dict[str, Any]:
        with self.lock:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            self.users.append(request["userId"])
        self.barrier.wait()
        with self.lock:
            self.in_flight -= 1
        return items(f"P-{request['userId']}")


def test_personalize_calls_run_concurrently_up_to_the_bound() -> None:
    client = BarrierClient(parties=4)
    source = PersonalizeRecommendations(CAMPAIGN, IdType.USER, 1, client=client, concurrency=4)
    endpoints = [seg(f"e{n}", f"u{n % 16}") for n in range(48)]
    lookup = source.lookup(endpoints)
    assert client.most == 4, "four calls in flight at once, never more"
    assert sorted(client.users) == sorted(f"u{n}" for n in range(16)), "one call per distinct user"
    assert lookup.items["e17"] == ["P-u1"]
