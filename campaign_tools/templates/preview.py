"""`pinrec templates preview`: the transformer's real output rendered per endpoint, as Pinpoint would send it."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from campaign_tools.channels import registry as channel_registry
from campaign_tools.channels.base import Part, PreviewOutput
from campaign_tools.local_lambda import read_event
from campaign_tools.templates.build import BuiltTemplate, with_endpoint_id
from campaign_tools.templates.manifest import TemplateSource

NO_CONFIG_REASON = "no Recommendations in the event (no transformer configuration given)"


_BLOCK_OPENING = re.compile(r"\{\{~?(?:#|else\s+)(\w+)\s+([^}]*?)~?\}\}")


def _block_label(lines: list[str], line: int, helper: str) -> str:
    """`if Recommendations.Price.[0] (L3)`: the block's helper and arguments, from its opening tag's line."""
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    for match in _BLOCK_OPENING.finditer(text):
        if match.group(1) == helper:
            return f"{helper} {match.group(2).strip()} (L{line})"
    return f"{helper} (L{line})"


def channel_family(channel_type: object) -> str | None:
    """EMAIL, SMS or PUSH for an endpoint's ChannelType: the name of the channel that sends to it."""
    channel = channel_registry.for_endpoint_type(channel_type)
    return channel.name.upper() if channel is not None else None


@dataclass
class EndpointPreview:
    endpoint_id: str
    channel: str
    folder: Path
    rendered: dict[Part, str] = field(default_factory=dict)
    branches: dict[Part, tuple[Any, ...]] = field(default_factory=dict)
    shown: dict[str, PreviewOutput] = field(default_factory=dict)
    """What each of the template's channels shows of the rendered parts (files, gallery blocks, summary)."""
    errors: list[str] = field(default_factory=list)

    def summary(self, label: str) -> str | None:
        """The figure a channel reports under `label` (e.g. "SMS segments"), if any."""
        return next((out.summary for name, out in self.shown.items() if _label(name) == label), None)

    def branch_summary(self) -> str:
        hits = [hit for part_hits in self.branches.values() for hit in part_hits]
        if not hits:
            return "-"
        counts: dict[str, int] = {}
        for hit in hits:
            label = hit.branch if not hit.branch.startswith("each(") else "each"
            counts[label] = counts.get(label, 0) + 1
        return ", ".join(f"{count} {label}" for label, count in sorted(counts.items()))

    def branch_details(self, parts: Mapping[Part, str]) -> list[str]:
        """`part: if Recommendations.ItemId.[3] (L40) else, ...` in the order the branches were taken."""
        lines = []
        for part, hits in self.branches.items():
            if hits:
                source_lines = parts.get(part, "").splitlines()
                described = ", ".join(
                    f"{_block_label(source_lines, hit.line, hit.helper)} {hit.branch}" for hit in hits
                )
                lines.append(f"{part.key}: {described}")
        return lines


def _label(channel_name: str) -> str | None:
    return channel_registry.channel(channel_name).summary_label


def summary_labels() -> list[str]:
    """The preview summary columns: one per channel that reports a figure, in the registry's order."""
    return [channel.summary_label for channel in channel_registry.CHANNELS if channel.summary_label]


@dataclass
class PreviewReport:
    template: str
    out_dir: Path
    enriched_by: str
    endpoints: list[EndpointPreview]
    left_out: dict[str, str]
    index: Path
    parts: dict[Part, str] = field(default_factory=dict)
    """The built Handlebars parts, to name branches by their opening tags."""

    @property
    def failed(self) -> list[EndpointPreview]:
        return [endpoint for endpoint in self.endpoints if endpoint.errors]


@dataclass
class EnrichedEvent:
    response: dict[str, Any]
    left_out: dict[str, str]
    enriched_by: str


def enrich_event(event: Any, config_path: Path | None) -> EnrichedEvent:
    """Run the real transformer on the event; without a config, use Recommendations the event already holds."""
    from transformer.enrich import endpoints_of

    if config_path is not None:
        from transformer.config import load_config
        from transformer.service import Transformer

        transformer = Transformer(load_config(config_path))
        try:
            enrichment = transformer.enrich_event(event)
        finally:
            close = getattr(transformer.store, "close", None)
            if close is not None:
                close()
        left_out = {endpoint_id: reason.value for endpoint_id, reason in enrichment.left_out.items()}
        return EnrichedEvent(enrichment.response, left_out, f"the transformer with {config_path}")
    endpoints = endpoints_of(event)
    response = {
        endpoint_id: endpoint
        for endpoint_id, endpoint in endpoints.items()
        if isinstance(endpoint, Mapping) and isinstance(endpoint.get("Recommendations"), Mapping)
    }
    left_out = {endpoint_id: NO_CONFIG_REASON for endpoint_id in endpoints if endpoint_id not in response}
    return EnrichedEvent(dict(response), left_out, "the Recommendations already in the event")


def preview_from_files(
    source: TemplateSource, event_path: Path, config_path: Path | None, out_dir: Path
) -> PreviewReport:
    """Build the template (checked against the configuration when given), enrich the event, render the gallery."""
    from campaign_tools.templates.build import build_template, make_renderer
    from transformer.config import load_config

    config = load_config(config_path) if config_path is not None else None
    renderer = make_renderer()
    built = build_template(source, config, renderer)
    enriched = enrich_event(read_event(event_path), config_path)
    return preview_template(built, enriched, out_dir, renderer)


GALLERY_FILE = "index.html"
MAX_FOLDER_NAME = 80
_UNUSABLE_NAMES = frozenset(
    {GALLERY_FILE, "con", "prn", "aux", "nul", *(f"{d}{n}" for d in ("com", "lpt") for n in range(10))}
)
"""Names an endpoint's folder never takes: the gallery's own file, and names Windows reserves for devices."""


def folder_name(endpoint_id: str, taken: set[str]) -> str:
    """The folder, directly inside the output folder, for one endpoint's files: letters, digits, `_`, `-` and
    inner dots only, at most MAX_FOLDER_NAME characters, never a name the gallery uses, and unique among `taken`
    even where file names ignore case (every name given is added to `taken`, case-folded)."""
    base = re.sub(r"[^A-Za-z0-9_.-]", "_", endpoint_id).strip(".")[:MAX_FOLDER_NAME].rstrip(".") or "endpoint"
    name, counter = base, 2
    while name.casefold() in taken or name.casefold() in _UNUSABLE_NAMES:
        suffix = f"-{counter}"
        name, counter = base[: MAX_FOLDER_NAME - len(suffix)] + suffix, counter + 1
    taken.add(name.casefold())
    return name


def preview_template(built: BuiltTemplate, enriched: EnrichedEvent, out_dir: Path, renderer: Any) -> PreviewReport:
    """Render every part for every enriched endpoint, write the files and the index.html gallery."""
    from campaign_tools.rendering import TemplateRenderError

    out_dir.mkdir(parents=True, exist_ok=True)
    taken: set[str] = set()
    previews: list[EndpointPreview] = []
    for endpoint_id, endpoint in enriched.response.items():
        channel = channel_family(endpoint.get("ChannelType")) or str(endpoint.get("ChannelType", "?"))
        preview = EndpointPreview(endpoint_id, channel, out_dir / folder_name(endpoint_id, taken))
        preview.folder.mkdir(parents=True, exist_ok=True)
        for part in built.parts:
            try:
                rendered = built.render(renderer, part, with_endpoint_id(endpoint_id, endpoint))
            except TemplateRenderError as error:
                preview.errors.append(f"{part.key}: {error}")
                continue
            preview.rendered[part] = rendered.text
            preview.branches[part] = tuple(rendered.branches)
        folder = preview.folder.relative_to(out_dir).as_posix()
        for template_channel in built.source.manifest.channel_objects:
            rendered_parts = {
                part: preview.rendered[part] for part in template_channel.parts if part in preview.rendered
            }
            shown = template_channel.preview(rendered_parts, folder, endpoint_id)
            preview.shown[template_channel.name] = shown
            for file_name, text in shown.files.items():
                (preview.folder / file_name).write_text(text, encoding="utf-8")
        previews.append(preview)
    index = out_dir / GALLERY_FILE
    index.write_text(gallery_html(built, enriched, previews, out_dir), encoding="utf-8")
    return PreviewReport(built.name, out_dir, enriched.enriched_by, previews, enriched.left_out, index, built.parts)


_GALLERY_STYLE = """
:root { color-scheme: light dark; --bg:#f4f6f9; --card:#fff; --ink:#1f2933; --muted:#4a5561; --line:#d5dbe3; }
@media (prefers-color-scheme: dark) { :root { --bg:#111418; --card:#1b1f24; --ink:#e8ecf1; --muted:#b8c2cc;
  --line:#333a43; } }
body { margin:0; padding:24px; background:var(--bg); color:var(--ink);
  font:15px/1.5 -apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif; }
h1 { font-size:22px; margin:0 0 4px; } h2 { font-size:18px; margin:0 0 8px; } h3 { font-size:15px; margin:12px 0 4px; }
.muted { color:var(--muted); }
table.summary { border-collapse:collapse; margin:16px 0 24px; background:var(--card); }
table.summary th, table.summary td { border:1px solid var(--line); padding:6px 10px; text-align:left; }
section.endpoint { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:16px;
  margin:0 0 24px; }
.grid { display:flex; flex-wrap:wrap; gap:16px; align-items:flex-start; }
iframe { width:640px; max-width:100%; height:900px; border:1px solid var(--line); border-radius:6px; background:#fff; }
pre { white-space:pre-wrap; max-width:560px; background:var(--bg); padding:12px; border-radius:6px; margin:0; }
.sms { max-width:320px; background:#e5e5ea; color:#000; padding:10px 14px; border-radius:18px; white-space:pre-wrap; }
.push { max-width:340px; background:var(--bg); border:1px solid var(--line); border-radius:12px; padding:10px 14px; }
.errors { color:#b00020; }
"""


def gallery_html(built: BuiltTemplate, enriched: EnrichedEvent, previews: list[EndpointPreview], out_dir: Path) -> str:
    """The index page. Everything from the event or the catalog is escaped; emails load in sandboxed frames."""
    esc = html.escape
    rows = []
    for preview in previews:
        figures = "".join(f"<td>{esc(preview.summary(label) or '-')}</td>" for label in summary_labels())
        anchor = esc(preview.folder.name)
        rows.append(
            f'<tr><td><a href="#{anchor}">{esc(preview.endpoint_id)}</a></td><td>{esc(preview.channel)}</td>'
            f"{figures}<td>{esc(preview.branch_summary())}</td></tr>"
        )
    left = "".join(f"<li>{esc(endpoint_id)}: {esc(reason)}</li>" for endpoint_id, reason in enriched.left_out.items())
    sections = [_endpoint_section(preview, out_dir, built.parts) for preview in previews]
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Preview: {esc(built.name)}</title><style>{_GALLERY_STYLE}</style></head><body>"
        f"<h1>Preview: {esc(built.name)}</h1>"
        f'<p class="muted">{esc(built.source.manifest.description)} Recommendations from '
        f"{esc(enriched.enriched_by)}; rendered with Pinpoint's Handlebars rules and the template's "
        "DefaultSubstitutions.</p>"
        '<table class="summary"><thead><tr><th scope="col">Endpoint</th><th scope="col">Channel</th>'
        + "".join(f'<th scope="col">{esc(label[:1].upper() + label[1:])}</th>' for label in summary_labels())
        + '<th scope="col">Branches</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
        + (f"<h2>Left out by the transformer (not sent)</h2><ul>{left}</ul>" if left else "")
        + "".join(sections)
        + "</body></html>\n"
    )


def _endpoint_section(preview: EndpointPreview, out_dir: Path, parts: Mapping[Part, str]) -> str:
    esc = html.escape
    blocks = [block for shown in preview.shown.values() for block in shown.blocks]
    details = "".join(f"<li>{esc(line)}</li>" for line in preview.branch_details(parts))
    errors = "".join(f"<li>{esc(error)}</li>" for error in preview.errors)
    return (
        f'<section class="endpoint" id="{esc(preview.folder.name)}"><h2>{esc(preview.endpoint_id)} '
        f'<span class="muted">({esc(preview.channel)})</span></h2>'
        + (f'<ul class="errors">{errors}</ul>' if errors else "")
        + f'<div class="grid">{"".join(blocks)}</div>'
        + (f"<h3>Branches taken</h3><ul>{details}</ul>" if details else "")
        + "</section>"
    )
