"""AWS Lambda entry point of the `pinrec send --on-aws` Step Functions child (`handlers.send_batch.handler`,
infra/send-statemachine.yaml): one Distributed Map child sends one batch of up to 50 endpoints with
`campaign_tools.send.aws_batch.send_batch`.

Event (Distributed Map with `ItemBatcher`): `{"Items": [endpoint records], "BatchInput": {"settings": {...}}}`.
Environment: `PINREC_LEDGER_TABLE` (the DynamoDB ledger), plus what `send_batch` reads (`PINREC_CONFIG`,
`PINREC_TEMPLATE_DIR`). A child that raises is retried by Step Functions; the ledger makes that retry send nobody a
second message.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from campaign_tools.send.aws_batch import BatchSettings, send_batch
from campaign_tools.send.pipeline import RunSummary
from transformer.errors import PinrecError

LEDGER_TABLE_ENV = "PINREC_LEDGER_TABLE"


def summary_dict(summary: RunSummary) -> dict[str, Any]:
    return {
        "sent": summary.sent,
        "skipped": dict(summary.all_skipped()),
        "failed": dict(summary.failed),
        "malformed": summary.segment.malformed,
        "seconds": round(summary.seconds, 3),
    }


def handler(event: Mapping[str, Any], context: object = None) -> dict[str, Any]:
    items = event.get("Items")
    if not isinstance(items, list):
        raise PinrecError("the event has no Items list (run this function as a Distributed Map child with ItemBatcher)")
    batch_input = event.get("BatchInput") or {}
    settings = BatchSettings.from_event(batch_input.get("settings") if isinstance(batch_input, Mapping) else None)
    table = os.environ.get(LEDGER_TABLE_ENV)
    if not table:
        raise PinrecError(f"{LEDGER_TABLE_ENV} is not set")
    return summary_dict(send_batch(items, settings, table))
