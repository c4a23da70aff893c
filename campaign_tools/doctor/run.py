"""`pinrec doctor` as a library call: every check of the registry over one context, their findings in order. It only
reads; a check that breaks unexpectedly becomes one failure, never stops the others."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from campaign_tools.campaigns.definition import load_campaign
from campaign_tools.doctor.base import Check, Finding, Status
from campaign_tools.doctor.context import DoctorContext
from campaign_tools.doctor.dns import DnsPythonResolver, Resolver
from campaign_tools.doctor.registry import CHECKS
from campaign_tools.doctor.settings import DoctorSettings
from campaign_tools.send.run import client_factory
from transformer.aws import error_code
from transformer.config import load_config

SCHEMA = "pinrec.doctor/1"
MARKS = {Status.OK: "ok  ", Status.WARNING: "warn", Status.FAILURE: "FAIL", Status.SKIPPED: "skip"}


@dataclass(frozen=True)
class DoctorReport:
    findings: tuple[Finding, ...]

    @property
    def failed(self) -> bool:
        return any(finding.status is Status.FAILURE for finding in self.findings)

    def counts(self) -> dict[str, int]:
        return {str(status): sum(f.status is status for f in self.findings) for status in Status}

    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "ok": not self.failed, "counts": self.counts(),
                "findings": [finding.to_dict() for finding in self.findings]}  # fmt: skip

    def lines(self) -> list[str]:
        lines = []
        for finding in self.findings:
            lines.append(
                f"[{MARKS[finding.status]}] {finding.title}" + (f": {finding.detail}" if finding.detail else "")
            )
            if finding.fix:
                lines.append(f"       fix: {finding.fix}")
        counts = self.counts()
        lines.append(", ".join(f"{counts[str(status)]} {status}" for status in Status))
        return lines


def make_context(settings: DoctorSettings, *, clients: Callable[[str], Any] | None = None,
                 resolver: Resolver | None = None, now: float | None = None) -> DoctorContext:  # fmt: skip
    campaign = load_campaign(settings.campaign) if settings.campaign else None
    config_path = settings.config or (campaign.config if campaign is not None and campaign.config else None)
    return DoctorContext(
        settings=settings,
        clients=clients or client_factory(settings.aws()),
        resolver=resolver or DnsPythonResolver(settings.dns_timeout),
        campaign=campaign,
        config=load_config(config_path) if config_path else None,
        now=time.time() if now is None else now,
    )


def run_checks(context: DoctorContext, checks: Sequence[Check] = CHECKS) -> DoctorReport:
    from botocore.exceptions import BotoCoreError, ClientError

    findings: list[Finding] = []
    for check in checks:
        try:
            findings += check.run(context)
        except (ClientError, BotoCoreError) as error:
            findings.append(Finding(check.name, Status.FAILURE, check.description,
                                    f"the check could not finish: {error_code(error)}",
                                    "check the region and the caller's access to the calls it names"))  # fmt: skip
    return DoctorReport(tuple(findings))


def doctor(settings: DoctorSettings, *, clients: Callable[[str], Any] | None = None,
           resolver: Resolver | None = None, now: float | None = None) -> DoctorReport:  # fmt: skip
    """The library entry point of `pinrec doctor`."""
    return run_checks(make_context(settings, clients=clients, resolver=resolver, now=now))
