"""Recommender configurations with botocore's Stubber (moto has no Pinpoint recommenders): exact request shapes,
every page searched, updated in place and never deleted and re-created, every limit checked before calling."""

from __future__ import annotations

from importlib import resources

import pytest

from campaign_tools.aws.errors import AwsError, ValidationFailed
from campaign_tools.aws.recommender import (
    RecommenderSpec,
    attributes_from_config,
    describe_configuration,
    register,
)
from campaign_tools.aws.validation import parse_attribute_options
from tests.aws_fixtures import ACCOUNT, CAMPAIGN_ARN, FUNCTION_ARN, REGION, stub
from transformer.config import load_config

ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/pinrec-personalize-pinrec"
SPEC = RecommenderSpec(
    name="pinrec",
    campaign_arn=CAMPAIGN_ARN,
    role_arn=ROLE_ARN,
    function=FUNCTION_ARN,
    attributes={"Title": "Title", "Price": "Price"},
    description="outdoor gear",
)
EXPECTED_BODY = {
    "Name": "pinrec",
    "RecommendationProviderUri": CAMPAIGN_ARN,
    "RecommendationProviderRoleArn": ROLE_ARN,
    "RecommendationTransformerUri": FUNCTION_ARN,
    "Attributes": {"Recommendations.Title": "Title", "Recommendations.Price": "Price"},
    "RecommendationProviderIdType": "PINPOINT_ENDPOINT_ID",
    "RecommendationsPerMessage": 5,
    "Description": "outdoor gear",
}


def _config(recommender_id: str, **fields) -> dict:
    return {
        "Id": recommender_id,
        "CreationDate": "2026-11-01T10:00:00Z",
        "LastModifiedDate": "2026-11-01T10:00:00Z",
        "RecommendationProviderRoleArn": ROLE_ARN,
        "RecommendationProviderUri": CAMPAIGN_ARN,
        **fields,
    }


def _listing(stubber, pages: list[list[dict]]) -> None:
    """Queue GetRecommenderConfigurations pages, asserting PageSize and the Token of each follow-up call."""
    for number, items in enumerate(pages):
        listing: dict = {"Item": items}
        if number < len(pages) - 1:
            listing["NextToken"] = f"token-{number + 1}"
        expected = {"PageSize": "20"} if number == 0 else {"PageSize": "20", "Token": f"token-{number}"}
        stubber.add_response(
            "get_recommender_configurations", {"ListRecommenderConfigurationsResponse": listing}, expected
        )


def test_creates_when_no_page_has_the_name(make_session):
    session = make_session()
    pinpoint = stub(session, "pinpoint")
    _listing(pinpoint, [[_config("aaa", Name="other")], [_config("bbb", Name="pinrec-old")]])
    pinpoint.add_response(
        "create_recommender_configuration",
        {"RecommenderConfigurationResponse": _config("new123", **EXPECTED_BODY)},
        {"CreateRecommenderConfiguration": EXPECTED_BODY},
    )

    outcome = register(session, SPEC)

    pinpoint.assert_no_pending_responses()
    assert outcome.status == "created"
    assert outcome.details["recommender_id"] == "new123"


def test_updates_in_place_when_found_on_a_later_page(make_session):
    session = make_session()
    pinpoint = stub(session, "pinpoint")
    current = _config("keep42", **{**EXPECTED_BODY, "Attributes": {"Recommendations.Title": "Name"}})
    _listing(pinpoint, [[_config("aaa", Name="other")], [_config("bbb", Name="x")], [current]])
    pinpoint.add_response(
        "update_recommender_configuration",
        {"RecommenderConfigurationResponse": _config("keep42", **EXPECTED_BODY)},
        {"RecommenderId": "keep42", "UpdateRecommenderConfiguration": EXPECTED_BODY},
    )

    outcome = register(session, SPEC)

    pinpoint.assert_no_pending_responses()  # no delete, no create: the id stays keep42
    assert outcome.status == "updated"
    assert outcome.details["recommender_id"] == "keep42"
    assert "Recommendations.Title: 'Name' -> 'Title'" in outcome.changes
    assert "Recommendations.Price: None -> 'Price'" in outcome.changes


def test_identical_configuration_is_left_alone(make_session):
    session = make_session()
    pinpoint = stub(session, "pinpoint")
    _listing(pinpoint, [[_config("same1", **EXPECTED_BODY)]])

    outcome = register(session, SPEC)

    pinpoint.assert_no_pending_responses()
    assert outcome.status == "unchanged"
    assert session.requested_writes == []


def test_undeclared_description_is_kept_on_update(make_session):
    session = make_session()
    pinpoint = stub(session, "pinpoint")
    spec = RecommenderSpec(**{**SPEC.__dict__, "description": None, "per_message": 3})
    _listing(pinpoint, [[_config("keep42", **EXPECTED_BODY)]])
    pinpoint.add_response(
        "update_recommender_configuration",
        {"RecommenderConfigurationResponse": _config("keep42", **EXPECTED_BODY)},
        {
            "RecommenderId": "keep42",
            "UpdateRecommenderConfiguration": {**EXPECTED_BODY, "RecommendationsPerMessage": 3},
        },
    )

    outcome = register(session, spec)

    pinpoint.assert_no_pending_responses()
    assert outcome.changes[0] == "RecommendationsPerMessage: 5 -> 3"


def test_dry_run_lists_but_does_not_create(make_session):
    session = make_session(dry_run=True)
    pinpoint = stub(session, "pinpoint")
    _listing(pinpoint, [[]])

    outcome = register(session, SPEC)

    pinpoint.assert_no_pending_responses()  # a create call would have found no stubbed response and failed
    assert outcome.status == "created"
    (request,) = session.requested_writes
    assert request.action == "mobiletargeting:CreateRecommenderConfiguration"
    assert request.params == {"CreateRecommenderConfiguration": EXPECTED_BODY}


def test_two_configurations_with_the_name_are_refused(make_session):
    session = make_session()
    pinpoint = stub(session, "pinpoint")
    _listing(pinpoint, [[_config("one", Name="pinrec")], [_config("two", Name="pinrec")]])

    with pytest.raises(AwsError, match=r"2 recommender configurations are named 'pinrec' \(one, two\)"):
        register(session, SPEC)


def test_access_denied_names_the_call_and_pass_role(make_session):
    session = make_session()
    pinpoint = stub(session, "pinpoint")
    _listing(pinpoint, [[]])
    pinpoint.add_client_error(
        "create_recommender_configuration", "ForbiddenException", "not authorized", http_status_code=403
    )

    with pytest.raises(AwsError) as raised:
        register(session, SPEC)
    assert str(raised.value) == (
        "mobiletargeting:CreateRecommenderConfiguration was denied: grant the caller "
        "mobiletargeting:CreateRecommenderConfiguration and iam:PassRole on the role it names (AWS: not authorized)"
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"name": "x" * 129}, "recommender name 'xxx"),
        ({"name": "bad/name"}, "recommender name 'bad/name' must be 1-128"),
        ({"description": "d" * 129}, "--description has 129 characters; Pinpoint allows at most 128"),
        ({"attributes": {}}, "Pinpoint accepts 1 to 10 recommended attributes, got 0"),
        (
            {"attributes": {f"A{i}": f"A{i}" for i in range(11)}},
            "Pinpoint accepts 1 to 10 recommended attributes, got 11",
        ),
        ({"attributes": {"N" * 51: "Ok"}}, "must be 1-50 letters, digits, '_' or '-' (it has 51 characters)"),
        ({"attributes": {"Bad.Name": "Ok"}}, "attribute name 'Bad.Name' must be 1-50"),
        ({"attributes": {"Title": "D" * 26}}, "of attribute 'Title' must be 1-25 letters, digits, spaces"),
        ({"attributes": {"Title": "Tit!e"}}, "display name 'Tit!e' of attribute 'Title'"),
        ({"per_message": 0}, "--per-message 0 must be 1 to 5"),
        ({"per_message": 6}, "--per-message 6 must be 1 to 5"),
        ({"campaign_arn": CAMPAIGN_ARN.replace("campaign/", "solution/")}, "this is a solution ARN"),
        ({"campaign_arn": "arn:aws:personalize:eu-west-1:1234:campaign/x"}, "is not a Personalize campaign ARN"),
        ({"role_arn": "arn:aws:iam::123456789012:user/bob"}, "is not an IAM role ARN"),
        ({"function": "arn:aws:lambda:eu-west-1:123456789012:layer:x"}, "is neither a Lambda function name"),
        ({"function": FUNCTION_ARN.replace(REGION, "us-west-2")}, "Pinpoint only invokes functions in its own region"),
        ({"id_type": "email"}, "--id-type 'email' must be one of endpoint, user"),
    ],
)
def test_each_limit_is_checked_before_calling(make_session, change, expected):
    session = make_session()
    pinpoint = stub(session, "pinpoint")  # no responses queued: any call would fail the test

    with pytest.raises(ValidationFailed) as raised:
        register(session, RecommenderSpec(**{**SPEC.__dict__, **change}))

    assert len(raised.value.violations) == 1
    assert expected in raised.value.violations[0]
    pinpoint.assert_no_pending_responses()


def test_every_violation_is_reported_at_once():
    with pytest.raises(ValidationFailed) as raised:
        RecommenderSpec(
            name="n" * 200,
            campaign_arn="nope",
            role_arn="nope",
            function="a b",
            attributes={"Bad.Name": "x" * 30},
            per_message=9,
            description="d" * 200,
            region=REGION,
        )
    assert len(raised.value.violations) == 8
    assert str(raised.value).count("\n  - ") == 8


def test_attribute_options_parse_and_flag_duplicates():
    attributes, violations = parse_attribute_options(["Title=Product name", "Price", "Title=Again"])
    assert attributes == {"Title": "Again", "Price": "Price"}
    assert violations == ["--attribute 'Title' is given more than once"]


def test_default_attributes_come_from_pinrec_toml():
    config = load_config(resources.files("campaign_tools") / "demo_data" / "pinrec.toml")
    assert attributes_from_config(config) == {
        "Title": "Title",
        "ItemId": "ItemId",
        "ImageUrl": "ImageUrl",
        "Price": "Price",
        "Url": "Url",
        "Category": "Category",
    }


def test_describe_shows_template_variables():
    text = describe_configuration(_config("abc", **EXPECTED_BODY))
    assert "id           abc" in text
    assert "  {{Recommendations.Title}}  shown as 'Title'" in text


def test_offers_configuration_registers_the_score_attribute_too():
    data = resources.files("campaign_tools") / "demo_data"
    with resources.as_file(data / "pinrec-offers.toml") as path:
        config = load_config(path)
    attributes = attributes_from_config(config)
    assert config.offers is not None and config.offers.score_attribute == "OfferScore"
    assert list(attributes) == [*config.attributes, "OfferScore"]
    assert attributes["OfferScore"] == "OfferScore"
