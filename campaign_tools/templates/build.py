"""`pinrec templates build`: jinja2 sources -> Handlebars parts -> the exact Pinpoint template requests."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from campaign_tools.channels.base import Channel, Part
from campaign_tools.local_lambda import read_event
from campaign_tools.templates.authoring import SourceKind, author_part, kind_of
from campaign_tools.templates.email_pipeline import EmailBuild, StageCheck, StageGuard, build_email
from campaign_tools.templates.errors import TemplateError
from campaign_tools.templates.manifest import RecommenderAttributes, TemplateSource, recommender_attributes
from campaign_tools.templates.prebuilt import SEND_FILE, SendableTemplate, render_part
from campaign_tools.unsubscribe.links import LINK_VARIABLE, PREVIEW_UNSUBSCRIBE_URL
from transformer.config import PinrecConfig

FIXED_NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
FIXED_UUID = "00000000-0000-4000-8000-000000000000"
TEST_SEND_SAMPLE = "(test send: no recommendations)"
"""A sample with no values at all: what Pinpoint's test sends see, so the DefaultSubstitutions path is guarded."""


def make_renderer(now: datetime = FIXED_NOW, uuid: str = FIXED_UUID) -> Any:
    from campaign_tools.rendering import PinpointRenderer

    return PinpointRenderer(now=lambda: now, uuid=lambda: uuid)


@dataclass
class BuiltTemplate:
    source: TemplateSource
    attributes: RecommenderAttributes
    parts: dict[Part, str]
    default_substitutions: dict[str, str]
    samples: dict[str, dict[str, Any]]
    mjml: str | None = None
    text_derived: bool = False
    checks: list[StageCheck] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def name(self) -> str:
        return self.source.name

    def part_name(self, part: Part) -> str:
        return f"{self.name}/{part.built_file}"

    @property
    def preview_variables(self) -> dict[str, str]:
        """The reserved variables a send fills per message, as builds, lint and previews show them: a template
        whose link follows the send's unsubscribe mode shows a placeholder URL there."""
        if self.source.manifest.links.unsubscribe == "url":
            return {}
        return {LINK_VARIABLE: PREVIEW_UNSUBSCRIBE_URL}

    def render(self, renderer: Any, part: Part, endpoint: Mapping[str, Any]) -> Any:
        """One part for one endpoint, the way Pinpoint substitutes it."""
        data = {**endpoint, **self.preview_variables} if self.preview_variables else endpoint
        return render_part(renderer, self.name, part, self.parts[part], data, defaults=self.default_substitutions)

    def sendable(self) -> SendableTemplate:
        """The parts and the manifest's sending settings: what `pinrec send` composes from."""
        manifest = self.source.manifest
        return SendableTemplate(
            name=self.name,
            channels=tuple(manifest.channels),
            parts=dict(self.parts),
            default_substitutions=dict(self.default_substitutions),
            links=manifest.links.sending(),
            channel_settings=dict(manifest.channel_settings),
            attributes=tuple(self.attributes.names),
        )

    def requests(self, recommender_id: str | None = None) -> dict[Channel, dict[str, Any]]:
        """The request body of each channel, exactly as publish sends it."""
        manifest = self.source.manifest
        common: dict[str, Any] = {
            "DefaultSubstitutions": json.dumps(self.default_substitutions, ensure_ascii=False, sort_keys=True),
            "TemplateDescription": manifest.description,
        }
        if recommender_id is not None:
            common["RecommenderId"] = recommender_id
        return {
            channel: {**channel.template_request(self.parts, manifest.settings_for(channel)), **common}
            for channel in manifest.channel_objects
        }


def with_endpoint_id(endpoint_id: str, endpoint: Mapping[str, Any]) -> dict[str, Any]:
    """The endpoint as Pinpoint substitutes it: the event keys endpoints by id, and templates read it as {{Id}}."""
    return {"Id": endpoint_id, **endpoint} if "Id" not in endpoint else dict(endpoint)


def sample_endpoints(source: TemplateSource, event_path: Path | None = None) -> dict[str, dict[str, Any]]:
    """Endpoints of the template's sample event that carry Recommendations, plus an empty test-send endpoint."""
    samples: dict[str, dict[str, Any]] = {}
    path = event_path or source.sample_event_path
    if path is not None:
        event = read_event(path)
        endpoints = event.get("Endpoints") if isinstance(event, dict) else None
        if not isinstance(endpoints, dict):
            raise TemplateError(f"sample event {path} has no 'Endpoints' object")
        samples = {
            endpoint_id: with_endpoint_id(endpoint_id, endpoint)
            for endpoint_id, endpoint in endpoints.items()
            if isinstance(endpoint, dict) and isinstance(endpoint.get("Recommendations"), dict)
        }
    samples[TEST_SEND_SAMPLE] = {}
    return samples


def build_template(
    source: TemplateSource,
    config: PinrecConfig | None = None,
    renderer: Any | None = None,
    *,
    email_stages: Mapping[str, Any] | None = None,
    guarded: bool = True,
) -> BuiltTemplate:
    """Author every part, run the guarded email pipeline, and collect what publish sends."""
    started = time.perf_counter()
    manifest = source.manifest
    attributes = recommender_attributes(manifest, config)
    renderer = renderer if renderer is not None else make_renderer()
    parts = {part: author_part(source, part, attributes) for part in source.files}
    for part, text in parts.items():
        if part.single_line and "\n" in text.strip():
            raise TemplateError(f"{source.files[part]}: {part.key} must be one line (found a line break)")
    for channel in manifest.channel_objects:
        for problem in channel.check_built(parts, manifest.settings_for(channel)):
            raise TemplateError(f"template {source.name}: {problem}")
    built = BuiltTemplate(
        source=source,
        attributes=attributes,
        parts=parts,
        default_substitutions=dict(manifest.default_substitutions),
        samples=sample_endpoints(source),
    )
    for part in [part for part in parts if part.markup]:
        text_part = derived_text_part(source, part)
        email = _build_email(built, part, text_part, renderer if guarded else None, email_stages or {})
        parts[part] = email.html
        parts[text_part] = email.text
        built.mjml = email.mjml
        built.text_derived = email.text_derived
        built.checks = email.checks
    built.seconds = time.perf_counter() - started
    return built


def derived_text_part(source: TemplateSource, markup: Part) -> Part:
    """The text part written beside a markup part (derived from it when the template does not author it)."""
    channel = next(channel for channel in source.manifest.channel_objects if markup in channel.parts)
    return next(part for part in channel.parts if part.derived_from == markup.key)


def _guard_render(renderer: Any, built: BuiltTemplate) -> Callable[[str, Mapping[str, Any], bool], str]:
    """Renders a stage's output for a sample endpoint, so the guard can compare what a reader sees."""

    variables = built.preview_variables

    def render(text: str, endpoint: Mapping[str, Any], escape: bool) -> str:
        rendered = renderer.render(
            text,
            {**endpoint, **variables} if variables else endpoint,
            default_substitutions=built.default_substitutions,
            name=f"{built.source.name}/email (pipeline guard)",
            escape=escape,
        )
        return str(rendered.text)

    return render


def _build_email(
    built: BuiltTemplate, part: Part, text_part: Part, renderer: Any | None, stages: Mapping[str, Any]
) -> EmailBuild:
    source = built.source
    guard = StageGuard(_guard_render(renderer, built) if renderer is not None else None, built.samples, source.name)
    return build_email(
        built.parts[part],
        is_mjml=kind_of(source, part) is SourceKind.MJML,
        authored_text=built.parts.get(text_part),
        guard=guard,
        **stages,
    )


def write_build(built: BuiltTemplate, out_dir: Path, recommender_id: str | None = None) -> list[Path]:
    """Write each Handlebars part, each request JSON and `template.json` (what `pinrec send --built` reads)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for part, text in built.parts.items():
        written.append(_write(out_dir / part.built_file, text))
    if built.mjml is not None:
        written.append(_write(out_dir / "email.mjml", built.mjml))
    for channel, request in built.requests(recommender_id).items():
        body = json.dumps(request, indent=2, ensure_ascii=False) + "\n"
        written.append(_write(out_dir / f"{channel.pinpoint.request_key}.json", body))
    sendable = json.dumps(built.sendable().to_json(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    written.append(_write(out_dir / SEND_FILE, sendable))
    return written


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
