"""AWS Lambda entry point of the delivery events function (`handlers.events.handler`): an SQS batch of event records
(EventBridge events from SES, SNS notifications from End User Messaging SMS) through the ingest core into the send
ledger and the suppression list.

Environment: `PINREC_LEDGER` (the ledger, `KIND:TARGET`, e.g. `dynamodb:TABLE`) and `PINREC_SUPPRESSION` (the
suppression list, e.g. `dynamodb:TABLE`; empty: feed none), opened once per warm process. `PINREC_PERSONALIZE_TRACKER`
(optional, an event tracker's tracking id): after the batch is recorded, its tracked clicks are forwarded to Amazon
Personalize (`campaign_tools.engagement.on_events`: one attempt per call, a few seconds at most; what is throttled
stays queued for `pinrec engagement forward`), with `PINREC_CLICK_EVENT_TYPE` (default click) as their event type.

Partial batch failures (the event source mapping's `ReportBatchItemFailures`): a record is reported failed only when
writing its events failed (a throttled or unreachable table: SQS delivers it again, and the ledger and the list are
idempotent). A record that cannot be read is counted and not retried: retrying cannot mend it. The log line says
how many records, events, duplicates, unknowns and malformed records by reason -- never an event or an address.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Mapping
from typing import Any

from campaign_tools.engagement.forward import ForwardReport
from campaign_tools.engagement.store import EngagementStore
from campaign_tools.events.ingest import Ingestor
from campaign_tools.events.model import DeliveryEvent
from campaign_tools.send.ledgers.base import Ledger
from campaign_tools.send.ledgers.registry import open_ledger
from campaign_tools.suppression.base import SuppressionList
from campaign_tools.suppression.registry import open_suppression
from transformer.aws import ClientTuning, client
from transformer.errors import PinrecError

LEDGER_ENV = "PINREC_LEDGER"
SUPPRESSION_ENV = "PINREC_SUPPRESSION"
TRACKER_ENV = "PINREC_PERSONALIZE_TRACKER"
LOG = logging.getLogger("pinrec.events")

_opened: tuple[Ledger, SuppressionList | None] | None = None
_engagement: tuple[EngagementStore | None, Any] | None = None
_lock = threading.Lock()


def stores(environment: Mapping[str, str]) -> tuple[Ledger, SuppressionList | None]:
    """The ledger and suppression list of this process, opened on first use."""
    global _opened  # noqa: PLW0603 - one ledger and list per warm Lambda process
    with _lock:
        if _opened is None:
            ledger_spec = environment.get(LEDGER_ENV, "")
            if not ledger_spec:
                raise PinrecError(f"{LEDGER_ENV} is not set: it names the send ledger (KIND:TARGET)")
            made: dict[str, Any] = {}

            def clients(service: str) -> Any:
                if service not in made:
                    made[service] = client(service)
                return made[service]

            suppression_spec = environment.get(SUPPRESSION_ENV, "")
            suppression = open_suppression(suppression_spec, clients) if suppression_spec else None
            _opened = (open_ledger(ledger_spec, clients, durable=False), suppression)
        return _opened


def handler(event: Any, context: object = None) -> dict[str, Any]:
    records = event.get("Records") if isinstance(event, Mapping) else None
    if not isinstance(records, list):
        LOG.error("events: the invocation is not an SQS batch (no Records list)")
        return {"batchItemFailures": []}
    identifiers = [_identifier(record) for record in records]
    try:
        ledger, suppression = stores(os.environ)
    except PinrecError as error:
        LOG.error("events unavailable: %s", error)
        return _failures(identifiers)
    ingestor = Ingestor(ledger, suppression, time.time())
    read = [ingestor.read(record) for record in records]
    failed: list[str | None] = []
    try:
        ingestor.write([event for events in read for event in events])
    except Exception as error:  # any write failure: retry record by record
        LOG.warning("events: writing the batch failed (%s); writing record by record", type(error).__name__)
        for identifier, events in zip(identifiers, read, strict=True):
            try:
                ingestor.write(events)
            except Exception as record_error:
                LOG.warning("events: a record's write failed (%s)", type(record_error).__name__)
                failed.append(identifier)
    summary: dict[str, Any] = {**ingestor.report.to_dict(), "failed": len(failed)}
    tracking_id = os.environ.get(TRACKER_ENV, "")
    if tracking_id:
        recorded = [
            event
            for identifier, events in zip(identifiers, read, strict=True)
            if identifier not in failed
            for event in events
        ]
        summary["personalize"] = _forward(recorded, ledger, tracking_id, context).to_dict()
    LOG.info("events: %s", json.dumps(summary))
    return _failures(failed)


def _forward(events: list[DeliveryEvent], ledger: Ledger, tracking_id: str, context: object) -> ForwardReport:
    from campaign_tools.engagement.on_events import CLICK_EVENT_TYPE_ENV, forward_recorded

    remaining = getattr(context, "get_remaining_time_in_millis", None)
    store, personalize = _forwarding(ledger)
    if store is None:
        return ForwardReport(skipped=Counter({"ledger_keeps_no_engagement_records": len(events)}))
    return forward_recorded(
        events,
        store,
        personalize,
        tracking_id,
        event_type=os.environ.get(CLICK_EVENT_TYPE_ENV) or "click",
        remaining_seconds=remaining() / 1000.0 if callable(remaining) else None,
    )


def _forwarding(ledger: Ledger) -> tuple[EngagementStore | None, Any]:
    """The engagement store beside the ledger and the Personalize Events client, made once per warm process."""
    global _engagement  # noqa: PLW0603 - one store and client per warm Lambda process
    from campaign_tools.engagement.store import engagement_store

    with _lock:
        if _engagement is None:
            tuning = ClientTuning(attempts=1, connect_timeout=2, read_timeout=3, max_pool_connections=4)
            _engagement = (engagement_store(ledger), client("personalize-events", tuning=tuning))
        return _engagement


def _identifier(record: object) -> str | None:
    identifier = record.get("messageId") if isinstance(record, Mapping) else None
    return identifier if isinstance(identifier, str) else None


def _failures(identifiers: list[str | None]) -> dict[str, Any]:
    return {"batchItemFailures": [{"itemIdentifier": item} for item in identifiers if item is not None]}


def reset() -> None:
    """Forget this process's ledger and list (tests: a new environment)."""
    global _opened, _engagement  # noqa: PLW0603
    with _lock:
        _engagement = None
        if _opened is not None:
            _opened[0].close()
            if _opened[1] is not None:
                _opened[1].close()
        _opened = None
