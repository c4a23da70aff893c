"""`pinrec send --on-aws`: the Step Functions template (cfn-lint) and how it wires the map, the child and the ledger;
the execution input; start and follow (Stubber for Step Functions, moto for the S3 upload); the CLI end to end."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from cfnlint.api import ManualArgs, lint_file
from cfnlint.decode.cfn_yaml import load as load_template

from campaign_tools.cli import main
from campaign_tools.packaging.bundle import TEMPLATE_ARCNAME
from campaign_tools.send import on_aws
from campaign_tools.send.child import LEDGER_TABLE_ENV, TEMPLATE_DIR_ENV
from campaign_tools.send.ledgers.base import ClaimPolicy
from campaign_tools.send.ledgers.dynamodb import DynamoDbLedger, create_ledger_table
from campaign_tools.send.settings import SendSettings
from tests.aws_fixtures import verify_ses_identity
from tests.conftest import write_catalog
from transformer.config import CONFIG_ENV_VAR

TEMPLATE = Path(__file__).resolve().parents[3] / "infra" / "send-statemachine.yaml"
LINT = ManualArgs(include_checks=["I"], regions=["us-east-1", "eu-west-1", "ap-south-1"])
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:pinrec-send"
EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:pinrec-send:spring-1"


def campaign_input(bucket: str, key: str, max_concurrency: int) -> dict[str, Any]:
    settings = SendSettings.model_validate({"campaign_id": "spring", "recommendations": "segment", "template": "t"})
    return on_aws.execution_input(bucket, key, on_aws.child_settings(settings, None, max_concurrency), max_concurrency)


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
    assert function["Handler"] == "handlers.send_batch.handler"
    module, _, name = function["Handler"].rpartition(".")
    assert callable(getattr(importlib.import_module(module), name)), "the send child's handler"
    variables = function["Environment"]["Variables"]
    assert set(variables) == {CONFIG_ENV_VAR, LEDGER_TABLE_ENV, TEMPLATE_DIR_ENV}
    assert variables[TEMPLATE_DIR_ENV] == f"/var/task/{TEMPLATE_ARCNAME}", "where pinrec package puts it"
    table = resources["LedgerTable"]["Properties"]
    assert [key["AttributeName"] for key in table["KeySchema"]] == ["campaign_id", "endpoint_id"]
    statements = resources["SendFunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    ledger = next(statement for statement in statements if statement["Sid"] == "Ledger")
    assert set(ledger["Action"]) == {
        "dynamodb:UpdateItem",
        "dynamodb:PutItem",
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
    }, "PutItem: the message-id item mark_sent writes for delivery events"
    payload = campaign_input("b", "k", 10)
    assert set(payload) == {"segment", "max_concurrency", "settings"}, "the paths the definition reads"


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
    payload = campaign_input(bucket, key, 10)
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


def write_config(folder: Path) -> Path:
    """The configuration the function was packaged with: the attributes recommended-for-you prints."""
    catalog = write_catalog(folder / "catalog.db", [{"id": "P1", "name": "Boots"}])
    fields = {"Title": "name", "ItemId": "id", "ImageUrl": "id", "Price": "id", "Url": "id"}
    attributes = "".join(f'[attributes.{name}]\nfield = "{field}"\n' for name, field in fields.items())
    (folder / "pinrec.toml").write_text(f'[store]\nkind = "sqlite"\npath = "{catalog}"\n{attributes}')
    return folder / "pinrec.toml"


def test_pinrec_send_on_aws_end_to_end(
    moto_aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from campaign_tools.commands import send as send_command

    boto3.client("s3").create_bucket(Bucket="segments")
    verify_ses_identity(boto3.client("sesv2"), "news@shop.example.com")
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
        send_command,
        "client_factory",
        lambda options: lambda service: sfn if service == "stepfunctions" else boto3.client(service),
    )
    arguments = [
        "send", "--on-aws", "--state-machine-arn", MACHINE, "--ledger", "dynamodb:aws-run-ledger",
        "--template", "recommended-for-you", "--segment", str(tmp_path / "autumn.jsonl"), "--bucket", "segments",
        "--campaign-id", "autumn", "--recommendations", "segment", "--deliver", "--from", "news@shop.example.com",
        "--rate", "20", "--max-concurrency", "4", "--config", str(write_config(tmp_path)),
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
    record = ledger.campaign_record("autumn")
    assert record is not None, "the CLI bound the campaign before starting the execution"
    assert "recommended-for-you" in record.binding and "rebind" not in execution["settings"]


def test_on_aws_checks_and_binds_the_campaign_once_before_starting_its_execution(
    moto_aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from campaign_tools.send.binding import CampaignBindingError
    from campaign_tools.send.parts import PreflightError
    from tests.campaign_tools.send.test_prebuilt import StepFunctions

    monkeypatch.chdir(tmp_path)
    write_config(tmp_path)
    verify_ses_identity(boto3.client("sesv2"), "news@shop.example.com")
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="segments")
    for name in ("autumn.jsonl", "winter.jsonl"):
        s3.put_object(Bucket="segments", Key=name, Body=b'{"Id": "a", "ChannelType": "EMAIL", "Address": "a@x.io"}\n')
    (tmp_path / "recs.jsonl").write_text('{"id": "a", "items": ["P1"]}\n')
    sfn = StepFunctions()

    def clients(service: str) -> Any:
        return sfn if service == "stepfunctions" else boto3.client(service)

    def settings(**values: Any) -> SendSettings:
        return SendSettings.model_validate(
            {
                "campaign_id": "autumn", "template": "recommended-for-you", "config": "pinrec.toml",
                "segment": "s3://segments/autumn.jsonl", "recommendations": "segment",
                "ledger": "dynamodb:on-aws-ledger", "deliver": True, "rate": 10,
                "sender": {"from_address": "news@shop.example.com"}, **values,
            }
        )  # fmt: skip

    with pytest.raises(PreflightError) as refused:
        on_aws.run_on_aws(settings(recommendations="file:recs.jsonl"), on_aws.StateMachine(MACHINE), clients)
    assert refused.value.problems == [
        "ledger dynamodb:on-aws-ledger: the table does not exist in this account and region: deploy "
        "infra/send-statemachine.yaml (its LedgerTable) or create a table with partition key campaign_id (S) and "
        "sort key endpoint_id (S)",
        "--recommendations file:recs.jsonl: the --on-aws children read it themselves, so it must be in S3 "
        "(file:s3://BUCKET/KEY)",
    ]
    assert sfn.inputs == [], "no execution starts"
    create_ledger_table(boto3.client("dynamodb"), "on-aws-ledger")
    on_aws.run_on_aws(settings(), on_aws.StateMachine(MACHINE), clients)
    assert len(sfn.inputs) == 1
    with pytest.raises(CampaignBindingError, match=r"segment: bound to jsonl s3://segments/autumn\.jsonl"):
        on_aws.run_on_aws(settings(segment="s3://segments/winter.jsonl"), on_aws.StateMachine(MACHINE), clients)
    assert len(sfn.inputs) == 1, "the campaign id is bound to the autumn segment: no second execution"
    on_aws.run_on_aws(
        settings(segment="s3://segments/winter.jsonl", rebind=True), on_aws.StateMachine(MACHINE), clients
    )
    assert len(sfn.inputs) == 2 and "rebind" not in sfn.inputs[-1]["settings"]
