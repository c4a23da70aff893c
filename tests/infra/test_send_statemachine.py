"""infra/send-statemachine.yaml: the send child's role allows every call the child makes, and nothing wider.

Each deployment below is a set of stack parameters and the `pinrec send --on-aws` options that go with it; the
first is README's (the DynamoDB catalog of infra/pinrec.dynamodb.toml, Personalize recommendations, email). For each,
the child really runs a batch (moto for DynamoDB, SES and S3; canned answers for Personalize, SMS and push, which
moto lacks) while every AWS call it makes is recorded. The role, instantiated from the template with the
deployment's parameters, must allow each recorded call on the resource IAM checks it against, and may allow no
action on no resource that none of the calls needs: no wildcard beyond the log group and the segment bucket's keys.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.client import BaseClient
from cfnlint.decode.cfn_yaml import load as load_template

from campaign_tools.channels.base import ClientFactory
from campaign_tools.send import child, on_aws
from campaign_tools.send.child import LEDGER_TABLE_ENV, TEMPLATE_DIR_ENV
from campaign_tools.send.ledgers.dynamodb import create_ledger_table
from campaign_tools.send.settings import SendSettings
from campaign_tools.suppression.dynamodb import create_suppression_table
from campaign_tools.templates.build import build_template, write_build
from campaign_tools.templates.manifest import load_template as load_message_template
from tests.infra.cfn_policy import MOTO_ACCOUNT, MOTO_REGION, Stack, allows, grants, moto_arn, role_statements
from transformer.config import CONFIG_ENV_VAR

INFRA = Path(__file__).resolve().parents[2] / "infra"
TEMPLATE = INFRA / "send-statemachine.yaml"
DOCUMENTED_CONFIG = INFRA / "pinrec.dynamodb.toml"
REGION = MOTO_REGION
ACCOUNT = MOTO_ACCOUNT
STACK_NAME = "pinrec-send"
LEDGER = "pinrec-send-ledger"
SUPPRESSION = "pinrec-suppression"
CATALOG = "pinrec-catalog"  # the transformer stack's table, named in infra/pinrec.dynamodb.toml
SEGMENTS = "segments-bucket"
CAMPAIGN = f"arn:aws:personalize:{REGION}:{ACCOUNT}:campaign/outdoor-gear"
FILTER = f"arn:aws:personalize:{REGION}:{ACCOUNT}:filter/in-stock"
PHONE = f"arn:aws:sms-voice:{REGION}:{ACCOUNT}:phone-number/phone-0123456789abcdef"
SENDER_ID = f"arn:aws:sms-voice:{REGION}:{ACCOUNT}:sender-id/OUTDOORS/GB"
PUSH_APP = "0123456789abcdef0123456789abcdef"
ITEMS = [
    {
        "id": f"P{n}",
        "name": f"Product {n}",
        "image_url": f"https://cdn.example.com/{n}.jpg",
        "price": n,
        "category": "c",
    }
    for n in range(1, 6)
]
FILE_RECOMMENDATIONS = ("s3:GetObject", f"arn:aws:s3:::{SEGMENTS}/*")
"""`--recommendations file:s3://...` is chosen per campaign, not per stack: granted in every deployment, and its
keys differ per campaign (the one wildcard besides the log group's)."""
LOGS = {"logs:CreateLogStream", "logs:PutLogEvents"}
"""The Lambda runtime's calls, on the function's own log group."""


@dataclass(frozen=True)
class Deployment:
    """Stack parameters and the campaign run with them."""

    parameters: Mapping[str, Any]
    channel: str
    sender: Mapping[str, Any]
    recommendations: str
    records: list[dict[str, Any]]
    filter_arn: str | None = None
    verified: tuple[str, ...] = ("shop.example.com",)
    suppression: str = "none"
    """The child's `--suppression`: `dynamodb:<SuppressionTableName>` when the stack names one."""
    """SES identities: a From address is checked as itself when verified, else as its domain."""
    opt_out_list: str = "Default"
    extra: Mapping[str, Any] = field(default_factory=dict)


def endpoints(channel: str, address: str, count: int = 3) -> list[dict[str, Any]]:
    return [
        {
            "Id": f"ep-{n}",
            "ChannelType": channel,
            "Address": address.format(n=n),
            "User": {"UserId": f"user-{n}", "UserAttributes": {"FirstName": [f"N{n}"]}},
        }
        for n in range(count)
    ]


BASE = {"CodeBucket": "code-bucket", "CodeKey": "pinrec-send/recommended-for-you.zip", "SegmentBucket": SEGMENTS}
DEPLOYMENTS = {
    # README, "Past one machine": pinrec package --config infra/pinrec.dynamodb.toml, then
    # pinrec send --on-aws ... --recommendations personalize:ARN --deliver --from ADDRESS
    "documented": Deployment(
        {
            **BASE,
            "SenderIdentity": "shop.example.com",
            "RecommendationsArn": CAMPAIGN,
            "CatalogTableName": CATALOG,
            "SuppressionTableName": SUPPRESSION,
        },
        "email",
        {"from_address": "Outdoor Shop <news@shop.example.com>"},
        f"personalize:{CAMPAIGN}",
        endpoints("EMAIL", "user{n}@example.com"),
        suppression=f"dynamodb:{SUPPRESSION}",
    ),
    "email, configuration set, filter, verified address": Deployment(
        {
            **BASE,
            "SenderIdentity": "news@shop.example.com",
            "EmailConfigurationSet": "tracking",
            "RecommendationsArn": CAMPAIGN,
            "RecommendationsFilterArn": FILTER,
            "CatalogTableName": CATALOG,
        },
        "email",
        {"from_address": "news@shop.example.com", "configuration_set": "tracking"},
        f"personalize:{CAMPAIGN}",
        endpoints("EMAIL", "user{n}@example.com"),
        filter_arn=FILTER,
        verified=("news@shop.example.com",),
    ),
    "sms from a phone number": Deployment(
        {
            **BASE,
            "SmsOriginationIdentities": PHONE,
            "SmsConfigurationSet": "sms-events",
            "RecommendationsArn": CAMPAIGN,
            "CatalogTableName": CATALOG,
        },
        "sms",
        {"origination_identity": PHONE, "configuration_set": "sms-events"},
        f"personalize:{CAMPAIGN}",
        endpoints("SMS", "+1206555010{n}"),
    ),
    "sms from a sender id, its own opt-out list": Deployment(
        {**BASE, "SmsOriginationIdentities": SENDER_ID, "SmsOptOutList": "outdoors", "CatalogTableName": CATALOG},
        "sms",
        {"origination_identity": SENDER_ID},
        "segment",
        [{**record, "RecommendationItems": ["P1", "P2"]} for record in endpoints("SMS", "+44740012345{n}")],
        opt_out_list="outdoors",
    ),
    "push with file recommendations": Deployment(
        {**BASE, "PushApplicationId": PUSH_APP, "CatalogTableName": CATALOG},
        "push",
        {"application_id": PUSH_APP},
        f"file:s3://{SEGMENTS}/pinrec-send/spring/recommendations.jsonl",
        endpoints("GCM", "token-{n}"),
    ),
}


@dataclass(frozen=True)
class Call:
    prefix: str
    """The service's IAM prefix (its signing name)."""
    operation: str
    params: Mapping[str, Any]

    @property
    def action(self) -> str:
        return f"{self.prefix}:{self.operation}"


class Recorder:
    """Every AWS call made through botocore, whichever client makes it, while recording (`with recorder:`)."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.on = False

    def __enter__(self) -> Recorder:
        self.on = True
        return self

    def __exit__(self, *exc: object) -> None:
        self.on = False


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recording = Recorder()
    original = BaseClient._make_api_call

    def record(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if recording.on:
            recording.calls.append(Call(client.meta.service_model.signing_name, operation, dict(params)))
        return original(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", record)
    return recording


def canned(client: Any, operation: str, answer: Any) -> Any:
    """Answer `operation` on `client` without a request (the way botocore's Stubber does), after validation."""

    def respond(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        body = params.get("body") or b"{}"
        return AWSResponse("", 200, {}, None), answer(json.loads(body or b"{}"))  # type: ignore[arg-type]

    client.meta.events.register(f"before-call.*.{operation}", respond)
    return client


def client_factory() -> ClientFactory:
    """The child's clients: moto for what moto serves, canned answers for Personalize, SMS and push."""

    def make(service: str) -> Any:
        client = boto3.client(service, region_name=REGION)
        if service == "personalize-runtime":
            items = {"itemList": [{"itemId": item["id"]} for item in ITEMS[:3]]}
            return canned(client, "GetRecommendations", lambda _: items)
        if service == "pinpoint-sms-voice-v2":
            return canned(client, "SendTextMessage", lambda _: {"MessageId": "sms-1"})
        if service == "pinpoint":
            return canned(client, "SendMessages", push_result)
        return client

    return make


def push_result(request: dict[str, Any]) -> dict[str, Any]:
    tokens = request.get("MessageRequest", request).get("Addresses", {})
    result = {token: {"DeliveryStatus": "SUCCESSFUL", "StatusCode": 200, "MessageId": "push-1"} for token in tokens}
    return {"MessageResponse": {"ApplicationId": PUSH_APP, "Result": result}}


@pytest.fixture
def aws_resources(moto_aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Moto's DynamoDB ledger and catalog, SES identities, the segment bucket; the child's config and template."""
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    create_ledger_table(dynamodb, LEDGER)
    create_suppression_table(dynamodb, SUPPRESSION)
    dynamodb.create_table(
        TableName=CATALOG,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for item in ITEMS:
        values = {key: {"N": str(value)} if isinstance(value, int) else {"S": value} for key, value in item.items()}
        dynamodb.put_item(TableName=CATALOG, Item=values)
    ses = boto3.client("sesv2", region_name=REGION)
    for identity in ("shop.example.com", "news@shop.example.com"):
        ses.create_email_identity(EmailIdentity=identity)
    ses.create_configuration_set(ConfigurationSetName="tracking")
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=SEGMENTS)
    lines = "".join(json.dumps({"id": f"ep-{n}", "items": ["P1", "P2"]}) + "\n" for n in range(3))
    s3.put_object(Bucket=SEGMENTS, Key="pinrec-send/spring/recommendations.jsonl", Body=lines.encode())
    built = tmp_path / "template"
    write_build(build_template(load_message_template("recommended-for-you")), built)
    shutil.copy(DOCUMENTED_CONFIG, tmp_path / "pinrec.toml")
    monkeypatch.setenv(CONFIG_ENV_VAR, str(tmp_path / "pinrec.toml"))
    monkeypatch.setenv(LEDGER_TABLE_ENV, LEDGER)
    monkeypatch.setenv(TEMPLATE_DIR_ENV, str(built))
    child.clear_warm_state()
    return tmp_path


def run_child(deployment: Deployment) -> dict[str, Any]:
    """One Distributed Map batch, with the settings `pinrec send --on-aws` gives its children."""
    settings = SendSettings.model_validate(
        {
            "campaign_id": "spring",
            "template": "recommended-for-you",
            "channel": deployment.channel,
            "recommendations": deployment.recommendations,
            "filter_arn": deployment.filter_arn,
            "sender": dict(deployment.sender),
            "deliver": True,
            "rate": 1000,
            "suppression": deployment.suppression,
        }
    )
    value = on_aws.child_settings(settings, "recommended-for-you", 1)
    summary = child.send_batch(deployment.records, child.child_settings(value, os.environ), client_factory())
    return child.summary_dict(summary)


def deployed_role(deployment: Deployment) -> list[dict[str, Any]]:
    def table(stack: Stack, attribute: str) -> str:
        name = stack.parameter("LedgerTableName")
        return f"arn:aws:dynamodb:{stack.region}:{stack.account}:table/{name}" if attribute == "Arn" else name

    def log_group(stack: Stack, attribute: str) -> str:
        name = f"/aws/lambda/{stack.name}-send"
        return f"arn:aws:logs:{stack.region}:{stack.account}:log-group:{name}:*" if attribute == "Arn" else name

    stack = Stack(
        load_template(str(TEMPLATE)),
        deployment.parameters,
        REGION,
        ACCOUNT,
        STACK_NAME,
        {"LedgerTable": table, "SendFunctionLogGroup": log_group},
    )
    return role_statements(stack, "SendFunctionRole")


arn = moto_arn


def checked_resources(call: Call, deployment: Deployment) -> list[str]:
    """The resources IAM authorizes `call` against (the service authorization reference's resource types)."""
    params = call.params
    if call.action == "ses:SendEmail":
        address = parseaddr(params["FromEmailAddress"])[1]
        identity = address if address in deployment.verified else address.partition("@")[2]
        configuration_set = params.get("ConfigurationSetName")
        return [arn("ses", f"identity/{identity}")] + (
            [arn("ses", f"configuration-set/{configuration_set}")] if configuration_set else []
        )
    if call.action == "sms-voice:SendTextMessage":
        configuration_set = params.get("ConfigurationSetName")
        return [params["OriginationIdentity"], arn("sms-voice", f"opt-out-list/{deployment.opt_out_list}")] + (
            [arn("sms-voice", f"configuration-set/{configuration_set}")] if configuration_set else []
        )
    if call.action == "mobiletargeting:SendMessages":
        return [arn("mobiletargeting", f"apps/{params['ApplicationId']}/messages")]
    if call.action == "personalize:GetRecommendations":
        return [params.get("campaignArn") or params["recommenderArn"]] + (
            [params["filterArn"]] if "filterArn" in params else []
        )
    if call.prefix == "s3" and call.operation in ("GetObject", "HeadObject"):
        return [f"arn:aws:s3:::{params['Bucket']}/{params['Key']}"]
    if call.prefix == "dynamodb":
        tables = [params["TableName"]] if "TableName" in params else list(params["RequestItems"])
        return [arn("dynamodb", f"table/{name}") for name in tables]
    pytest.fail(f"the send child calls {call.action}: add the resources IAM checks it against")


def iam_action(call: Call) -> str:
    return "s3:GetObject" if call.action == "s3:HeadObject" else call.action


def interrupt(endpoint_id: str) -> None:
    """Leave `endpoint_id` pending, as a child killed between its claim and its delivery does."""
    boto3.client("dynamodb", region_name=REGION).update_item(
        TableName=LEDGER,
        Key={"campaign_id": {"S": "spring"}, "endpoint_id": {"S": endpoint_id}},
        UpdateExpression="SET #state = :pending, claimed_at = :now",
        ExpressionAttributeNames={"#state": "state"},
        ExpressionAttributeValues={":pending": {"S": "pending"}, ":now": {"N": repr(time.time())}},
    )


@pytest.mark.parametrize("name", DEPLOYMENTS)
def test_the_role_allows_every_call_the_child_makes_and_nothing_wider(
    aws_resources: Path, recorder: Recorder, name: str
) -> None:
    deployment = DEPLOYMENTS[name]
    with recorder:
        first = run_child(deployment)
    interrupt("ep-0")
    with recorder:
        retried = run_child(deployment)  # Step Functions retries a child that timed out: README
    assert first["sent"] == len(deployment.records) and first["failed"] == {}, first
    assert retried["sent"] == 0 and retried["failed"] == {}, retried
    needed = {
        (iam_action(call), resource) for call in recorder.calls for resource in checked_resources(call, deployment)
    }
    statements = deployed_role(deployment)
    denied = sorted(pair for pair in needed if not allows(statements, *pair))
    assert denied == [], f"the deployed role would deny the child: {denied}"
    unused = sorted(
        (action, pattern)
        for action, pattern in grants(statements) - {FILE_RECOMMENDATIONS}
        if action not in LOGS and not any(allows([_statement(action, pattern)], *pair) for pair in needed)
    )
    assert unused == [], f"the role allows what the child never calls: {unused}"
    wide = {pattern for action, pattern in grants(statements) - {FILE_RECOMMENDATIONS} if action not in LOGS}
    assert not any("*" in pattern or "?" in pattern for pattern in wide), wide


def run_unit_child(deployment: Deployment, unit: Mapping[str, Any], records: list[dict[str, Any]]) -> dict[str, Any]:
    """One batch of a campaign slot's execution: the settings of `run_child` for the unit, and its campaign_unit."""
    settings = SendSettings.model_validate(
        {
            "campaign_id": unit["unit"],
            "template": "recommended-for-you",
            "channel": deployment.channel,
            "recommendations": deployment.recommendations,
            "sender": dict(deployment.sender),
            "deliver": True,
            "rate": 1000,
            "suppression": deployment.suppression,
        }
    )
    value = child.child_settings(on_aws.child_settings(settings, "recommended-for-you", 1), os.environ)
    return child.send_unit_batch(records, value, dict(unit), client_factory())


def campaign_unit(campaign: str, treatment: str, maximum_duration: int = 3600) -> dict[str, Any]:
    slot = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
    compact = slot.replace("-", "").replace(":", "")
    return {
        "campaign": campaign,
        "slot": slot,
        "treatment": treatment,
        "channel": "email",
        "unit": f"{campaign}.{compact}.{treatment}.email",
        "caps": {"daily": 1, "total": None, "project_daily": 1, "project_total": None},
        "maximum_duration": maximum_duration,
        "limits": f"dynamodb:{LEDGER}",
    }


def test_the_role_allows_every_call_a_campaign_unit_child_makes(aws_resources: Path, recorder: Recorder) -> None:
    """Reserving (GetItem, conditional PutItem of the `#caps#` items in the ledger table), releasing, skipping
    capped and late endpoints: the Ledger statement covers them all."""
    deployment = DEPLOYMENTS["documented"]
    opted_out = {**endpoints("EMAIL", "user{n}@example.com", 4)[3], "OptOut": "ALL"}  # reserved, then released
    batch = [*deployment.records, opted_out]
    spring = campaign_unit("spring", "default")
    with recorder:
        first = run_unit_child(deployment, spring, batch)
        retried = run_unit_child(deployment, spring, batch)  # Step Functions retries a child that timed out
        capped = run_unit_child(deployment, campaign_unit("autumn", "default"), batch)
        late = run_unit_child(deployment, campaign_unit("winter", "default", maximum_duration=1), batch)
    assert first["sent"] == 3 and first["released"] == 1 and first["skipped"] == {"opted_out": 1}, first
    assert retried["sent"] == 0 and retried["skipped"] == {"already_sent": 3, "opted_out": 1}, retried
    assert capped["sent"] == 0 and capped["skipped"] == {"cap_daily": 3, "opted_out": 1}, capped
    assert late["sent"] == 0 and late["skipped"] == {"maximum_duration": 4}, late
    limits = [call for call in recorder.calls if "#caps#" in json.dumps(call.params)]
    assert {call.action for call in limits} == {"dynamodb:GetItem", "dynamodb:PutItem"}
    assert {call.params["TableName"] for call in limits} == {LEDGER}, "the limits live in the ledger table"
    assert "dynamodb:Query" not in {call.action for call in recorder.calls}, "a child reads its own rows, by key"
    needed = {
        (iam_action(call), resource) for call in recorder.calls for resource in checked_resources(call, deployment)
    }
    statements = deployed_role(deployment)
    denied = sorted(pair for pair in needed if not allows(statements, *pair))
    assert denied == [], f"the deployed role would deny the child: {denied}"


def _statement(action: str, pattern: str) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": pattern}


def test_each_statement_is_there_only_when_its_parameter_is_set() -> None:
    bare = deployed_role(Deployment(BASE, "email", {}, "segment", []))
    assert {statement["Sid"] for statement in bare} == {"Logs", "Ledger", "FileRecommendations"}
    everything = deployed_role(DEPLOYMENTS["sms from a phone number"])
    assert {statement["Sid"] for statement in everything} == {
        "Logs",
        "Ledger",
        "FileRecommendations",
        "SmsOriginationIdentities",
        "SmsOptOutListAndConfigurationSet",
        "Recommendations",
        "Catalog",
    }
    documented = {statement["Sid"] for statement in deployed_role(DEPLOYMENTS["documented"])}
    assert "Suppression" in documented


def test_every_origination_identity_given_is_granted_and_only_those() -> None:
    deployment = Deployment({**BASE, "SmsOriginationIdentities": f"{PHONE},{SENDER_ID}"}, "sms", {}, "segment", [])
    statements = deployed_role(deployment)
    assert allows(statements, "sms-voice:SendTextMessage", PHONE)
    assert allows(statements, "sms-voice:SendTextMessage", SENDER_ID)
    assert not allows(statements, "sms-voice:SendTextMessage", arn("sms-voice", "phone-number/phone-other"))
    assert allows(statements, "sms-voice:SendTextMessage", arn("sms-voice", "opt-out-list/Default"))
    assert not allows(statements, "sms-voice:SendTextMessage", arn("sms-voice", "configuration-set/any"))


def test_every_deployment_names_only_parameters_the_template_declares() -> None:
    declared = set(load_template(str(TEMPLATE))["Parameters"])
    for deployment in DEPLOYMENTS.values():
        assert set(deployment.parameters) <= declared
