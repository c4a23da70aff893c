"""Doctor test fixtures: AWS clients on the shared moto server (eu-west-1), answers for the calls moto does not
implement (SES GetAccount and event destinations, End User Messaging SMS, Personalize, Customer Profiles, IAM
simulation), a fake DNS resolver, and a recorder of every AWS call that fails the test on any call that could change
something."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.client import BaseClient

from campaign_tools.campaigns.definition import CampaignDefinition, parse_campaign
from campaign_tools.doctor.base import Check, Finding, Status
from campaign_tools.doctor.context import DoctorContext, Stack
from campaign_tools.doctor.dns import DnsUnreachable
from campaign_tools.doctor.settings import DoctorSettings
from campaign_tools.send.run import client_factory
from tests.aws_fixtures import ACCOUNT, REGION
from transformer.aws import AwsOptions

READ_ONLY = re.compile(r"^(Describe|Get|List|Simulate|Scan|Query|BatchGet)")
"""Operations that cannot change anything: every call the doctor makes must be one of these."""
SENDER = "news@shop.example.com"
CAMPAIGN_ARN = f"arn:aws:personalize:{REGION}:{ACCOUNT}:campaign/outdoor-gear"


@dataclass
class Recorder:
    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    watching: bool = False

    def operations(self) -> list[str]:
        return [f"{service}:{operation}" for service, operation, _ in self.calls]


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    """Records every AWS call made while `watching` (set by `run_check`), through botocore's one entry point."""
    recording = Recorder()
    original = BaseClient._make_api_call

    def record(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if recording.watching:
            recording.calls.append((client.meta.service_model.signing_name, operation, dict(params)))
        return original(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", record)
    yield recording
    mutating = [name for name in recording.operations() if not READ_ONLY.match(name.partition(":")[2])]
    assert not mutating, f"the doctor must only read; it called {mutating}"


@pytest.fixture
def clients(aws_endpoint: str) -> Callable[[str], Any]:
    return client_factory(AwsOptions(region=REGION, endpoint_url=aws_endpoint))


def answer(client: Any, operation: str, response: dict[str, Any] | str) -> None:
    """`operation` on `client` answers `response` (or fails with that error code) without reaching moto; the
    client's other calls still do. For the calls moto does not implement."""
    service = client.meta.service_model.service_id.hyphenize()

    def respond(**_: Any) -> tuple[Any, dict[str, Any]]:
        if isinstance(response, str):
            status = 404 if "NotFound" in response else 403
            return SimpleNamespace(status_code=status), {"Error": {"Code": response, "Message": response}}
        return SimpleNamespace(status_code=200), response

    client.meta.events.register(f"before-call.{service}.{operation}", respond)


class FakeResolver:
    def __init__(self, records: dict[str, list[str]] | None = None, *, unreachable: bool = False) -> None:
        self.records = records or {}
        self.unreachable = unreachable
        self.asked: list[str] = []

    def txt(self, name: str) -> list[str]:
        self.asked.append(name)
        if self.unreachable:
            raise DnsUnreachable("LifetimeTimeout")
        return self.records.get(name, [])


def campaign(channel: str = "email", sender: dict[str, Any] | None = None, **fields: Any) -> CampaignDefinition:
    """A campaign.toml's definition with one channel table (`template` and the sender settings; email gets a From
    address and configuration set unless `sender` replaces them); `fields` are further top-level keys or tables."""
    defaults = {"from_address": SENDER, "configuration_set": "pinrec-events"} if channel == "email" else {}
    data = {"id": "doctor-test", "name": "Doctor test", "recommendations": f"personalize:{CAMPAIGN_ARN}",
            "ledger": "dynamodb:pinrec-send-ledger", "suppression": "dynamodb:pinrec-suppression",
            "schedule": {"start": "2027-03-01T09:00:00Z", "frequency": "once"},
            channel: {"template": "offer", **defaults, **(sender or {})}, **fields}  # fmt: skip
    return parse_campaign(data)


@pytest.fixture
def make_context(clients: Callable[[str], Any]) -> Callable[..., DoctorContext]:
    def make(
        *, campaign: CampaignDefinition | None = None, resolver: Any = None, found_stacks: dict[str, Stack | None] | None = None,
        now: float = 1_800_000_000.0, **settings: Any,
    ) -> DoctorContext:  # fmt: skip
        context = DoctorContext(
            settings=DoctorSettings(**settings), clients=clients, resolver=resolver or FakeResolver(),
            campaign=campaign, now=now, stacks=found_stacks or {}, account=ACCOUNT,
            caller_arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/session",
        )  # fmt: skip
        return context

    return make


@pytest.fixture
def run_check(recorder: Recorder) -> Callable[[Check, DoctorContext], list[Finding]]:
    def run(check: Check, context: DoctorContext) -> list[Finding]:
        recorder.watching = True
        try:
            return check.run(context)
        finally:
            recorder.watching = False

    return run


def only(findings: list[Finding], status: Status) -> Finding:
    assert len(findings) == 1, findings
    assert findings[0].status is status, findings[0]
    return findings[0]


def statuses(findings: list[Finding]) -> list[str]:
    return [str(finding.status) for finding in findings]
