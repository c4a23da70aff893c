"""What a smoke campaign must show once its events are in: per recipient, the events the simulator promised (and
none it ruled out) in the ledger, the suppression entry it promised (and none otherwise), and the campaign report's
figures adding up to the same."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from campaign_tools.doctor.base import Finding, Findings
from campaign_tools.report.figures import CampaignReport
from campaign_tools.send.ledgers.base import MessageEvent
from campaign_tools.smoke.recipients import Promise
from campaign_tools.suppression.base import Suppression

found = Findings("smoke")


def kinds_by_endpoint(events: Sequence[MessageEvent]) -> dict[str, set[str]]:
    kinds: dict[str, set[str]] = {}
    for event in events:
        kinds.setdefault(event.endpoint_id, set()).add(event.kind)
    return kinds


def check_ledger(promises: Mapping[str, Promise], events: Sequence[MessageEvent]) -> list[Finding]:
    kinds = kinds_by_endpoint(events)
    findings = []
    for promise in promises.values():
        got = kinds.get(promise.endpoint_id, set())
        title = f"ledger {promise.endpoint_id}"
        wrong = sorted(got & promise.absent)
        if not promise.arrived(got) or wrong:
            want = sorted(promise.kinds | promise.one_of)
            findings.append(found.failure(title, f"events {sorted(got)}; the simulator promises {want}"
                                          + (f" and never {wrong}" if wrong else ""),
                                          "read the events function's log and the dead-letter queue; run pinrec "
                                          "doctor"))  # fmt: skip
            continue
        if promise.bounce_detail:
            details = {e.detail for e in events if e.endpoint_id == promise.endpoint_id and e.kind == "bounce"}
            subtypes = {e.subtype for e in events if e.endpoint_id == promise.endpoint_id and e.kind == "bounce"}
            if promise.bounce_detail not in details or "Permanent" not in subtypes:
                findings.append(found.failure(title, f"bounce {sorted(map(str, subtypes))}/{sorted(map(str, details))}"
                                              f"; the simulator promises Permanent/{promise.bounce_detail}",
                                              "check the events source reads bounceType and bounceSubType"))  # fmt: skip
                continue
        findings.append(found.ok(title, ", ".join(sorted(got))))
    return findings


def check_suppression(promises: Mapping[str, Promise], entries: Mapping[str, Suppression]) -> list[Finding]:
    findings = []
    for address, promise in promises.items():
        entry = entries.get(address)
        title = f"suppression {promise.endpoint_id}"
        held = entry.reason.value if entry is not None else None
        if held != promise.suppressed:
            findings.append(found.failure(title, f"suppressed: {held or 'no'}; expected {promise.suppressed or 'no'}",
                                          "check the events function writes the suppression list the send "
                                          "consults (PINREC_SUPPRESSION)"))  # fmt: skip
        else:
            findings.append(found.ok(title, f"suppressed: {held or 'no'}"))
    return findings


def expected_figures(promises: Mapping[str, Promise]) -> dict[str, int]:
    every = list(promises.values())
    return {
        "sent": len(every),
        "delivered": sum("delivery" in p.kinds for p in every),
        "hard_bounced": sum("bounce" in p.kinds for p in every),
        "complained": sum("complaint" in p.kinds for p in every),
    }


def check_report(promises: Mapping[str, Promise], report: CampaignReport) -> list[Finding]:
    total = report.total
    wanted = expected_figures(promises)
    got = {name: int(getattr(total, name)) for name in wanted}
    if got != wanted:
        return [found.failure("report", f"figures {got}; the simulator promises {wanted}",
                              f"compare with pinrec send report {report.campaign_id}")]  # fmt: skip
    return [found.ok("report", ", ".join(f"{name} {count}" for name, count in got.items()))]
