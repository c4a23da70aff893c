"""A campaign id is bound to what it sends: the template, the configuration, the segment, the channel and the
recommendations source it was started with. The ledger keeps the binding as the campaign's record, written when the
campaign first writes a row. A later run with the same id and the same binding resumes the campaign; a run that would
send something else under the id is refused before its first message, naming what differs (`--rebind` moves the
campaign to what the run sends instead).

What identifies each part:
- template: a digest of the built template (its parts, DefaultSubstitutions, links and channel settings), so
  `--template NAME` and `--built DIR` of the same build agree; a plugin composer by its MODULE:FACTORY;
- configuration: a digest of the attribute tables, `[recommendations]`, `[offers]` and the store's kind, key and
  location, a local file by its name only: the same configuration in another folder is the same campaign;
- segment: its format and location (an S3 address, or a local file's absolute path), not its content, which a huge
  S3 export cannot be hashed for before sending;
- channel, and the recommendations source with its id type, items per message and filter.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from campaign_tools.events.model import DeliveryEvent
from campaign_tools.send.ledgers.base import (
    CampaignRecord,
    Claim,
    ClaimPolicy,
    Ledger,
    LedgerRow,
    LedgerSummary,
    MessageEvent,
    RecordedEvents,
    State,
)
from campaign_tools.send.parts import SendParts
from campaign_tools.send.segments import format_of
from campaign_tools.send.settings import SendSettings
from campaign_tools.templates.prebuilt import SendableTemplate
from transformer.config import PinrecConfig
from transformer.errors import PinrecError
from transformer.files import STDIN, is_s3_url

BINDING_FORMAT = 1
SHOWN_DIGEST = 12
"""Hex digits of a digest shown in messages."""


class CampaignBindingError(PinrecError):
    """The campaign id is bound to something else than this run would send."""


@dataclass(frozen=True)
class Bound:
    """One part of a binding: how messages show it, and the digest compared."""

    shown: str
    digest: str


def _digest(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def _digested(name: str, value: object) -> Bound:
    digest = _digest(value)
    return Bound(f"{name} ({digest[:SHOWN_DIGEST]})", digest)


def _plain(shown: str) -> Bound:
    return Bound(shown, _digest(shown))


@dataclass(frozen=True)
class CampaignBinding:
    parts: Mapping[str, Bound]
    """template, config, segment, channel, recommendations."""

    def to_json(self) -> str:
        parts = {name: {"shown": bound.shown, "digest": bound.digest} for name, bound in self.parts.items()}
        return json.dumps({"format": BINDING_FORMAT, "parts": parts}, sort_keys=True, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> CampaignBinding:
        data = json.loads(text)
        return cls({name: Bound(part["shown"], part["digest"]) for name, part in data["parts"].items()})

    def differences(self, wanted: CampaignBinding) -> list[str]:
        """What `wanted` changes, one line per part (parts one side does not know are not compared)."""
        return [
            f"{name}: bound to {self.parts[name].shown}; this run: {part.shown}"
            for name, part in wanted.parts.items()
            if name in self.parts and self.parts[name].digest != part.digest
        ]


def _template(settings: SendSettings, parts: SendParts) -> Bound:
    template = getattr(parts.composer, "template", None)
    if not isinstance(template, SendableTemplate):
        return _plain(f"composer {settings.composer}")
    texts = {part.key: text for part, text in template.parts.items()}
    return _digested(template.name, {"template": template.to_json(), "parts": texts})


def _local_name(location: str, local: bool) -> str:
    return Path(location).name if local else location


def _config(config: PinrecConfig) -> Bound:
    store = config.store
    offers = config.offers
    identity = {
        "attributes": {
            name: spec.model_dump(mode="json", exclude_none=True) for name, spec in config.attributes.items()
        },
        "recommendations": config.recommendations.model_dump(mode="json"),
        "offers": None if offers is None else offers.model_dump(mode="json", exclude={"catalog"}),
        "offers_catalog": None if offers is None else Path(offers.catalog).name,
        "store": {
            "kind": store.kind,
            "key": store.key,
            "location": _local_name(store.location, store.bundled_file() is not None),
        },
    }
    return _digested(f"attributes {', '.join(config.attributes)} from {store.kind}", identity)


def _location(location: str) -> str:
    if location == STDIN:
        return "standard input"
    return location if is_s3_url(location) else str(Path(location).resolve())


def _segment(settings: SendSettings) -> Bound:
    segment = settings.segment
    if segment is None:
        return _plain("the records handed over")
    return _plain(f"{format_of(segment, settings.segment_format) or 'format by content'} {_location(segment)}")


def _recommendations(settings: SendSettings) -> Bound:
    kind, separator, target = settings.recommendations.partition(":")
    spec = f"{kind}:{_location(target)}" if kind == "file" and separator else settings.recommendations
    shown = f"{spec} by {settings.id_type} id, {settings.per_message} per message"
    if settings.filter_arn:
        values = ", ".join(f"{name}={value}" for name, value in sorted(settings.filter_values.items()))
        shown += f", filter {settings.filter_arn}" + (f" ({values})" if values else "")
    return _plain(shown)


def binding_of(settings: SendSettings, parts: SendParts) -> CampaignBinding:
    """What this send would bind its campaign id to."""
    return CampaignBinding(
        {
            "template": _template(settings, parts),
            "config": _config(parts.config),
            "segment": _segment(settings),
            "channel": _plain(settings.channel),
            "recommendations": _recommendations(settings),
        }
    )


def refusal(campaign_id: str, differences: list[str]) -> CampaignBindingError:
    listed = "\n".join(f"  - {difference}" for difference in differences)
    return CampaignBindingError(
        f"campaign {campaign_id} was started with something else than this run sends:\n{listed}\n"
        "Nothing was sent. A new campaign needs a new --campaign-id; to go on with this campaign as this run "
        "sends it (endpoints already sent are not sent again), re-run with --rebind."
    )


def check_bound(ledger: Ledger, campaign_id: str, wanted: CampaignBinding) -> None:
    """Refuse, before anything is sent, a run whose campaign id is bound to something else."""
    record = ledger.campaign_record(campaign_id)
    if record is not None:
        differences = CampaignBinding.from_json(record.binding).differences(wanted)
        if differences:
            raise refusal(campaign_id, differences)


def bind(ledger: Ledger, campaign_id: str, wanted: CampaignBinding, *, rebind: bool, now: float) -> None:
    """Write the binding unless the campaign has one (`rebind`: replace it); refuse when the one in force, perhaps
    written by a concurrent run, is another."""
    record = ledger.bind_campaign(campaign_id, wanted.to_json(), now, replace=rebind)
    differences = CampaignBinding.from_json(record.binding).differences(wanted)
    if differences:
        raise refusal(campaign_id, differences)


class BoundLedger:
    """A ledger that binds its campaign when the run first writes a row (a claim or a skip), once per run."""

    def __init__(
        self,
        ledger: Ledger,
        campaign_id: str,
        binding: CampaignBinding,
        *,
        rebind: bool = False,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.inner = ledger
        self._campaign_id = campaign_id
        self._binding = binding
        self._rebind = rebind
        self._now = wall_clock
        self._lock = threading.Lock()
        self._bound = False

    def _bind(self) -> None:
        with self._lock:
            if not self._bound:
                bind(self.inner, self._campaign_id, self._binding, rebind=self._rebind, now=self._now())
                self._bound = True

    def claim(self, campaign_id: str, endpoint_id: str, now: float, policy: ClaimPolicy) -> Claim:
        self._bind()
        return self.inner.claim(campaign_id, endpoint_id, now, policy)

    def claim_many(
        self, campaign_id: str, endpoint_ids: Sequence[str], now: float, policy: ClaimPolicy
    ) -> dict[str, Claim]:
        self._bind()
        return self.inner.claim_many(campaign_id, endpoint_ids, now, policy)

    def mark_sent_many(self, campaign_id: str, sent: Sequence[tuple[str, str]], now: float) -> None:
        self.inner.mark_sent_many(campaign_id, sent, now)

    def mark_skipped(self, campaign_id: str, endpoint_id: str, reason: str, now: float) -> None:
        self._bind()
        self.inner.mark_skipped(campaign_id, endpoint_id, reason, now)

    def mark_sent(self, campaign_id: str, endpoint_id: str, message_id: str, now: float) -> None:
        self.inner.mark_sent(campaign_id, endpoint_id, message_id, now)

    def mark_failed(self, campaign_id: str, endpoint_id: str, reason: str, now: float) -> None:
        self.inner.mark_failed(campaign_id, endpoint_id, reason, now)

    def sent_among(self, campaign_id: str, endpoint_ids: list[str]) -> set[str]:
        return self.inner.sent_among(campaign_id, endpoint_ids)

    def summary(self, campaign_id: str, now: float, lease_seconds: float) -> LedgerSummary:
        return self.inner.summary(campaign_id, now, lease_seconds)

    def rows(self, campaign_id: str, state: State) -> Iterator[LedgerRow]:
        return self.inner.rows(campaign_id, state)

    def campaign_record(self, campaign_id: str) -> CampaignRecord | None:
        return self.inner.campaign_record(campaign_id)

    def bind_campaign(self, campaign_id: str, binding: str, now: float, *, replace: bool = False) -> CampaignRecord:
        return self.inner.bind_campaign(campaign_id, binding, now, replace=replace)

    def record_events(self, events: Sequence[DeliveryEvent], now: float) -> RecordedEvents:
        return self.inner.record_events(events, now)

    def events(self, campaign_id: str) -> Iterator[MessageEvent]:
        return self.inner.events(campaign_id)

    def accepted_among(self, campaign_id: str, endpoint_ids: Sequence[str]) -> dict[str, str | None]:
        return self.inner.accepted_among(campaign_id, endpoint_ids)

    def describe(self) -> str:
        return self.inner.describe()

    def close(self) -> None:
        self.inner.close()
