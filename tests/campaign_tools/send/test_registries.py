"""Building a run from its settings: ledger and recommendation source registries, each channel's default pace, and
the deliverer `SendRun` chooses."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from campaign_tools.channels import registry as channel_registry
from campaign_tools.channels.addresses import registry as address_registry
from campaign_tools.channels.email import SesDeliverer
from campaign_tools.channels.push import PushDeliverer
from campaign_tools.events.ingest import suppressions_of
from campaign_tools.events.model import DeliveryEvent, EventKind
from campaign_tools.send.ledgers import registry as ledger_registry
from campaign_tools.send.ledgers.base import CampaignRecord, Claim, ClaimPolicy, LedgerKind, LedgerSummary, State
from campaign_tools.send.ledgers.dynamodb import DynamoDbLedger
from campaign_tools.send.ledgers.sqlite import SqliteLedger
from campaign_tools.send.outbox import OutboxDeliverer
from campaign_tools.send.recommendations import registry as source_registry
from campaign_tools.send.recommendations.base import IdType, Lookup, SourceKind, SourceOptions
from campaign_tools.send.recommendations.file import FileRecommendations
from campaign_tools.send.recommendations.personalize import PersonalizeRecommendations
from campaign_tools.send.recommendations.segment import SegmentRecommendations
from campaign_tools.send.run import SendRun
from campaign_tools.send.segments import SegmentEndpoint
from campaign_tools.send.settings import SendSettings
from campaign_tools.send.suppression import SuppressionCheck
from campaign_tools.suppression.base import Reason, Suppression
from campaign_tools.suppression.sqlite import SqliteSuppressionList
from tests.campaign_tools.channels.test_registry import FAX, FAX_ADDRESSES
from tests.campaign_tools.send.test_plugin import PLUGIN
from tests.fakes import ITEMS, write_recommendations, write_segment
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


def no_clients(service: str) -> Any:
    raise AssertionError(f"no AWS client expected, asked for {service}")


def test_default_rate_per_channel() -> None:
    email, sms, push = (channel_registry.channel(name) for name in ("email", "sms", "push"))
    assert email.default_rate(lambda _: ses_with_quota(40.0)) == (40.0, "40/s (SES MaxSendRate)")
    with pytest.raises(PinrecError, match=r"^cannot read the SES quota: pass --rate or grant ses:GetAccount$"):
        email.default_rate(lambda _: ses_with_quota(None))  # never a silent 1/s
    assert sms.default_rate(no_clients)[0] == 1.0
    assert push.default_rate(no_clients)[0] == 100.0


def test_ledger_specs(tmp_path: Path) -> None:
    ledger = ledger_registry.open_ledger(f"sqlite:{tmp_path / 'l.db'}", no_clients)
    assert isinstance(ledger, SqliteLedger)
    ledger.close()
    assert isinstance(ledger_registry.open_ledger("dynamodb:t", lambda service: object()), DynamoDbLedger)
    for bad in ("sqlite:", "dynamodb", "l.db"):
        with pytest.raises(PinrecError, match="--ledger must be"):
            ledger_registry.open_ledger(bad, no_clients)
        with pytest.raises(PinrecError, match="--ledger must be"):
            ledger_registry.check_spec(bad)


def test_recommendation_specs(tmp_path: Path) -> None:
    (tmp_path / "r.jsonl").write_text('{"id": "a", "items": ["P1"]}\n')
    options = SourceOptions(id_type=IdType.USER, per_message=3)
    assert isinstance(
        source_registry.open_source(f"file:{tmp_path / 'r.jsonl'}", options, no_clients), FileRecommendations
    )
    source = source_registry.open_source(
        "personalize:arn:aws:personalize:us-east-1:1:campaign/c", options, lambda service: object()
    )
    assert isinstance(source, PersonalizeRecommendations)
    assert isinstance(source_registry.open_source("segment", options, no_clients), SegmentRecommendations)
    for bad in ("personalize:", "segment:x", "s3:x", "file"):
        with pytest.raises(PinrecError, match="--recommendations must be"):
            source_registry.open_source(bad, options, no_clients)


@pytest.fixture
def config(tmp_path: Path, make_catalog: Callable[..., Path]) -> Path:
    path = tmp_path / "pinrec.toml"
    path.write_text(f'[store]\nkind = "sqlite"\npath = "{make_catalog(ITEMS)}"\n[attributes.Title]\nfield = "name"\n')
    return path


def send_run(
    tmp_path: Path, config: Path, clients: Callable[[str], Any], *, preflight: bool = True, **settings: Any
) -> SendRun:
    """A run of the test composer, its settings as `pinrec send` gives them (sender settings always present);
    `preflight=False` where the clients are stand-ins that cannot answer it (test_preflight.py checks it)."""
    values = {
        "campaign_id": "c",
        "composer": PLUGIN,
        "config": str(config),
        "recommendations": "segment",
        "ledger": f"sqlite:{tmp_path / 'ledger.db'}",
        "sender": {},
        **settings,
    }
    return SendRun(SendSettings.model_validate(values), clients=clients, preflight=preflight)


def test_deliverer_choice(tmp_path: Path, config: Path) -> None:
    clients: dict[str, object] = {}

    def factory(service: str) -> object:
        return clients.setdefault(service, object())

    with send_run(tmp_path, config, factory, outbox=str(tmp_path)) as outbox:
        assert isinstance(outbox.campaign.deliverer, OutboxDeliverer) and not clients
        assert outbox.pace == "unpaced (outbox)"
    email = {"deliver": True, "rate": 10, "sender": {"from_address": "a@b.example"}}
    with send_run(tmp_path, config, factory, preflight=False, **email) as ses:
        assert isinstance(ses.campaign.deliverer, SesDeliverer) and ses.campaign.deliverer.client is clients["sesv2"]
    push = {"channel": "push", "deliver": True, "rate": 10, "sender": {"application_id": "app"}}
    with send_run(tmp_path, config, factory, preflight=False, **push) as pushing:
        deliverer = pushing.campaign.deliverer
        assert isinstance(deliverer, PushDeliverer) and deliverer.client is clients["pinpoint"]
    with pytest.raises(PinrecError, match="--application-id"):
        send_run(tmp_path, config, factory, preflight=False, channel="push", deliver=True, rate=10)


def test_the_pace_is_the_rate_else_the_channel_s_default_when_delivering(tmp_path: Path, config: Path) -> None:
    sender = {"from_address": "a@b.example"}
    with send_run(
        tmp_path, config, lambda _: ses_with_quota(40.0), preflight=False, deliver=True, sender=sender
    ) as delivering:
        assert delivering.pace == "40/s (SES MaxSendRate)"
        assert delivering.campaign.pacer is not None
    with send_run(tmp_path, config, no_clients, rate=2.5) as paced:
        assert paced.pace == "2.5/s (--rate)"
    with send_run(tmp_path, config, no_clients, dry_run=True) as dry:
        assert dry.pace == "unpaced (dry run)" and dry.campaign.pacer is None


class MemoryLedger:
    """A toy ledger kind, as a new ledger module would define one: claims and records in a dict."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], str] = {}
        self.records: dict[str, CampaignRecord] = {}

    def describe(self) -> str:
        return "memory"

    def claim(self, campaign_id: str, endpoint_id: str, now: float, policy: ClaimPolicy) -> Claim:
        if self.rows.get((campaign_id, endpoint_id)) == State.SENT:
            return Claim.ALREADY_SENT
        self.rows[(campaign_id, endpoint_id)] = State.PENDING
        return Claim.CLAIMED

    def claim_many(
        self, campaign_id: str, endpoint_ids: Sequence[str], now: float, policy: ClaimPolicy
    ) -> dict[str, Claim]:
        return {endpoint_id: self.claim(campaign_id, endpoint_id, now, policy) for endpoint_id in endpoint_ids}

    def mark_sent(self, campaign_id: str, endpoint_id: str, message_id: str, now: float) -> None:
        self.rows[(campaign_id, endpoint_id)] = State.SENT

    def mark_sent_many(self, campaign_id: str, sent: Sequence[tuple[str, str]], now: float) -> None:
        for endpoint_id, message_id in sent:
            self.mark_sent(campaign_id, endpoint_id, message_id, now)

    def mark_failed(self, campaign_id: str, endpoint_id: str, reason: str, now: float) -> None:
        self.rows[(campaign_id, endpoint_id)] = State.FAILED

    def mark_skipped(self, campaign_id: str, endpoint_id: str, reason: str, now: float) -> None:
        self.rows.setdefault((campaign_id, endpoint_id), State.SKIPPED)

    def sent_among(self, campaign_id: str, endpoint_ids: list[str]) -> set[str]:
        return {endpoint for endpoint in endpoint_ids if self.rows.get((campaign_id, endpoint)) == State.SENT}

    def summary(self, campaign_id: str, now: float, lease_seconds: float) -> LedgerSummary:
        return LedgerSummary(campaign_id)

    def campaign_record(self, campaign_id: str) -> CampaignRecord | None:
        return self.records.get(campaign_id)

    def bind_campaign(self, campaign_id: str, binding: str, now: float, *, replace: bool = False) -> CampaignRecord:
        if replace or campaign_id not in self.records:
            self.records[campaign_id] = CampaignRecord(campaign_id, binding, now, now)
        return self.records[campaign_id]

    def rows_in(self, campaign_id: str, state: State) -> list[str]:
        return [endpoint for (campaign, endpoint), row in self.rows.items() if campaign == campaign_id and row == state]

    def close(self) -> None:
        return None


def test_a_new_ledger_kind_is_one_module_and_one_registry_entry(
    tmp_path: Path, config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    memory = MemoryLedger()
    kind = LedgerKind("memory", "memory:NAME", lambda target, clients, durable: memory)  # type: ignore[arg-type,return-value]
    monkeypatch.setattr(ledger_registry, "KINDS", (*ledger_registry.KINDS, kind))
    write_segment(tmp_path / "segment.jsonl", 3)
    write_recommendations(tmp_path / "recs.jsonl", 3)
    settings = {"segment": str(tmp_path / "segment.jsonl"), "recommendations": f"file:{tmp_path / 'recs.jsonl'}"}
    with send_run(tmp_path, config, no_clients, outbox=str(tmp_path / "out"), ledger="memory:x", **settings) as send:
        summary = send.run()
    assert summary.sent == 3 and sorted(memory.rows_in("c", State.SENT)) == ["ep-0", "ep-1", "ep-2"]
    assert list(memory.records) == ["c"], "the campaign was bound when it first wrote a row"
    with pytest.raises(PinrecError, match="--ledger must be sqlite:PATH or dynamodb:TABLE or memory:NAME"):
        ledger_registry.check_spec("nope:x")


class FixedSource:
    """A toy recommendation source kind: every endpoint gets the same items."""

    def __init__(self, items: list[str]) -> None:
        self.items = items

    def lookup(self, endpoints: Sequence[SegmentEndpoint]) -> Lookup:
        return Lookup({endpoint.endpoint_id: list(self.items) for endpoint in endpoints}, {})

    def describe(self) -> str:
        return "fixed items"

    def report(self) -> list[str]:
        return ["  fixed: the same items for everyone"]


def test_a_new_recommendation_source_is_one_module_and_one_registry_entry(
    tmp_path: Path, config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kind = SourceKind("fixed", "fixed:ITEMS", lambda target, options, clients: FixedSource(target.split(",")))
    monkeypatch.setattr(source_registry, "KINDS", (*source_registry.KINDS, kind))
    write_segment(tmp_path / "segment.jsonl", 2)
    out = tmp_path / "out"
    with send_run(
        tmp_path,
        config,
        no_clients,
        outbox=str(out),
        recommendations="fixed:P1,P2",
        segment=str(tmp_path / "segment.jsonl"),
    ) as send:
        summary = send.run()
        assert send.parts.recommendations.report() == ["  fixed: the same items for everyone"]
    assert summary.sent == 2 and len(list((out / "c").glob("*.eml"))) == 2
    assert "or fixed:ITEMS" in source_registry.usage()


def test_a_new_channel_s_addresses_normalise_through_its_own_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ValueError, match="unknown channel 'fax'"):
        DeliveryEvent("ev-0", "fax", EventKind.COMPLAINT, 1.0, "m-0")
    monkeypatch.setattr(channel_registry, "CHANNELS", (*channel_registry.CHANNELS, FAX))
    monkeypatch.setattr(address_registry, "CHANNELS", (*address_registry.CHANNELS, FAX_ADDRESSES))
    assert channel_registry.channel("fax").normalise_address(" +1 (555) 0100 ") == "15550100"
    listed = SqliteSuppressionList(tmp_path / "suppression.db")
    listed.add([Suppression("fax", "+1 (555) 0100", Reason.MANUAL, 1.0, "pinrec suppression add")])
    assert [entry.address for entry in listed.entries("fax")] == ["15550100"], "stored as the fax module spells it"
    assert set(listed.lookup("fax", ["+1-555-0100", "+15550199"])) == {"+1-555-0100"}
    complaint = DeliveryEvent("ev-1", "fax", EventKind.COMPLAINT, 2.0, "m-1", recipient=" +1.555.0102")
    assert [(entry.channel, entry.address) for entry in suppressions_of([complaint])] == [("fax", "15550102")]
    listed.add(suppressions_of([complaint]))
    endpoints = [
        SegmentEndpoint(1, "ep-0", {"ChannelType": "FAX", "Address": "+15550100"}),
        SegmentEndpoint(2, "ep-1", {"ChannelType": "FAX", "Address": "+15550101"}),
        SegmentEndpoint(3, "ep-2", {"ChannelType": "FAX", "Address": "+1555.0102"}),
    ]
    assert SuppressionCheck(listed, FAX, None).skips(endpoints) == {
        "ep-0": "suppressed:manual",
        "ep-2": "suppressed:complaint",
    }
    listed.close()
