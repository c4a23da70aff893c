"""A send: the one entry point both `pinrec send` and the send Lambda (a Step Functions child) run.

Settings in, a summary out: read the segment (or take the records handed over), look up each endpoint's
recommendations, run the transformer core on batches of 50, compose each message, claim it in the ledger, deliver it
at the pace, record it. Everything a send needs is built here from its `SendSettings`, so the CLI and the Lambda
cannot drift apart.

Before the first message a send runs its preflight (`send.preflight`) and checks that its campaign id is bound to
what it sends (`send.binding`); then, delivering through a provider, it reconciles the rows earlier runs left in doubt
with their delivery events (`send.reconcile`). An `--on-aws` child skips all three, which the CLI did once before
starting the execution.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from campaign_tools.channels.base import ClientFactory, Deliverer
from campaign_tools.engagement.store import EngagementStore
from campaign_tools.send import preflight as send_preflight
from campaign_tools.send.binding import BoundLedger, binding_of, check_bound
from campaign_tools.send.compose import ComposerOptions
from campaign_tools.send.compose_pool import ComposerPool, InlineComposer
from campaign_tools.send.diagnosis import DominantReason, LeftOutSample, dominant_reason, explain_too_few_items
from campaign_tools.send.dry_run import DryRunDeliverer
from campaign_tools.send.ledgers import registry as ledger_registry
from campaign_tools.send.ledgers.base import ClaimPolicy, Ledger
from campaign_tools.send.ledgers.null import NullLedger
from campaign_tools.send.outbox import DEFAULT_OUTBOX, OutboxDeliverer
from campaign_tools.send.pacing import TokenBucket
from campaign_tools.send.parts import SendParts, prepare
from campaign_tools.send.pipeline import CampaignRun, RunSummary
from campaign_tools.send.recommendations.base import RecommendationSource
from campaign_tools.send.reconcile import ReconcilePolicy, Reconciliation, reconcile
from campaign_tools.send.segments import iter_endpoints, read_segment, records_from_items
from campaign_tools.send.settings import SendSettings, SettingsError
from campaign_tools.send.suppression import SuppressionCheck, choose, send_topic
from campaign_tools.suppression.base import SuppressionList
from campaign_tools.suppression.registry import open_suppression
from transformer.aws import AwsOptions, ClientTuning, client
from transformer.files import is_s3_url

SDK_ATTEMPTS = 4
"""Attempts per AWS request made by the SDK itself (standard retry mode), before pinrec's own backoff."""


def client_factory(options: AwsOptions) -> ClientFactory:
    """One client per service for the factory's life, made on first use (clients are thread-safe once made)."""
    clients: dict[str, Any] = {}
    lock = threading.Lock()

    def make(service: str) -> Any:
        with lock:
            if service not in clients:
                clients[service] = client(service, options, ClientTuning(attempts=SDK_ATTEMPTS))
            return clients[service]

    return make


def _pace(settings: SendSettings, clients: ClientFactory) -> tuple[float | None, str]:
    if settings.rate is not None:
        return settings.rate, f"{settings.rate:g}/s (--rate)"
    if settings.dry_run:
        return None, "unpaced (dry run)"
    if not settings.deliver:
        return None, "unpaced (outbox)"
    return settings.channel_object.default_rate(clients)


class SendRun:
    """One send, built from its settings; `run` it once, then `close` it (or use it as a context manager).

    `preflight`: check the send before its first message (PreflightError) and refuse a campaign id bound to something
    else (CampaignBindingError). False for an `--on-aws` child, whose CLI did both before starting the execution."""

    def __init__(
        self,
        settings: SendSettings,
        *,
        clients: ClientFactory | None = None,
        parts: SendParts | None = None,
        progress: Callable[[int], None] | None = None,
        preflight: bool = True,
    ) -> None:
        self.settings = settings
        clients = clients or client_factory(settings.aws.options())
        self._clients = clients
        self.checked: send_preflight.Preflight | None = None
        if preflight:
            self.parts, self.checked = send_preflight.preflight(settings, clients, parts)
        else:
            self.parts = parts or prepare(settings, clients)
        channel = settings.channel_object
        composer = self.parts.composer
        sender = channel.sender(settings.sender, composer, getattr(composer, "channel_settings", None))
        rate, self.pace = _pace(settings, clients)
        deliverer: Deliverer
        ledger: Ledger
        self._store: Ledger = NullLedger()
        """The ledger itself, unwrapped: what reconciliation reads (the campaign is bound when it has rows)."""
        if settings.dry_run:
            deliverer, ledger = DryRunDeliverer(sender), NullLedger()
        else:
            deliverer = (
                sender.provider(clients)
                if settings.deliver
                else OutboxDeliverer(settings.outbox or DEFAULT_OUTBOX, sender)
            )
            ledger = ledger_registry.open_ledger(settings.ledger, clients, durable=not deliverer.idempotent)
            self._store = ledger
            if preflight:
                ledger = _bound(ledger, settings, self.parts)
        self.ledger = ledger
        self._engagement: EngagementStore | None = None
        self.suppression_choice = choose(settings.suppression)
        self.suppressions: SuppressionList | None = None
        check: SuppressionCheck | None = None
        if self.suppression_choice.spec is not None:
            try:
                self.suppressions = open_suppression(self.suppression_choice.spec, clients, read_only=True)
            except BaseException:
                ledger.close()
                raise
            check = SuppressionCheck(self.suppressions, channel, send_topic(settings.topic, composer))
        self.reconciliation: Reconciliation | None = None
        self._reconciles = preflight and not settings.dry_run and not deliverer.idempotent
        self._left_out = LeftOutSample(self.parts.transformer)
        self._composers = (
            ComposerPool(settings.composer, self._composer_options(), settings.compose_processes)
            if settings.compose_processes > 1
            else InlineComposer(composer)
        )
        self.campaign = CampaignRun(
            campaign_id=settings.campaign_id,
            recommendations=self._recommendations(ledger),
            enricher=self._left_out,
            composer=self._composers,
            deliverer=deliverer,
            ledger=ledger,
            claim_policy=ClaimPolicy(
                run_id=uuid.uuid4().hex,
                lease_seconds=settings.lease_seconds,
                reclaim_pending=deliverer.idempotent,
                reclaim_expired=settings.retry_pending,
            ),
            pacer=TokenBucket(rate) if rate is not None else None,
            workers=settings.workers,
            dry_run=settings.dry_run,
            progress=progress,
            suppression=check,
        )

    def _composer_options(self) -> ComposerOptions:
        settings = self.settings
        return ComposerOptions(
            settings.template,
            settings.templates_dir,
            settings.channel,
            self.parts.config,
            built=settings.built,
            unsubscribe=settings.unsubscribe_request(),
            campaign_id=settings.campaign_id,
        )

    def _recommendations(self, ledger: Ledger) -> RecommendationSource:
        """The send's recommendation source; recording each recipient for click forwarding when its template tracks
        recommendation links and the ledger can keep the records (`campaign_tools.engagement.recording`)."""
        source = self.parts.recommendations
        template = getattr(self.parts.composer, "template", None)
        if getattr(self.parts.composer, "tracked_attribute", None) is None or template is None:
            return source
        from campaign_tools.engagement.recording import RecordingRecommendations
        from campaign_tools.engagement.store import engagement_store

        store = engagement_store(ledger)
        if store is None:
            return source
        self._engagement = store
        return RecordingRecommendations(source, store, self.settings.campaign_id, self.settings.id_type)

    @property
    def summary(self) -> RunSummary:
        return self.campaign.summary

    @property
    def notes(self) -> list[str]:
        """What the preflight found worth showing (warnings, the SES quota, ...)."""
        return self.checked.notes if self.checked is not None else []

    def dominant_reason(self) -> DominantReason | None:
        """The reason most of the run's rows were skipped or failed for, if one is (after `run`)."""
        return dominant_reason(
            self.summary,
            lambda: explain_too_few_items(
                list(self._left_out.item_ids), self.parts.transformer.store, self.parts.config
            ),
        )

    def describe(self) -> str:
        """One line: what is sent where, from which recommendations, recorded where, at what pace."""
        return (
            f"campaign {self.settings.campaign_id}: {self.settings.channel} via {self.campaign.deliverer.describe()}, "
            f"recommendations from {self.parts.recommendations.describe()}, ledger {self.ledger.describe()}, "
            f"suppression {self.suppression_choice.describe()}, pace {self.pace}"
        )

    def reconcile(self) -> Reconciliation | None:
        """Settle the rows earlier runs left in doubt by their delivery events (once, before the first message; a
        dry run, an outbox run and an `--on-aws` child reconcile nothing)."""
        if self._reconciles and self.reconciliation is None:
            policy = ReconcilePolicy(self.settings.lease_seconds, self.settings.event_grace_seconds)
            self.reconciliation = reconcile(self._store, self.settings.campaign_id, time.time(), policy)
        return self.reconciliation

    def run(self, records: Iterable[object] | None = None) -> RunSummary:
        """Send the segment's endpoints, or `records` (endpoint records handed over whole, one batch's worth)."""
        settings = self.settings
        self.reconcile()
        channel = settings.channel_object
        stats = self.campaign.summary.segment
        skip = self.campaign.record_segment_skip
        if records is not None:
            rows = records_from_items(records, settings.segment_format or "jsonl", settings.csv_list_separator)
            return self.campaign.run(iter_endpoints(rows, channel, stats, skip))
        if settings.segment is None:
            raise SettingsError("a send needs --segment (the endpoints to send to)")
        endpoints = read_segment(
            settings.segment,
            channel,
            stats,
            segment_format=settings.segment_format,
            list_separator=settings.csv_list_separator,
            s3_client=self._clients("s3") if is_s3_url(settings.segment) else None,
            on_skip=skip,
        )
        return self.campaign.run(endpoints)

    def close(self) -> None:
        self._composers.close()
        self.ledger.close()
        if self._engagement is not None:
            self._engagement.close()
        if self.suppressions is not None:
            self.suppressions.close()

    def __enter__(self) -> SendRun:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _bound(ledger: Ledger, settings: SendSettings, parts: SendParts) -> Ledger:
    """The ledger, binding the campaign when the run first writes a row; refused now when already bound elsewhere."""
    wanted = binding_of(settings, parts)
    if not settings.rebind:
        try:
            check_bound(ledger, settings.campaign_id, wanted)
        except BaseException:
            ledger.close()
            raise
    return BoundLedger(ledger, settings.campaign_id, wanted, rebind=settings.rebind)


def run_send(
    settings: SendSettings,
    *,
    records: Iterable[object] | None = None,
    clients: ClientFactory | None = None,
    parts: SendParts | None = None,
    preflight: bool = True,
) -> RunSummary:
    """Run one send to its end and return its summary (`preflight`: as `SendRun` takes it)."""
    with SendRun(settings, clients=clients, parts=parts, preflight=preflight) as send:
        return send.run(records)
