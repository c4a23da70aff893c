"""`pinrec send --built DIR` (a template pre-built by `pinrec templates build`) writes exactly the messages
`--template NAME` writes, and `--on-aws` names the built template the child must bundle."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from campaign_tools.cli import main
from campaign_tools.send.ledgers.dynamodb import create_ledger_table
from campaign_tools.send.on_aws import StateMachine, run_on_aws
from campaign_tools.send.parts import PreflightError
from campaign_tools.send.settings import SendSettings
from tests.aws_fixtures import verify_ses_identity
from tests.campaign_tools.send.test_plugin import PLUGIN
from tests.fakes import ITEMS, undated, write_recommendations, write_segment

TEMPLATE = "recommended-for-you"
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:pinrec-send"


@pytest.fixture
def built_dir(tmp_path: Path) -> Path:
    assert main(["templates", "build", TEMPLATE, "--out", str(tmp_path / "built")]) == 0
    return tmp_path / "built"


@pytest.fixture
def workspace(tmp_path: Path, make_catalog: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    catalog = make_catalog(ITEMS)
    fields = {"Title": "name", "ItemId": "id", "ImageUrl": "id", "Price": "id", "Url": "id"}
    attributes = "".join(f'[attributes.{name}]\nfield = "{field}"\n' for name, field in fields.items())
    (tmp_path / "pinrec.toml").write_text(
        f'[store]\nkind = "sqlite"\npath = "{catalog}"\n{attributes}', encoding="utf-8"
    )
    (tmp_path / "title-only.toml").write_text(
        f'[store]\nkind = "sqlite"\npath = "{catalog}"\n[attributes.Title]\nfield = "name"\n', encoding="utf-8"
    )
    write_segment(tmp_path / "segment.jsonl", 12)
    write_recommendations(tmp_path / "recs.jsonl", 12)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def send(*extra: str) -> list[str]:
    return [
        "send",
        "--segment",
        "segment.jsonl",
        "--recommendations",
        "file:recs.jsonl",
        "--config",
        "pinrec.toml",
        "--campaign-id",
        "autumn",
        *extra,
    ]


@pytest.mark.parametrize(
    ("channel", "pool"), [("email", ()), ("sms", ()), ("email", ("--compose-processes", "2"))], ids=str
)
def test_send_built_writes_the_same_messages_as_send_template(
    workspace: Path, built_dir: Path, capsys: pytest.CaptureFixture[str], channel: str, pool: tuple[str, ...]
) -> None:
    if channel == "sms":
        phones = {f"ep-{n}": {"ChannelType": "SMS", "Address": f"+1206555{n:04d}"} for n in range(12)}
        write_segment(workspace / "segment.jsonl", 12, **phones)
    common = ("--channel", channel, "--sms-max-parts", "4")
    assert main(send("--template", TEMPLATE, "--outbox", "a", "--ledger", "sqlite:a.db", *common)) == 0
    assert main(send("--built", str(built_dir), "--outbox", "b", "--ledger", "sqlite:b.db", *common, *pool)) == 0
    from_source = {path.name: undated(path.read_bytes()) for path in (workspace / "a" / "autumn").iterdir()}
    from_built = {path.name: undated(path.read_bytes()) for path in (workspace / "b" / "autumn").iterdir()}
    assert len(from_source) == 12 and from_built == from_source
    assert capsys.readouterr().out.count("sent ") == 2


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--template", TEMPLATE, "--built", "x"], "not allowed with argument"),
        (["--built", "nowhere"], "nowhere is not a built template"),
        (["--built", "BUILT", "--templates-dir", "t"], "--templates-dir goes with --template"),
        ([], "needs --template or --built"),
        (["--built", "BUILT", "--config", "title-only.toml"], "uses attributes the recommender configuration does not"),
    ],
)
def test_send_built_option_errors(
    workspace: Path, built_dir: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    arguments = [str(built_dir) if value == "BUILT" else value for value in extra]
    with pytest.raises(SystemExit) if "not allowed" in message else contextlib.nullcontext():
        assert main(send(*arguments)) == 1
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert message in error


class StepFunctions:
    """Step Functions as `run_on_aws` calls it: every execution it starts has succeeded when first described."""

    def __init__(self) -> None:
        self.inputs: list[dict[str, Any]] = []

    def start_execution(self, **request: Any) -> dict[str, Any]:
        self.inputs.append(json.loads(request["input"]))
        return {"executionArn": f"{MACHINE}:{len(self.inputs)}"}

    def describe_execution(self, **request: Any) -> dict[str, Any]:
        return {"status": "SUCCEEDED"}

    def list_map_runs(self, **request: Any) -> dict[str, Any]:
        return {"mapRuns": []}


def on_aws_settings(**values: Any) -> SendSettings:
    return SendSettings.model_validate(
        {
            "campaign_id": "autumn",
            "config": "pinrec.toml",
            "recommendations": "segment",
            "segment": "s3://segments/autumn.jsonl",
            "ledger": "dynamodb:built-ledger",
            "deliver": True,
            "rate": 10,
            "sender": {"from_address": "news@shop.example.com"},
            **values,
        }
    )


def test_send_on_aws_with_built_names_the_template_the_child_must_bundle(
    built_dir: Path, workspace: Path, moto_aws: str
) -> None:
    create_ledger_table(boto3.client("dynamodb"), "built-ledger")
    verify_ses_identity(boto3.client("sesv2"), "news@shop.example.com")
    boto3.client("s3").create_bucket(Bucket="segments")
    boto3.client("s3").upload_file(str(workspace / "segment.jsonl"), "segments", "autumn.jsonl")
    sfn = StepFunctions()

    def clients(service: str) -> Any:
        return sfn if service == "stepfunctions" else boto3.client(service)

    run_on_aws(on_aws_settings(built=str(built_dir)), StateMachine(MACHINE), clients)
    assert sfn.inputs[-1]["settings"]["template"] == TEMPLATE
    with pytest.raises(PreflightError, match="is not a built template"):
        missing = on_aws_settings(campaign_id="winter", built=str(built_dir / "missing"))
        run_on_aws(missing, StateMachine(MACHINE), clients)
    assert len(sfn.inputs) == 1, "no execution starts for a folder that is not a built template"
    run_on_aws(on_aws_settings(campaign_id="spring", composer=PLUGIN), StateMachine(MACHINE), clients)
    assert "template" not in sfn.inputs[-1]["settings"]
