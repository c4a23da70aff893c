"""AWS Lambda entry point of the delivery events function (`handlers.events.handler`): an SQS batch of event records
(EventBridge events from SES, SNS notifications from End User Messaging SMS) through the ingest core into the send
ledger and the suppression list.

Environment: `PINREC_LEDGER` (the ledger, `KIND:TARGET`, e.g. `dynamodb:TABLE`) and `PINREC_SUPPRESSION` (the
suppression list, e.g. `dynamodb:TABLE`; empty: feed none), opened once per warm process.

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
from collections.abc import Mapping
from typing import Any

from campaign_tools.events.ingest import Ingestor
from campaign_tools.send.ledgers.base import Ledger
from campaign_tools.send.ledgers.registry import open_ledger
from campaign_tools.suppression.base import SuppressionList
from campaign_tools.suppression.registry import open_suppression
from transformer.aws import client
from transformer.errors import PinrecError

LEDGER_ENV = "PINREC_LEDGER"
SUPPRESSION_ENV = "PINREC_SUPPRESSION"
LOG = logging.getLogger("pinrec.events")

_opened: tuple[Ledger, SuppressionList | None] | None = None
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
    LOG.info("events: %s", json.dumps({**ingestor.report.to_dict(), "failed": len(failed)}))
    return _failures(failed)


def _identifier(record: object) -> str | None:
    identifier = record.get("messageId") if isinstance(record, Mapping) else None
    return identifier if isinstance(identifier, str) else None


def _failures(identifiers: list[str | None]) -> dict[str, Any]:
    return {"batchItemFailures": [{"itemIdentifier": item} for item in identifiers if item is not None]}


def reset() -> None:
    """Forget this process's ledger and list (tests: a new environment)."""
    global _opened  # noqa: PLW0603
    with _lock:
        if _opened is not None:
            _opened[0].close()
            if _opened[1] is not None:
                _opened[1].close()
        _opened = None
