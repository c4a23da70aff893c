"""A built template as `pinrec send` uses it: the Handlebars parts plus the few settings sending needs.

`pinrec templates build NAME --out DIR` writes the parts and `template.json`; `load_prebuilt(DIR)` reads them back.
This module needs only the renderer (`campaign_tools.rendering`): never the authoring pipeline (jinja2 sources,
MJML, CSS inlining, lxml, inscriptis), so the send Lambda carries the built template, not the tools that built it —
the way Pinpoint stored built templates and only rendered them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from campaign_tools.channels import registry as channel_registry
from campaign_tools.channels.base import Channel, Part, Settings
from campaign_tools.templates.errors import TemplateError
from transformer.errors import PinrecError

SEND_FILE = "template.json"
SEND_FORMAT = 1


def markup_parts(parts: Iterable[Part]) -> frozenset[Part]:
    """Parts rendered with HTML escaping. Text, SMS and push parts are plain text: escaping would show `&amp;`."""
    return frozenset(part for part in parts if part.markup)


def render_part(
    renderer: Any,
    template_name: str,
    part: Part,
    text: str,
    endpoint: Mapping[str, Any],
    *,
    defaults: Mapping[str, str],
    escaped_parts: frozenset[Part] | None = None,
) -> Any:
    """One part for one endpoint, the way Pinpoint substitutes it (the one place both template forms render)."""
    escape = part.markup if escaped_parts is None else part in escaped_parts
    return renderer.render(
        text,
        endpoint,
        default_substitutions=defaults,
        name=f"{template_name}/{part.built_file}",
        escape=escape,
    )


def _channel_settings_json(settings: Mapping[str, Settings]) -> dict[str, Any]:
    """Every registered channel's template settings (defaults where the template sets none)."""
    found: dict[str, Any] = {}
    for channel in channel_registry.CHANNELS:
        chosen = settings.get(channel.name) or channel.default_template_settings()
        if chosen is not None:
            found[channel.name] = chosen.model_dump(mode="json")
    return found


@dataclass(frozen=True)
class SendableTemplate:
    """What composing a message needs: built parts, DefaultSubstitutions, links and each channel's settings."""

    name: str
    channels: tuple[str, ...]
    parts: Mapping[Part, str]
    default_substitutions: Mapping[str, str]
    links: Mapping[str, Any] = field(default_factory=lambda: {"unsubscribe_url": None})
    """template.json's `links`: `unsubscribe_url`, and `unsubscribe`, `contact_list`, `topic` when the template's
    unsubscribe mode is not `url` (`templates.manifest.Links.sending`)."""
    channel_settings: Mapping[str, Settings] = field(default_factory=dict)
    escaped_parts: frozenset[Part] | None = None
    """Parts rendered with HTML escaping; None: the markup parts."""
    attributes: tuple[str, ...] = ()
    """The Recommendations attributes the parts read: the config a campaign runs with must declare them."""

    @property
    def unsubscribe_url(self) -> str | None:
        url = self.links.get("unsubscribe_url")
        return str(url) if url else None

    def settings_for(self, channel: Channel) -> Settings | None:
        return self.channel_settings.get(channel.name) or channel.default_template_settings()

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
        """`template.json`: everything but the parts, which live in their own files (`Part.built_file`)."""
        escaped = self.escaped_parts if self.escaped_parts is not None else markup_parts(self.parts)
        return {
            "format": SEND_FORMAT,
            "name": self.name,
            "channels": list(self.channels),
            "parts": {part.key: part.built_file for part in sorted(self.parts)},
            "attributes": list(self.attributes),
            "html_escaped_parts": sorted(part.key for part in escaped if part in self.parts),
            "default_substitutions": dict(sorted(self.default_substitutions.items())),
            "links": dict(self.links),
            **_channel_settings_json(self.channel_settings),
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
    except (OSError, ValueError, KeyError, TypeError, PinrecError) as error:
        detail = f"missing key {error}" if isinstance(error, KeyError) else str(error)
        raise TemplateError(f"{path}: not a valid built template ({detail})") from None


def _links(data: Mapping[str, Any]) -> dict[str, Any]:
    """template.json's links, checked as template.toml's are (a built template may come from anywhere)."""
    from campaign_tools.unsubscribe.links import MODES, check_name

    links: dict[str, Any] = {"unsubscribe_url": data["unsubscribe_url"]}
    if data["unsubscribe_url"] is not None and not isinstance(data["unsubscribe_url"], str):
        raise ValueError("links.unsubscribe_url must be a string or null")
    mode = data.get("unsubscribe", "url")
    if mode not in MODES:
        raise ValueError(f"links.unsubscribe must be one of {', '.join(MODES)}, not {mode!r}")
    if mode != "url":
        links["unsubscribe"] = mode
        for name in ("contact_list", "topic"):
            value = data.get(name)
            links[name] = None if value is None else check_name(str(value), f"links.{name}")
    tracked = data.get("track_recommendations")
    if tracked is not None:
        if not isinstance(tracked, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,63}", tracked):
            raise ValueError("links.track_recommendations must name a recommendation attribute, e.g. Url")
        links["track_recommendations"] = tracked
    return links


def _from_json(folder: Path, data: Mapping[str, Any]) -> SendableTemplate:
    if data.get("format") != SEND_FORMAT:
        raise ValueError(f"format {data.get('format')!r} is not {SEND_FORMAT}; rebuild it with this pinrec")
    parts: dict[Part, str] = {}
    for key, file_name in data["parts"].items():
        part = channel_registry.part(key)
        if file_name != part.built_file:
            raise ValueError(f"part {key} must be in {part.built_file}, not {file_name!r}")
        # Bytes as written: no newline translation, so a part holding \r\n renders exactly as stored.
        parts[part] = (folder / file_name).read_bytes().decode("utf-8")
    channels = tuple(str(name) for name in data["channels"])
    for name in channels:
        channel_registry.channel(name)
    settings: dict[str, Settings] = {}
    for channel in channel_registry.CHANNELS:
        if channel.template_settings is not None and channel.name in data:
            settings[channel.name] = channel.template_settings.model_validate(data[channel.name])
    return SendableTemplate(
        name=str(data["name"]),
        channels=channels,
        parts=parts,
        default_substitutions={str(key): str(value) for key, value in data["default_substitutions"].items()},
        links=_links(data["links"]),
        channel_settings=settings,
        escaped_parts=frozenset(channel_registry.part(key) for key in data["html_escaped_parts"]),
        attributes=tuple(str(name) for name in data["attributes"]),
    )
