"""A whole campaign run in-process: real segment file, file recommendations, the real transformer over a SQLite
catalog, a test composer, a recording deliverer, and the real SQLite ledger."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from campaign_tools.channels import registry as channel_registry
from campaign_tools.channels.base import Delivered, DeliveryError, Message
from campaign_tools.channels.email import EmailSender, EmailSettings
from campaign_tools.send.dry_run import DryRunDeliverer
from campaign_tools.send.ledgers.base import ClaimPolicy
from campaign_tools.send.ledgers.null import NullLedger
from campaign_tools.send.ledgers.sqlite import SqliteLedger
from campaign_tools.send.pacing import Backoff, TokenBucket
from campaign_tools.send.pipeline import CampaignRun, DeliveryStopped, RunSummary
from campaign_tools.send.recommendations.base import IdType
from campaign_tools.send.recommendations.file import FileRecommendations
from campaign_tools.send.segments import SegmentStats, read_segment
from tests.campaign_tools.send.test_plugin import PlainComposer
from tests.conftest import config_for
from tests.fakes import ITEMS, FakeClock, write_recommendations, write_segment
from transformer.errors import CatalogUnavailableError, PinrecError
from transformer.service import Transformer

EMAIL = channel_registry.channel("email")


class RecordingDeliverer:
    """Records deliveries; `script[endpoint_id]` lists errors to raise on successive attempts."""

    idempotent = False

    def __init__(self, script: dict[str, list[DeliveryError]] | None = None) -> None:
        self.delivered: list[tuple[str, Message]] = []
        self.script = script or {}

    def describe(self) -> str:
        return "recording"

    def deliver(self, campaign_id: str, endpoint_id: str, message: Message) -> Delivered:
        errors = self.script.get(endpoint_id)
        if errors:
            raise errors.pop(0)
        self.delivered.append((endpoint_id, message))
        return Delivered(f"m-{endpoint_id}")


@pytest.fixture
def campaign(tmp_path: Path, make_catalog: Callable[..., Path]) -> Callable[..., RunSummary]:
    catalog = make_catalog(ITEMS)
    config = config_for(catalog, {"Title": {"field": "name"}})
    transformer = Transformer(config)

    def run(
        deliverer: Any,
        count: int = 120,
        *,
        ledger: Any = None,
        missing: tuple[int, ...] = (),
        extra: dict[str, dict[str, Any]] | None = None,
        composer: Any = None,
        **options: Any,
    ) -> RunSummary:
        segment = write_segment(tmp_path / "segment.jsonl", count, **(extra or {}))
        recommendations = FileRecommendations(
            str(write_recommendations(tmp_path / "recs.jsonl", count, missing)), IdType.ENDPOINT, 2
        )
        ledger = ledger if ledger is not None else SqliteLedger(tmp_path / "ledger.db")
        run = CampaignRun(
            campaign_id="spring",
            recommendations=recommendations,
            enricher=transformer,
            composer=composer or PlainComposer("email"),
            deliverer=deliverer,
            ledger=ledger,
            claim_policy=options.pop("claim_policy", ClaimPolicy("run", reclaim_pending=deliverer.idempotent)),
            sleep=lambda _: None,
            **options,
        )
        stats = run.summary.segment
        try:
            return run.run(read_segment(str(segment), EMAIL, stats, on_skip=run.record_segment_skip))
        finally:
            ledger.close()

    return run


def test_every_eligible_endpoint_gets_one_enriched_message(campaign: Callable[..., RunSummary], tmp_path: Path) -> None:
    deliverer = RecordingDeliverer()
    summary = campaign(deliverer, 120, missing=(7,), extra={"ep-3": {"OptOut": "ALL"}})
    assert summary.sent == 118
    assert summary.all_skipped() == {"opted_out": 1, "no_recommendations": 1}
    assert sorted(endpoint for endpoint, _ in deliverer.delivered) == sorted(
        f"ep-{n}" for n in range(120) if n not in (3, 7)
    )
    _, message = next(item for item in deliverer.delivered if item[0] == "ep-10")
    assert message.subject == "Picked for you, Name10"
    assert message.text == "Hi Name10\nProduct 2\nProduct 9", "per-message 2: the unknown third id never arrives"
    ledger = SqliteLedger(tmp_path / "ledger.db")
    status = ledger.summary("spring", 2e9, 900)
    assert (status.sent, status.skipped) == (118, {"opted_out": 1, "no_recommendations": 1})


def test_a_rerun_sends_nothing_twice_and_retries_failures(campaign: Callable[..., RunSummary]) -> None:
    first = RecordingDeliverer({"ep-5": [DeliveryError("ses_MessageRejected")]})
    summary = campaign(first, 60)
    assert (summary.sent, summary.failed) == (59, {"ses_MessageRejected": 1})
    second = RecordingDeliverer()
    summary = campaign(second, 60)
    assert [endpoint for endpoint, _ in second.delivered] == ["ep-5"]
    assert summary.sent == 1 and summary.skipped == {"already_sent": 59}


def test_throttling_backs_off_and_retries_in_the_same_run(campaign: Callable[..., RunSummary]) -> None:
    throttled = [DeliveryError("ses_TooManyRequestsException", throttled=True) for _ in range(2)]
    exhausted = [DeliveryError("ses_TooManyRequestsException", throttled=True) for _ in range(3)]
    deliverer = RecordingDeliverer({"ep-1": throttled, "ep-2": exhausted})
    summary = campaign(deliverer, 5, backoff=Backoff(max_attempts=3))
    assert summary.sent == 4 and summary.throttled_retries == 4
    assert summary.failed == {"ses_TooManyRequestsException": 1}


def test_a_fatal_provider_error_stops_the_run_and_a_rerun_resumes(campaign: Callable[..., RunSummary]) -> None:
    deliverer = RecordingDeliverer({"ep-60": [DeliveryError("ses_SendingPausedException", fatal=True)]})
    with pytest.raises(DeliveryStopped, match="SendingPausedException"):
        campaign(deliverer, 150, workers=1)
    assert len(deliverer.delivered) == 60, "the batches after the stop are not sent"
    resumed = RecordingDeliverer()
    summary = campaign(resumed, 150, workers=1)
    assert summary.sent == 90 and summary.skipped == {"already_sent": 60}


def test_compose_failures_are_recorded_and_the_campaign_goes_on(
    campaign: Callable[..., RunSummary], tmp_path: Path
) -> None:
    extra = {"ep-2": {"User": {"UserId": "u-2", "UserAttributes": {"FirstName": ["FAIL"]}}}}
    summary = campaign(RecordingDeliverer(), 10, extra=extra)
    assert summary.sent == 9 and summary.failed == {"test_compose_failure": 1}
    assert SqliteLedger(tmp_path / "ledger.db").summary("spring", 2e9, 900).failed == {"test_compose_failure": 1}


def test_transformer_left_out_endpoints_are_skipped_with_its_reason(
    tmp_path: Path, make_catalog: Callable[..., Path]
) -> None:
    recommendations = tmp_path / "only-unknown.jsonl"
    recommendations.write_text(json.dumps({"id": "ep-0", "items": ["NOPE"]}) + "\n")
    config = config_for(make_catalog(ITEMS, name="c2.db"), {"Title": {"field": "name"}})
    run = CampaignRun(
        campaign_id="other",
        recommendations=FileRecommendations(str(recommendations), IdType.ENDPOINT, 5),
        enricher=Transformer(config),
        composer=PlainComposer("email"),
        deliverer=RecordingDeliverer(),
        ledger=NullLedger(),
        claim_policy=ClaimPolicy("r"),
    )
    result = run.run(read_segment(str(write_segment(tmp_path / "one.jsonl", 1)), EMAIL, SegmentStats()))
    assert result.sent == 0 and result.skipped == {"transformer_too_few_items": 1}


def test_dry_run_counts_without_delivering_or_recording(campaign: Callable[..., RunSummary], tmp_path: Path) -> None:
    summary = campaign(DryRunDeliverer(EmailSender(EmailSettings())), 30, ledger=NullLedger(), dry_run=True)
    assert summary.sent == 30 and summary.dry_run
    assert sorted(path.name for path in tmp_path.iterdir()) == ["catalog.db", "recs.jsonl", "segment.jsonl"]


def test_pacing_spaces_deliveries(campaign: Callable[..., RunSummary]) -> None:
    clock = FakeClock(start=0.0)
    pacer = TokenBucket(20, clock=clock, sleep=clock.sleep)
    summary = campaign(RecordingDeliverer(), 41, pacer=pacer, workers=1)
    assert summary.sent == 41 and clock.now == pytest.approx(2.0)


def test_in_doubt_messages_wait_for_an_explicit_retry(campaign: Callable[..., RunSummary], tmp_path: Path) -> None:
    """A run that died between delivering (SES: no idempotency token) and recording leaves `pending` rows."""
    crashed = SqliteLedger(tmp_path / "ledger.db")
    crashed.claim("spring", "ep-2", 1000.0, ClaimPolicy("dead-run", lease_seconds=60))
    crashed.close()
    deliverer = RecordingDeliverer()
    summary = campaign(deliverer, 4, claim_policy=ClaimPolicy("run-2", lease_seconds=60))
    assert "ep-2" not in [endpoint for endpoint, _ in deliverer.delivered]
    assert summary.skipped == {"in_doubt": 1}, "past the lease: in doubt, not resent by default"
    retry = RecordingDeliverer()
    summary = campaign(retry, 4, claim_policy=ClaimPolicy("run-3", lease_seconds=60, reclaim_expired=True))
    assert [endpoint for endpoint, _ in retry.delivered] == ["ep-2"] and summary.sent == 1


class RefusingEnricher:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def enrich_event(self, event: object) -> Any:
        raise self.error


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (CatalogUnavailableError("store down"), "catalog_unavailable"),
        (PinrecError("ranking unavailable"), "transformer_PinrecError"),
    ],
)
def test_a_batch_the_transformer_refuses_fails_alone(error: Exception, reason: str) -> None:
    from campaign_tools.send.batch import prepare_batch
    from campaign_tools.send.recommendations.base import Lookup
    from campaign_tools.send.segments import SegmentEndpoint

    endpoints = [SegmentEndpoint(1, "a", {"Address": "a@x.org"}), SegmentEndpoint(2, "b", {"Address": "b@x.org"})]
    lookup = Lookup({"a": ["P1"]}, {"b": "no_recommendations"})
    batch = prepare_batch(endpoints, lookup, RefusingEnricher(error), PlainComposer("email"))
    assert batch.failed == {"a": reason} and batch.skipped == {"b": "no_recommendations"} and not batch.messages


def test_an_endpoint_listed_twice_gets_one_message(tmp_path: Path, make_catalog: Callable[..., Path]) -> None:
    segment = write_segment(tmp_path / "segment.jsonl", 60)
    lines = segment.read_text().splitlines()
    segment.write_text("\n".join([lines[0], lines[0], *lines[1:], lines[0]]) + "\n")  # twice in batch 1, once in 2
    config = config_for(make_catalog(ITEMS), {"Title": {"field": "name"}})
    deliverer = RecordingDeliverer()
    run = CampaignRun(
        campaign_id="dupes",
        recommendations=FileRecommendations(str(write_recommendations(tmp_path / "r.jsonl", 60)), IdType.ENDPOINT, 2),
        enricher=Transformer(config),
        composer=PlainComposer("email"),
        deliverer=deliverer,
        ledger=SqliteLedger(tmp_path / "dupes.db"),
        claim_policy=ClaimPolicy("r"),
    )
    summary = run.run(read_segment(str(segment), EMAIL, run.summary.segment))
    assert [endpoint for endpoint, _ in deliverer.delivered].count("ep-0") == 1
    assert summary.sent == 60 and summary.skipped == {"duplicate_in_batch": 1, "already_sent": 1}


class LocalDeliverer(RecordingDeliverer):
    """An idempotent deliverer doing local work (as the outbox): claimed batches are delivered one by one."""

    idempotent = True
    concurrent = False


def test_the_next_batch_is_prepared_while_a_claimed_batch_is_delivered(
    campaign: Callable[..., RunSummary], tmp_path: Path
) -> None:
    """The first delivery waits until the second batch is being prepared: without the overlap it would wait alone."""
    second_batch_prepared = threading.Event()
    seen_while_delivering: list[bool] = []

    class WaitingDeliverer(LocalDeliverer):
        def deliver(self, campaign_id: str, endpoint_id: str, message: Message) -> Delivered:
            if not seen_while_delivering:
                seen_while_delivering.append(second_batch_prepared.wait(timeout=10))
            return super().deliver(campaign_id, endpoint_id, message)

    class NoticingComposer(PlainComposer):
        def compose(self, endpoint_id: str, endpoint: Any) -> Any:
            if endpoint_id == "ep-50":
                second_batch_prepared.set()
            return super().compose(endpoint_id, endpoint)

    deliverer = WaitingDeliverer()
    summary = campaign(deliverer, 100, composer=NoticingComposer("email"))
    assert seen_while_delivering == [True]
    assert summary.sent == 100 and len(deliverer.delivered) == 100
    assert SqliteLedger(tmp_path / "ledger.db").summary("spring", 2e9, 900).sent == 100


def test_a_fatal_error_in_a_batch_claims_and_records_nothing_of_the_batch_prepared_meanwhile(
    campaign: Callable[..., RunSummary], tmp_path: Path
) -> None:
    deliverer = LocalDeliverer({"ep-10": [DeliveryError("outbox_full", fatal=True)]})
    with pytest.raises(DeliveryStopped, match="outbox_full"):
        campaign(deliverer, 150, missing=(70,))
    ledger = SqliteLedger(tmp_path / "ledger.db")
    status = ledger.summary("spring", 2e9, 900)
    assert len(deliverer.delivered) == 10 and status.sent == 10, "the first batch's deliveries before the stop"
    assert status.failed == {"outbox_full": 1}
    assert status.skipped == {}, "ep-70 (no recommendations, second batch) is not recorded"
    assert ledger.sent_among("spring", [f"ep-{n}" for n in range(50, 150)]) == set()
    resumed = LocalDeliverer()
    summary = campaign(resumed, 150, missing=(70,))
    assert summary.sent == 139 and summary.skipped == {"already_sent": 10, "no_recommendations": 1}


def test_an_interrupt_while_a_batch_is_delivered_records_every_delivered_message(
    campaign: Callable[..., RunSummary], tmp_path: Path
) -> None:
    """Ctrl-C while the next batch composes: the messages delivered are recorded sent, the queued ones are not
    started, and the interrupt (not a delivery error) is what the caller sees."""
    delivering = threading.Event()

    class NoticedDeliverer(LocalDeliverer):
        def deliver(self, campaign_id: str, endpoint_id: str, message: Message) -> Delivered:
            delivered = super().deliver(campaign_id, endpoint_id, message)
            delivering.set()
            return delivered

    class InterruptedComposer(PlainComposer):
        def compose(self, endpoint_id: str, endpoint: Any) -> Any:
            if endpoint_id == "ep-60":
                assert delivering.wait(timeout=10)
                raise KeyboardInterrupt
            return super().compose(endpoint_id, endpoint)

    deliverer = NoticedDeliverer()
    with pytest.raises(KeyboardInterrupt):
        campaign(deliverer, 100, composer=InterruptedComposer("email"))
    ledger = SqliteLedger(tmp_path / "ledger.db")
    delivered = {endpoint for endpoint, _ in deliverer.delivered}
    assert 1 <= len(delivered) <= 50 and delivered <= {f"ep-{n}" for n in range(50)}
    assert ledger.sent_among("spring", [f"ep-{n}" for n in range(100)]) == delivered
