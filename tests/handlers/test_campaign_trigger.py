"""The campaign trigger Lambda on moto: an EventBridge event's detail sends the packaged campaign's message through
SES with the DynamoDB ledger, and its limits (kept in the ledger table) hold across events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from campaign_tools.campaigns import trigger_lambda
from campaign_tools.send.ledgers.dynamodb import DynamoDbLedger, create_ledger_table
from campaign_tools.send.run import client_factory
from tests.aws_fixtures import verify_ses_identity
from tests.campaign_tools.campaigns.event_campaigns import email_event_campaign
from transformer.aws import AwsOptions
from transformer.errors import PinrecError


def bridge(detail: dict[str, Any]) -> dict[str, Any]:
    return {"version": "0", "detail-type": "cart", "source": "pinrec.campaigns", "detail": detail}


def test_eventbridge_events_send_through_ses_within_the_daily_cap(moto_aws: str, tmp_path: Path) -> None:
    create_ledger_table(boto3.client("dynamodb"), "trigger-ledger")
    verify_ses_identity(boto3.client("sesv2"), "shop@example.com")
    file = email_event_campaign(tmp_path)
    environment = {"PINREC_CAMPAIGN": str(file), "PINREC_LEDGER_TABLE": "trigger-ledger"}
    clients = client_factory(AwsOptions())
    detail = {"endpoint_id": "ep-0", "event_type": "cart.abandoned", "timestamp": "2030-01-01T00:00:00Z"}
    first = trigger_lambda.handle(bridge(detail), environment, clients, tmp_path / "units")
    assert (first["status"], first["sent"]) == ("sent", 1)
    again = trigger_lambda.handle(
        bridge(detail | {"timestamp": "2030-01-01T01:00:00Z"}), environment, clients, tmp_path / "units"
    )
    assert again["sent"] == 0 and again["units"][0]["skipped"] == {"cap_daily": 1}
    ledger = DynamoDbLedger("trigger-ledger", boto3.client("dynamodb"))
    assert ledger.sent_among("cart.20300101T000000Z.default.email", ["ep-0"]) == {"ep-0"}
    other = trigger_lambda.handle(
        {"endpoint_id": "ep-1", "event_type": "page.view", "timestamp": "2030-01-01T00:00:00Z"},
        environment,
        clients,
        tmp_path / "units",
    )
    assert other["status"] == "no_match"


def test_the_function_needs_its_campaign_and_ledger() -> None:
    with pytest.raises(PinrecError, match="PINREC_CAMPAIGN and PINREC_LEDGER_TABLE not set"):
        trigger_lambda.settings_of({})
    assert trigger_lambda.app_event({"detail": {"a": 1}, "detail-type": "x"}) == {"a": 1}
    assert trigger_lambda.app_event(json.loads('"plain"')) == "plain"
