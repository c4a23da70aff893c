"""LintContext: what every rule reads, computed once per template, and the walk that orders findings.

The report sorts findings by severity, file and line. Findings tied on those keep walk order: the `Stage`, then the
position within it of what they are about (a path use, a hazard, a sample and the part rendered for it), then
registry order. Each site below carries its place in the walk, so rules can run one after another and still report
ties in the order one pass over the template would.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import IntEnum
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from campaign_tools.channels import email as email_channel
from campaign_tools.channels import registry as channel_registry
from campaign_tools.channels import sms as sms_channel
from campaign_tools.channels.base import Part
from campaign_tools.templates.authoring import LinkTagger, link_tagger
from campaign_tools.templates.build import BuiltTemplate
from campaign_tools.templates.handlebars_paths import PathUse, path_uses
from campaign_tools.templates.lint.report import Finding, Place, Severity
from campaign_tools.templates.lint.worst_case import worst_case_endpoint
from campaign_tools.templates.paths import PathInfo, describe_path

if TYPE_CHECKING:
    from campaign_tools.rendering import Hazard, SmsInfo, TemplateRenderError

WORST_CASE = "(worst case)"
"""The sample id of the worst-case endpoint, rendered after the template's own samples."""


def rendered_parts() -> tuple[Part, ...]:
    """The parts rendered for every sample, in the order they are rendered: every registered channel's parts, in
    the registry's order (a template renders those it has)."""
    return channel_registry.all_parts()


_HANDLEBARS = re.compile(r"\{\{.*?\}\}", re.DOTALL)


class Stage(IntEnum):
    """The lint walk's stages, in order."""

    DEFAULTS = 0
    PATHS = 1
    HAZARDS = 2
    EMAIL_MARKUP = 3
    LINKS = 4
    SMS_TEXT = 5
    PART_SIZES = 6
    RENDERED = 7
    SUMMARY = 8


@dataclass(frozen=True)
class UseSite:
    """A variable path one authored Handlebars part reads, and what it means on an endpoint."""

    part: Part
    use: PathUse
    info: PathInfo
    place: Place


@dataclass(frozen=True)
class HazardSite:
    """A construct of one authored Handlebars part whose output differs in Pinpoint or that it does not support."""

    part: Part
    hazard: Hazard
    snippet: str | None
    """The first mustache on the hazard's line, to find that line in the sources."""
    place: Place


@dataclass(frozen=True)
class Rendering:
    """One built part rendered for one sample endpoint (or the worst case)."""

    sample_id: str
    part: Part
    text: str | None
    """None when rendering failed: `error` says why."""
    error: TemplateRenderError | None
    place: Place

    @property
    def worst_case(self) -> bool:
        return self.sample_id == WORST_CASE


class LintContext:
    def __init__(self, built: BuiltTemplate, authored: Mapping[Part, str], renderer: Any) -> None:
        self.built = built
        self.source = built.source
        self.manifest = built.source.manifest
        self.authored = authored
        """Each part as authored Handlebars, before MJML, CSS inlining and the derived text part."""
        self.renderer = renderer
        self.sources = {path: path.read_text(encoding="utf-8") for path in self.source.directory.glob("*.jinja")}

    # -- where a finding is --------------------------------------------------------------------------------------
    def relative(self, path: Path) -> str:
        return f"{self.source.name}/{path.name}"

    def locate(self, part: Part, line: int | None, snippet: str | None) -> tuple[str, int | None]:
        """Where a built part's text comes from: the source line that holds it literally, else the built line."""
        if snippet:
            own = self.source.files.get(part)
            ordered = sorted(self.sources, key=lambda path: path != own)
            for path in ordered:
                text = self.sources[path]
                at = text.find(snippet)
                if at >= 0:
                    return self.relative(path), text.count("\n", 0, at) + 1
        origin = self.source.files.get(part)
        label = self.relative(origin) if origin else f"{self.source.name}/{part.key}"
        if line is None:
            return label, None
        return f"{label} (generated: line {line} of the built {part.key} part)", None

    def finding(
        self,
        place: Place,
        severity: Severity,
        rule: str,
        message: str,
        *,
        part: Part | None = None,
        line: int | None = None,
        snippet: str | None = None,
        file: str | None = None,
    ) -> Finding:
        """A finding in a part (located through its sources), else in `file` (default: the manifest) at `line`."""
        if part is not None:
            file, line = self.locate(part, line, snippet)
        elif file is None:
            file = self.relative(self.source.manifest_path)
        return Finding(file, line, severity, rule, message, place)

    def use_finding(self, site: UseSite, severity: Severity, rule: str, message: str) -> Finding:
        return self.finding(
            site.place, severity, rule, message, part=site.part, line=site.use.line, snippet=site.use.raw
        )

    def hazard_finding(self, site: HazardSite, severity: Severity, rule: str) -> Finding:
        hazard = site.hazard
        return self.finding(
            site.place, severity, rule, hazard.message, part=site.part, line=hazard.line, snippet=site.snippet
        )

    # -- the authored Handlebars ---------------------------------------------------------------------------------
    @cached_property
    def handlebars_parts(self) -> tuple[tuple[Part, str], ...]:
        """The authored parts, without a text part derived from the HTML (its paths are the HTML's)."""
        return tuple(
            (part, text)
            for part, text in self.authored.items()
            if not (part is email_channel.TEXT and self.built.text_derived)
        )

    @cached_property
    def path_uses(self) -> tuple[UseSite, ...]:
        names = self.built.attributes.names
        uses = [(part, use) for part, text in self.handlebars_parts for use in path_uses(text)]
        return tuple(
            UseSite(part, use, describe_path(use.path, names), (Stage.PATHS, index))
            for index, (part, use) in enumerate(uses)
        )

    @cached_property
    def known_path_uses(self) -> tuple[UseSite, ...]:
        """The uses of paths Pinpoint fills: every path rule but the unknown-path one checks only these."""
        return tuple(site for site in self.path_uses if site.info.known)

    @cached_property
    def hazards(self) -> tuple[HazardSite, ...]:
        from campaign_tools.rendering import lint_hazards

        found = [(part, text, hazard) for part, text in self.handlebars_parts for hazard in lint_hazards(text)]
        return tuple(
            HazardSite(part, hazard, _mustache_on(text.splitlines(), hazard.line), (Stage.HAZARDS, index))
            for index, (part, text, hazard) in enumerate(found)
        )

    @cached_property
    def sms_literal(self) -> str | None:
        """The authored SMS text without its Handlebars: what every message says whatever the data."""
        text = self.authored.get(sms_channel.BODY)
        return None if text is None else _HANDLEBARS.sub("", text)

    # -- links and rendering -------------------------------------------------------------------------------------
    @cached_property
    def link_tagger(self) -> LinkTagger:
        return link_tagger(self.source)

    @cached_property
    def samples(self) -> dict[str, Mapping[str, Any]]:
        """The template's sample endpoints, then the worst case."""
        return {**self.built.samples, WORST_CASE: worst_case_endpoint(self.built)}

    @cached_property
    def renderings(self) -> tuple[Rendering, ...]:
        """Every built part rendered for every sample, failures included."""
        return tuple(self._render_all())

    def _render_all(self) -> Iterator[Rendering]:
        from campaign_tools.rendering import TemplateRenderError

        for sample_index, (sample_id, endpoint) in enumerate(self.samples.items()):
            for part_index, part in enumerate(rendered_parts()):
                if part not in self.built.parts:
                    continue
                place = (Stage.RENDERED, sample_index, part_index)
                try:
                    text: str = self.built.render(self.renderer, part, endpoint).text
                except TemplateRenderError as error:
                    yield Rendering(sample_id, part, None, error, place)
                else:
                    yield Rendering(sample_id, part, text, None, place)

    @cached_property
    def rendered_sms(self) -> tuple[tuple[Rendering, SmsInfo], ...]:
        """Each SMS that rendered, with its encoding and segments."""
        from campaign_tools.rendering import sms_encoding

        return tuple(
            (rendering, sms_encoding(rendering.text))
            for rendering in self.renderings
            if rendering.part is sms_channel.BODY and rendering.text is not None
        )


def _mustache_on(lines: list[str], line: int) -> str | None:
    if 1 <= line <= len(lines):
        found = re.search(r"\{\{.*?\}\}", lines[line - 1])
        return found.group(0) if found else None
    return None
