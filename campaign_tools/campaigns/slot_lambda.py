"""The slot function behind `campaign deploy`'s schedules (`handlers/campaign_slot.py`; infra/campaigns.yaml's
SlotFunction): each schedule's input names one unit of the campaign packaged with the function, and
`slot.start_slot` stages it, binds and reconciles it in the ledger and starts the send state machine's execution.

Environment: `PINREC_CAMPAIGN` (the campaign.toml packaged with the function: `pinrec package --function
campaign-slot`; its `built` folders and `config` relative to /var/task), `PINREC_LEDGER_TABLE`,
`PINREC_STATE_MACHINE_ARN`, `PINREC_UNIT_PREFIX` (s3://BUCKET/PREFIX/ of the units' segment objects), optionally
`PINREC_MAX_CONCURRENCY` (10), `PINREC_SUPPRESSION` (dynamodb:TABLE the children consult; default none) and
`PINREC_CAMPAIGN_SEGMENT` (s3://; default the campaign's `segment`).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from campaign_tools.campaigns.definition import load_campaign
from campaign_tools.campaigns.slot import SlotError, SlotTarget, read_request, start_slot
from campaign_tools.campaigns.trigger_lambda import CAMPAIGN_ENV, SEGMENT_ENV, STAGE_DIR, SUPPRESSION_ENV
from campaign_tools.channels.base import ClientFactory
from campaign_tools.send.child import LEDGER_TABLE_ENV
from campaign_tools.send.run import client_factory
from transformer.aws import AwsOptions

STATE_MACHINE_ENV = "PINREC_STATE_MACHINE_ARN"
UNIT_PREFIX_ENV = "PINREC_UNIT_PREFIX"
MAX_CONCURRENCY_ENV = "PINREC_MAX_CONCURRENCY"
REQUIRED = (CAMPAIGN_ENV, LEDGER_TABLE_ENV, STATE_MACHINE_ENV, UNIT_PREFIX_ENV)
CLOCK: Callable[[], float] = time.time
"""The clock slots are judged by, read at each invocation."""


@functools.cache
def warm_clients() -> ClientFactory:
    return client_factory(AwsOptions())


def target_of(environment: Mapping[str, str]) -> SlotTarget:
    missing = [name for name in REQUIRED if not environment.get(name)]
    if missing:
        raise SlotError(f"{', '.join(missing)} not set")
    concurrency = environment.get(MAX_CONCURRENCY_ENV) or "10"
    if not concurrency.isdigit():
        raise SlotError(f"{MAX_CONCURRENCY_ENV} must be a whole number, not {concurrency!r}")
    return SlotTarget(
        state_machine_arn=environment[STATE_MACHINE_ENV],
        ledger_table=environment[LEDGER_TABLE_ENV],
        unit_prefix=environment[UNIT_PREFIX_ENV],
        max_concurrency=int(concurrency),
        suppression=environment.get(SUPPRESSION_ENV) or "none",
        segment=environment.get(SEGMENT_ENV) or None,
    )


def handle(
    event: object, environment: Mapping[str, str], clients: ClientFactory | None = None, stage_dir: Path | None = None
) -> dict[str, Any]:
    target = target_of(environment)
    definition = load_campaign(environment[CAMPAIGN_ENV])
    request = read_request(event)
    result = start_slot(definition, request, target, clients or warm_clients(), stage_dir or STAGE_DIR, clock=CLOCK)
    return result.to_dict()
