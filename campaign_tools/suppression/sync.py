"""The providers' own lists, imported into a pinrec suppression list (`pinrec suppression sync`), and how fresh that
copy is (what the send preflight says).

- SES: the account-level suppression list (SESv2 ListSuppressedDestinations, every page): a BOUNCE becomes a
  `bounce` entry, a COMPLAINT a `complaint` entry, source `ses-account`, since the entry's LastUpdateTime.
- End User Messaging SMS: every opt-out list, or the ones named (pinpoint-sms-voice-v2 DescribeOptOutLists and
  DescribeOptedOutNumbers, every page): a number the recipient opted out becomes an `opt_out` entry, one an
  administrator added a `provider` entry, source `opt-out-list:<name>`, since its OptedOutTimestamp.

A source's sync time is recorded in the list itself (`record_sync`) only when every page of it was read; a source
that fails is reported and the others go on. Entries are only ever added: an address the provider no longer lists
stays suppressed here until `pinrec suppression remove`. Nothing here logs an address.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from campaign_tools.suppression.base import Reason, Suppression, SuppressionList

SES_SOURCE = "ses-account"
SMS_SOURCE = "sms-opt-out-lists"
SMS_ENTRY_SOURCE = "opt-out-list:"
PROVIDER_LISTS: Mapping[str, tuple[str, str]] = {
    "email": (SES_SOURCE, "the SES account-level suppression list"),
    "sms": (SMS_SOURCE, "the End User Messaging SMS opt-out lists"),
}
"""Per channel: the source whose copy a send of that channel relies on, and what to call it."""
SOURCES = {"ses": SES_SOURCE, "sms": SMS_SOURCE}
SES_REASONS = {"BOUNCE": Reason.BOUNCE, "COMPLAINT": Reason.COMPLAINT}
ADD_CHUNK = 500


@dataclass
class SourceResult:
    """What one provider list's sync did."""

    source: str
    read: int = 0
    added: int = 0
    bad: int = 0
    """Entries the provider returned without a usable address (counted, not imported)."""
    error: str | None = None
    """Why the sync of this source stopped (its time then not recorded)."""

    @property
    def complete(self) -> bool:
        return self.error is None


def _epoch(value: object, default: float) -> float:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return default


def _code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code") or type(error).__name__)


def _pages(call: Callable[..., dict[str, Any]], request: dict[str, Any]) -> Iterator[dict[str, Any]]:
    while True:
        response = call(**request)
        yield response
        token = response.get("NextToken")
        if not token:
            return
        request = {**request, "NextToken": token}


def _add(suppressions: SuppressionList, entries: Iterable[Suppression], result: SourceResult) -> None:
    batch: list[Suppression] = []
    for entry in entries:
        batch.append(entry)
        if len(batch) == ADD_CHUNK:
            result.added += suppressions.add(batch)
            batch = []
    result.added += suppressions.add(batch)


def sync_ses(client: Any, suppressions: SuppressionList, now: float) -> SourceResult:
    """Import the SES account-level suppression list (IAM: ses:ListSuppressedDestinations)."""
    from botocore.exceptions import BotoCoreError, ClientError

    result = SourceResult(SES_SOURCE)

    def entries(page: dict[str, Any]) -> Iterator[Suppression]:
        for summary in page.get("SuppressedDestinationSummaries") or []:
            result.read += 1
            address = summary.get("EmailAddress") if isinstance(summary, dict) else None
            if not isinstance(address, str) or "@" not in address:
                result.bad += 1
                continue
            reason = SES_REASONS.get(str(summary.get("Reason")), Reason.PROVIDER)
            yield Suppression("email", address, reason, _epoch(summary.get("LastUpdateTime"), now), SES_SOURCE)

    try:
        for page in _pages(client.list_suppressed_destinations, {"PageSize": 1000}):
            _add(suppressions, entries(page), result)
    except (ClientError, BotoCoreError) as error:
        result.error = f"ListSuppressedDestinations failed: {_code(error)}"
        return result
    suppressions.record_sync(SES_SOURCE, now)
    return result


def sync_sms(client: Any, suppressions: SuppressionList, now: float, lists: Sequence[str] = ()) -> SourceResult:
    """Import End User Messaging SMS opt-out lists, every one or those named (IAM: sms-voice:DescribeOptOutLists,
    sms-voice:DescribeOptedOutNumbers)."""
    from botocore.exceptions import BotoCoreError, ClientError

    result = SourceResult(SMS_SOURCE)
    try:
        names = [
            str(found["OptOutListName"])
            for page in _pages(client.describe_opt_out_lists, {})
            for found in page.get("OptOutLists") or []
            if isinstance(found, dict) and found.get("OptOutListName")
        ]
    except (ClientError, BotoCoreError) as error:
        result.error = f"DescribeOptOutLists failed: {_code(error)}"
        return result
    missing = [name for name in lists if name not in names]
    if missing:
        result.error = f"no such opt-out list in this account and region: {', '.join(missing)}"
        return result
    for name in lists or names:

        def entries(page: dict[str, Any], name: str = name) -> Iterator[Suppression]:
            for found in page.get("OptedOutNumbers") or []:
                result.read += 1
                number = found.get("OptedOutNumber") if isinstance(found, dict) else None
                if not isinstance(number, str) or not number.strip():
                    result.bad += 1
                    continue
                reason = Reason.OPT_OUT if found.get("EndUserOptedOut", True) else Reason.PROVIDER
                since = _epoch(found.get("OptedOutTimestamp"), now)
                yield Suppression("sms", number, reason, since, f"{SMS_ENTRY_SOURCE}{name}")

        try:
            for page in _pages(client.describe_opted_out_numbers, {"OptOutListName": name}):
                _add(suppressions, entries(page), result)
        except (ClientError, BotoCoreError) as error:
            result.error = f"DescribeOptedOutNumbers of {name} failed: {_code(error)}"
            return result
    suppressions.record_sync(SMS_SOURCE, now)
    return result


def age_text(seconds: float) -> str:
    if seconds < 3600:
        return f"{max(seconds, 0) / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def freshness(channel: str, times: Mapping[str, float], max_age_seconds: float, now: float | None = None) -> str | None:
    """How fresh the list's copy of the channel's provider list is: a note, or a warning (prefixed `warning: `)
    when never synced or older than `max_age_seconds`; None for a channel without a provider list."""
    if channel not in PROVIDER_LISTS:
        return None
    source, name = PROVIDER_LISTS[channel]
    synced = times.get(source)
    if synced is None:
        return (
            f"warning: {name} was never imported into this suppression list: run `pinrec suppression sync` "
            "(the provider still refuses the addresses on its own list, counted against you as bounces or "
            "failures)"
        )
    age = (time.time() if now is None else now) - synced
    line = f"{name} imported {age_text(age)} ago ({iso(synced)})"
    if age > max_age_seconds:
        return f"warning: {line}, more than {age_text(max_age_seconds)}: run `pinrec suppression sync`"
    return line
