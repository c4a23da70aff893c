"""`pinrec campaign trigger` and the trigger Lambda: an app event sends an event-triggered campaign's message to the
endpoint it names (or every endpoint of the user it names), when the campaign's event filter matches it and the
limits allow — Pinpoint's abandoned-cart and welcome flows.

- The event is read by `event_filter.parse_event` (anything else is refused with its reason, never raised), judged
  against `[schedule.event_filter]`, and ignored before the schedule's `start`, at or after its `end` and at or
  after the campaign's `expiry`.
- The endpoints are looked up in the campaign's segment (`Id`, or `User.UserId` for a user's event), so the
  message is composed from the same endpoint record a scheduled run would use; an endpoint no channel serves, or
  opted out, is skipped with the segment's reason.
- Each endpoint gets its group (holdout or treatment, the same hash as scheduled runs). The unit is
  `<campaign>.<event time to the second, YYYYMMDDTHHMMSSZ>.<treatment>.<channel>`: a replayed event (EventBridge
  retries, a second `trigger` of the same file) is the same unit, and the ledger sends it nobody twice. The holdout
  is recorded as skipped `holdout` under `<campaign>.<time>.holdout.<channel>`.
- Quiet time (an endpoint with its own valid zone, its local time now inside it) skips the message as `quiet_time`
  in either mode: a triggered message is not held.
- The message goes through the same limited send as `campaign run` (`run.send_unit`): reserved against the caps
  before delivery, `cap_daily` / `cap_total` when refused.
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from campaign_tools.campaigns.assignment import Assignment
from campaign_tools.campaigns.definition import HOLDOUT, CampaignDefinition, load_campaign
from campaign_tools.campaigns.event_filter import InvalidEvent, matches, parse_event
from campaign_tools.campaigns.ledger_units import HOLDOUT_REASON
from campaign_tools.campaigns.recipients import Recipient, Skipped, recipient, segment_rows
from campaign_tools.campaigns.run import QUIET_TIME, CampaignRunSettings, DeliveryOptions, Stores, send_unit
from campaign_tools.campaigns.unit_send import UnitOutcome
from campaign_tools.campaigns.units import SendUnit
from campaign_tools.campaigns.zones import recipient_zone
from campaign_tools.channels.base import ClientFactory
from campaign_tools.send.run import client_factory
from transformer.errors import PinrecError
from transformer.files import is_s3_url, open_text


@dataclass
class TriggerResult:
    campaign_id: str
    status: str
    """sent (the event matched; see the units for what each endpoint got), invalid_event, no_match, not_active,
    no_endpoint."""
    reason: str | None = None
    skipped: Counter[str] = field(default_factory=Counter)
    """Endpoints of the event that got nothing before any send: no_channel, opted_out, quiet_time, holdout, ..."""
    units: list[UnitOutcome] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return sum(unit.sent for unit in self.units)

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign_id,
            "status": self.status,
            "reason": self.reason,
            "skipped": dict(sorted(self.skipped.items())),
            "units": [unit.to_dict() for unit in self.units],
            "sent": self.sent,
        }

    def lines(self) -> list[str]:
        why = f" ({self.reason})" if self.reason else ""
        found = [f"campaign {self.campaign_id}: {self.status}{why}"]
        if self.skipped:
            found.append("skipped: " + ", ".join(f"{r} {n:,}" for r, n in sorted(self.skipped.items())))
        found += [unit.line() for unit in self.units]
        found.append(f"sent {self.sent:,}")
        return found


def _not_active(definition: CampaignDefinition, now: datetime) -> str | None:
    schedule = definition.schedule
    expiry = definition.expiry_instant()
    if now < schedule.instant(schedule.start):
        return "before_start"
    if schedule.end is not None and now >= schedule.instant(schedule.end):
        return "after_end"
    if expiry is not None and now >= expiry:
        return "expired"
    return None


def _named(record: object, endpoint_id: str | None, user_id: str | None) -> bool:
    if not isinstance(record, dict):
        return False
    if endpoint_id is not None and record.get("Id") == endpoint_id:
        return True
    user = record.get("User")
    return user_id is not None and isinstance(user, dict) and user.get("UserId") == user_id


def _in_quiet_time(definition: CampaignDefinition, found: Recipient, now: datetime) -> bool:
    quiet = definition.schedule.quiet_time
    if quiet is None:
        return False
    zone = recipient_zone(found.endpoint, definition.schedule.zone, definition.schedule.timezone)
    return zone.own and quiet.covers(now.astimezone(zone.zone).time().replace(tzinfo=None))


def trigger(
    definition: CampaignDefinition,
    event: object,
    rows: Iterable[tuple[int, object]],
    *,
    delivery: DeliveryOptions,
    clients: ClientFactory,
    stage_dir: Path,
    clock: Callable[[], float] = time.time,
) -> TriggerResult:
    """Send the campaign's message for one event (any JSON value) to the endpoints it names among `rows`."""
    if definition.schedule.frequency != "event" or definition.schedule.event_filter is None:
        raise PinrecError(f"campaign {definition.id} is not event-triggered (schedule.frequency = 'event')")
    parsed = parse_event(event)
    if isinstance(parsed, InvalidEvent):
        return TriggerResult(definition.id, "invalid_event", parsed.reason)
    now = datetime.fromtimestamp(clock(), UTC)
    inactive = _not_active(definition, now)
    if inactive is not None:
        return TriggerResult(definition.id, "not_active", inactive)
    match = matches(definition.schedule.event_filter, parsed)
    if not match.matched:
        return TriggerResult(definition.id, "no_match", match.reason)
    result = TriggerResult(definition.id, "sent")
    channels = definition.channel_objects()
    assignment = Assignment.of(definition)
    slot = parsed.timestamp.astimezone(UTC).replace(microsecond=0)
    units: dict[str, tuple[SendUnit, list[dict[str, Any]]]] = {}
    recorded: dict[tuple[str, str], list[str]] = defaultdict(list)
    """(unit id, reason) -> endpoints recorded as skipped: the holdout, quiet time."""
    named = 0
    for line, record in rows:
        if not _named(record, parsed.endpoint_id, parsed.user_id):
            continue
        named += 1
        found = recipient(line, record, channels)
        if isinstance(found, Skipped):
            result.skipped[found.reason] += 1
            continue
        if not isinstance(found, Recipient):
            result.skipped["malformed"] += 1
            continue
        group = assignment.group(found.endpoint_id, found.endpoint)
        unit = SendUnit(definition.id, slot, group, found.channel.name)
        reason = HOLDOUT_REASON if group == HOLDOUT else QUIET_TIME if _in_quiet_time(definition, found, now) else None
        if reason is not None:
            recorded[unit.send_id, reason].append(found.endpoint_id)
            result.skipped[reason] += 1
        else:
            units.setdefault(unit.send_id, (unit, []))[1].append({**found.endpoint, "Id": found.endpoint_id})
    if not named:
        return TriggerResult(definition.id, "no_endpoint", "not_in_segment")
    _send(definition, result, units, recorded, delivery=delivery, clients=clients, stage_dir=stage_dir, clock=clock)
    return result


def _send(
    definition: CampaignDefinition,
    result: TriggerResult,
    units: dict[str, tuple[SendUnit, list[dict[str, Any]]]],
    recorded: dict[tuple[str, str], list[str]],
    *,
    delivery: DeliveryOptions,
    clients: ClientFactory,
    stage_dir: Path,
    clock: Callable[[], float],
) -> None:
    stores = Stores(delivery, clients)
    try:
        for (unit_id, reason), endpoint_ids in sorted(recorded.items()):
            if stores.ledger is not None:
                for endpoint_id in endpoint_ids:
                    stores.ledger.mark_skipped(unit_id, endpoint_id, reason, clock())
        folder = stage_dir / definition.id
        folder.mkdir(parents=True, exist_ok=True)
        for unit_id, (unit, records) in sorted(units.items()):
            path = folder / f"{unit_id}.jsonl"
            path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
            segment = {"segment": str(path.resolve()), "segment_format": "jsonl"}
            result.units.append(
                send_unit(
                    definition,
                    unit,
                    records,
                    delivery=delivery,
                    stores=stores,
                    clients=clients,
                    clock=clock,
                    **segment,
                )
            )
    finally:
        stores.close()


def read_event(location: str) -> object:
    """The event in a file (local, s3:// or - for standard input): one JSON value (any; `trigger` refuses what is
    not an event)."""
    with open_text(location, keep_undecodable=False) as text:
        content = text.read()
    try:
        return json.loads(content)
    except json.JSONDecodeError as error:
        raise PinrecError(f"{location}: the event is not JSON: {error.msg} (line {error.lineno})") from None


def trigger_campaign(
    settings: CampaignRunSettings,
    event: object,
    *,
    clients: ClientFactory | None = None,
    clock: Callable[[], float] = time.time,
) -> TriggerResult:
    """`trigger` with the campaign file, segment, ledger and delivery the settings name (`now` is not used)."""
    definition = load_campaign(settings.file)
    segment = settings.segment or definition.segment
    if not segment:
        raise PinrecError("campaign trigger needs a segment: --segment FILE, or segment in the campaign file")
    delivery = settings.delivery(definition)
    clients = clients or client_factory(delivery.aws)
    s3 = clients("s3") if is_s3_url(segment) else None
    fmt = settings.segment_format or definition.segment_format
    with segment_rows(segment, fmt, definition.csv_list_separator, s3) as rows:
        return trigger(
            definition, event, rows, delivery=delivery, clients=clients, stage_dir=settings.stage_dir, clock=clock
        )
