"""`pinrec suppression`: list, add, remove, import, export and sync a suppression list, one settings object and one
function per action (the command module only parses and prints).

Addresses given by hand or in a file are checked as the channel delivers to them (an email address as SES is given
it, a number in E.164: `Channel.check_address`) and normalised as every list stores them, so an entry always matches
the messages a send would deliver. Files: CSV (a header with `channel,address,reason,since,topic,source`; only
`address` is required) or JSON Lines (one object per line, the same fields); `since` is ISO 8601 (UTC when no offset)
or epoch seconds. An import counts every bad row with its line and why (never quoting it) and goes on. Nothing here
logs an address: they are printed only as what `list` and `export` are asked for.
"""

from __future__ import annotations

import contextlib
import csv
import math
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, TextIO

from pydantic import AfterValidator, Field

from campaign_tools.channels import registry as channel_registry
from campaign_tools.channels.base import ComposeError
from campaign_tools.console import json_text
from campaign_tools.send.json_lines import MalformedLine, read_json_lines
from campaign_tools.send.settings import AwsSettings
from campaign_tools.settings import InvalidSettings, SettingsModel, Violations
from campaign_tools.suppression import registry
from campaign_tools.suppression.base import Reason, Suppression, SuppressionList
from campaign_tools.suppression.sync import SourceResult, iso, sync_ses, sync_sms
from campaign_tools.unsubscribe.links import check_name
from transformer.aws import ClientTuning, client
from transformer.errors import PinrecError
from transformer.files import STDIN, SourceError, is_s3_url, open_text

FileFormat = Literal["csv", "jsonl"]
FIELDS = ("channel", "address", "reason", "since", "topic", "source")
MANUAL_SOURCE = "pinrec suppression add"
EXTRA = "\0extra"
"""Where csv.DictReader puts the cells past the header's."""
BAD_EXAMPLES = 20
"""Bad import rows reported by line; all of them are counted."""
ClientFactory = Callable[[str], Any]


class SuppressionSettingsError(InvalidSettings):
    heading = "invalid suppression settings"


def _check(check: Callable[[str], object]) -> AfterValidator:
    def validate(value: str) -> str:
        try:
            check(value)
        except PinrecError as error:
            raise Violations([str(error)]) from None
        return value

    return AfterValidator(validate)


Spec = Annotated[str, _check(registry.check_spec)]
ChannelName = Annotated[str, _check(channel_registry.channel)]
Topic = Annotated[str, _check(lambda value: check_name(value, "--topic"))]


class ListTarget(SettingsModel):
    """Which list, reached how."""

    invalid: ClassVar[type[InvalidSettings]] = SuppressionSettingsError

    suppression: Spec = registry.DEFAULT_SUPPRESSION
    aws: AwsSettings = AwsSettings()


class ListSettings(ListTarget):
    channel: ChannelName | None = None
    reason: Reason | None = None


class AddSettings(ListTarget):
    channel: ChannelName = "email"
    addresses: tuple[str, ...] = Field(min_length=1)
    reason: Reason = Reason.MANUAL
    topic: Topic | None = None
    source: str = MANUAL_SOURCE

    def problems(self) -> list[str]:
        if self.topic is not None and self.reason not in (Reason.UNSUBSCRIBE, Reason.MANUAL):
            return [f"--topic goes with --reason unsubscribe or manual: a {self.reason} suppresses the whole channel"]
        return []


class RemoveSettings(ListTarget):
    channel: ChannelName = "email"
    addresses: tuple[str, ...] = Field(min_length=1)
    force: bool = False


class ImportSettings(ListTarget):
    flags: ClassVar[Mapping[str, str]] = {"source": "FILE"}

    source: str
    """A local file, s3://BUCKET/KEY or - (standard input)."""
    format: FileFormat | None = None
    channel: ChannelName = "email"
    """For rows without a channel."""
    reason: Reason = Reason.MANUAL
    """For rows without a reason."""


class ExportSettings(ListTarget):
    flags: ClassVar[Mapping[str, str]] = {"out": "--out"}

    out: str = STDIN
    """A local file, or - (standard output)."""
    format: FileFormat | None = None
    channel: ChannelName | None = None
    reason: Reason | None = None


class SyncSettings(ListTarget):
    flags: ClassVar[Mapping[str, str]] = {"sources": "--source", "opt_out_lists": "--opt-out-list"}

    sources: tuple[Literal["ses", "sms"], ...] = ("ses", "sms")
    opt_out_lists: tuple[Annotated[str, _check(lambda value: check_name(value, "--opt-out-list"))], ...] = ()
    """SMS: only these opt-out lists (default: every one in the account and region)."""

    def problems(self) -> list[str]:
        if self.opt_out_lists and "sms" not in self.sources:
            return ["--opt-out-list goes with --source sms"]
        return []


def client_factory(settings: ListTarget) -> ClientFactory:
    made: dict[str, Any] = {}

    def make(service: str) -> Any:
        if service not in made:
            made[service] = client(service, settings.aws.options(), ClientTuning(attempts=4))
        return made[service]

    return make


@contextlib.contextmanager
def opened(settings: ListTarget, clients: ClientFactory | None, *, read_only: bool) -> Iterator[SuppressionList]:
    listed = registry.open_suppression(settings.suppression, clients or client_factory(settings), read_only=read_only)
    try:
        yield listed
    finally:
        listed.close()


def canonical(channel: str, address: str) -> str:
    """The address as a send delivers to it, normalised; ComposeError when the channel cannot deliver to it."""
    sending = channel_registry.channel(channel)
    return sending.normalise_address(sending.check_address(address.strip()))


def _invalid(channel: str, addresses: tuple[str, ...]) -> list[str]:
    bad = []
    for position, address in enumerate(addresses, start=1):
        try:
            canonical(channel, address)
        except ComposeError:
            bad.append(f"address {position} of {len(addresses)} is not a valid {channel} address")
    return bad


def list_entries(settings: ListSettings, clients: ClientFactory | None = None) -> list[Suppression]:
    with opened(settings, clients, read_only=True) as listed:
        return [e for e in listed.entries(settings.channel) if settings.reason is None or e.reason is settings.reason]


def add_entries(settings: AddSettings, clients: ClientFactory | None = None, *, now: float | None = None) -> int:
    """How many entries were written; nothing is written when an address is not valid for the channel."""
    bad = _invalid(settings.channel, settings.addresses)
    if bad:
        raise SuppressionSettingsError(bad)
    since = time.time() if now is None else now
    entries = [
        Suppression(settings.channel, canonical(settings.channel, address), settings.reason, since, settings.source,
                    settings.topic)
        for address in settings.addresses
    ]  # fmt: skip
    with opened(settings, clients, read_only=False) as listed:
        return listed.add(entries)


@dataclass
class RemoveResult:
    removed: int = 0
    absent: int = 0


def remove_entries(settings: RemoveSettings, clients: ClientFactory | None = None) -> RemoveResult:
    """Remove every entry of each address (a complaint only with force: SuppressionError, nothing further removed)."""
    result = RemoveResult()
    with opened(settings, clients, read_only=False) as listed:
        for address in settings.addresses:
            try:
                key = canonical(settings.channel, address)
            except ComposeError:
                key = channel_registry.channel(settings.channel).normalise_address(
                    address
                )  # written before checks existed
            if listed.remove(settings.channel, key, force=settings.force):
                result.removed += 1
            else:
                result.absent += 1
    return result


@dataclass
class ImportResult:
    rows: int = 0
    imported: int = 0
    added: int = 0
    """Entries written: new, or earlier than the one held."""
    bad: int = 0
    bad_examples: list[tuple[int, str]] = field(default_factory=list)

    def bad_row(self, line: int, reason: str) -> None:
        self.bad += 1
        if len(self.bad_examples) < BAD_EXAMPLES:
            self.bad_examples.append((line, reason))


class BadRow(ValueError):
    """One import row cannot be an entry; the message says why without quoting it."""


def parse_since(value: object, now: float) -> float:
    if value is None or value == "":
        return now
    if isinstance(value, bool):
        raise BadRow("since must be ISO 8601 or epoch seconds")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            try:
                moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            except ValueError:
                raise BadRow("since must be ISO 8601 or epoch seconds") from None
            number = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
    else:
        raise BadRow("since must be ISO 8601 or epoch seconds")
    if not math.isfinite(number) or number < 0:
        raise BadRow("since must be a time after 1970")
    return number


def _text(record: Mapping[str, Any], name: str) -> str | None:
    value = record.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadRow(f"{name} must be a string")
    return value


def entry_of(record: object, settings: ImportSettings, now: float) -> Suppression:
    """The entry an import row describes; BadRow saying why not."""
    if not isinstance(record, Mapping):
        raise BadRow("a row must be an object")
    unknown = sorted(str(name) for name in record if name not in FIELDS)
    if unknown:
        raise BadRow(f"unknown fields: {', '.join(unknown)} (expected {', '.join(FIELDS)})")
    channel = _text(record, "channel") or settings.channel
    if channel not in channel_registry.names():
        raise BadRow(f"channel must be one of {', '.join(channel_registry.names())}")
    address = _text(record, "address")
    if address is None:
        raise BadRow("no address")
    try:
        key = canonical(channel, address)
    except ComposeError:
        raise BadRow(f"not a valid {channel} address") from None
    reason_text = _text(record, "reason")
    try:
        reason = Reason(reason_text) if reason_text else settings.reason
    except ValueError:
        raise BadRow(f"reason must be one of {', '.join(reason.value for reason in Reason)}") from None
    topic = _text(record, "topic")
    if topic is not None:
        try:
            check_name(topic, "topic")
        except PinrecError as error:
            raise BadRow(str(error).replace(repr(topic), "").replace("  ", " ")) from None
    source = _text(record, "source") or f"pinrec suppression import {settings.source}"
    return Suppression(channel, key, reason, parse_since(record.get("since"), now), source, topic)


def _format(location: str, given: FileFormat | None) -> FileFormat:
    if given is not None:
        return given
    name = location.lower().removesuffix(".gz")
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if name.endswith(".csv"):
        return "csv"
    raise SourceError(f"cannot tell the format of {location} from its name: pass --format csv or jsonl")


def _rows(text: TextIO, kind: FileFormat) -> Iterator[tuple[int, object]]:
    if kind == "jsonl":
        for line, value in read_json_lines(text):
            yield line, BadRow(value.reason) if isinstance(value, MalformedLine) else value
        return
    reader = csv.DictReader(text, restkey=EXTRA)
    try:
        header = reader.fieldnames or []
    except csv.Error as error:
        raise SourceError(f"the CSV header cannot be read: {error}") from None
    unknown = [name for name in header if name not in FIELDS]
    if unknown or "address" not in header:
        raise SourceError(f"the CSV header must name columns among {', '.join(FIELDS)}, address among them")
    while True:
        try:
            row = next(reader, None)
        except csv.Error as error:
            yield reader.line_num, BadRow(f"CSV: {error}")
            continue
        if row is None:
            return
        if EXTRA in row or None in row.values():
            cells = len(header) + len(row.get(EXTRA) or []) - sum(value is None for value in row.values())
            yield reader.line_num, BadRow(f"{cells} cells where the header has {len(header)}")
            continue
        yield reader.line_num, row


IMPORT_CHUNK = 500


def import_entries(
    settings: ImportSettings, clients: ClientFactory | None = None, *, now: float | None = None
) -> ImportResult:
    """Every good row added (in chunks); every bad row counted with its line and why."""
    started = time.time() if now is None else now
    kind = _format(settings.source, settings.format)
    make = clients or client_factory(settings)
    result = ImportResult()
    with (
        opened(settings, make, read_only=False) as listed,
        open_text(settings.source, client=make("s3") if is_s3_url(settings.source) else None) as text,
    ):
        batch: list[Suppression] = []
        for line, record in _rows(text, kind):
            result.rows += 1
            try:
                if isinstance(record, BadRow):
                    raise record
                batch.append(entry_of(record, settings, started))
            except BadRow as bad:
                result.bad_row(line, str(bad))
                continue
            result.imported += 1
            if len(batch) == IMPORT_CHUNK:
                result.added += listed.add(batch)
                batch = []
        result.added += listed.add(batch)
    return result


def entry_dict(entry: Suppression) -> dict[str, Any]:
    """An entry as `list --output json` and `export` write it: `since` in ISO 8601 UTC."""
    return {
        "channel": entry.channel,
        "address": entry.address,
        "reason": str(entry.reason),
        "since": iso(entry.since),
        "topic": entry.topic,
        "source": entry.source,
    }


def export_entries(settings: ExportSettings, clients: ClientFactory | None = None) -> int:
    """Write the entries (filtered) to `settings.out` in a format `import` reads back; how many were written."""
    kind: FileFormat = settings.format or ("csv" if settings.out.lower().endswith(".csv") else "jsonl")
    count = 0
    with opened(settings, clients, read_only=True) as listed, _output(settings.out) as out:
        writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n") if kind == "csv" else None
        if writer is not None:
            writer.writeheader()
        for entry in listed.entries(settings.channel):
            if settings.reason is not None and entry.reason is not settings.reason:
                continue
            row = entry_dict(entry)
            if writer is not None:
                writer.writerow({**row, "topic": row["topic"] or ""})
            else:
                out.write(json_text(row, indent=None) + "\n")
            count += 1
    return count


@contextlib.contextmanager
def _output(location: str) -> Iterator[TextIO]:
    if location == STDIN:
        yield sys.stdout
        return
    if is_s3_url(location):
        raise SourceError("--out is a local file or - (standard output)")
    path = Path(location)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as out:
        yield out


def sync(
    settings: SyncSettings, clients: ClientFactory | None = None, *, now: float | None = None
) -> list[SourceResult]:
    """Import the providers' lists into the suppression list, one result per source (see `suppression.sync`)."""
    make = clients or client_factory(settings)
    at = time.time() if now is None else now
    results = []
    with opened(settings, make, read_only=False) as listed:
        if "ses" in settings.sources:
            results.append(sync_ses(make("sesv2"), listed, at))
        if "sms" in settings.sources:
            results.append(sync_sms(make("pinpoint-sms-voice-v2"), listed, at, settings.opt_out_lists))
    return results


def sync_times(settings: ListTarget, clients: ClientFactory | None = None) -> Mapping[str, float]:
    with opened(settings, clients, read_only=True) as listed:
        return dict(listed.sync_times())
