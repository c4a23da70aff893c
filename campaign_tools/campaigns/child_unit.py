"""The `campaign_unit` block of a send state machine execution started by a campaign's slot function, and what a Step
Functions child does with it: send its batch inside the campaign's limits, as `campaign run` sends a unit.

The slot (`slot.execution_payload`) writes it; the state machine hands it to every child beside `settings`
(`BatchInput.campaign_unit`; null for a `pinrec send --on-aws` execution, whose children are plain sends). It holds:

- `campaign`, `slot` (UTC, `YYYY-MM-DDTHH:MM:SSZ`), `treatment`, `channel` and `unit` (the unit's ledger id, which
  must be the settings' `campaign_id`): as the schedule's input (`slot.read_request`);
- `caps`: `daily`, `total`, `project_daily`, `project_total` (`limits.base.Caps.of(definition.limits)`), each a
  whole number of messages per endpoint or null (no limit);
- `maximum_duration`: seconds after the slot no batch may start after, or null;
- `limits`: the limits store, `dynamodb:TABLE`: the ledger's spec (the `#caps#` items live in the ledger table). The
  child refuses a block naming another store than its own ledger: caps kept apart would not see each other.

The child runs its items through `unit_send.LimitedSend`: already sent left out, the others reserved before
delivery (refused: skipped `cap_daily` / `cap_total`), unsent reservations released unless their row stayed
`pending` (read by key, `DynamoDbLimits.pending_among`: a child reads its own rows, never the whole unit's); past
`slot + maximum_duration` the batch is skipped `maximum_duration`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from campaign_tools.campaigns.definition import CampaignDefinition
from campaign_tools.campaigns.limits.base import Caps
from campaign_tools.campaigns.slot import SlotError, SlotRequest, read_request
from campaign_tools.campaigns.unit_send import LimitedSend, UnitOutcome
from campaign_tools.channels.base import ClientFactory
from campaign_tools.send.parts import SendParts
from campaign_tools.send.pipeline import RunSummary
from campaign_tools.send.settings import SendSettings

CAP_NAMES = ("daily", "total", "project_daily", "project_total")


@dataclass(frozen=True)
class CampaignUnit:
    request: SlotRequest
    caps: Caps
    maximum_duration: timedelta | None
    limits: str

    @property
    def unit_id(self) -> str:
        return self.request.unit.send_id

    @property
    def deadline(self) -> float | None:
        """The instant (epoch seconds) after which no batch starts."""
        if self.maximum_duration is None:
            return None
        return (self.request.slot + self.maximum_duration).timestamp()

    def to_dict(self) -> dict[str, Any]:
        duration = self.maximum_duration
        return {
            **self.request.to_dict(),
            "caps": {name: getattr(self.caps, name) for name in CAP_NAMES},
            "maximum_duration": None if duration is None else int(duration.total_seconds()),
            "limits": self.limits,
        }


def unit_block(definition: CampaignDefinition, request: SlotRequest, ledger_spec: str) -> dict[str, Any]:
    """The `campaign_unit` the slot gives the execution of one unit of `definition`."""
    limits = definition.limits
    return CampaignUnit(request, Caps.of(limits), limits.maximum_duration, ledger_spec).to_dict()


def _cap(caps: Mapping[str, Any], name: str) -> int | None:
    value = caps.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SlotError(f"campaign_unit.caps.{name} must be a whole number of at least 1, or null (no limit)")
    return value


def _duration(value: object) -> timedelta | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 10**9:
        raise SlotError("campaign_unit.maximum_duration must be a positive number of seconds, or null")
    return timedelta(seconds=value)


def read_block(value: object) -> CampaignUnit:
    """The block (any JSON value), checked: SlotError naming what is wrong."""
    if not isinstance(value, Mapping):
        raise SlotError("campaign_unit must be an object (or null: not a campaign's unit)")
    request = read_request(value)
    caps = value.get("caps")
    if not isinstance(caps, Mapping) or set(caps) - set(CAP_NAMES):
        raise SlotError(f"campaign_unit.caps must be an object of {', '.join(CAP_NAMES)}")
    limits = value.get("limits")
    if not isinstance(limits, str) or not limits:
        raise SlotError("campaign_unit.limits must name the limits store (the ledger's dynamodb:TABLE)")
    found = Caps(*(_cap(caps, name) for name in CAP_NAMES))
    return CampaignUnit(request, found, _duration(value.get("maximum_duration")), limits)


def check_unit(unit: CampaignUnit, settings: SendSettings) -> None:
    if unit.unit_id != settings.campaign_id:
        raise SlotError(f"campaign_unit {unit.unit_id} is not the unit the settings send ({settings.campaign_id})")
    if unit.limits != settings.ledger:
        raise SlotError(
            f"campaign_unit's limits are in {unit.limits}, this child's ledger is {settings.ledger}: the limits are "
            "kept beside the ledger"
        )


def send_unit_batch(
    settings: SendSettings,
    value: object,
    items: list[object],
    *,
    clients: ClientFactory,
    parts: SendParts,
    clock: Callable[[], float] = time.time,
) -> tuple[UnitOutcome, RunSummary]:
    """One child's items sent inside the limits of the campaign unit `value` (the block, checked here): the unit's
    outcome (with the skips the limits made) and the send's summary."""
    from campaign_tools.campaigns.limits.dynamodb import DynamoDbLimits
    from campaign_tools.campaigns.limits.registry import open_limits
    from campaign_tools.send.ledgers.registry import open_ledger
    from campaign_tools.send.run import SendRun

    unit = read_block(value)
    check_unit(unit, settings)
    request = unit.request
    outcome = UnitOutcome(unit.unit_id, request.treatment, request.channel, request.slot)
    ledger = open_ledger(settings.ledger, clients)
    try:
        limits = open_limits(unit.limits, clients)
        try:
            # As the plain child: the slot checked the campaign and bound its unit before starting the execution.
            with SendRun(settings, clients=clients, parts=parts, preflight=False) as send:
                limited = LimitedSend(send, outcome, request.campaign, unit.caps, ledger, limits, clock, unit.deadline)
                if isinstance(limits, DynamoDbLimits):
                    limited.pending_among = limits.pending_among  # its own rows, not the unit's
                limited.run(items)
        finally:
            limits.close()
    finally:
        ledger.close()
    return outcome, send.summary
