"""AWS Lambda entry point of the `pinrec send --on-aws` Step Functions child (`handlers.send_batch.handler`,
infra/send-statemachine.yaml): one Distributed Map child sends one batch of up to 50 endpoints with the same
`run_send` as `pinrec send` (`campaign_tools.send.child`).

Event (Distributed Map with `ItemBatcher`): `{"Items": [endpoint records], "BatchInput": {"settings": {...},
"campaign_unit": {...} or null}}` (a campaign slot's unit: sent inside the campaign's limits).
Environment: `PINREC_LEDGER_TABLE` (the DynamoDB ledger), `PINREC_CONFIG` and `PINREC_TEMPLATE_DIR`. A child that
raises is retried by Step Functions; the ledger makes that retry send nobody a second message.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from campaign_tools.send import child


def handler(event: Mapping[str, Any], context: object = None) -> dict[str, Any]:
    return child.handle(event, os.environ)
