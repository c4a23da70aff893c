"""What a Pinpoint project exported: its objects by kind, as botocore's pinpoint model shapes them, and its endpoint
export files. Read from a folder of `aws pinpoint get-*` outputs (any file names, any sub-folders).

A JSON file is recognised by its one top-level key (`EmailTemplateResponse`, `SegmentsResponse`, ...), the way the
CLI prints each response; lists (`SegmentsResponse.Item`, ...) are taken item by item. A file that is not one JSON
document but gzip or JSON Lines of Endpoint records is an endpoint export (exports have no telling names). Anything
else is listed as not recognised, never skipped silently.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transformer.files import GZIP_MAGIC

MAX_DOCUMENT_BYTES = 50 << 20
"""A `get-*` output is kilobytes; a larger file is only ever an export."""

SINGLE = {
    "EmailTemplateResponse": "email",
    "SMSTemplateResponse": "sms",
    "PushNotificationTemplateResponse": "push",
    "SegmentResponse": "segment",
    "CampaignResponse": "campaign",
    "RecommenderConfigurationResponse": "recommender",
    "JourneyResponse": "journey",
    "InAppTemplateResponse": "in-app template",
    "VoiceTemplateResponse": "voice template",
}
LISTS = {
    "SegmentsResponse": "segment",
    "CampaignsResponse": "campaign",
    "ListRecommenderConfigurationsResponse": "recommender",
    "JourneysResponse": "journey",
}
NOT_CARRIED = frozenset({"journey", "in-app template", "voice template"})


@dataclass(frozen=True)
class Found:
    """One object of the project and where it came from."""

    kind: str
    body: Mapping[str, Any]
    origin: str

    @property
    def name(self) -> str:
        for key in ("TemplateName", "Name", "Id"):
            value = self.body.get(key)
            if isinstance(value, str) and value:
                return value
        return "(unnamed)"


@dataclass
class PinpointProject:
    objects: list[Found] = field(default_factory=list)
    endpoint_files: list[str] = field(default_factory=list)
    unrecognised: list[tuple[str, str]] = field(default_factory=list)
    """(file, why) for files that are neither a known response nor an export."""

    def of(self, *kinds: str) -> list[Found]:
        return [found for found in self.objects if found.kind in kinds]

    def add_response(self, data: object, origin: str) -> bool:
        """Take the objects of one `get-*` response; False when it is none pinrec knows."""
        if not isinstance(data, Mapping) or len(data) != 1:
            return False
        key, body = next(iter(data.items()))
        if key in SINGLE and isinstance(body, Mapping):
            self.objects.append(Found(SINGLE[key], body, origin))
            return True
        if key in LISTS and isinstance(body, Mapping) and isinstance(body.get("Item"), list):
            for number, item in enumerate(body["Item"]):
                if isinstance(item, Mapping):
                    self.objects.append(Found(LISTS[key], item, f"{origin} Item[{number}]"))
                else:
                    self.unrecognised.append((f"{origin} Item[{number}]", "not an object"))
            return True
        return False


def _files(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(folder).parts):
            yield path


def _looks_like_endpoints(path: Path) -> bool:
    with path.open("rb") as stream:
        head = stream.read(2)
    if head == GZIP_MAGIC:
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as text:
            first = text.readline(1 << 20)
    else:
        with path.open(encoding="utf-8", errors="replace") as text:
            first = text.readline(1 << 20)
    try:
        record = json.loads(first)
    except ValueError:
        return False
    return isinstance(record, dict) and "Id" in record and ("ChannelType" in record or "Address" in record)


def read_folder(folder: str | Path) -> PinpointProject:
    root = Path(folder)
    project = PinpointProject()
    for path in _files(root):
        relative = str(path.relative_to(root))
        data: object = None
        if path.stat().st_size <= MAX_DOCUMENT_BYTES:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError):
                data = None
        if data is not None and project.add_response(data, relative):
            continue
        if _looks_like_endpoints(path):
            project.endpoint_files.append(str(path))
        else:
            project.unrecognised.append(
                (relative, "neither a known `aws pinpoint get-*` output nor an endpoint export")
            )
    return project
