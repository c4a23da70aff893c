"""The recommendation sources that replace Pinpoint's: Personalize domain recommenders and Customer Profiles
recommenders, through botocore Stubber (moto implements neither), asserting the exact requests."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from campaign_tools.send.batch import SKIP_REASONS_FROM_LOOKUP
from campaign_tools.send.pacing import Backoff
from campaign_tools.send.recommendations import registry
from campaign_tools.send.recommendations.base import IdType, RecommendationError, SourceOptions
from campaign_tools.send.recommendations.customer_profiles import CustomerProfilesRecommendations
from campaign_tools.send.recommendations.personalize_recommender import RecommenderRecommendations
from campaign_tools.send.segments import SegmentEndpoint

RECOMMENDER = "arn:aws:personalize:us-east-1:123456789012:recommender/more-like-x"
PROFILE_A = "0123456789abcdef0123456789abcdef"
PROFILE_B = "fedcba9876543210fedcba9876543210"


def seg(endpoint_id: str, user_id: str | None = None, **fields: Any) -> SegmentEndpoint:
    endpoint: dict[str, Any] = {"ChannelType": "EMAIL", "Address": f"{endpoint_id}@x.org", **fields}
    if user_id is not None:
        endpoint["User"] = {"UserId": user_id, "UserAttributes": {"ProfileId": [PROFILE_B]}}
    return SegmentEndpoint(1, endpoint_id, endpoint)


def client(service: str) -> Any:
    return boto3.client(service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def test_domain_recommender_asks_by_user_and_the_item_an_attribute_holds() -> None:
    runtime = client("personalize-runtime")
    source = RecommenderRecommendations(
        RECOMMENDER, IdType.USER, 2, client=runtime, item_path="Attributes.LastViewed", concurrency=1
    )
    expected = {"recommenderArn": RECOMMENDER, "userId": "u1", "numResults": 2, "itemId": "P9"}
    with Stubber(runtime) as stubber:
        stubber.add_response(
            "get_recommendations", {"itemList": [{"itemId": "P1"}, {"itemId": "P2"}, {"itemId": "P3"}]}, expected
        )
        stubber.add_response("get_recommendations", {"itemList": []}, {**expected, "itemId": "P8"})
        lookup = source.lookup(
            [
                seg("e1", "u1", Attributes={"LastViewed": ["P9"]}),
                seg("e2", "u1", Attributes={"LastViewed": ["P9", "P7"]}),
                seg("e3", "u1", Attributes={"LastViewed": ["P8"]}),
                seg("e4", "u1"),
                seg("e5", Attributes={"LastViewed": ["P9"]}),
            ]
        )
        stubber.assert_no_pending_responses()
    assert lookup.items == {"e1": ["P1", "P2"], "e2": ["P1", "P2"]}
    assert lookup.missing == {"e3": "no_recommendations", "e4": "no_item_id", "e5": "no_user_id"}
    assert {"no_item_id", "no_profile_id"} <= SKIP_REASONS_FROM_LOOKUP


def test_domain_recommender_without_an_item_is_a_plain_user_request() -> None:
    runtime = client("personalize-runtime")
    source = registry.open_source(
        f"personalize-recommender:{RECOMMENDER}",
        SourceOptions(id_type=IdType.ENDPOINT, per_message=1),
        lambda _: runtime,
    )
    with Stubber(runtime) as stubber:
        stubber.add_response(
            "get_recommendations",
            {"itemList": [{"itemId": "P5"}]},
            {"recommenderArn": RECOMMENDER, "userId": "e1", "numResults": 1},
        )
        assert source.lookup([seg("e1")]).items == {"e1": ["P5"]}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("personalize-recommender:arn:aws:personalize:us-east-1:123456789012:campaign/x", "recommender ARN"),
        (f"personalize-recommender:{RECOMMENDER}@Metrics.x", "must be User.UserId"),
        ("customer-profiles:domain-only", "DOMAIN/RECOMMENDER"),
        ("customer-profiles:bad domain/r", "domain name"),
        ("customer-profiles:d/r@Location.City", "must be User.UserId"),
    ],
)
def test_malformed_targets_are_refused(spec: str, message: str) -> None:
    with pytest.raises(RecommendationError, match=message):
        registry.open_source(spec, SourceOptions(), lambda _: object())


def test_customer_profiles_exact_request_catalog_fields_and_cache_per_profile() -> None:
    profiles = client("customer-profiles")
    source = CustomerProfilesRecommendations(
        "shop", "picks", IdType.USER, 3, client=profiles, profile_path="User.UserAttributes.ProfileId", concurrency=1
    )
    request = {"DomainName": "shop", "ProfileId": PROFILE_B, "RecommenderName": "picks", "MaxResults": 3}
    response = {
        "Recommendations": [
            {"CatalogItem": {"Id": "P1", "Name": "Boots", "Price": "89.00", "Link": "https://x/p1"}, "Score": 0.9},
            {"CatalogItem": {"Id": "P2", "Name": "Tent", "Attributes": {"color": "green"}}, "Score": 0.5},
            {"Score": 0.1},
        ]
    }
    with Stubber(profiles) as stubber:
        stubber.add_response("get_profile_recommendations", response, request)
        first = source.lookup([seg("e1", "u1"), seg("e2", "u2"), seg("e3")])
        second = source.lookup([seg("e4", "u9")])
        stubber.assert_no_pending_responses()
    assert first.items == {"e1": ["P1", "P2"], "e2": ["P1", "P2"]}
    assert first.missing == {"e3": "no_profile_id"}
    assert second.items == {"e4": ["P1", "P2"]} and source.calls == 1
    assert source.catalog_items["P1"] == {"Id": "P1", "Name": "Boots", "Price": "89.00", "Link": "https://x/p1"}
    assert source.catalog_items["P2"]["Attributes"] == {"color": "green"}


def test_customer_profiles_by_user_id_retries_throttling_and_stops_on_a_missing_domain() -> None:
    profiles = client("customer-profiles")
    slept: list[float] = []
    source = CustomerProfilesRecommendations(
        "shop",
        "picks",
        IdType.USER,
        2,
        client=profiles,
        concurrency=1,
        backoff=Backoff(base=0.5, cap=4, max_attempts=3, random=lambda: 1.0),
        sleep=slept.append,
    )
    request = {"DomainName": "shop", "ProfileId": PROFILE_A, "RecommenderName": "picks", "MaxResults": 2}
    with Stubber(profiles) as stubber:
        stubber.add_client_error("get_profile_recommendations", "ThrottlingException", http_status_code=429)
        stubber.add_response(
            "get_profile_recommendations", {"Recommendations": [{"CatalogItem": {"Id": "P3"}}]}, request
        )
        assert source.lookup([seg("e1", PROFILE_A), seg("e2", "not-a-profile-id")]).items == {"e1": ["P3"]}
        assert slept == [0.5] and source.retries == 1
        for _ in range(3):
            stubber.add_client_error("get_profile_recommendations", "ThrottlingException", http_status_code=429)
        failed = source.lookup([seg("e3", PROFILE_B)])
        assert failed.missing == {"e3": "customer_profiles_ThrottlingException"}
        stubber.add_client_error("get_profile_recommendations", "ResourceNotFoundException", "no domain", 404)
        with pytest.raises(RecommendationError, match="Customer Profiles GetProfileRecommendations failed"):
            source.lookup([seg("e4", PROFILE_B)])


def test_customer_profiles_takes_no_personalize_filter() -> None:
    with pytest.raises(RecommendationError, match="--filter-arn"):
        registry.open_source(
            "customer-profiles:shop/picks", SourceOptions(filter_arn="arn:aws:personalize:f"), lambda _: object()
        )
