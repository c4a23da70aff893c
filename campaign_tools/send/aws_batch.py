"""What the Lambda behind `infra/send-statemachine.yaml` runs (its entry point is `handlers.send_batch.handler`): one
Distributed Map child sends one batch of up to 50 endpoints with the same pipeline as `pinrec send` (transformer core,
composer, delivery, DynamoDB ledger).

Event (Distributed Map with `ItemBatcher`): `{"Items": [endpoint records], "BatchInput": {"settings": {...}}}`;
`settings` carries the `pinrec send` options (see `BatchSettings`). Environment: `PINREC_CONFIG` (the
pinrec.toml packaged with the function), `PINREC_LEDGER_TABLE` and `PINREC_TEMPLATE_DIR` (the pre-built
template packaged with it: composing needs only the renderer; `settings.template`, when given, must name it).
A child that raises is retried by Step Functions; the ledger makes that retry send nobody a second message.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from typing import Any

from campaign_tools.send.assemble import (
    boto_client,
    check_campaign_id,
    deliverer_for,
    recommendation_source,
    sms_settings_for,
)
from campaign_tools.send.compose import ComposerOptions, make_composer
from campaign_tools.send.delivery_push import PushSettings
from campaign_tools.send.delivery_ses import EmailSettings
from campaign_tools.send.delivery_sms import SmsSettings
from campaign_tools.send.ledger import DEFAULT_LEASE_SECONDS, ClaimPolicy
from campaign_tools.send.ledger_dynamodb import DynamoDbLedger
from campaign_tools.send.messages import Channel, MessageComposer
from campaign_tools.send.pacing import TokenBucket
from campaign_tools.send.pipeline import CampaignRun, RunSummary
from campaign_tools.send.recommendations import IdType, RecommendationSource
from campaign_tools.send.segments import CsvLayout, MalformedRow, SegmentStats, iter_endpoints
from transformer.config import CONFIG_ENV_VAR, load_config
from transformer.errors import PinrecError
from transformer.limits import MAX_ENDPOINTS_PER_INVOCATION, MAX_ITEMS_PER_MESSAGE
from transformer.service import Transformer

TEMPLATE_DIR_ENV = "PINREC_TEMPLATE_DIR"
"""The pre-built template packaged with the function (`pinrec package --function send`): composed from as is."""


@dataclass(frozen=True)
class BatchSettings:
    """The `pinrec send` options a child needs; `--on-aws` writes them into the execution input."""

    campaign_id: str
    recommendations: str
    channel: str = "email"
    template: str | None = None
    composer: str | None = None
    id_type: str = "endpoint"
    per_message: int = MAX_ITEMS_PER_MESSAGE
    filter_arn: str | None = None
    filter_values: tuple[tuple[str, str], ...] = ()
    from_address: str | None = None
    configuration_set: str | None = None
    origination_identity: str | None = None
    sms_type: str = "PROMOTIONAL"
    sms_max_parts: int | None = None
    application_id: str | None = None
    rate: float | None = None
    """Messages per second for this child: the campaign's rate divided by the map's concurrency."""
    segment_format: str = "jsonl"
    csv_list_separator: str = "|"
    lease_seconds: float = DEFAULT_LEASE_SECONDS
    retry_pending: bool = False

    @classmethod
    def from_event(cls, value: object) -> BatchSettings:
        if not isinstance(value, Mapping):
            raise PinrecError("BatchInput.settings must be an object")
        known = {item.name for item in fields(cls)}
        unknown = sorted(set(value) - known)
        if unknown:
            raise PinrecError(f"BatchInput.settings has unknown keys: {', '.join(unknown)}")
        data = dict(value)
        data["filter_values"] = tuple(sorted(dict(data.get("filter_values") or {}).items()))
        try:
            settings = cls(**data)
        except TypeError as error:
            raise PinrecError(f"BatchInput.settings: {error}") from None
        check_campaign_id(settings.campaign_id)
        choices = {
            "channel": [channel.value for channel in Channel],
            "id_type": [kind.value for kind in IdType],
            "sms_type": ["PROMOTIONAL", "TRANSACTIONAL"],
            "segment_format": ["jsonl", "csv"],
        }
        for name, allowed in choices.items():
            if getattr(settings, name) not in allowed:
                raise PinrecError(f"BatchInput.settings.{name} must be one of {', '.join(allowed)}")
        return settings

    def to_input(self) -> dict[str, Any]:
        data = {item.name: getattr(self, item.name) for item in fields(self)}
        data["filter_values"] = dict(self.filter_values)
        return {key: value for key, value in data.items() if value is not None}


def records_from_items(items: Iterable[object], segment_format: str, separator: str) -> Iterator[tuple[int, object]]:
    """(position, record) per map item. CSV items arrive as header -> text objects and are unflattened here."""
    for position, item in enumerate(items, start=1):
        if segment_format != "csv":
            yield position, item
            continue
        if not isinstance(item, Mapping):
            yield position, MalformedRow("a CSV item must be an object")
            continue
        try:
            layout = CsvLayout([str(key) for key in item], separator)
            yield position, layout.record(["" if value is None else str(value) for value in item.values()])
        except (MalformedRow, PinrecError) as problem:
            yield position, MalformedRow(str(problem))


@functools.cache
def _parts(
    settings: BatchSettings, config_path: str | None, template_dir: str | None = None
) -> tuple[Transformer, MessageComposer, RecommendationSource]:
    """Built once per warm container and settings: the transformer keeps its cache across batches."""
    config = load_config(config_path)
    channel = Channel(settings.channel)
    options = ComposerOptions(settings.template, None, channel, config, built=template_dir or None)
    composer = make_composer(settings.composer, options)
    source = recommendation_source(
        settings.recommendations,
        id_type=IdType(settings.id_type),
        per_message=settings.per_message,
        filter_arn=settings.filter_arn,
        filter_values=dict(settings.filter_values),
        clients=warm_client,
    )
    return Transformer(config), composer, source


def _sms_settings(settings: BatchSettings, composer: MessageComposer) -> SmsSettings:
    return sms_settings_for(
        composer,
        max_parts=settings.sms_max_parts,
        origination_identity=settings.origination_identity,
        message_type=settings.sms_type,  # type: ignore[arg-type] - checked in from_event
        configuration_set=settings.configuration_set,
    )


@functools.cache
def warm_client(service: str) -> Any:
    """One boto3 client per service for the container's life: warm invocations skip client creation."""
    return boto_client(service)


def send_batch(items: list[object], settings: BatchSettings, table: str, clients: Any = warm_client) -> RunSummary:
    if len(items) > MAX_ENDPOINTS_PER_INVOCATION:
        raise PinrecError(f"a batch holds at most {MAX_ENDPOINTS_PER_INVOCATION} endpoints, got {len(items)}")
    transformer, composer, source = _parts(settings, os.environ.get(CONFIG_ENV_VAR), os.environ.get(TEMPLATE_DIR_ENV))
    channel = Channel(settings.channel)
    deliverer = deliverer_for(
        channel,
        outbox=None,
        email=EmailSettings(settings.from_address or "", settings.configuration_set) if settings.from_address else None,
        sms=_sms_settings(settings, composer) if channel is Channel.SMS else None,
        push=PushSettings(settings.application_id) if settings.application_id else None,
        clients=clients,
    )
    run = CampaignRun(
        campaign_id=settings.campaign_id,
        recommendations=source,
        enricher=transformer,
        composer=composer,
        deliverer=deliverer,
        ledger=DynamoDbLedger(table, clients("dynamodb")),
        claim_policy=ClaimPolicy(
            run_id=uuid.uuid4().hex, lease_seconds=settings.lease_seconds, reclaim_expired=settings.retry_pending
        ),
        pacer=TokenBucket(settings.rate) if settings.rate else None,
        workers=4,
    )
    stats: SegmentStats = run.summary.segment
    records = records_from_items(items, settings.segment_format, settings.csv_list_separator)
    return run.run(iter_endpoints(records, channel, stats, run.record_segment_skip))
