"""AWS Lambda entry point of the campaign trigger (`handlers.campaign_trigger.handler`; infra/campaigns.yaml's
EventBridge rule invokes it as `TriggerFunctionArn`): one app event, the packaged campaign's message to the endpoint
it names if the event filter matches and the limits allow (`campaign_tools.campaigns.trigger_lambda`).

Environment: `PINREC_CAMPAIGN`, `PINREC_LEDGER_TABLE`, optionally `PINREC_CAMPAIGN_SEGMENT`, `PINREC_SUPPRESSION`.
"""

from __future__ import annotations

import os
from typing import Any

from campaign_tools.campaigns import trigger_lambda


def handler(event: Any, context: object = None) -> dict[str, Any]:
    return trigger_lambda.handle(event, os.environ)
