"""A campaign's segment: the rows of `send.segments` (JSON Lines or CSV of Pinpoint endpoints), each eligible
endpoint with the campaign channel that serves its `ChannelType`, or the reason it gets nothing.

One campaign over a mixed segment sends each endpoint the message of its channel; an endpoint whose ChannelType
none of the campaign's channels serves is skipped as `no_channel`. The other reasons are the send's
(`send.segments.SkipReason`: opted_out, inactive, no_address, invalid_address).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from campaign_tools.channels.base import Channel
from campaign_tools.send import segments
from campaign_tools.send.segments import MalformedRow, SegmentFormat, SkipReason, check_endpoint, skip_reason

NO_CHANNEL = "no_channel"


@dataclass(frozen=True, slots=True)
class Recipient:
    line: int
    endpoint_id: str
    endpoint: dict[str, Any]
    channel: Channel


@dataclass(frozen=True, slots=True)
class Skipped:
    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class Malformed:
    line: int
    reason: str


def recipient(line: int, record: object, channels: Mapping[str, Channel]) -> Recipient | Skipped | Malformed:
    """What one segment row is to the campaign (any JSON value; never raises)."""
    if isinstance(record, MalformedRow):
        return Malformed(line, str(record))
    try:
        endpoint_id, endpoint = check_endpoint(record)
    except MalformedRow as problem:
        return Malformed(line, str(problem))
    channel_type = endpoint.get("ChannelType")
    channel = next((found for found in channels.values() if channel_type in found.endpoint_types), None)
    reason = _no_channel(endpoint) if channel is None else skip_reason(endpoint, channel)
    if reason is not None or channel is None:
        return Skipped(line, reason or NO_CHANNEL)
    return Recipient(line, endpoint_id, endpoint, channel)


def _no_channel(endpoint: Mapping[str, Any]) -> str:
    if endpoint.get("OptOut") == "ALL":
        return SkipReason.OPTED_OUT
    if endpoint.get("EndpointStatus") == "INACTIVE":
        return SkipReason.INACTIVE
    return NO_CHANNEL


@contextmanager
def segment_rows(
    source: str, segment_format: SegmentFormat | None = None, list_separator: str = "|", s3_client: Any = None
) -> Iterator[Iterator[tuple[int, object]]]:
    """(line, record) of a segment file, streamed; a malformed row is a MalformedRow record."""
    with segments.segment_records(source, segment_format, list_separator, client=s3_client) as records:
        yield records
