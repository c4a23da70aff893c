"""`pinrec engagement forward`: a campaign's tracked clicks (from the ledger's stored events) and, when asked, its
recipients' conversions about an item (`--conversion-type purchase`) to a Personalize event tracker, each once. The campaign id names a send, or a campaign whose units (`<campaign>.<slot>.<treatment>.
<channel>`) are all read. Run it after `pinrec events ingest` or on a schedule next to the events function: it
forwards what is queued (never forwarded), so a throttled or interrupted run loses nothing."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from pydantic import Field
from pydantic.dataclasses import dataclass as settings_dataclass

from campaign_tools.conversions import registry as conversions_registry
from campaign_tools.conversions.registry import DEFAULT_CONVERSIONS
from campaign_tools.engagement.forward import (
    DEFAULT_CLICK_EVENT_TYPE,
    Forwarder,
    ForwardReport,
    Interaction,
    SentTo,
    click_interactions,
    conversion_interactions,
)
from campaign_tools.engagement.store import EngagementStore, engagement_store
from campaign_tools.send.ledgers import registry as ledger_registry
from campaign_tools.send.ledgers.base import Ledger, MessageEvent
from campaign_tools.send.settings import DEFAULT_LEDGER
from campaign_tools.settings import SETTINGS_CONFIG, Settings, check_with
from transformer.aws import AwsOptions, ClientTuning, client
from transformer.errors import PinrecError

TRACKING_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,255}$"
EVENT_TYPE = r"^[A-Za-z0-9][A-Za-z0-9 _.:-]{0,255}$"


@settings_dataclass(frozen=True, kw_only=True, config=SETTINGS_CONFIG)
class ForwardSettings(Settings):
    campaign_ids: Annotated[tuple[str, ...], Field(min_length=1)]
    """The sends (or campaigns: all their units) whose clicks are forwarded."""
    tracking_id: Annotated[str, Field(pattern=TRACKING_ID)]
    """The event tracker's tracking id (`aws personalize describe-event-tracker`), not its ARN."""
    ledger: Annotated[str, check_with(ledger_registry.check_spec)] = DEFAULT_LEDGER
    click_event_type: Annotated[str, Field(pattern=EVENT_TYPE)] = DEFAULT_CLICK_EVENT_TYPE
    """The EVENT_TYPE a click is recorded as in the interactions dataset."""
    conversion_types: tuple[Annotated[str, Field(pattern=EVENT_TYPE)], ...] = ()
    """Conversion event types forwarded (with their item, as their own EVENT_TYPE); empty: conversions are not."""
    conversions: Annotated[str, check_with(conversions_registry.check_spec)] = DEFAULT_CONVERSIONS
    conversion_window_hours: Annotated[float, Field(gt=0)] = 168.0
    """A conversion is attributed to the latest send that reached its endpoint (or user) at most this long before."""
    concurrency: Annotated[int, Field(ge=1, le=64)] = 8
    max_seconds: Annotated[float | None, Field(gt=0)] = None
    """Stop calling after this long; what is left stays queued for the next run."""
    dry_run: bool = False
    """Read and count, call nothing, mark nothing."""
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None

    def aws(self) -> AwsOptions:
        return AwsOptions(region=self.region, profile=self.profile, endpoint_url=self.endpoint_url)


def send_ids(ledger: Ledger, campaign_id: str) -> list[str]:
    """The campaign id itself, and the ids of its units when the ledger holds any."""
    from campaign_tools.campaigns.definition import HOLDOUT
    from campaign_tools.campaigns.ledger_units import campaign_units

    try:
        units = campaign_units(ledger, campaign_id)
    except PinrecError:  # a ledger kind units cannot be listed from: the id names one send
        units = []
    return [campaign_id, *(unit.send_id(campaign_id) for unit in units if unit.group != HOLDOUT)]


def campaign_events(ledger: Ledger, campaign_ids: tuple[str, ...]) -> Iterator[MessageEvent]:
    for campaign_id in campaign_ids:
        for send_id in send_ids(ledger, campaign_id):
            yield from ledger.events(send_id)


def forward_engagement(
    settings: ForwardSettings,
    *,
    clients: Callable[[str], Any] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ForwardReport:
    """The library entry point of `pinrec engagement forward`."""
    made: dict[str, Any] = {}

    def make(service: str) -> Any:
        if service not in made:
            tuning = ClientTuning(attempts=1, max_pool_connections=settings.concurrency)
            made[service] = client(service, settings.aws(), tuning if service == "personalize-events" else None)
        return made[service]

    clients = clients or make
    ledger = ledger_registry.open_ledger(settings.ledger, clients, read_only=True)
    store: EngagementStore | None = None
    try:
        store = engagement_store(ledger)
        if store is None:
            raise PinrecError(f"engagement forwarding reads sqlite: and dynamodb: ledgers, not {ledger.describe()}")
        report = ForwardReport()
        interactions = click_interactions(
            campaign_events(ledger, settings.campaign_ids), store, report, settings.click_event_type
        )
        if settings.conversion_types:
            interactions += campaign_conversions(settings, ledger, store, clients, report)
        if settings.dry_run:
            done = store.forwarded_among(interaction.key for interaction in interactions)
            report.already = len(done)
            report.queued = len({interaction.key for interaction in interactions} - done)
            return report
        deadline = time.monotonic() + settings.max_seconds if settings.max_seconds else None
        forwarder = Forwarder(
            clients("personalize-events"),
            settings.tracking_id,
            store,
            concurrency=settings.concurrency,
            deadline=deadline,
            sleep=sleep,
        )
        return forwarder.forward(interactions, report)
    finally:
        if store is not None:
            store.close()
        ledger.close()


def campaign_conversions(
    settings: ForwardSettings,
    ledger: Ledger,
    store: EngagementStore,
    clients: Callable[[str], Any],
    report: ForwardReport,
) -> list[Interaction]:
    """The conversions of the campaigns' recipients (of `conversion_types`, within the window after their send)."""
    sent = [
        SentTo(send_id, recipient, at)
        for campaign_id in settings.campaign_ids
        for send_id in send_ids(ledger, campaign_id)
        for recipient, at in store.recipients_of_send(send_id)
    ]
    if not sent:
        return []
    window = settings.conversion_window_hours * 3600.0
    conversions = conversions_registry.open_conversions(settings.conversions, clients, read_only=True)
    try:
        found = conversions.between(
            min(entry.at for entry in sent), max(entry.at for entry in sent) + window, settings.conversion_types
        )
        return conversion_interactions(found, sent, window, report)
    finally:
        conversions.close()
