"""The AWS commands end to end through `pinrec`: moto for IAM, STS and Lambda, a Stubber for Pinpoint, the
dry-run output compared with a stored snapshot, and AWS failures as one line and exit 1."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import pytest
from botocore.stub import Stubber

from campaign_tools.aws.session import AwsSession
from campaign_tools.aws.setup import SetupSettings, run_setup
from campaign_tools.cli import main
from campaign_tools.commands import options
from tests.aws_fixtures import ACCOUNT, CAMPAIGN_ARN, FUNCTION_NAME, REGION, SOLUTION_ARN, stub

SNAPSHOTS = Path(__file__).parents[2] / "data" / "aws"
DEMO_CONFIG = str(resources.files("campaign_tools") / "demo_data" / "pinrec.toml")
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/pinrec-personalize-pinrec"
DEMO_ATTRIBUTES = {
    f"Recommendations.{name}": name for name in ("Title", "ItemId", "ImageUrl", "Price", "Url", "Category")
}
REGISTERED = {
    "Name": "pinrec",
    "RecommendationProviderUri": CAMPAIGN_ARN,
    "RecommendationProviderRoleArn": ROLE_ARN,
    "RecommendationTransformerUri": FUNCTION_NAME,
    "Attributes": DEMO_ATTRIBUTES,
    "RecommendationProviderIdType": "PINPOINT_ENDPOINT_ID",
    "RecommendationsPerMessage": 5,
}
SETUP_ARGS = [
    "setup",
    "--config",
    DEMO_CONFIG,
    "--campaign-arn",
    CAMPAIGN_ARN,
    "--solution-arn",
    SOLUTION_ARN,
    "--function",
    FUNCTION_NAME,
    "--region",
    REGION,
]


@pytest.fixture
def pinpoint_stubs(make_session, monkeypatch) -> list[Callable[[Stubber], None]]:
    """Commands get a moto-backed session; each queued callable prepares the Pinpoint stub of the next one."""
    queued: list[Callable[[Stubber], None]] = []
    stubbers: list[Stubber] = []

    def open_session(arguments) -> AwsSession:
        session = make_session(dry_run=getattr(arguments, "dry_run", False), region=arguments.region or REGION)
        stubber = stub(session, "pinpoint")
        if queued:
            queued.pop(0)(stubber)
        stubbers.append(stubber)
        return session

    monkeypatch.setattr(options, "open_session", open_session)
    yield queued
    for stubber in stubbers:
        stubber.assert_no_pending_responses()


def _empty_listing(stubber: Stubber) -> None:
    stubber.add_response(
        "get_recommender_configurations", {"ListRecommenderConfigurationsResponse": {"Item": []}}, {"PageSize": "20"}
    )


def _create(stubber: Stubber) -> None:
    _empty_listing(stubber)
    stubber.add_response(
        "create_recommender_configuration",
        {
            "RecommenderConfigurationResponse": {
                **REGISTERED,
                "Id": "rec123",
                "CreationDate": "d",
                "LastModifiedDate": "d",
            }
        },
        {"CreateRecommenderConfiguration": REGISTERED},
    )


def _already_registered(stubber: Stubber) -> None:
    item = {**REGISTERED, "Id": "rec123", "CreationDate": "d", "LastModifiedDate": "d"}
    stubber.add_response(
        "get_recommender_configurations",
        {"ListRecommenderConfigurationsResponse": {"Item": [item]}},
        {"PageSize": "20"},
    )


def test_setup_creates_everything_then_a_rerun_changes_nothing(pinpoint_stubs, transformer_function, capsys):
    pinpoint_stubs += [_create, _already_registered]

    assert main(SETUP_ARGS) == 0
    first = capsys.readouterr().out
    assert main([*SETUP_ARGS, "--output", "json"]) == 0
    second = json.loads(capsys.readouterr().out)

    assert "role pinrec-personalize-pinrec: created" in first
    assert f"permission {FUNCTION_NAME}: added" in first
    assert "recommender pinrec: created" in first
    assert "pinrec templates publish NAME --recommender-id rec123" in first
    assert [result["status"] for result in second["results"]] == ["unchanged", "unchanged", "unchanged"]
    assert second["requests"] == []
    assert second["recommender_id"] == "rec123"


def test_setup_dry_run_matches_the_snapshot(pinpoint_stubs, transformer_function, capsys, make_session):
    pinpoint_stubs.append(_empty_listing)

    assert main([*SETUP_ARGS, "--dry-run"]) == 0
    output = capsys.readouterr().out

    snapshot = SNAPSHOTS / "setup-dry-run.txt"
    if os.environ.get("PINREC_UPDATE_SNAPSHOTS"):
        snapshot.write_text(output, encoding="utf-8")
    assert output == snapshot.read_text(encoding="utf-8")
    assert make_session().client("iam").list_roles()["Roles"][0]["RoleName"] == "transformer-execution"
    assert len(make_session().client("iam").list_roles()["Roles"]) == 1, "a dry run creates nothing"


def test_dry_run_json_lists_the_exact_requests(pinpoint_stubs, transformer_function, capsys):
    pinpoint_stubs.append(_empty_listing)

    assert main([*SETUP_ARGS, "--dry-run", "--output", "json"]) == 0
    data = json.loads(capsys.readouterr().out)

    assert data["dry_run"] is True
    assert data["recommender_id"] is None, "AWS assigns the id on create; a dry run cannot know it"
    calls = [request["call"] for request in data["would_send"]]
    assert calls == [
        "iam:CreateRole",
        "iam:PutRolePolicy",
        "lambda:AddPermission",
        "mobiletargeting:CreateRecommenderConfiguration",
    ]
    assert data["would_send"][3]["parameters"] == {"CreateRecommenderConfiguration": REGISTERED}
    trust = json.loads(data["would_send"][0]["parameters"]["AssumeRolePolicyDocument"])
    assert trust["Statement"][0]["Condition"]["StringEquals"] == {"AWS:SourceAccount": ACCOUNT}


def test_validation_errors_exit_1_before_any_call(pinpoint_stubs, capsys):
    code = main(
        [
            "recommender",
            "register",
            "--name",
            "pinrec",
            "--campaign-arn",
            SOLUTION_ARN,
            "--role-arn",
            ROLE_ARN,
            "--function",
            FUNCTION_NAME,
            "--attribute",
            "Title=A display name that is too long",
            "--per-message",
            "7",
            "--region",
            REGION,
        ]
    )
    error = capsys.readouterr().err

    assert code == 1
    assert error.startswith("pinrec: error: invalid input, nothing was sent to AWS:\n")
    assert error.count("\n  - ") == 3
    assert "Traceback" not in error


def test_access_denied_is_one_line_naming_call_and_permission(pinpoint_stubs, monkeypatch, make_session, capsys):
    def denied_session(arguments) -> AwsSession:
        session = make_session()
        iam = stub(session, "iam")
        iam.add_client_error("get_role", "AccessDenied", "User: bob is not authorized to perform: iam:GetRole")
        return session

    monkeypatch.setattr(options, "open_session", denied_session)
    code = main(["role", "create", "--name", "r", "--campaign-arn", CAMPAIGN_ARN, "--solution-arn", SOLUTION_ARN])
    error = capsys.readouterr().err

    assert code == 1
    assert error == (
        "pinrec: error: iam:GetRole was denied: grant the caller iam:GetRole "
        "(AWS: User: bob is not authorized to perform: iam:GetRole)\n"
    )


def test_missing_credentials_are_explained(aws_endpoint, monkeypatch, capsys):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setattr(
        options,
        "open_session",
        lambda arguments: AwsSession(region=REGION, endpoint_url=aws_endpoint, dry_run=arguments.dry_run),
    )

    code = main(["permissions", "grant", "--function", FUNCTION_NAME, "--dry-run"])

    assert code == 1
    assert capsys.readouterr().err == (
        "pinrec: error: sts:GetCallerIdentity needs AWS credentials: none found; "
        "run 'aws configure', set AWS_PROFILE or pass --profile\n"
    )


def test_unknown_profile_and_missing_region_are_explained(aws_endpoint, monkeypatch, capsys):
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION", raising=False)
    assert main(["recommender", "list"]) == 1
    assert capsys.readouterr().err == (
        "pinrec: error: no AWS region: pass --region or set AWS_REGION (or a region in the profile)\n"
    )
    assert main(["recommender", "list", "--profile", "nobody", "--region", REGION]) == 1
    assert capsys.readouterr().err == "pinrec: error: AWS profile 'nobody' not found in the AWS config files\n"


def test_permissions_grant_show_revoke(pinpoint_stubs, transformer_function, capsys):
    assert main(["permissions", "grant", "--function", FUNCTION_NAME, "--recommender-id", "rec123"]) == 0
    assert f"permission {FUNCTION_NAME}: added" in capsys.readouterr().out
    assert main(["permissions", "show", "--function", FUNCTION_NAME, "--output", "json"]) == 0
    (statement,) = json.loads(capsys.readouterr().out)["Statement"]
    assert statement["Sid"] == "pinrec-pinpoint-recommender-rec123"
    assert main(["permissions", "revoke", "--function", FUNCTION_NAME, "--recommender-id", "rec123"]) == 0
    assert "deleted" in capsys.readouterr().out
    assert main(["permissions", "show", "--function", FUNCTION_NAME]) == 0
    assert capsys.readouterr().out.startswith("no resource policy")


def test_recommender_list_show_delete(pinpoint_stubs, capsys):
    item = {**REGISTERED, "Id": "rec123", "CreationDate": "d", "LastModifiedDate": "2026-11-02"}

    def listing(stubber: Stubber) -> None:
        stubber.add_response(
            "get_recommender_configurations",
            {"ListRecommenderConfigurationsResponse": {"Item": [item], "NextToken": "t1"}},
            {"PageSize": "20"},
        )
        stubber.add_response(
            "get_recommender_configurations",
            {"ListRecommenderConfigurationsResponse": {"Item": [{**item, "Id": "rec456", "Name": "second"}]}},
            {"PageSize": "20", "Token": "t1"},
        )

    def show(stubber: Stubber) -> None:
        stubber.add_response(
            "get_recommender_configuration", {"RecommenderConfigurationResponse": item}, {"RecommenderId": "rec123"}
        )

    def delete(stubber: Stubber) -> None:
        show(stubber)
        stubber.add_response(
            "delete_recommender_configuration", {"RecommenderConfigurationResponse": item}, {"RecommenderId": "rec123"}
        )

    pinpoint_stubs += [listing, show, delete]

    assert main(["recommender", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["ID", "NAME", "ATTRIBUTES", "MODIFIED"]
    assert [line.split()[:2] for line in lines[2:]] == [["rec123", "pinrec"], ["rec456", "second"]]
    assert main(["recommender", "show", "rec123"]) == 0
    assert "transformer  pinrec-transformer" in capsys.readouterr().out
    assert main(["recommender", "delete", "rec123"]) == 1
    assert "pass --yes" in capsys.readouterr().err
    assert main(["recommender", "delete", "rec123", "--yes"]) == 0
    assert "recommender pinrec: deleted" in capsys.readouterr().out


def test_new_role_propagation_is_waited_for(make_session, transformer_function):
    session = make_session()
    pinpoint = stub(session, "pinpoint")
    _empty_listing(pinpoint)
    pinpoint.add_client_error("create_recommender_configuration", "BadRequestException", "cannot assume role")
    _create(pinpoint)
    attributes = {name.removeprefix("Recommendations."): display for name, display in DEMO_ATTRIBUTES.items()}
    settings = SetupSettings(
        campaign_arn=CAMPAIGN_ARN, solution_arn=SOLUTION_ARN, function=FUNCTION_NAME, attributes=attributes
    )
    waits: list[float] = []

    result = run_setup(session, settings, sleep=waits.append)

    pinpoint.assert_no_pending_responses()
    assert waits == [5.0]
    assert [outcome.status for outcome in result.outcomes] == ["created", "added", "created"]
    assert result.recommender_id == "rec123"


def test_setup_can_leave_the_permission_to_the_stack(pinpoint_stubs, transformer_function, capsys, make_session):
    pinpoint_stubs.append(_create)

    assert main([*SETUP_ARGS, "--skip-permission", "--output", "json"]) == 0
    data = json.loads(capsys.readouterr().out)

    assert [result["step"] for result in data["results"]] == ["role", "recommender"]
    assert "lambda:AddPermission" not in [request["call"] for request in data["requests"]]
    lambda_client = make_session().client("lambda")
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.get_policy(FunctionName=FUNCTION_NAME)
