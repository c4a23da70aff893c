"""`pinrec smoke` as a library call: for each channel table of a campaign.toml that has a simulator, send the
campaign's own message to the simulators with the campaign's sender settings, ledger and suppression list, wait for
their events to come back through the deployed loop, check the ledger, the suppression list and the report, and
clean up what it created."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import Field
from pydantic.dataclasses import dataclass as settings_dataclass

from campaign_tools.campaigns.definition import CampaignDefinition, load_campaign
from campaign_tools.campaigns.units import SendUnit
from campaign_tools.campaigns.units import send_settings as unit_send_settings
from campaign_tools.doctor.base import Finding, Findings, Status
from campaign_tools.report.run import read_report
from campaign_tools.send.ledgers import registry as ledger_registry
from campaign_tools.send.ledgers.base import DEFAULT_LEASE_SECONDS, Ledger
from campaign_tools.send.pipeline import RunSummary
from campaign_tools.send.run import SendRun, client_factory
from campaign_tools.send.settings import SendSettings
from campaign_tools.settings import SETTINGS_CONFIG, InvalidSettings, Settings
from campaign_tools.smoke import verify
from campaign_tools.smoke.recipients import SIMULATORS, Promise, check_recipient, recipients
from campaign_tools.suppression import registry as suppression_registry
from campaign_tools.suppression.base import SuppressionList
from transformer.errors import PinrecError

found = Findings("smoke")
SMOKE_RATE = 1.0
"""Messages per second: a handful of messages, never a burst."""


class InvalidSmokeSettings(InvalidSettings):
    heading = "invalid smoke settings"


class SmokeError(PinrecError):
    pass


@settings_dataclass(frozen=True, kw_only=True, config=SETTINGS_CONFIG)
class SmokeSettings(Settings):
    invalid: ClassVar[type[InvalidSettings]] = InvalidSmokeSettings
    flags: ClassVar[Mapping[str, str]] = {"timeout_seconds": "--timeout", "poll_seconds": "--poll", "items": "--item"}

    campaign: Path
    """The campaign.toml (`campaigns.definition`): its channel tables (template, sender settings with the
    configuration set), configuration, recommendations, and the ledger and suppression list of the deployed loop."""
    items: tuple[str, ...] = ()
    """Recommend these catalog item ids to every simulator endpoint (the `segment` source) instead of the campaign's
    recommendations (a Personalize campaign knows nothing of the simulators)."""
    timeout_seconds: Annotated[float, Field(gt=0, le=3600, allow_inf_nan=False)] = 600.0
    poll_seconds: Annotated[float, Field(gt=0, le=300, allow_inf_nan=False)] = 10.0
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None


@dataclass
class SmokeResult:
    campaign_id: str
    channel: str
    findings: list[Finding] = field(default_factory=list)
    summary: RunSummary | None = None

    @property
    def ok(self) -> bool:
        return all(finding.status is not Status.FAILURE for finding in self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {"campaign_id": self.campaign_id, "channel": self.channel, "ok": self.ok,
                "findings": [finding.to_dict() for finding in self.findings]}  # fmt: skip


@dataclass
class SmokeReport:
    """One smoke campaign per channel table of the campaign (a table without a simulator: skipped)."""

    results: list[SmokeResult]

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.results)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "campaigns": [result.to_dict() for result in self.results]}


def smoke_campaign_id(now: float, channel: str) -> str:
    return f"pinrec-smoke-{datetime.fromtimestamp(now, UTC):%Y%m%dT%H%M%SZ}-{channel}"


def smoke_channels(definition: CampaignDefinition) -> list[str]:
    """The campaign's channel tables that have a simulator, after checking it names what the loop needs: every
    problem at once."""
    given = definition.channels.given()
    channels = [name for name in given if name in SIMULATORS]
    problems = []
    if not channels:
        problems.append(f"the campaign has no [email] or [sms] table: {', '.join(given)} has no simulator")
    problems += [
        f"[{name}] names no configuration_set: without it no event comes back"
        for name in channels
        if not getattr(definition.message(definition.treatment_name, name), "configuration_set", None)
    ]
    if not definition.ledger:
        problems.append('the campaign names no ledger: name the one the events function writes (ledger = "dynamodb:'
                        'TABLE", its PINREC_LEDGER)')  # fmt: skip
    if not definition.suppression or definition.suppression == "none":
        problems.append("the campaign names no suppression list: name the one the events function writes")
    if problems:
        raise SmokeError("cannot run the smoke campaign:\n" + "\n".join(f"  - {p}" for p in problems))
    return channels


def send_settings(settings: SmokeSettings, definition: CampaignDefinition, channel: str, campaign_id: str,
                  segment: Path) -> SendSettings:  # fmt: skip
    """The campaign's own message on one channel (its template and sender settings, the campaign's configuration,
    recommendations, ledger and suppression list), pointed at the simulator segment: delivered, slowly, under a
    fresh campaign id."""
    overrides: dict[str, Any] = {
        "campaign_id": campaign_id, "segment": str(segment), "segment_format": "jsonl", "deliver": True,
        "outbox": None, "dry_run": False, "rate": SMOKE_RATE, "retry_pending": False, "rebind": False,
        "ledger": definition.ledger, "suppression": definition.suppression,
    }  # fmt: skip
    if settings.items:
        overrides["recommendations"] = "segment"
    aws = {k: v for k, v in {"region": settings.region, "profile": settings.profile,
                             "endpoint_url": settings.endpoint_url}.items() if v}  # fmt: skip
    if aws:
        overrides["aws"] = aws
    unit = SendUnit(definition.id, datetime.now(UTC), definition.treatment_name, channel)
    return unit_send_settings(definition, unit, **overrides)


def write_segment(path: Path, channel: str, promises: Mapping[str, Promise], items: tuple[str, ...]) -> None:
    lines = []
    for address, promise in promises.items():
        record: dict[str, Any] = {
            "Id": promise.endpoint_id, "ChannelType": "EMAIL" if channel == "email" else "SMS",
            "Address": check_recipient(channel, address), "User": {"UserId": promise.endpoint_id},
        }  # fmt: skip
        if items:
            record["RecommendationItems"] = list(items)
        lines.append(json.dumps(record))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def forget_simulators(listing: SuppressionList, channel: str, promises: Mapping[str, Promise]) -> None:
    """Remove the simulator addresses' entries (only ever made by smoke campaigns), complaints included."""
    for address in promises:
        listing.remove(channel, check_recipient(channel, address), force=True)


@dataclass(frozen=True)
class Waiting:
    """How the smoke waits for events: the pause between two reads of the ledger, the clock, where progress goes."""

    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    progress: Callable[[str], None] = lambda _: None


def wait_for_events(ledger: Ledger, campaign_id: str, promises: Mapping[str, Promise], settings: SmokeSettings,
                    waiting: Waiting) -> bool:  # fmt: skip
    """Poll the ledger until every message has the events its simulator promised; False at the timeout."""
    sleep, clock, progress = waiting.sleep, waiting.clock, waiting.progress
    start = clock()
    while True:
        kinds = verify.kinds_by_endpoint(list(ledger.events(campaign_id)))
        done = sum(promise.arrived(kinds.get(promise.endpoint_id, set())) for promise in promises.values())
        progress(f"{done} of {len(promises)} messages have their events ({clock() - start:.0f}s)")
        if done == len(promises):
            return True
        if clock() - start >= settings.timeout_seconds:
            return False
        sleep(settings.poll_seconds)


def run_smoke(
    settings: SmokeSettings,
    *,
    clients: Callable[[str], Any] | None = None,
    waiting: Waiting | None = None,
    now: float | None = None,
) -> SmokeReport:
    """The library entry point of `pinrec smoke`: one smoke campaign per channel table, in the registry's order;
    SmokeError before anything is sent when the campaign lacks what the loop needs."""
    definition = load_campaign(settings.campaign)
    channels = smoke_channels(definition)
    at = time.time() if now is None else now
    results = [
        _smoke_channel(settings, definition, channel, at, clients=clients, waiting=waiting) for channel in channels
    ]
    results += [
        SmokeResult(smoke_campaign_id(at, name), name, [found.skipped("send", f"{name} has no simulator: not sent")])
        for name in definition.channels.given()
        if name not in channels
    ]
    return SmokeReport(results)


def _smoke_channel(settings: SmokeSettings, definition: CampaignDefinition, channel: str, now: float, *,
                   clients: Callable[[str], Any] | None, waiting: Waiting | None) -> SmokeResult:  # fmt: skip
    campaign_id = smoke_campaign_id(now, channel)
    folder = Path(tempfile.mkdtemp(prefix="pinrec-smoke-"))
    try:
        send = send_settings(settings, definition, channel, campaign_id, folder / "segment.jsonl")
        promises = recipients(send.channel)
        clients = clients or client_factory(send.aws.options())
        write_segment(folder / "segment.jsonl", send.channel, promises, settings.items)
        result = SmokeResult(campaign_id, send.channel)
        assert send.suppression is not None  # smoke_channels refuses a campaign without one
        listing = suppression_registry.open_suppression(send.suppression, clients)
        try:
            forget_simulators(listing, send.channel, promises)  # a previous smoke's entries would skip them
            _Smoke(send, promises, listing, clients, settings, waiting or Waiting()).run(result)
        finally:
            forget_simulators(listing, send.channel, promises)
            listing.close()
        return result
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class _Smoke:
    send: SendSettings
    promises: Mapping[str, Promise]
    listing: SuppressionList
    clients: Callable[[str], Any]
    settings: SmokeSettings
    waiting: Waiting

    def run(self, result: SmokeResult) -> None:
        send, promises = self.send, self.promises
        with SendRun(send, clients=self.clients) as run:
            result.summary = summary = run.run()
        if summary.sent != len(promises):
            reasons = dict(summary.all_skipped() + summary.failed)
            result.findings.append(found.failure("send", f"{summary.sent} of {len(promises)} sent; {reasons}",
                                                 "fix what the reasons name (pinrec send status "
                                                 f"{send.campaign_id} --list skipped)"))  # fmt: skip
            return
        result.findings.append(found.ok("send", f"{summary.sent} messages accepted to the {send.channel} simulator"))
        ledger = ledger_registry.open_ledger(send.ledger, self.clients, read_only=True)
        try:
            self._check(ledger, result)
        finally:
            ledger.close()

    def _check(self, ledger: Ledger, result: SmokeResult) -> None:
        send, promises, settings = self.send, self.promises, self.settings
        if not wait_for_events(ledger, send.campaign_id, promises, settings, self.waiting):
            result.findings.append(found.failure("events", f"not all events arrived within {settings.timeout_seconds:g}s",
                                                 "run pinrec doctor (events check); the ledger must be the one the "
                                                 "events function writes (its PINREC_LEDGER)"))  # fmt: skip
        result.findings += verify.check_ledger(promises, list(ledger.events(send.campaign_id)))
        result.findings += verify.check_suppression(promises, self.listing.lookup(send.channel, list(promises)))
        report = read_report(ledger, send.campaign_id, time.time(), DEFAULT_LEASE_SECONDS)
        result.findings += verify.check_report(promises, report)
