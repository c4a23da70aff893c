"""Campaigns written into a real SQLite ledger: rows claimed and marked as a send marks them, then delivery events
recorded with `record_events`, as ingestion records them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from campaign_tools.events.model import DeliveryEvent, EventKind
from campaign_tools.send.binding import Bound, CampaignBinding
from campaign_tools.send.ledgers.base import ClaimPolicy, RecordedEvents
from campaign_tools.send.ledgers.sqlite import SqliteLedger

T0 = 1_800_000_000.0
"""2027-01-15T08:00:00Z: the first send of every scenario."""
HOUR = 3600.0
NOW = T0 + 100 * HOUR
HOSTILE_LINK = 'javascript:alert(1)//"><script>document.title="pwned"</script><img src=x onerror=alert(2)>\n\x1b[31m$x$'
LINK_A = "https://shop.example.com/a?utm_source=pinrec&x=1"
LINK_B = "https://shop.example.com/b"


def binding(channel: str) -> str:
    return CampaignBinding({"channel": Bound(channel, "digest")}).to_json()


@dataclass
class Campaign:
    """Rows of one campaign; `events` are recorded by `write`."""

    campaign_id: str
    channel: str = "email"
    sent: Sequence[str] = ()
    """Endpoints marked sent, with message id m-<endpoint>."""
    skipped: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    pending: Sequence[str] = ()

    def write_rows(self, ledger: SqliteLedger) -> None:
        policy = ClaimPolicy("test-run")
        ledger.bind_campaign(self.campaign_id, binding(self.channel), T0)
        for endpoint in self.sent:
            ledger.claim(self.campaign_id, endpoint, T0, policy)
            ledger.mark_sent(self.campaign_id, endpoint, f"m-{endpoint}", T0)
        for endpoint, reason in self.failed.items():
            ledger.claim(self.campaign_id, endpoint, T0, policy)
            ledger.mark_failed(self.campaign_id, endpoint, reason, T0)
        for endpoint, reason in self.skipped.items():
            ledger.mark_skipped(self.campaign_id, endpoint, reason, T0)
        for endpoint in self.pending:
            ledger.claim(self.campaign_id, endpoint, T0, policy)


def event(
    event_id: str,
    kind: EventKind,
    endpoint: str,
    hours: float,
    *,
    channel: str = "email",
    tagged_campaign: str | None = None,
    subtype: str | None = None,
    detail: str | None = None,
    link: str | None = None,
) -> DeliveryEvent:
    """An event of endpoint's message `hours` after T0: found by message id, or by tags when `tagged_campaign`."""
    return DeliveryEvent(
        event_id=event_id,
        channel=channel,
        kind=kind,
        occurred_at=T0 + hours * HOUR,
        message_id=None if tagged_campaign else f"m-{endpoint}",
        campaign_id=tagged_campaign,
        endpoint_id=endpoint if tagged_campaign else None,
        recipient=f"{endpoint}@example.com",
        subtype=subtype,
        detail=detail,
        link=link,
    )


def write(path: Path, campaign: Campaign, events: Sequence[DeliveryEvent], batches: int = 1) -> RecordedEvents:
    ledger = SqliteLedger(path)
    try:
        campaign.write_rows(ledger)
        recorded = RecordedEvents()
        size = max(1, -(-len(events) // batches))
        for start in range(0, len(events), size):
            recorded += ledger.record_events(events[start : start + size], NOW)
        return recorded
    finally:
        ledger.close()


# The email scenario every expected figure below is counted from by hand.
EMAIL = Campaign(
    "spring",
    sent=[f"e{number:02}" for number in range(1, 11)],
    skipped={
        "s1": "suppressed:complaint",
        "s2": "suppressed:complaint",
        "s3": "suppressed:bounce",
        "k1": "no_address",
    },
    failed={"f1": "throttled"},
    pending=["p1"],
)
K = EventKind
EMAIL_EVENTS: list[DeliveryEvent] = [
    *(event(f"send-e{n:02}", K.SEND, f"e{n:02}", (n - 1) / HOUR) for n in range(1, 11)),
    event("send-p1", K.SEND, "p1", 20 / HOUR, tagged_campaign="spring"),
    *(event(f"delivery-e{n:02}", K.DELIVERY, f"e{n:02}", 60 / HOUR) for n in range(1, 8)),
    event("delivery-e01-again", K.DELIVERY, "e01", 2),
    event("delivery-p1", K.DELIVERY, "p1", 1, tagged_campaign="spring"),
    event("bounce-e08", K.BOUNCE, "e08", 30 / HOUR, subtype="Permanent", detail="General"),
    event("bounce-e09", K.BOUNCE, "e09", 30 / HOUR, subtype="Transient", detail="MailboxFull"),
    event("bounce-e10-soft", K.BOUNCE, "e10", 30 / HOUR, subtype="Transient", detail="General"),
    event("bounce-e10-hard", K.BOUNCE, "e10", 4000 / HOUR, subtype="Permanent", detail="NoEmail"),
    event("complaint-e02", K.COMPLAINT, "e02", 2 + 5 / HOUR),
    event("complaint-e02-again", K.COMPLAINT, "e02", 5),
    event("open-e01-1", K.OPEN, "e01", 3599 / HOUR),
    event("open-e01-2", K.OPEN, "e01", 4000 / HOUR),
    event("open-e01-3", K.OPEN, "e01", 25),
    event("open-e02", K.OPEN, "e02", 24),
    event("open-e03", K.OPEN, "e03", 72),
    event("click-e01-a1", K.CLICK, "e01", 3700 / HOUR, link=LINK_A),
    event("click-e01-a2", K.CLICK, "e01", 3800 / HOUR, link=LINK_A),
    event("click-e01-b", K.CLICK, "e01", 3900 / HOUR, link=LINK_B),
    event("click-e02-a", K.CLICK, "e02", 25, link=LINK_A),
    event("click-e03-hostile", K.CLICK, "e03", 80, link=HOSTILE_LINK),
    event("unsubscribe-e03", K.SUBSCRIPTION, "e03", 10, subtype="unsubscribed"),
    event("subscribe-e04", K.SUBSCRIPTION, "e04", 11, subtype="subscribed"),
    event("delay-e05", K.DELIVERY_DELAY, "e05", 30 / HOUR),
    event("unknown-message", K.DELIVERY, "zz", 1),
]
"""`unknown-message` names no message of the ledger: counted unknown, not stored."""

SMS = Campaign("sms-sale", channel="sms", sent=["n1", "n2", "n3", "n4"], failed={"n5": "throttled"})
SMS_EVENTS: list[DeliveryEvent] = [
    event("sms-send-n1", K.SEND, "n1", 0, channel="sms"),
    event("sms-delivered-n1", K.DELIVERY, "n1", 0.1, channel="sms"),
    event("sms-failed-n2", K.FAILED, "n2", 0.2, channel="sms", detail="UNREACHABLE"),
    event("sms-failed-n2-later", K.FAILED, "n2", 0.3, channel="sms", detail="TTL_EXPIRED"),
    event("sms-blocked-n3", K.BLOCKED, "n3", 0.2, channel="sms", detail="SPAM"),
    event("sms-delivered-n4", K.DELIVERY, "n4", 0.1, channel="sms"),
    event("sms-optout-n4", K.OPT_OUT, "n4", 3, channel="sms"),
]
