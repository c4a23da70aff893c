"""Past one machine: the Step Functions template (cfn-lint), the child Lambda handler (moto server: SES, DynamoDB),
and `--on-aws` start/follow (Stubber for Step Functions, moto for the S3 upload)."""

from __future__ import annotations

import importlib
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from cfnlint.api import ManualArgs, lint_file
from cfnlint.decode.cfn_yaml import load as load_template

from campaign_tools.cli import main
from campaign_tools.packaging.bundle import TEMPLATE_ARCNAME
from campaign_tools.send import aws_batch, on_aws
from campaign_tools.send.aws_batch import LEDGER_TABLE_ENV, TEMPLATE_DIR_ENV, BatchSettings, handler
from campaign_tools.send.ledger_dynamodb import create_ledger_table
from tests.test_send_pipeline import ITEMS
from transformer.config import CONFIG_ENV_VAR
from transformer.errors import PinrecError

TEMPLATE = Path(__file__).resolve().parent.parent / "infra" / "send-statemachine.yaml"
LINT = ManualArgs(include_checks=["I"], regions=["us-east-1", "eu-west-1", "ap-south-1"])
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:pinrec-send"
EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:pinrec-send:spring-1"


def test_template_is_cfn_lint_clean_including_informational_checks() -> None:
    findings = lint_file(TEMPLATE, config=LINT)
    assert [f"{f.rule.id} line {f.linenumber}: {f.message}" for f in findings] == []


def test_cfn_lint_would_catch_a_broken_template(tmp_path: Path) -> None:
    broken = tmp_path / "template.yaml"
    broken.write_text(TEMPLATE.read_text().replace("Runtime: python3.12", "Runtime: python2.1"))
    assert lint_file(broken, config=LINT)


def test_template_wires_the_map_the_handler_and_the_ledger_together() -> None:
    template = load_template(str(TEMPLATE))
    resources = template["Resources"]
    machine = resources["StateMachine"]["Properties"]["Definition"]["States"]["SendBatches"]
    assert machine["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    assert machine["ItemBatcher"]["MaxItemsPerBatch"] == 50
    assert machine["ItemReader"]["ReaderConfig"]["InputType"] == "JSONL"
    assert machine["ItemBatcher"]["BatchInput"] == {"settings.$": "$.settings"}
    assert machine["MaxConcurrencyPath"] == "$.max_concurrency"
    function = resources["SendFunction"]["Properties"]
    module, _, name = function["Handler"].rpartition(".")
    assert getattr(importlib.import_module(module), name) is handler
    variables = function["Environment"]["Variables"]
    assert set(variables) == {CONFIG_ENV_VAR, LEDGER_TABLE_ENV, TEMPLATE_DIR_ENV}
    assert variables[TEMPLATE_DIR_ENV] == f"/var/task/{TEMPLATE_ARCNAME}", "where pinrec package puts it"
    table = resources["LedgerTable"]["Properties"]
    assert [key["AttributeName"] for key in table["KeySchema"]] == ["campaign_id", "endpoint_id"]
    statements = resources["SendFunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    ledger = next(statement for statement in statements if statement["Sid"] == "Ledger")
    assert set(ledger["Action"]) == {"dynamodb:UpdateItem", "dynamodb:GetItem", "dynamodb:BatchGetItem"}
    payload = on_aws.execution_input("b", "k", BatchSettings(campaign_id="c", recommendations="segment"), 10)
    assert set(payload) == {"segment", "max_concurrency", "settings"}, "the paths the definition reads"


@pytest.fixture
def child_environment(
    moto_aws: str, tmp_path: Path, make_catalog: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> Any:
    catalog = make_catalog(ITEMS)
    config = tmp_path / "pinrec.toml"
    config.write_text(f'[store]\nkind = "sqlite"\npath = "{catalog}"\n[attributes.Title]\nfield = "name"\n')
    monkeypatch.setenv(CONFIG_ENV_VAR, str(config))
    monkeypatch.setenv(LEDGER_TABLE_ENV, "child-send-ledger")
    create_ledger_table(boto3.client("dynamodb"), "child-send-ledger")
    boto3.client("sesv2").create_email_identity(EmailIdentity="news@shop.example.com")
    aws_batch._parts.cache_clear()
    aws_batch.warm_client.cache_clear()  # clients made for an earlier test's moto server
    from moto.ses.models import ses_backends

    return ses_backends["123456789012"]["us-east-1"]


def records(count: int) -> list[dict[str, Any]]:
    return [
        {
            "Id": f"ep-{n}",
            "ChannelType": "EMAIL",
            "Address": f"user{n}@example.com",
            "OptOut": "ALL" if n == 3 else "NONE",
            "User": {"UserAttributes": {"FirstName": [f"N{n}"]}},
            "RecommendationItems": [f"P{n % 9 + 1}"],
        }
        for n in range(count)
    ]


SETTINGS = {
    "campaign_id": "spring",
    "recommendations": "segment",
    "composer": "tests.test_send_plugin:make_composer",
    "from_address": "news@shop.example.com",
    "rate": 1000,
}


def test_child_sends_its_batch_once_even_when_step_functions_retries_it(child_environment: Any) -> None:
    before = len(child_environment.sent_messages)
    event = {"Items": [*records(50)[:49], "not an endpoint"], "BatchInput": {"settings": SETTINGS}}
    result = handler(event)
    assert result["sent"] == 48 and result["skipped"] == {"opted_out": 1} and result["malformed"] == 1
    assert len(child_environment.sent_messages) == before + 48
    again = handler(event)
    assert again["sent"] == 0 and again["skipped"] == {"opted_out": 1, "already_sent": 48}
    assert len(child_environment.sent_messages) == before + 48


@pytest.fixture
def prebuilt_template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """recommended-for-you pre-built as `pinrec package --function send` bundles it, named by PINREC_TEMPLATE_DIR."""
    from campaign_tools.templates.build import build_template, write_build
    from campaign_tools.templates.manifest import load_template

    built = tmp_path / "template"
    write_build(build_template(load_template("recommended-for-you")), built)
    monkeypatch.setenv(TEMPLATE_DIR_ENV, str(built))
    config = Path(os.environ[CONFIG_ENV_VAR])
    fields = {"ItemId": "id", "ImageUrl": "id", "Price": "id", "Url": "id"}
    declared = "".join(f'[attributes.{name}]\nfield = "{field}"\n' for name, field in fields.items())
    config.write_text(config.read_text() + declared)  # the attributes the template reads
    return built


def test_child_composes_from_the_prebuilt_template_in_its_code(child_environment: Any, prebuilt_template: Path) -> None:
    settings = {key: value for key, value in SETTINGS.items() if key != "composer"}
    before = len(child_environment.sent_messages)
    result = handler(
        {
            "Items": records(3),
            "BatchInput": {"settings": {**settings, "campaign_id": "prebuilt", "template": "recommended-for-you"}},
        }
    )
    assert result["sent"] == 3 and result["failed"] == {}, result
    sent = child_environment.sent_messages[before:]
    assert len(sent) == 3
    subjects = sorted(message.subject for message in sent)
    assert subjects == [f"N{n}, picked for you: Product {n % 9 + 1}" for n in range(3)], "the template's subject"
    assert all(message.body.startswith("<!DOCTYPE html>") for message in sent), "the pre-built MJML output"


def test_child_refuses_a_campaign_for_another_template_than_the_one_it_bundles(
    child_environment: Any, prebuilt_template: Path
) -> None:
    settings = {key: value for key, value in SETTINGS.items() if key != "composer"}
    event = {"Items": records(1), "BatchInput": {"settings": {**settings, "template": "offer"}}}
    with pytest.raises(PinrecError, match="is recommended-for-you, not offer"):
        handler(event)


def test_child_reads_csv_items(child_environment: Any) -> None:
    items = [
        {"Id": "c1", "ChannelType": "EMAIL", "Address": "c1@example.com", "User.UserAttributes.FirstName": "Cy"},
        {"Id": "c2", "ChannelType": "EMAIL", "Address": "c2@example.com", "Attributes.Favourite Colour": "green|blue"},
        {"Id": "c3", "ChannelType": "EMAIL", "Address": "c3@example.com", "Metrics.orders": "many"},
    ]
    settings = {**SETTINGS, "segment_format": "csv", "recommendations": "file:" + str(_recommendations(items))}
    result = handler({"Items": items, "BatchInput": {"settings": settings}})
    assert result["sent"] == 2 and result["malformed"] == 1


def _recommendations(items: list[dict[str, Any]]) -> Path:
    import os

    path = Path(os.environ[CONFIG_ENV_VAR]).parent / "recs.jsonl"
    path.write_text("".join(json.dumps({"id": item["Id"], "items": ["P1"]}) + "\n" for item in items))
    return path


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"BatchInput": {"settings": SETTINGS}}, "no Items list"),
        ({"Items": [], "BatchInput": {"settings": {**SETTINGS, "colour": "red"}}}, "unknown keys: colour"),
        (
            {"Items": [], "BatchInput": {"settings": {"campaign_id": "x y", "recommendations": "segment"}}},
            "campaign id",
        ),
        ({"Items": records(51), "BatchInput": {"settings": SETTINGS}}, "at most 50"),
        ({"Items": [], "BatchInput": {"settings": {**SETTINGS, "channel": "fax"}}}, "channel must be one of"),
        ({"Items": [], "BatchInput": {"settings": {**SETTINGS, "per_message": 1, "pages": 2}}}, "unknown keys: pages"),
    ],
)
def test_child_refuses_bad_events(child_environment: Any, event: dict[str, Any], message: str) -> None:
    with pytest.raises(PinrecError, match=message):
        handler(event)


def test_settings_round_trip_through_the_execution_input() -> None:
    settings = BatchSettings(
        campaign_id="c", recommendations="segment", filter_values=(("CATEGORY", '"shoes"'),), rate=2.5
    )
    payload = json.loads(json.dumps(on_aws.execution_input("b", "k", settings, 4)))
    assert BatchSettings.from_event(payload["settings"]) == settings


def test_local_segment_is_uploaded_then_the_execution_starts_and_is_followed(moto_aws: str, tmp_path: Path) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="segments")
    (tmp_path / "spring.jsonl").write_text('{"Id": "a"}\n')
    bucket, key = on_aws.segment_location(str(tmp_path / "spring.jsonl"), s3, "segments", "spring")
    assert (bucket, key) == ("segments", "pinrec-send/spring/spring.jsonl")
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b'{"Id": "a"}\n'
    assert on_aws.segment_location("s3://other/x.jsonl", s3, None, "spring") == ("other", "x.jsonl")
    with pytest.raises(on_aws.OnAwsError, match="--bucket"):
        on_aws.segment_location(str(tmp_path / "spring.jsonl"), s3, None, "spring")

    sfn = boto3.client("stepfunctions", endpoint_url="https://states.us-east-1.amazonaws.com")
    payload = on_aws.execution_input(bucket, key, BatchSettings(campaign_id="spring", recommendations="segment"), 10)
    seen: list[int] = []
    with Stubber(sfn) as stubber:
        stubber.add_response(
            "start_execution",
            {"executionArn": EXECUTION, "startDate": "2026-11-23T12:00:00Z"},
            {"stateMachineArn": MACHINE, "name": ANY, "input": json.dumps(payload)},
        )
        running = {
            "executionArn": EXECUTION,
            "stateMachineArn": MACHINE,
            "status": "RUNNING",
            "startDate": "2026-11-23T12:00:00Z",
        }
        stubber.add_response("describe_execution", running, {"executionArn": EXECUTION})
        stubber.add_response(
            "list_map_runs",
            {
                "mapRuns": [
                    {
                        "executionArn": EXECUTION,
                        "mapRunArn": EXECUTION + ":map",
                        "stateMachineArn": MACHINE,
                        "startDate": "2026-11-23T12:00:00Z",
                    }
                ]
            },
            {"executionArn": EXECUTION},
        )
        counts = {
            "pending": 0,
            "running": 50,
            "succeeded": 100,
            "failed": 0,
            "timedOut": 0,
            "aborted": 0,
            "total": 150,
            "resultsWritten": 100,
        }
        stubber.add_response(
            "describe_map_run",
            {
                "mapRunArn": EXECUTION + ":map",
                "executionArn": EXECUTION,
                "status": "RUNNING",
                "startDate": "2026-11-23T12:00:00Z",
                "maxConcurrency": 10,
                "toleratedFailurePercentage": 0,
                "toleratedFailureCount": 0,
                "itemCounts": counts,
                "executionCounts": counts,
            },
            {"mapRunArn": EXECUTION + ":map"},
        )
        stubber.add_response("describe_execution", {**running, "status": "SUCCEEDED"}, {"executionArn": EXECUTION})
        stubber.add_response("list_map_runs", {"mapRuns": []}, {"executionArn": EXECUTION})
        arn = on_aws.start(sfn, MACHINE, "spring", payload)
        on_aws.follow(sfn, arn, sleep=lambda _: None, progress=lambda c: seen.append(c.succeeded))
    assert arn == EXECUTION and seen == [100]


def test_a_failed_execution_is_reported_with_its_cause() -> None:
    sfn = boto3.client("stepfunctions", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(sfn) as stubber:
        stubber.add_response(
            "describe_execution",
            {
                "executionArn": EXECUTION,
                "stateMachineArn": MACHINE,
                "status": "FAILED",
                "startDate": "2026-11-23T12:00:00Z",
                "error": "States.ExceedToleratedFailureThreshold",
                "cause": "a child failed",
            },
        )
        with pytest.raises(
            on_aws.OnAwsError, match=re.escape("FAILED (States.ExceedToleratedFailureThreshold: a child failed)")
        ):
            on_aws.follow(sfn, EXECUTION, sleep=lambda _: None)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "needs --state-machine-arn"),
        (["--state-machine-arn", MACHINE], "needs --ledger dynamodb:TABLE"),
        (["--state-machine-arn", MACHINE, "--ledger", "dynamodb:t", "--dry-run"], "neither --dry-run"),
        (["--state-machine-arn", MACHINE, "--ledger", "dynamodb:t", "--segment-format", "csv"], "JSON Lines"),
    ],
)
def test_on_aws_option_errors(extra: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    arguments = [
        "send",
        "--template",
        "t",
        "--segment",
        "s.jsonl",
        "--recommendations",
        "segment",
        "--campaign-id",
        "c",
        "--on-aws",
        *extra,
    ]
    assert main(arguments) == 1
    assert message in capsys.readouterr().err


def test_pinrec_send_on_aws_end_to_end(
    moto_aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from campaign_tools.commands import send as send_command
    from campaign_tools.send.ledger import ClaimPolicy
    from campaign_tools.send.ledger_dynamodb import DynamoDbLedger

    boto3.client("s3").create_bucket(Bucket="segments")
    create_ledger_table(boto3.client("dynamodb"), "aws-run-ledger")
    ledger = DynamoDbLedger("aws-run-ledger", boto3.client("dynamodb"))
    for endpoint_id in ("a", "b", "c"):  # what the children record while the execution runs
        ledger.claim("autumn", endpoint_id, 1.0, ClaimPolicy("child"))
        ledger.mark_sent("autumn", endpoint_id, f"m-{endpoint_id}", 2.0)
    (tmp_path / "autumn.jsonl").write_text('{"Id": "a"}\n')
    sfn = boto3.client("stepfunctions", endpoint_url="https://states.us-east-1.amazonaws.com")
    stubber = Stubber(sfn)
    started: list[dict[str, Any]] = []
    sfn.meta.events.register("before-parameter-build.sfn.StartExecution", lambda params, **_: started.append(params))
    stubber.add_response("start_execution", {"executionArn": EXECUTION, "startDate": "2026-11-23T12:00:00Z"})
    stubber.add_response(
        "describe_execution",
        {
            "executionArn": EXECUTION,
            "stateMachineArn": MACHINE,
            "status": "SUCCEEDED",
            "startDate": "2026-11-23T12:00:00Z",
        },
    )
    stubber.add_response("list_map_runs", {"mapRuns": []})
    monkeypatch.setattr(
        send_command, "boto_client", lambda service: sfn if service == "stepfunctions" else boto3.client(service)
    )
    arguments = [
        "send", "--on-aws", "--state-machine-arn", MACHINE, "--ledger", "dynamodb:aws-run-ledger",
        "--template", "recommended-for-you", "--segment", str(tmp_path / "autumn.jsonl"), "--bucket", "segments",
        "--campaign-id", "autumn", "--recommendations", "segment", "--deliver", "--from", "news@shop.example.com",
        "--rate", "20", "--max-concurrency", "4",
    ]  # fmt: skip
    with stubber:
        assert main(arguments) == 0
    assert "sent      3" in capsys.readouterr().out
    execution = json.loads(started[0]["input"])
    assert execution["segment"] == {"Bucket": "segments", "Key": "pinrec-send/autumn/autumn.jsonl"}
    assert execution["max_concurrency"] == 4 and execution["settings"]["rate"] == 5.0
    assert execution["settings"]["template"] == "recommended-for-you"
    body = boto3.client("s3").get_object(Bucket="segments", Key="pinrec-send/autumn/autumn.jsonl")["Body"].read()
    assert body == b'{"Id": "a"}\n'
