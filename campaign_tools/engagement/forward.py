"""Engagement to Amazon Personalize: tracked clicks (and conversions) become `PutEvents` calls on an event tracker.

An event is forwarded at most once: each has a key (`click:<ledger event id>`, `conversion:<conversion id>`), the
store marks the keys forwarded after Personalize took them, a later run skips marked keys, and each `PutEvents`
event carries `eventId` = that key, so Personalize itself ignores a repeat (a run killed between the call and the
mark). A call carries one user's session: up to 10 events of one (userId, sessionId), the session derived from the
send id and the endpoint (one session per message), so the same event always goes in the same session.

Retries: a throttled or failing call is retried with full-jitter backoff (`send.pacing.Backoff`, retryable per
`transformer.aws.is_retryable`) until its attempts or the run's deadline run out; then the run makes no further call
and what is left is *queued*: not marked, forwarded by the next run. A rejected call (InvalidInputException) is counted and not marked either (fix,
then run again). Nothing here logs a user id, an item id or a link.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from campaign_tools.engagement.links import TrackedClick, parse_click, split_send_id
from campaign_tools.engagement.store import EngagementStore, Recipient
from campaign_tools.send.ledgers.base import MessageEvent
from campaign_tools.send.pacing import Backoff
from transformer.aws import error_code, is_retryable

if TYPE_CHECKING:  # the events function's zip holds no conversions package
    from campaign_tools.conversions.model import Conversion

MAX_EVENTS_PER_CALL = 10
"""PutEvents' eventList holds 1 to 10 events."""
DEFAULT_CLICK_EVENT_TYPE = "click"
CLICK = "click"
MARK_EVERY = 500
"""Events per round: the forwarded marks of a round are written together, before the next round starts."""


@dataclass(frozen=True, slots=True)
class Interaction:
    """One PutEvents event, ready: its key (the forwarded mark), the user and session it goes under, the event."""

    key: str
    user_id: str
    session_id: str
    event: Mapping[str, Any]


@dataclass
class ForwardReport:
    events: int = 0
    """Events looked at (clicks and conversions)."""
    forwarded: int = 0
    already: int = 0
    """Forwarded by an earlier run: skipped."""
    queued: int = 0
    """Not forwarded now (throttled, unreachable, out of time): the next run forwards them."""
    calls: int = 0
    retries: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    """Per error code, events Personalize refused (not retried, not marked)."""
    skipped: Counter[str] = field(default_factory=Counter)
    """Per reason, events that cannot become a PutEvents event (an untracked link, no recipient record, ...)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "forwarded": self.forwarded,
            "already_forwarded": self.already,
            "queued": self.queued,
            "calls": self.calls,
            "retries": self.retries,
            "rejected": dict(sorted(self.rejected.items())),
            "skipped": dict(sorted(self.skipped.items())),
        }

    def lines(self) -> list[str]:
        found = [
            f"{self.events:,} events: forwarded {self.forwarded:,}, already forwarded {self.already:,}, "
            f"queued for the next run {self.queued:,}",
            f"PutEvents calls {self.calls:,}, retries {self.retries:,}",
        ]
        found += [f"  rejected: {code}: {count:,}" for code, count in sorted(self.rejected.items())]
        found += [f"  skipped: {reason}: {count:,}" for reason, count in sorted(self.skipped.items())]
        return found


def session_id(send_id: str, endpoint_id: str) -> str:
    """The session of a message's interactions: the same for every event of one (send, endpoint), never the ids."""
    digest = hashlib.sha256(f"pinrec\x1f{send_id}\x1f{endpoint_id}".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:32]


def _attribution_source(source: str) -> str:
    """eventAttributionSource allows printable ASCII only (at most 1024 characters)."""
    cleaned = "".join(character if " " <= character <= "~" else "?" for character in source).strip()
    return cleaned[:1024] or "pinrec"


def click_interaction(event: MessageEvent, click: TrackedClick, recipient: Recipient, event_type: str) -> Interaction:
    """The PutEvents event of a tracked click on a recommended item of the recipient's message."""
    body: dict[str, Any] = {
        "eventId": event_key("click", event.event_id),
        "eventType": event_type,
        "itemId": click.item_id,
        "sentAt": datetime.fromtimestamp(event.occurred_at, UTC),
        "metricAttribution": {"eventAttributionSource": _attribution_source(click.attribution_source)},
    }
    if recipient.recommendation_id and (not recipient.items or click.item_id in recipient.items):
        body["recommendationId"] = recipient.recommendation_id
    return Interaction(body["eventId"], recipient.user_id, session_id(event.campaign_id, event.endpoint_id), body)


@dataclass(frozen=True, slots=True)
class ClickRead:
    event: MessageEvent
    click: TrackedClick


def tracked_clicks(events: Iterable[MessageEvent], report: ForwardReport) -> Iterator[ClickRead]:
    """The click events whose link is a tracked recommendation link of their own send; the rest counted."""
    for event in events:
        if event.kind != CLICK:
            continue
        report.events += 1
        click = parse_click(event.link)
        if click is None:
            report.skipped["untracked_link"] += 1
        elif click.send_id != event.campaign_id:
            report.skipped["link_of_another_send"] += 1
        else:
            yield ClickRead(event, click)


def click_interactions(
    events: Iterable[MessageEvent], store: EngagementStore, report: ForwardReport, event_type: str
) -> list[Interaction]:
    """The PutEvents events of the tracked clicks among `events` (of any sends), recipients read per send."""
    by_send: dict[str, list[ClickRead]] = {}
    for read in tracked_clicks(events, report):
        by_send.setdefault(read.event.campaign_id, []).append(read)
    found: list[Interaction] = []
    for send_id, reads in by_send.items():
        recipients = store.recipients(send_id, {read.event.endpoint_id for read in reads})
        for read in reads:
            recipient = recipients.get(read.event.endpoint_id)
            if recipient is None:
                report.skipped["no_recipient_record"] += 1
                continue
            found.append(click_interaction(read.event, read.click, recipient, event_type))
    return found


MAX_KEY = 256
"""PutEvents' longest eventId."""


def event_key(kind: str, identifier: str) -> str:
    """`kind:identifier`, or `kind:sha256:...` of it when too long for an eventId."""
    key = f"{kind}:{identifier}"
    if len(key) <= MAX_KEY:
        return key
    return f"{kind}:sha256:{hashlib.sha256(identifier.encode('utf-8', 'surrogatepass')).hexdigest()}"


@dataclass(frozen=True, slots=True)
class SentTo:
    """A recipient record of a send, with when it was recorded: what a conversion is attributed to."""

    send_id: str
    recipient: Recipient
    at: float


def conversion_interactions(
    conversions: Iterable[Conversion], sent: Sequence[SentTo], window: float, report: ForwardReport
) -> list[Interaction]:
    """The PutEvents events of conversions about an item, each attributed to the latest send that reached its
    endpoint (or user) at most `window` seconds before it; a conversion that none reached is not forwarded."""
    by_endpoint: dict[str, list[SentTo]] = {}
    by_user: dict[str, list[SentTo]] = {}
    for entry in sent:
        by_endpoint.setdefault(entry.recipient.endpoint_id, []).append(entry)
        by_user.setdefault(entry.recipient.user_id, []).append(entry)
    found: list[Interaction] = []
    for conversion in conversions:
        report.events += 1
        if conversion.item_id is None:
            report.skipped["conversion_without_item"] += 1
            continue
        candidates = by_endpoint.get(conversion.endpoint_id or "", []) + by_user.get(conversion.user_id or "", [])
        reached = [entry for entry in candidates if 0 <= conversion.occurred_at - entry.at <= window]
        if not reached:
            report.skipped["conversion_of_no_recipient_in_window"] += 1
            continue
        entry = max(reached, key=lambda candidate: (candidate.at, candidate.send_id))
        campaign, treatment = split_send_id(entry.send_id)
        source = f"{campaign}/{treatment}" if treatment else campaign
        key = event_key("conversion", conversion.conversion_id)
        body: dict[str, Any] = {
            "eventId": key,
            "eventType": conversion.event_type,
            "itemId": conversion.item_id,
            "sentAt": datetime.fromtimestamp(conversion.occurred_at, UTC),
            "metricAttribution": {"eventAttributionSource": _attribution_source(source)},
        }
        if conversion.value is not None:
            body["eventValue"] = conversion.value
        recipient = entry.recipient
        if recipient.recommendation_id and conversion.item_id in recipient.items:
            body["recommendationId"] = recipient.recommendation_id
        session = session_id(entry.send_id, recipient.endpoint_id)
        found.append(Interaction(key, recipient.user_id, session, body))
    return found


def calls_of(interactions: Sequence[Interaction]) -> list[tuple[str, str, list[Interaction]]]:
    """(user, session, up to 10 events) per PutEvents call, in first-seen order."""
    sessions: dict[tuple[str, str], list[Interaction]] = {}
    for interaction in interactions:
        sessions.setdefault((interaction.user_id, interaction.session_id), []).append(interaction)
    return [
        (user, session, events[start : start + MAX_EVENTS_PER_CALL])
        for (user, session), events in sessions.items()
        for start in range(0, len(events), MAX_EVENTS_PER_CALL)
    ]


class Forwarder:
    """Sends interactions to one event tracker: `concurrency` calls at a time, each retried per the backoff until
    its attempts or the deadline (a `clock()` instant) run out; marks what Personalize took."""

    def __init__(
        self,
        client: Any,
        tracking_id: str,
        store: EngagementStore,
        *,
        concurrency: int = 8,
        backoff: Backoff | None = None,
        deadline: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.tracking_id = tracking_id
        self.store = store
        self.concurrency = max(concurrency, 1)
        self.backoff = backoff or Backoff()
        self.deadline = deadline
        self._sleep = sleep
        self._clock = clock
        self._wall_clock = wall_clock
        self._lock = threading.Lock()
        self.gave_up = False
        """A call ran out of attempts or time on a throttled or failing Personalize: no further call is made (the
        rest stays queued for the next run instead of adding load to a service that is already refusing it)."""

    def forward(self, interactions: Sequence[Interaction], report: ForwardReport) -> ForwardReport:
        """Forward what is not forwarded yet, in rounds of about MARK_EVERY events (whole calls: a session's events
        travel together however far apart they are in time); each round's marks are written before the next."""
        unique = list({interaction.key: interaction for interaction in interactions}.values())
        done: set[str] = set()
        for start in range(0, len(unique), MARK_EVERY * 4):
            done |= self.store.forwarded_among(
                interaction.key for interaction in unique[start : start + MARK_EVERY * 4]
            )
        report.already += len(done)
        calls = calls_of([interaction for interaction in unique if interaction.key not in done])
        round_calls: list[tuple[str, str, list[Interaction]]] = []
        size = 0
        for call in calls:
            round_calls.append(call)
            size += len(call[2])
            if size >= MARK_EVERY:
                self._round(round_calls, report)
                round_calls, size = [], 0
        if round_calls:
            self._round(round_calls, report)
        return report

    def _round(self, calls: list[tuple[str, str, list[Interaction]]], report: ForwardReport) -> None:
        if self.concurrency == 1 or len(calls) == 1:
            outcomes = [self._call(user, session, events, report) for user, session, events in calls]
        else:
            with ThreadPoolExecutor(max_workers=min(self.concurrency, len(calls))) as pool:
                outcomes = list(pool.map(lambda call: self._call(call[0], call[1], call[2], report), calls))
        taken = [interaction.key for outcome in outcomes for interaction in outcome]
        self.store.mark_forwarded(taken, self._wall_clock())
        report.forwarded += len(taken)

    def _out_of_time(self, delay: float) -> bool:
        return self.deadline is not None and self._clock() + delay >= self.deadline

    def _call(self, user: str, session: str, events: list[Interaction], report: ForwardReport) -> list[Interaction]:
        """The events Personalize took (all or none); what it did not is counted queued or rejected."""
        from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

        attempt = 0
        while True:
            attempt += 1
            if self.gave_up or self._out_of_time(0.0):
                break
            with self._lock:
                report.calls += 1
            try:
                self.client.put_events(
                    trackingId=self.tracking_id,
                    userId=user,
                    sessionId=session,
                    eventList=[dict(interaction.event) for interaction in events],
                )
            except (ClientError, BotoCoreError) as error:
                # a request the SDK refuses (an id over PutEvents' 256 characters) fails the same way every time
                retry = not isinstance(error, ParamValidationError) and (
                    isinstance(error, BotoCoreError) or is_retryable(error)
                )
                if not retry:
                    with self._lock:
                        report.rejected[error_code(error)] += len(events)
                    return []
                delay = self.backoff.delay(attempt)
                if attempt >= self.backoff.max_attempts or self._out_of_time(delay):
                    self.gave_up = True
                    break
                with self._lock:
                    report.retries += 1
                self._sleep(delay)
                continue
            return events
        with self._lock:
            report.queued += len(events)
        return []
