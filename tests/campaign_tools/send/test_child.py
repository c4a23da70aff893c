"""The send child Lambda (`campaign_tools.send.child`), one Distributed Map batch against moto's server (SES,
DynamoDB): sent once even when retried, composed from the template bundled with it, settings validated as
`pinrec send` validates them."""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from cfnlint.decode.cfn_yaml import load as load_template

from campaign_tools.channels.email import EmailSettings
from campaign_tools.channels.push import PushSettings
from campaign_tools.channels.sms import SmsSettings
from campaign_tools.cli import build_parser
from campaign_tools.commands.send import settings_from
from campaign_tools.send import child, on_aws
from campaign_tools.send.child import LEDGER_TABLE_ENV, TEMPLATE_DIR_ENV, handle
from campaign_tools.send.ledgers.dynamodb import create_ledger_table
from tests.campaign_tools.send.test_plugin import PLUGIN
from tests.fakes import ITEMS
from transformer.config import CONFIG_ENV_VAR
from transformer.errors import PinrecError

STATE_MACHINE = Path(__file__).resolve().parents[3] / "infra" / "send-statemachine.yaml"


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
    child.clear_warm_state()  # clients made for an earlier test's moto server
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
    "composer": PLUGIN,
    "sender": {"from_address": "news@shop.example.com"},
    "rate": 1000,
}


def handler(event: dict[str, Any]) -> dict[str, Any]:
    return handle(event, os.environ)


def lambda_entry_point() -> Callable[[dict[str, Any], object], dict[str, Any]]:
    """The function infra/send-statemachine.yaml names as the send child's Handler."""
    function = load_template(str(STATE_MACHINE))["Resources"]["SendFunction"]["Properties"]
    module, _, name = function["Handler"].rpartition(".")
    return getattr(importlib.import_module(module), name)


def test_the_function_the_template_names_sends_a_batch_called_as_lambda_calls_it(child_environment: Any) -> None:
    before = len(child_environment.sent_messages)
    event = {"Items": records(5), "BatchInput": {"settings": SETTINGS}}
    result = lambda_entry_point()(event, object())
    assert result["sent"] == 4 and result["skipped"] == {"opted_out": 1}
    assert len(child_environment.sent_messages) == before + 4


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
    path = Path(os.environ[CONFIG_ENV_VAR]).parent / "recs.jsonl"
    path.write_text("".join(json.dumps({"id": item["Id"], "items": ["P1"]}) + "\n" for item in items))
    return path


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"BatchInput": {"settings": SETTINGS}}, "no Items list"),
        ({"Items": [], "BatchInput": {"settings": {**SETTINGS, "colour": "red"}}}, "--colour: Extra inputs"),
        (
            {"Items": [], "BatchInput": {"settings": {"campaign_id": "x y", "recommendations": "segment"}}},
            "campaign id",
        ),
        ({"Items": records(51), "BatchInput": {"settings": SETTINGS}}, "at most 50"),
        ({"Items": [], "BatchInput": {"settings": {**SETTINGS, "channel": "fax"}}}, "--channel: unknown channel 'fax'"),
        (
            {"Items": [], "BatchInput": {"settings": {**SETTINGS, "per_message": 1, "pages": 2}}},
            "--pages: Extra inputs",
        ),
    ],
)
def test_child_refuses_bad_events(child_environment: Any, event: dict[str, Any], message: str) -> None:
    with pytest.raises(PinrecError, match=message):
        handler(event)


SENDER_FLAGS = {
    "email": (["--from", "news@shop.example.com", "--configuration-set", "marketing"], EmailSettings),
    "sms": (
        ["--origination-identity", "+15550199", "--sms-type", "TRANSACTIONAL", "--sms-max-parts", "3"],
        SmsSettings,
    ),
    "push": (["--application-id", "app-1"], PushSettings),
}
SENDER_SETTINGS = {
    "email": {"from_address": "news@shop.example.com", "configuration_set": "marketing"},
    "sms": {"origination_identity": "+15550199", "message_type": "TRANSACTIONAL", "max_parts": 3},
    "push": {"application_id": "app-1"},
}


@pytest.mark.parametrize("channel", sorted(SENDER_FLAGS))
def test_the_cli_s_settings_validate_in_the_child_to_the_same_campaign_settings(channel: str) -> None:
    sender_flags, sender_model = SENDER_FLAGS[channel]
    arguments = build_parser().parse_args(
        [
            "send", "--on-aws", "--max-concurrency", "4", "--campaign-id", "c", "--channel", channel,
            "--template", "recommended-for-you", "--segment", "s3://segments/spring.jsonl",
            "--recommendations", "personalize:arn:aws:personalize:us-east-1:1:campaign/c", "--id-type", "user",
            "--per-message", "3", "--filter-arn", "arn:aws:personalize:us-east-1:1:filter/f",
            "--filter-value", 'CATEGORY="shoes"', "--rate", "10", "--retry-pending", "--lease-seconds", "60",
            "--deliver", "--ledger", "dynamodb:campaign-ledger", "--workers", "16", "--region", "eu-west-1",
            *sender_flags,
        ]
    )  # fmt: skip
    settings = settings_from(arguments)
    assert settings.sender == sender_model(**SENDER_SETTINGS[channel]), "the channel's flags, in its own model"
    execution = on_aws.execution_input("b", "k", on_aws.child_settings(settings, None, 4), 4)
    payload = json.loads(json.dumps(execution))
    environment = {LEDGER_TABLE_ENV: "child-ledger", CONFIG_ENV_VAR: "/var/task/pinrec.toml"}
    in_child = child.child_settings(payload["settings"], environment)
    local_only = set(on_aws.LOCAL_ONLY)
    assert in_child.model_dump(exclude=local_only) == {
        **settings.model_dump(exclude=local_only),
        "rate": 2.5,
    }, "the campaign's settings, each child pacing at its share of the rate"
    assert in_child.sender == settings.sender and type(in_child.sender) is sender_model
    assert (in_child.deliver, in_child.ledger, in_child.config) == (
        True,
        "dynamodb:child-ledger",
        "/var/task/pinrec.toml",
    )
