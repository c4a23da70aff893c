"""A built template as `pinrec send` uses it: the Handlebars parts plus the few settings sending needs.

`pinrec templates build NAME --out DIR` writes the parts and `template.json`; `load_prebuilt(DIR)` reads them back.
This module needs only the renderer (`campaign_tools.rendering`): never the authoring pipeline (jinja2 sources,
MJML, CSS inlining, lxml, inscriptis), so the send Lambda carries the built template, not the tools that built it —
the way Pinpoint stored built templates and only rendered them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from campaign_tools.templates.errors import TemplateError
from campaign_tools.templates.manifest import Channel, Part

SEND_FILE = "template.json"
SEND_FORMAT = 1
PART_FILES = {
    Part.EMAIL_SUBJECT: "email-subject.txt",
    Part.EMAIL_HTML: "email.html",
    Part.EMAIL_TEXT: "email.txt",
    Part.SMS_BODY: "sms.txt",
    Part.PUSH_TITLE: "push-title.txt",
    Part.PUSH_BODY: "push-body.txt",
    Part.PUSH_URL: "push-url.txt",
}
"""Built Handlebars part -> its file in the build folder."""
HTML_ESCAPED_PARTS = frozenset({Part.EMAIL_HTML})
"""Parts rendered with HTML escaping. Text, SMS and push parts are plain text: escaping would show `&amp;`."""


def render_part(
    renderer: Any,
    template_name: str,
    part: Part,
    text: str,
    endpoint: Mapping[str, Any],
    *,
    defaults: Mapping[str, str],
    escaped_parts: frozenset[Part] = HTML_ESCAPED_PARTS,
) -> Any:
    """One part for one endpoint, the way Pinpoint substitutes it (the one place both template forms render)."""
    return renderer.render(
        text,
        endpoint,
        default_substitutions=defaults,
        name=f"{template_name}/{PART_FILES[part]}",
        escape=part in escaped_parts,
    )


@dataclass(frozen=True)
class SendableTemplate:
    """What composing a message needs: built parts, DefaultSubstitutions, and the sending settings of the manifest."""

    name: str
    channels: tuple[Channel, ...]
    parts: Mapping[Part, str]
    default_substitutions: Mapping[str, str]
    unsubscribe_url: str | None = None
    sms_max_segments: int = 1
    push_action: str = "URL"
    push_sound: str | None = None
    escaped_parts: frozenset[Part] = HTML_ESCAPED_PARTS
    attributes: tuple[str, ...] = ()
    """The Recommendations attributes the parts read: the config a campaign runs with must declare them."""

    def check_attributes(self, declared: Iterable[str]) -> None:
        """What building from source checks (`recommender_attributes`), for a template built elsewhere."""
        known = list(declared)
        missing = [name for name in self.attributes if name not in known]
        if missing:
            raise TemplateError(
                f"built template {self.name} uses attributes the recommender configuration does not declare: "
                f"{', '.join(missing)} (declared: {', '.join(known)})"
            )

    def render(self, renderer: Any, part: Part, endpoint: Mapping[str, Any]) -> Any:
        return render_part(
            renderer,
            self.name,
            part,
            self.parts[part],
            endpoint,
            defaults=self.default_substitutions,
            escaped_parts=self.escaped_parts,
        )

    def to_json(self) -> dict[str, Any]:
        """`template.json`: everything but the parts, which live in their own files (PART_FILES)."""
        return {
            "format": SEND_FORMAT,
            "name": self.name,
            "channels": [channel.value for channel in self.channels],
            "parts": {part.value: PART_FILES[part] for part in sorted(self.parts)},
            "attributes": list(self.attributes),
            "html_escaped_parts": sorted(part.value for part in self.escaped_parts if part in self.parts),
            "default_substitutions": dict(sorted(self.default_substitutions.items())),
            "links": {"unsubscribe_url": self.unsubscribe_url},
            "sms": {"max_segments": self.sms_max_segments},
            "push": {"action": self.push_action, "sound": self.push_sound},
        }


def load_prebuilt(folder: Path) -> SendableTemplate:
    """The template `pinrec templates build --out FOLDER` wrote; every problem is one TemplateError naming the file."""
    path = folder / SEND_FILE
    if not path.is_file():
        raise TemplateError(
            f"{folder} is not a built template ({SEND_FILE} missing): run 'pinrec templates build NAME --out {folder}'"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return _from_json(folder, data)
    except (OSError, ValueError, KeyError, TypeError) as error:
        detail = f"missing key {error}" if isinstance(error, KeyError) else str(error)
        raise TemplateError(f"{path}: not a valid built template ({detail})") from None


def _from_json(folder: Path, data: Mapping[str, Any]) -> SendableTemplate:
    if data.get("format") != SEND_FORMAT:
        raise ValueError(f"format {data.get('format')!r} is not {SEND_FORMAT}; rebuild it with this pinrec")
    parts: dict[Part, str] = {}
    for part_value, file_name in data["parts"].items():
        part = Part(part_value)
        if file_name != PART_FILES[part]:
            raise ValueError(f"part {part_value} must be in {PART_FILES[part]}, not {file_name!r}")
        parts[part] = (folder / file_name).read_text(encoding="utf-8")
    push = data["push"]
    return SendableTemplate(
        name=str(data["name"]),
        channels=tuple(Channel(value) for value in data["channels"]),
        parts=parts,
        default_substitutions={str(key): str(value) for key, value in data["default_substitutions"].items()},
        unsubscribe_url=data["links"]["unsubscribe_url"],
        sms_max_segments=int(data["sms"]["max_segments"]),
        push_action=str(push["action"]),
        push_sound=push["sound"],
        escaped_parts=frozenset(Part(value) for value in data["html_escaped_parts"]),
        attributes=tuple(str(name) for name in data["attributes"]),
    )
