"""SMS origination identities and their opt-out lists (pinpoint-sms-voice-v2 DescribePhoneNumbers,
DescribeOptOutLists): the campaign's phone number (or every number, without a campaign) is active and its opt-out
list exists, so STOP replies reach it."""

from __future__ import annotations

from typing import Any

from campaign_tools.doctor.base import Check, Finding, Findings
from campaign_tools.doctor.context import DoctorContext

found = Findings("sms")


def _numbers(client: Any, identity: str | None) -> list[dict[str, Any]]:
    request: dict[str, Any] = {"PhoneNumberIds": [identity]} if identity else {}
    numbers: list[dict[str, Any]] = []
    while True:
        page = client.describe_phone_numbers(**request)
        numbers += page.get("PhoneNumbers", [])
        if not page.get("NextToken"):
            return numbers
        request["NextToken"] = page["NextToken"]


def _opt_out_lists(client: Any) -> set[str]:
    request: dict[str, Any] = {}
    names: set[str] = set()
    while True:
        page = client.describe_opt_out_lists(**request)
        names |= {entry["OptOutListName"] for entry in page.get("OptOutLists", [])}
        if not page.get("NextToken"):
            return names
        request["NextToken"] = page["NextToken"]


def run(context: DoctorContext) -> list[Finding]:
    """Each origination identity of the campaign's [sms] tables (none named: every number of the account)."""
    if not context.sends("sms"):
        return [found.skipped("SMS origination", "the campaign has no [sms] table")]
    identities: list[str | None] = [*context.sender_values("sms", "origination_identity")] or [None]
    return [finding for identity in identities for finding in _check(context, identity)]


def _check(context: DoctorContext, identity: str | None) -> list[Finding]:
    from botocore.exceptions import ClientError

    if identity and not (identity.startswith("+") or identity.startswith("phone-") or ":phone-number/" in identity):
        return [found.skipped(f"SMS origination {identity}", "a sender id or pool: the send's preflight checks it")]
    client = context.clients("pinpoint-sms-voice-v2")
    try:
        numbers = _numbers(client, identity)
        lists = _opt_out_lists(client)
    except ClientError as error:
        return [found.aws_error(f"SMS origination {identity or ''}".strip(), "sms-voice:DescribePhoneNumbers", error,
                                "sms-voice:DescribePhoneNumbers and sms-voice:DescribeOptOutLists",
                                missing=f"request the number or fix [sms] origination_identity ({identity})")]  # fmt: skip
    if not numbers:
        if context.campaign is not None:
            return [found.failure("SMS origination", "no phone number in this account and region",
                                  "request one: End User Messaging SMS console > Phone numbers (a SIMULATOR number "
                                  "for tests)")]  # fmt: skip
        return [found.skipped("SMS origination", "no phone number in this account and region: SMS is not set up")]
    findings = []
    for number in numbers:
        title = f"SMS number {number.get('PhoneNumber', number.get('PhoneNumberId', '?'))}"
        opt_out = number.get("OptOutListName") or ""
        if number.get("Status") != "ACTIVE":
            findings.append(found.failure(title, f"status {number.get('Status')}",
                                          "wait for registration to complete, or use an active number"))  # fmt: skip
        elif not opt_out or opt_out not in lists:
            findings.append(found.failure(title, f"opt-out list {opt_out or '(none)'} does not exist",
                                          "aws pinpoint-sms-voice-v2 create-opt-out-list, then update-phone-number "
                                          "--opt-out-list-name"))  # fmt: skip
        else:
            findings.append(found.ok(title, f"ACTIVE, {number.get('NumberType', '')}, opt-out list {opt_out}"
                                     f"{', self-managed opt-outs' if number.get('SelfManagedOptOutsEnabled') else ''}"))  # fmt: skip
    return findings


CHECK = Check("sms", "SMS numbers and their opt-out lists (sms-voice:DescribePhoneNumbers, DescribeOptOutLists)", run)
