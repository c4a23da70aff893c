"""Whitespace control exactly as handlebars.js applies it: `~` stripping and standalone lines.

handlebars.js decides whether a block, else, comment or partial tag stands alone on its line from the
*original* text around it, then strips (its `WhitespaceControl` visitor). The parser we build on strips
`~` whitespace first and decides afterwards, and takes blanks before another tag for the end of a line, so
its output can differ by a newline or an indent. We therefore do the whitespace work on the source text
ourselves, remove the `~` marks, and put a keep-marker tag (which renders nothing) right after every tag the
parser could treat as standalone, so it never strips anything itself. Partial indentation, which the parser
records only for standalone partials, is returned for the renderer to set.

Rules (per tag, on the text segments before and after it; "root" = not inside any block):
- `~` on a side strips all whitespace of the neighbouring text on that side.
- block open: standalone when the text after it starts with blanks and a newline, and the text before it
  ends with a newline and blanks (or is the template's start, at root).
- `{{else}}` / `{{else if}}`: text before ends with a newline and blanks, text after starts with blanks and a
  newline.
- close: the last text of the block's first branch after an `{{else if}}` (else the text before the close)
  ends with a newline and blanks, and the text after starts with blanks and a newline (or is the template's
  end, at root); a chained block's close keeps the blanks before it.
- comment, partial: like open on the left and close on the right.
- standalone strips the blanks before the tag and the blanks plus one newline after it, unless `~` already
  stripped that side.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from campaign_tools.rendering.scanner import Tag, TagKind, parser_spelling

_OPENERS = frozenset({TagKind.BLOCK, TagKind.INLINE_PARTIAL, TagKind.PARTIAL_BLOCK})
_ELSES = frozenset({TagKind.ELSE, TagKind.ELSE_CHAIN})
_INLINE = frozenset({TagKind.COMMENT, TagKind.PARTIAL})
STANDALONE_KINDS = _OPENERS | _ELSES | _INLINE | {TagKind.CLOSE}

_ENDS_LINE = re.compile(r"\r?\n\s*?\Z")  # \Z: JavaScript's $, not Python's (which allows a final newline)
_STARTS_LINE = re.compile(r"^\s*?\r?\n")


@dataclass
class _Segment:
    original: str
    value: str
    starts_template: bool
    ends_template: bool
    left_stripped: bool = False  # its end was stripped
    right_stripped: bool = False  # its start was stripped

    def omit_start(self, *, everything: bool) -> None:
        if not self.original or (not everything and self.right_stripped):
            return
        before = self.value
        self.value = re.sub(r"^\s+" if everything else r"^[ \t]*\r?\n?", "", self.value, count=1)
        self.right_stripped = self.value != before

    def omit_end(self, *, everything: bool) -> bool:
        if not self.original or (not everything and self.left_stripped):
            return False
        before = self.value
        self.value = re.sub(r"\s+\Z" if everything else r"[ \t]+\Z", "", self.value, count=1)
        self.left_stripped = self.value != before
        return self.left_stripped


@dataclass
class _Open:
    index: int
    chained: bool = False
    first_branch_end: int | None = None  # segment index ending the first branch after {{else if}}
    awaiting_branch_end: bool = False


@dataclass
class Prepared:
    source: str
    partial_indents: dict[int, str] = field(default_factory=dict)  # partial tag's start offset -> indent


def prepare(source: str, tags: list[Tag], *, keep_marker: str) -> Prepared:
    """The source for the parser: handlebars.js whitespace control applied, `~` removed, keep-markers
    inserted, and the spellings the parser misreads rewritten (`scanner.parser_spelling`)."""
    bounds = [0, *(edge for tag in tags for edge in (tag.start, tag.end)), len(source)]
    segments = [
        _Segment(source[bounds[2 * k] : bounds[2 * k + 1]], source[bounds[2 * k] : bounds[2 * k + 1]], k == 0, False)
        for k in range(len(tags) + 1)
    ]
    segments[-1].ends_template = True
    depths, close_branch_ends = _structure(tags)
    for index, tag in enumerate(tags):
        text = source[tag.start : tag.end]
        if text.startswith("{{~"):
            segments[index].omit_end(everything=True)
        if text.endswith("~}}"):
            segments[index + 1].omit_start(everything=True)
    indents: dict[int, str] = {}
    for index, tag in enumerate(tags):
        before, after = segments[index], segments[index + 1]
        root = depths[index] == 0
        if tag.kind in _OPENERS and _inner_next(after) and _outer_prev(before, root):
            after.omit_start(everything=False)
            before.omit_end(everything=False)
        elif tag.kind in _ELSES and _inner_prev(before) and _inner_next(after):
            before.omit_end(everything=False)
            after.omit_start(everything=False)
        elif tag.kind is TagKind.CLOSE:
            branch_end = close_branch_ends.get(index)
            decisive = segments[branch_end] if branch_end is not None else before
            if _inner_prev(decisive) and _outer_next(after, root):
                after.omit_start(everything=False)
                if branch_end is None:
                    before.omit_end(everything=False)
        elif tag.kind in _INLINE and _outer_prev(before, root) and _outer_next(after, root):
            after.omit_start(everything=False)
            if before.omit_end(everything=False) and tag.kind is TagKind.PARTIAL:
                indents[tag.start] = re.search(r"[ \t]+\Z", before.original).group(0)  # type: ignore[union-attr]
    return Prepared(_rebuild(source, tags, segments, keep_marker), indents)


def _inner_next(segment: _Segment) -> bool:
    return bool(segment.original) and _STARTS_LINE.search(segment.original) is not None


def _inner_prev(segment: _Segment) -> bool:
    return bool(segment.original) and _ENDS_LINE.search(segment.original) is not None


def _outer_prev(segment: _Segment, root: bool) -> bool:
    if not segment.original:
        return segment.starts_template
    if root and segment.starts_template and not segment.original.strip():
        return True
    return _ENDS_LINE.search(segment.original) is not None


def _outer_next(segment: _Segment, root: bool) -> bool:
    if not segment.original:
        return segment.ends_template
    if root and segment.ends_template and not segment.original.strip():
        return True
    return _STARTS_LINE.search(segment.original) is not None


def _structure(tags: list[Tag]) -> tuple[list[int], dict[int, int]]:
    """Nesting depth of every tag (an opener and its close count as outside), and for the close of a block
    with `{{else if}}` the segment that ends the first branch after it (handlebars.js decides on that one)."""
    depths: list[int] = []
    close_branch_ends: dict[int, int] = {}
    stack: list[_Open] = []
    for index, tag in enumerate(tags):
        if tag.kind in _ELSES and stack:
            top = stack[-1]
            if top.awaiting_branch_end:
                top.first_branch_end, top.awaiting_branch_end = index, False
            if tag.kind is TagKind.ELSE_CHAIN and not top.chained:
                top.chained, top.awaiting_branch_end = True, True
        if tag.kind is TagKind.CLOSE and stack:
            top = stack.pop()
            if top.awaiting_branch_end:
                top.first_branch_end = index
            if top.chained and top.first_branch_end is not None:
                close_branch_ends[index] = top.first_branch_end
        depths.append(len(stack))
        if tag.kind in _OPENERS or tag.kind is TagKind.RAW_TEXT:
            stack.append(_Open(index))
    return depths, close_branch_ends


def _rebuild(source: str, tags: list[Tag], segments: list[_Segment], keep_marker: str) -> str:
    pieces: list[str] = []
    for index, tag in enumerate(tags):
        pieces.append(segments[index].value)
        text = source[tag.start : tag.end]
        if text.startswith("{{~"):
            text = "{{" + text[3:]
        if text.endswith("~}}"):
            text = text[:-3] + "}}"
        pieces.append(parser_spelling(tag, text))
        if tag.kind in STANDALONE_KINDS:
            pieces.append(keep_marker)
    pieces.append(segments[-1].value)
    return "".join(pieces)
