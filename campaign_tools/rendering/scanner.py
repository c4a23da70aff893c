"""Find every `{{…}}` tag of a Handlebars source with its line, the way the parser splits them.

The parser we build on (dotpromptz-handlebars) keeps no source positions, so the renderer scans the
source itself to give errors, branch hits and lint hazards a line number. The tag boundaries follow the
parser's tokenizer exactly (escaped `\\{{`, raw blocks `{{{{x}}}}`, `{{!-- --}}` comments, triple stashes
and `~` whitespace control); tests check that both agree on every template in the corpus.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from campaign_tools.rendering.errors import TemplateRenderError


class TagKind(Enum):
    COMMENT = "comment"
    CLOSE = "close"
    ELSE = "else"  # plain {{else}}: no node of its own
    ELSE_CHAIN = "else-chain"  # {{else if x}} / {{else unless x}}: a nested block
    BLOCK = "block"  # {{#x}} and {{^x}}
    INLINE_PARTIAL = "inline-partial"  # {{#*inline "name"}}
    PARTIAL_BLOCK = "partial-block"  # {{#> name}}
    PARTIAL = "partial"  # {{> name}}
    MUSTACHE = "mustache"  # {{x}}, {{{x}}}, {{& x}}
    RAW_TEXT = "raw-text"  # {{{{raw}}}} with no helper: its content is plain text


# Tag kinds that become a node of the parsed program, in source order.
NODE_KINDS = frozenset(
    {
        TagKind.ELSE_CHAIN,
        TagKind.BLOCK,
        TagKind.INLINE_PARTIAL,
        TagKind.PARTIAL_BLOCK,
        TagKind.PARTIAL,
        TagKind.MUSTACHE,
    }
)

_UNCLOSED = -1
_INLINE_DECORATOR = re.compile(r"#\*\s*inline(?=\s|$)")


@dataclass(frozen=True)
class Tag:
    kind: TagKind
    body: str  # without braces, `~` and surrounding blanks
    line: int  # 1-based line of the opening `{{`
    start: int  # offset of the opening `{{`
    end: int  # offset just past the closing braces
    triple: bool = False
    inverted: bool = False  # {{^x}}…{{/x}}: the parser swaps body and else
    raw: bool = False  # {{{{x}}}} raw block opener

    @property
    def name(self) -> str:
        """The helper or path a block, close or mustache tag names (`if`, `each`, `Recommendations.Title`)."""
        text = self.body
        for prefix in ("#>", "#", "^", "/", ">", "&"):
            if text.startswith(prefix):
                text = text[len(prefix) :].strip()
                break
        if self.kind is TagKind.ELSE_CHAIN:
            text = text[len("else") :].strip()
        return text.split(None, 1)[0] if text else ""


class _Lines:
    def __init__(self, source: str) -> None:
        self._starts = [0] + [m.end() for m in re.finditer("\n", source)]

    def line(self, offset: int) -> int:
        lo, hi = 0, len(self._starts)
        while lo + 1 < hi:
            mid = (lo + hi) // 2
            if self._starts[mid] <= offset:
                lo = mid
            else:
                hi = mid
        return lo + 1


def scan(source: str, *, template: str = "template") -> list[Tag]:
    """Every tag in source order; raises TemplateRenderError (with the line) on an unclosed tag."""
    lines = _Lines(source)
    tags: list[Tag] = []
    i, n = 0, len(source)
    while i < n:
        start = source.find("{{", i)
        if start < 0:
            break
        slashes = 0
        j = start - 1
        while j >= i and source[j] == "\\":
            slashes += 1
            j -= 1
        if slashes == 1:  # \{{ is literal text
            i = start + 2
            continue
        if source.startswith("{{{{", start):
            i = _scan_raw_block(source, start, lines, tags, template)
            continue
        line = lines.line(start)
        if source.startswith(("{{~{", "{{{"), start):
            tag = _scan_triple(source, start, line, template)
        else:
            tag = _scan_plain(source, start, line, template)
        tags.append(tag)
        i = tag.end
    return tags


def _unclosed(template: str, line: int, what: str = "tag") -> TemplateRenderError:
    return TemplateRenderError(template, line, f"unclosed {what}: no matching closing braces")


def _scan_triple(source: str, start: int, line: int, template: str) -> Tag:
    body_start = start + 4 if source.startswith("{{~{", start) else start + 3
    plain, tilde = source.find("}}}", body_start), source.find("}~}}", body_start)
    candidates = [(pos, width) for pos, width in ((plain, 3), (tilde, 4)) if pos >= 0]
    if not candidates:
        raise _unclosed(template, line)
    close, width = min(candidates)
    if source.startswith("}", close + width):
        raise TemplateRenderError(template, line, "a {{{ tag closes with four braces")
    return Tag(TagKind.MUSTACHE, source[body_start:close].strip(), line, start, close + width, triple=True)


def _scan_plain(source: str, start: int, line: int, template: str) -> Tag:
    comment_end = _long_comment_end(source, start)
    if comment_end == _UNCLOSED:
        raise _unclosed(template, line, "comment")
    if comment_end is not None:
        return Tag(TagKind.COMMENT, _strip_tilde(source[start + 2 : comment_end - 2]), line, start, comment_end)
    close = source.find("}}", start + 2)
    if close < 0:
        raise _unclosed(template, line)
    body = _strip_tilde(source[start + 2 : close])
    tag = _classify(body, line, start, close + 2)
    if tag.kind is not TagKind.COMMENT and source.startswith("}", close + 2):
        # handlebars.js reads `}}}` as the end of a triple stash and refuses the template.
        raise TemplateRenderError(template, line, f"{{{{{body}}}}}}} closes a {{{{ tag with three braces")
    return tag


def _strip_tilde(body: str) -> str:
    body = body[1:] if body.startswith("~") else body
    body = body[:-1] if body.endswith("~") else body
    return body.strip()


def _classify(body: str, line: int, start: int, end: int) -> Tag:
    kind = TagKind.MUSTACHE
    inverted = False
    if body.startswith("!"):
        kind = TagKind.COMMENT
    elif body.startswith("/"):
        kind = TagKind.CLOSE
    elif body == "else" or body.startswith("else "):
        chained = body.startswith(("else if ", "else unless "))
        kind = TagKind.ELSE_CHAIN if chained else TagKind.ELSE
    elif _INLINE_DECORATOR.match(body):
        kind = TagKind.INLINE_PARTIAL
    elif body.startswith("#>"):
        kind = TagKind.PARTIAL_BLOCK
    elif body.startswith("#"):
        kind = TagKind.BLOCK
    elif body.startswith("^"):
        kind, inverted = (TagKind.ELSE, False) if body == "^" else (TagKind.BLOCK, True)
    elif body.startswith(">"):
        kind = TagKind.PARTIAL
    return Tag(kind, body, line, start, end, inverted=inverted)


def _scan_raw_block(source: str, start: int, lines: _Lines, tags: list[Tag], template: str) -> int:
    line = lines.line(start)
    if source.startswith("{{{{/", start):
        raise TemplateRenderError(template, line, "a raw block closes here but none is open")
    open_end = source.find("}}}}", start + 4)
    if open_end < 0:
        raise TemplateRenderError(template, line, "unclosed raw block tag")
    header = source[start + 4 : open_end].strip()
    if not header:
        raise TemplateRenderError(template, line, "empty raw block tag")
    name = header.split()[0]
    close_tag = "{{{{/" + name + "}}}}"
    close_pos = source.find(close_tag, open_end + 4)
    if close_pos < 0:
        raise TemplateRenderError(template, line, f"raw block {name!r} is never closed")
    kind = TagKind.RAW_TEXT if header == "raw" else TagKind.BLOCK
    tags.append(Tag(kind, "#" + header, line, start, open_end + 4, raw=True))
    tags.append(Tag(TagKind.CLOSE, "/" + name, lines.line(close_pos), close_pos, close_pos + len(close_tag)))
    return close_pos + len(close_tag)


def _long_comment_end(source: str, start: int) -> int | None:
    """Offset just past `--}}` for a `{{!--` comment starting at start, or None for any other tag."""
    i = start + 2
    if i < len(source) and source[i] == "~":
        i += 1
    if not source.startswith("!--", i):
        return None
    search = i + 3
    while True:
        mark = source.find("--", search)
        if mark < 0:
            return _UNCLOSED
        j = mark + 2
        if j < len(source) and source[j] == "~":
            j += 1
        if source.startswith("}}", j):
            return j + 2
        search = mark + 1


def check_structure(tags: list[Tag], *, template: str) -> None:
    """Raise TemplateRenderError naming the line of the first unbalanced block, close or else tag."""
    stack: list[tuple[Tag, bool]] = []  # open block, and whether it already had a plain {{else}}
    for tag in tags:
        if tag.kind in (TagKind.BLOCK, TagKind.INLINE_PARTIAL, TagKind.PARTIAL_BLOCK, TagKind.RAW_TEXT):
            stack.append((tag, False))
        elif tag.kind is TagKind.CLOSE:
            if not stack:
                raise TemplateRenderError(template, tag.line, f"{{{{{tag.body}}}}} closes a block that is not open")
            opener, _ = stack.pop()
            if tag.name != _block_name(opener):
                raise TemplateRenderError(
                    template,
                    tag.line,
                    f"{{{{{tag.body}}}}} does not match {{{{{opener.body}}}}} opened on line {opener.line}",
                )
        elif tag.kind in (TagKind.ELSE, TagKind.ELSE_CHAIN):
            if not stack:
                raise TemplateRenderError(template, tag.line, f"{{{{{tag.body}}}}} outside a block")
            opener, had_else = stack[-1]
            if opener.kind in (TagKind.INLINE_PARTIAL, TagKind.PARTIAL_BLOCK):
                raise TemplateRenderError(template, tag.line, f"{{{{{tag.body}}}}} inside {{{{{opener.body}}}}}")
            if had_else:
                reason = f"{{{{{tag.body}}}}} after the final {{{{else}}}} of {{{{{opener.body}}}}}"
                raise TemplateRenderError(template, tag.line, reason)
            stack[-1] = (opener, tag.kind is TagKind.ELSE)
    if stack:
        opener, _ = stack[-1]
        raise TemplateRenderError(template, opener.line, f"{{{{{opener.body}}}}} is never closed")


def _block_name(opener: Tag) -> str:
    if opener.kind is TagKind.INLINE_PARTIAL:
        return "inline"
    return opener.name


def parser_spelling(tag: Tag, text: str) -> str:
    """The tag text rewritten where the parser would misread it, into what it reads as handlebars.js does.

    `{{#* inline "x"}}` becomes `{{#*inline "x"}}` (Pinpoint's documentation writes the spaced form),
    `{{^}}` becomes `{{else}}`, and a block named by a string literal, `{{#"foo bar"}}…{{/"foo bar"}}`, becomes
    the path it names, `{{#[foo bar]}}…{{/[foo bar]}}` (the parser would not match the quoted close tag).
    """
    if tag.kind is TagKind.INLINE_PARTIAL:
        return re.sub(r"#\*\s*inline", "#*inline", text, count=1)
    if tag.kind is TagKind.ELSE and tag.body == "^":
        return text.replace("^", "else", 1)
    if tag.kind in (TagKind.BLOCK, TagKind.CLOSE) and not tag.raw:
        quoted = _QUOTED_BLOCK_NAME.fullmatch(tag.body)
        if quoted and "]" not in quoted["name"]:
            return text.replace(tag.body, f"{quoted['sigil']}[{quoted['name']}]", 1)
    return text


_QUOTED_BLOCK_NAME = re.compile(r"(?P<sigil>[#^/])\s*(?P<quote>[\"'])(?P<name>[^\"']*)(?P=quote)")
