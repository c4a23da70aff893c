"""Email HTML pipeline: MJML -> HTML (mjml-python) -> inlined CSS (css-inline) -> text part (inscriptis).

Every stage is guarded: a sample endpoint is rendered with the production renderer before and after the stage,
and the words a reader sees and the links they can follow must be the same.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from campaign_tools.templates.errors import PipelineGuardError, TemplateError

HIDDEN_TAGS = frozenset({"head", "style", "script", "title", "template", "mj-head"})
VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)
LINK_ATTRIBUTE = {"a": "href", "mj-button": "href", "mj-image": "href"}
_DISPLAY_NONE = re.compile(r"display\s*:\s*none", re.IGNORECASE)
_WORD = re.compile(r"\w+|[^\w\s]")
_BLOCK_TAG_COMMENT = re.compile(r"^\s*((?:\{\{~?(?:[#/^]|else\b)[^{}]*\}\}\s*)+)$")
"""A comment holding only Handlebars block tags (`{{#if x}}`, `{{else}}`, `{{/if}}`), as when() writes them."""
TEXT_LINK = re.compile(r" <((?:https?://|mailto:)[^<>\s]*)>")
"""How the derived text part shows a link: `View product <https://…>`."""


@dataclass(frozen=True)
class Visible:
    """What a reader gets from a rendered message: its words in order and its links in order."""

    words: tuple[str, ...]
    links: tuple[str, ...]
    link_texts: tuple[str, ...] = ()

    @property
    def text_links(self) -> tuple[str, ...]:
        """Links that carry text (an image-only link has no place in a text part)."""
        return tuple(link for link, text in zip(self.links, self.link_texts, strict=True) if text.strip())


class _VisibleParser(HTMLParser):
    def __init__(self, *, mjml: bool) -> None:
        super().__init__(convert_charrefs=True)
        self._mjml = mjml
        self._stack: list[tuple[str, bool]] = []
        self._hidden_depth = 0
        self._texts: list[str] = []
        self.links: list[str] = []
        self.link_texts: list[str] = []
        self._open_links: list[int] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        hidden = tag in HIDDEN_TAGS or tag == "mj-preview" or bool(_DISPLAY_NONE.search(attributes.get("style", "")))
        link = LINK_ATTRIBUTE.get(tag) if (self._mjml or tag == "a") else None
        if link and attributes.get(link) and not self._hidden_depth:
            self.links.append(attributes[link])
            self.link_texts.append("")
            if tag in ("a", "mj-button"):
                self._open_links.append(len(self.links) - 1)
        if tag in VOID_TAGS or (self._mjml and tag == "mj-image"):
            return
        self._stack.append((tag, hidden))
        if hidden:
            self._hidden_depth += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID_TAGS and not (self._mjml and tag == "mj-image"):
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("a", "mj-button") and self._open_links:
            self._open_links.pop()
        while self._stack:
            name, hidden = self._stack.pop()
            if hidden:
                self._hidden_depth -= 1
            if name == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._hidden_depth:
            return
        self._texts.append(data)
        for index in self._open_links:
            self.link_texts[index] += data

    def result(self) -> Visible:
        words = tuple(_WORD.findall(" ".join(self._texts)))
        return Visible(words, tuple(self.links), tuple(self.link_texts))


def visible_markup(markup: str, *, mjml: bool = False) -> Visible:
    parser = _VisibleParser(mjml=mjml)
    parser.feed(markup)
    parser.close()
    return parser.result()


def visible_text_part(text: str) -> Visible:
    links = tuple(TEXT_LINK.findall(text))
    return Visible(tuple(_WORD.findall(TEXT_LINK.sub(" ", text))), links, links)


def mjml_to_html(source: str) -> str:
    import mjml

    try:
        # No web fonts: MJML would otherwise link Google Fonts, which the CSS inliner would then fetch.
        return mjml.mjml2html(source, fonts={})
    except Exception as error:  # mjml-python raises its own untyped errors
        raise TemplateError(f"MJML could not be compiled: {error}") from None


def inline_css(html: str) -> str:
    import css_inline

    inliner = css_inline.CSSInliner(load_remote_stylesheets=False, keep_at_rules=True, keep_style_tags=False)
    try:
        return inliner.inline(html)
    except Exception as error:  # css_inline.InlineError and friends
        raise TemplateError(f"CSS inlining failed: {error}") from None


def derive_text_part(html: str) -> str:
    """The text part: what the HTML says, in reading order, with each link written after its text as <URL>.

    Handlebars block tags kept in HTML comments become text, so the text part branches the way the HTML does.
    """
    import lxml.html
    from inscriptis import Inscriptis
    from inscriptis.css_profiles import CSS_PROFILES
    from inscriptis.model.config import ParserConfig

    document = lxml.html.document_fromstring(html)
    for comment in list(document.iter(lxml.html.etree.Comment)):
        _comment_to_text(comment)
    anchors = [a for a in document.iter("a") if a.get("href") and a.text_content().strip()]
    for position, anchor in enumerate(anchors):
        following = anchors[position + 1] if position + 1 < len(anchors) else None
        if following is not None and following.get("href") == anchor.get("href"):
            continue  # a run of links to one place (image, name, "View"): write the URL once, after the last
        anchor.tail = f" <{anchor.get('href')}>" + (anchor.tail or "")
    text = Inscriptis(document, ParserConfig(css=CSS_PROFILES["strict"])).get_text()
    lines = [line.rstrip() for line in text.splitlines()]
    collapsed: list[str] = []
    for line in lines:
        if line.strip() or (collapsed and collapsed[-1].strip()):
            collapsed.append(line.strip())
    return "\n".join(collapsed).strip() + "\n"


_TABLE_STRUCTURE = frozenset({"table", "thead", "tbody", "tfoot", "tr", "colgroup"})


def _comment_to_text(comment: Any) -> None:
    """Turn `<!-- {{#if x}} -->` into the text `{{#if x}}` where a text converter keeps it; drop other comments.

    Between table rows text is not rendered, so a block tag there moves into the nearest cell: an opening tag
    to the start of the next row, a closing one to the end of the previous row.
    """
    import lxml.html

    parent = comment.getparent()
    if parent is None:
        return
    block = _BLOCK_TAG_COMMENT.match(comment.text or "")
    token = block.group(1).strip() if block else ""
    tail = comment.tail or ""
    previous, following = comment.getprevious(), comment.getnext()
    if token and parent.tag in _TABLE_STRUCTURE:
        closing = token.startswith(("{{/", "{{~/"))
        anchor = previous if closing else following
        while anchor is not None and not isinstance(anchor.tag, str):
            anchor = anchor.getprevious() if closing else anchor.getnext()
        if anchor is not None:
            cells = [element for element in anchor.iter("td", "th")] or [anchor]
            span = lxml.html.Element("span")
            span.text = token
            if closing:
                cells[-1].append(span)
            else:
                cells[0].insert(0, span)
            token = ""
    if previous is not None:
        previous.tail = (previous.tail or "") + token + tail
    else:
        parent.text = (parent.text or "") + token + tail
    parent.remove(comment)


_COMMENTED_BLOCK_TAG = re.compile(r"(?<!\n)(<!-- \{\{[#/^]|<!-- \{\{else)")


def block_tags_on_own_lines(html: str) -> str:
    """Start a line at each commented block tag, so lint and preview can name a branch by its line."""
    return _COMMENTED_BLOCK_TAG.sub(lambda match: "\n" + match.group(1), html)


Render = Callable[[str, Mapping[str, Any], bool], str]
"""Renders Handlebars `source` for one endpoint, with (True) or without (False) HTML escaping."""


@dataclass
class StageCheck:
    stage: str
    samples: int
    words: int
    links: int


@dataclass
class EmailBuild:
    html: str
    text: str
    text_derived: bool
    mjml: str | None = None
    checks: list[StageCheck] = field(default_factory=list)


def _first_difference(before: Sequence[str], after: Sequence[str]) -> str:
    for index, (left, right) in enumerate(zip(before, after, strict=False)):
        if left != right:
            return f"at #{index + 1}: {left!r} became {right!r}"
    if len(before) > len(after):
        return f"{len(before) - len(after)} lost, from {before[len(after)]!r}"
    return f"{len(after) - len(before)} added, from {after[len(before)]!r}"


class StageGuard:
    """Renders each sample before and after a stage and refuses the stage when what a reader gets changes."""

    def __init__(self, render: Render | None, samples: Mapping[str, Mapping[str, Any]], template: str) -> None:
        if render is not None and not samples:
            raise TemplateError(f"template {template}: the email pipeline guard needs at least one sample endpoint")
        self._render = render
        self._samples = samples
        self._template = template
        self.checks: list[StageCheck] = []

    def check(
        self,
        stage: str,
        before: str,
        after: str,
        read_before: Callable[[str], Visible],
        read_after: Callable[[str], Visible],
        *,
        after_escaped: bool = True,
        compare_links: Callable[[Visible, Visible], tuple[Sequence[str], Sequence[str]]] | None = None,
    ) -> None:
        if self._render is None:
            return  # unguarded: only lint uses this, to keep checking a template whose samples do not render
        words = links = 0
        for sample_id, endpoint in self._samples.items():
            seen_before = read_before(self._render(before, endpoint, True))
            seen_after = read_after(self._render(after, endpoint, after_escaped))
            if seen_before.words != seen_after.words:
                raise PipelineGuardError(
                    f"template {self._template}: stage {stage!r} changed the visible text for sample "
                    f"{sample_id}: {_first_difference(seen_before.words, seen_after.words)}"
                )
            links_before, links_after = (
                compare_links(seen_before, seen_after) if compare_links else (seen_before.links, seen_after.links)
            )
            if tuple(links_before) != tuple(links_after):
                raise PipelineGuardError(
                    f"template {self._template}: stage {stage!r} changed the links for sample {sample_id}: "
                    f"{_first_difference(links_before, links_after)}"
                )
            words += len(seen_before.words)
            links += len(links_before)
        self.checks.append(StageCheck(stage, len(self._samples), words, links))


def _distinct_runs(links: Sequence[str]) -> list[str]:
    return [link for index, link in enumerate(links) if index + 1 == len(links) or links[index + 1] != link]


def build_email(
    source: str,
    *,
    is_mjml: bool,
    authored_text: str | None,
    guard: StageGuard,
    compile_mjml: Callable[[str], str] = mjml_to_html,
    inline: Callable[[str], str] = inline_css,
    derive_text: Callable[[str], str] = derive_text_part,
) -> EmailBuild:
    """Run the pipeline on a Handlebars email source; each stage is injectable so tests can break one."""
    html = source
    if is_mjml:
        html = compile_mjml(source)
        guard.check("mjml", source, html, lambda text: visible_markup(text, mjml=True), visible_markup)
    inlined = block_tags_on_own_lines(inline(html))
    guard.check("css-inline", html, inlined, visible_markup, visible_markup)
    if authored_text is not None:
        return EmailBuild(inlined, authored_text, False, source if is_mjml else None, guard.checks)
    text = derive_text(inlined)
    guard.check(
        "text-part",
        inlined,
        text,
        visible_markup,
        visible_text_part,
        after_escaped=False,
        compare_links=lambda html_seen, text_seen: (
            _distinct_runs(html_seen.text_links),
            _distinct_runs(text_seen.links),
        ),
    )
    return EmailBuild(inlined, text, True, source if is_mjml else None, guard.checks)
