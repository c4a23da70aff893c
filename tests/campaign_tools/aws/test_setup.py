"""The settings of `pinrec setup` (and the specs it derives): every violation at once, each naming its flag, and
nothing sent to AWS when any is found."""

from __future__ import annotations

from importlib import resources

import pytest

from campaign_tools.aws.errors import ValidationFailed
from campaign_tools.aws.iam_role import RoleSpec
from campaign_tools.aws.lambda_permission import PermissionSpec
from campaign_tools.aws.recommender import declared_attributes
from campaign_tools.aws.setup import SetupSettings, default_role_name, run_setup
from campaign_tools.aws.validation import AttributeOptions
from campaign_tools.cli import main
from campaign_tools.commands import options
from tests.aws_fixtures import ACCOUNT, CAMPAIGN_ARN, FILTER_ARN, FUNCTION_ARN, REGION, SOLUTION_ARN, stub

DEMO_CONFIG = str(resources.files("campaign_tools") / "demo_data" / "pinrec.toml")
ATTRIBUTES = {"Title": "Product name", "Price": "Price"}
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/pinrec-personalize-pinrec"


def test_settings_derive_the_three_specs() -> None:
    settings = SetupSettings(
        campaign_arn=CAMPAIGN_ARN,
        function=FUNCTION_ARN,
        attributes=ATTRIBUTES,
        filter_arns=(FILTER_ARN,),
        per_message=3,
        region=REGION,
    )

    assert settings.role() == RoleSpec("pinrec-personalize-pinrec", CAMPAIGN_ARN, None, (FILTER_ARN,))
    assert settings.permission() == PermissionSpec(FUNCTION_ARN, region=REGION)
    recommender = settings.recommender(ROLE_ARN)
    assert (recommender.name, recommender.role_arn, recommender.per_message) == ("pinrec", ROLE_ARN, 3)
    assert recommender.attributes == ATTRIBUTES


def test_role_name_defaults_per_recommender_and_permission_can_be_left_to_the_stack() -> None:
    settings = SetupSettings(
        name="spring sale", campaign_arn=CAMPAIGN_ARN, function="f", attributes=ATTRIBUTES, skip_permission=True
    )
    assert settings.role().name == default_role_name("spring sale") == "pinrec-personalize-spring-sale"
    assert settings.permission() is None
    assert (
        SetupSettings(campaign_arn=CAMPAIGN_ARN, function="f", attributes=ATTRIBUTES, role_name="r").role().name == "r"
    )


def test_every_violation_is_reported_at_once_naming_the_flag() -> None:
    with pytest.raises(ValidationFailed) as raised:
        SetupSettings(
            campaign_arn=SOLUTION_ARN,
            function=FUNCTION_ARN.replace(REGION, "us-west-2"),
            attributes=AttributeOptions(["Title=A display name that is too long", "Price", "Price=Again"]),
            role_name="bad name!",
            solution_arn=CAMPAIGN_ARN,
            filter_arns=("nope",),
            id_type="email",
            per_message=7,
            description="d" * 129,
            region=REGION,
        )

    violations = raised.value.violations
    assert len(violations) == 10
    expected_starts = [
        "--campaign-arn ",
        "--attribute 'Price' is given more than once",
        "display name 'A display name that is too long' of attribute 'Title'",
        "role name 'bad name!'",
        "--solution-arn ",
        "--filter-arn 'nope'",
        "--id-type 'email'",
        "--per-message 7",
        "--description has 129 characters",
        "--function ",  # checked against --region, which comes after it
    ]
    for violation, start in zip(violations, expected_starts, strict=True):
        assert violation.startswith(start), violation
    assert "Pinpoint only invokes functions in its own region" in violations[-1]
    assert str(raised.value).startswith("invalid input, nothing was sent to AWS:\n  - --campaign-arn ")


def test_a_value_of_the_wrong_type_names_its_flag() -> None:
    with pytest.raises(ValidationFailed) as raised:
        SetupSettings(campaign_arn=CAMPAIGN_ARN, function="f", attributes=["Title"], per_message="five")  # type: ignore[arg-type]
    assert raised.value.violations == [
        "--attribute: Input should be a valid dictionary",
        "--per-message: Input should be a valid integer, unable to parse string as an integer",
    ]


def test_specs_are_the_settings_of_role_and_permissions() -> None:
    with pytest.raises(ValidationFailed) as raised:
        PermissionSpec("arn:aws:lambda:us-west-2:123456789012:function:f", recommender_id="a b", region=REGION)
    assert [violation.split(" ")[0] for violation in raised.value.violations] == ["recommender", "--function"]

    with pytest.raises(ValidationFailed) as raised:
        RoleSpec("r", CAMPAIGN_ARN, filter_arns=(FILTER_ARN, 7))  # type: ignore[arg-type]
    assert raised.value.violations == ["--filter-arn: Input should be a valid string"]


def test_attributes_come_from_the_options_else_from_the_config() -> None:
    assert declared_attributes(["Title=Product name", "Price"]) == ATTRIBUTES
    assert list(declared_attributes([], DEMO_CONFIG)) == ["Title", "ItemId", "ImageUrl", "Price", "Url", "Category"]


def test_the_session_region_is_checked_before_any_call_when_the_settings_did_not_know_it(make_session) -> None:
    session = make_session(region="us-west-2")
    for service in ("sts", "iam", "lambda", "pinpoint"):
        stub(session, service)  # no responses queued: any call would fail
    settings = SetupSettings(campaign_arn=CAMPAIGN_ARN, function=FUNCTION_ARN, attributes=ATTRIBUTES)

    with pytest.raises(ValidationFailed, match="is in eu-west-1 but the region is us-west-2"):
        run_setup(session, settings)
    assert session.requested_writes == []


def test_setup_command_reports_every_violation_before_any_call(make_session, monkeypatch, capsys) -> None:
    session = make_session()
    for service in ("sts", "iam", "lambda", "pinpoint"):
        stub(session, service)
    monkeypatch.setattr(options, "open_session", lambda arguments: session)

    code = main(
        [
            "setup",
            "--campaign-arn",
            SOLUTION_ARN,
            "--function",
            FUNCTION_ARN.replace(REGION, "us-west-2"),
            "--attribute",
            "Title",
            "--attribute",
            "Title",
            "--per-message",
            "0",
        ]
    )
    error = capsys.readouterr().err

    assert code == 1
    assert error.startswith("pinrec: error: invalid input, nothing was sent to AWS:\n")
    assert error.count("\n  - ") == 4
    assert "--attribute 'Title' is given more than once" in error
    assert session.requested_writes == []
