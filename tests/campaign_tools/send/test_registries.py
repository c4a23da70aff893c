"""Building a run from options: default pace per channel, ledger and recommendation specs, deliverer choice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from campaign_tools.send.assemble import default_rate, deliverer_for, open_ledger, recommendation_source
from campaign_tools.send.delivery_outbox import OutboxDeliverer
from campaign_tools.send.delivery_push import PushDeliverer, PushSettings
from campaign_tools.send.delivery_ses import EmailSettings, SesDeliverer
from campaign_tools.send.ledger_dynamodb import DynamoDbLedger
from campaign_tools.send.ledger_sqlite import SqliteLedger
from campaign_tools.send.messages import Channel
from campaign_tools.send.recommendations import FileRecommendations, IdType, PersonalizeRecommendations
from transformer.errors import PinrecError


def ses_with_quota(rate: float | None) -> Any:
    client = boto3.client("sesv2", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    if rate is None:
        stubber.add_client_error("get_account", "AccessDeniedException", http_status_code=403)
    else:
        stubber.add_response(
            "get_account", {"SendQuota": {"MaxSendRate": rate, "Max24HourSend": 1e5, "SentLast24Hours": 0}}
        )
    stubber.activate()
    return client


def test_default_rate_per_channel() -> None:
    assert default_rate(Channel.EMAIL, True, lambda _: ses_with_quota(40.0)) == (40.0, "40/s (SES MaxSendRate)")
    rate, source = default_rate(Channel.EMAIL, True, lambda _: ses_with_quota(None))
    assert rate == 1.0 and "pass --rate" in source
    assert default_rate(Channel.SMS, True)[0] == 1.0
    assert default_rate(Channel.PUSH, True)[0] == 100.0
    assert default_rate(Channel.EMAIL, False) == (None, "unpaced (outbox)")


def test_ledger_specs(tmp_path: Path) -> None:
    ledger = open_ledger(f"sqlite:{tmp_path / 'l.db'}")
    assert isinstance(ledger, SqliteLedger)
    ledger.close()
    assert isinstance(open_ledger("dynamodb:t", lambda service: object()), DynamoDbLedger)
    for bad in ("sqlite:", "dynamodb", "l.db"):
        with pytest.raises(PinrecError, match="--ledger must be"):
            open_ledger(bad)


def test_recommendation_specs(tmp_path: Path) -> None:
    (tmp_path / "r.jsonl").write_text('{"id": "a", "items": ["P1"]}\n')
    assert isinstance(
        recommendation_source(f"file:{tmp_path / 'r.jsonl'}", id_type=IdType.USER, per_message=3), FileRecommendations
    )
    source = recommendation_source(
        "personalize:arn:aws:personalize:us-east-1:1:campaign/c",
        id_type=IdType.USER,
        per_message=3,
        clients=lambda s: object(),
    )
    assert isinstance(source, PersonalizeRecommendations)
    with pytest.raises(PinrecError, match="--recommendations must be"):
        recommendation_source("personalize:", id_type=IdType.USER, per_message=3)


def test_deliverer_choice(tmp_path: Path) -> None:
    clients: dict[str, object] = {}

    def factory(service: str) -> object:
        clients[service] = object()
        return clients[service]

    outbox = deliverer_for(Channel.EMAIL, outbox=str(tmp_path), email=None, sms=None, push=None, clients=factory)
    assert isinstance(outbox, OutboxDeliverer) and not clients
    ses = deliverer_for(
        Channel.EMAIL, outbox=None, email=EmailSettings("a@b.example"), sms=None, push=None, clients=factory
    )
    assert isinstance(ses, SesDeliverer) and ses.client is clients["sesv2"]
    push = deliverer_for(Channel.PUSH, outbox=None, email=None, sms=None, push=PushSettings("app"), clients=factory)
    assert isinstance(push, PushDeliverer) and push.client is clients["pinpoint"]
    with pytest.raises(PinrecError, match="--application-id"):
        deliverer_for(Channel.PUSH, outbox=None, email=None, sms=None, push=None, clients=factory)
