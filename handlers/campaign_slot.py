"""AWS Lambda entry point of the campaign slot function (`handlers.campaign_slot.handler`; the target of every
EventBridge Scheduler schedule `pinrec campaign deploy` writes): one unit of the packaged campaign staged, bound,
reconciled and started as a send state machine execution (`campaign_tools.campaigns.slot_lambda`).

Environment: `PINREC_CAMPAIGN`, `PINREC_LEDGER_TABLE`, `PINREC_STATE_MACHINE_ARN`, `PINREC_UNIT_PREFIX`, optionally
`PINREC_MAX_CONCURRENCY`, `PINREC_SUPPRESSION`, `PINREC_CAMPAIGN_SEGMENT`.
"""

from __future__ import annotations

import os
from typing import Any

from campaign_tools.campaigns import slot_lambda


def handler(event: Any, context: object = None) -> dict[str, Any]:
    return slot_lambda.handle(event, os.environ)
