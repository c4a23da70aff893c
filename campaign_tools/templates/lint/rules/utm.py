"""utm: links to owned domains carry utm_source, utm_medium and utm_campaign, both the links written in the
template and the links every sample renders to."""

from __future__ import annotations

import html as html_module
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

from campaign_tools.channels import email as email_channel
from campaign_tools.channels import push as push_channel
from campaign_tools.channels import sms as sms_channel
from campaign_tools.channels.base import Part
from campaign_tools.templates.email_pipeline import visible_markup
from campaign_tools.templates.lint.context import LintContext, Rendering, Stage
from campaign_tools.templates.lint.report import Finding, Place, Severity
from campaign_tools.templates.lint.rules import Rule

ID = "utm"
WRITTEN_LINK_PARTS = (email_channel.HTML, email_channel.TEXT, sms_channel.BODY, push_channel.BODY, push_channel.URL)
_HREF = re.compile(r"""\bhref\s*=\s*["']([^"']*)["']""", re.IGNORECASE)


def check(context: LintContext) -> Iterator[Finding]:
    yield from _written_links(context)
    for rendering in context.renderings:
        if rendering.text is not None and not rendering.worst_case:
            yield from _rendered_links(context, rendering, rendering.text)


def _written_links(context: LintContext) -> Iterator[Finding]:
    """Links written in the template (not coming from a variable), found where they are written."""
    for part in WRITTEN_LINK_PARTS:
        text = context.built.parts.get(part)
        for url in _literal_urls(text or "", html_part=part is email_channel.HTML):
            yield from _untagged(context, (Stage.LINKS,), url, part, f"link {url}", snippet=url)


def _rendered_links(context: LintContext, rendering: Rendering, text: str) -> Iterator[Finding]:
    sample_id, part, place = rendering.sample_id, rendering.part, rendering.place
    if part is email_channel.HTML:
        for link in visible_markup(text).links:
            yield from _untagged(context, place, link, part, f"rendered link {link} ({sample_id})")
    elif part is push_channel.URL and text:
        yield from _untagged(context, place, text, part, f"rendered push URL {text} ({sample_id})")
    elif part is sms_channel.BODY:
        for url in _literal_urls(text, html_part=False):
            yield from _untagged(context, place, url, part, f"rendered link {url} ({sample_id})")


def _untagged(
    context: LintContext, place: Place, url: str, part: Part, what: str, *, snippet: str | None = None
) -> Iterator[Finding]:
    if not context.link_tagger.is_owned(url):
        return
    query = parse_qs(urlsplit(url).query)
    missing = [key for key in ("utm_source", "utm_medium", "utm_campaign") if key not in query]
    if missing:
        yield context.finding(
            place,
            Severity.WARNING,
            ID,
            f"{what} points to an owned domain without {', '.join(missing)} (wrap it in utm())",
            part=part,
            snippet=snippet,
        )


def _literal_urls(text: str, *, html_part: bool) -> list[str]:
    """Links written out in the text, from hrefs or from plain text."""
    if html_part:
        urls = [html_module.unescape(url) for url in _HREF.findall(text)]
    else:
        urls = re.findall(r"https?://[^\s<>\"']+", text)
    return [url for url in urls if url.startswith(("http://", "https://"))]


RULE = Rule((ID,), check)
