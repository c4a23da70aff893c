"""Compile a Handlebars source into an instrumented program.

We parse with dotpromptz-handlebars (the closest pure-Python match to handlebars.js) and then rewrite its
node tree before rendering, instead of forking the engine:

- before every tag node, a *line marker* records the tag's source line, so an error names its line;
- at the start of every block body and else body, a *branch marker* records which branch ran;
- every variable path gets wrapped in the *default* helper, which substitutes DefaultSubstitutions when the
  variable has no value;
- every `{{…}}` goes through the *print* helper, which applies the default and prints the value as
  handlebars.js would (the engine itself prints floats the Python way: `1e-07` instead of `1e-7`).

Markers are helper calls the engine renders as empty strings. The parser keeps no positions, so lines come
from `scanner.scan`, matched to nodes in source order. This module is the only one that touches the
library's internal API (`_render.compile_template` / `render_program` / `_call`), which is why the
dependency is pinned to one version.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from dotpromptz_handlebars import Block, InlinePartial, Mustache, Partial, PartialBlock, Text
from dotpromptz_handlebars._render import _call as parse_call
from dotpromptz_handlebars._render import compile_template

from campaign_tools.rendering.errors import TemplateRenderError
from campaign_tools.rendering.paths import Segment, invalid_path_reason, join_path, needs_own_resolution, split_path
from campaign_tools.rendering.scanner import NODE_KINDS, Tag, TagKind, check_structure, scan
from campaign_tools.rendering.whitespace import prepare

PRINT_HELPER = "pinrec:print"
KEEP_MARKER = "pinrec:keep"  # parse-time only: stops the parser from stripping blanks after a tag
LINE_MARKER = "pinrec:line"
BRANCH_MARKER = "pinrec:branch"
DEFAULT_HELPER = "pinrec:default"
KEY_HELPER = "pinrec:key"  # (pinrec:key base "name"): base's key, for a bracketed [this] the engine would misread
LENGTH_HELPER = "pinrec:length"  # (pinrec:length base): a list's item count, or base's "length" key
SAVE_PARTIAL_BLOCK = "pinrec:save-partial-block"
PARTIAL_BLOCK_BODY = "pinrec:partial-block-body"
DROP_PARTIAL_BLOCK = "pinrec:drop-partial-block"
RESERVED_PREFIX = "pinrec:"
NO_DEFAULT = -1

_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'")
_RESERVED = re.compile(r"(?:^|[\s(#/>^&=])" + re.escape(RESERVED_PREFIX))
_LITERAL_WORDS = frozenset({"true", "false", "null", "undefined", "this", "."})


@dataclass(frozen=True)
class BlockInfo:
    line: int
    helper: str


@dataclass(frozen=True)
class Program:
    nodes: list[Any]
    blocks: tuple[BlockInfo, ...]
    # For each default id: the DefaultSubstitutions keys (as path segments) to try, most specific first.
    default_keys: tuple[tuple[tuple[str, ...], ...], ...]
    # True when every node got the line of its tag (the scanner and the parser agreed tag for tag).
    lines_exact: bool = True
    # The nodes compiled into closures (`compiled`), or None: the engine interprets them.
    render: Callable[[Any, bool], str] | None = field(default=None, compare=False, repr=False)


def compile_program(source: str, *, template: str, helper_names: frozenset[str]) -> Program:
    """Parse source and return the instrumented program; TemplateRenderError names the failing line."""
    tags = scan(source, template=template)
    check_structure(tags, template=template)
    _refuse_unsupported(tags, template)
    prepared = prepare(source, tags, keep_marker="{{" + KEEP_MARKER + "}}")
    try:
        nodes = compile_template(prepared.source)
    except ValueError as err:
        raise TemplateRenderError(template, _line_of_parse_error(str(err), tags), str(err)) from err
    node_tags, exact = _match_tags(nodes, tags)
    builder = _Instrumenter(node_tags, prepared.partial_indents, helper_names, template)
    instrumented = builder.nodes(nodes)
    return Program(instrumented, tuple(builder.blocks), tuple(builder.default_keys), exact)


def _refuse_unsupported(tags: list[Tag], template: str) -> None:
    for tag in tags:
        if _RESERVED.search(_QUOTED.sub("", tag.body)):
            raise TemplateRenderError(template, tag.line, f"names starting with {RESERVED_PREFIX!r} are reserved")
        if tag.raw:
            # Raw blocks call a helper named after the block; Pinpoint documents none (handlebars.js prints nothing).
            raise TemplateRenderError(template, tag.line, "raw blocks {{{{…}}}} are not supported by Pinpoint")
        if tag.kind is TagKind.ELSE and tag.body not in ("else", "^"):
            # The parser would silently treat `{{else with x}}` as a plain `{{else}}`.
            reason = f"{{{{{tag.body}}}}}: only {{{{else if …}}}} and {{{{else unless …}}}} can chain"
            raise TemplateRenderError(template, tag.line, reason)


def _line_of_parse_error(message: str, tags: list[Tag]) -> int | None:
    """The parser's messages name the offending token (`x.0 is not valid`); find the first tag holding it."""
    token = message.split(" ", 1)[0]
    if len(token) > 1:
        for tag in tags:
            if token in tag.body:
                return tag.line
    return None


def _match_tags(nodes: list[Any], tags: list[Tag]) -> tuple[dict[int, Tag], bool]:
    """Map id(node) -> its source tag by walking the program in source order beside the node-producing tags.

    Also says whether the walk used every tag exactly once with a matching kind; if not (a scanner bug),
    lines may be off but rendering is unaffected.
    """
    node_tags: Iterator[Tag] = iter([tag for tag in tags if tag.kind in NODE_KINDS])
    found: dict[int, Tag] = {}
    exact = True

    def take(node: Any) -> Tag | None:
        nonlocal exact
        tag = next(node_tags, None)
        if tag is None or tag.kind not in _KINDS_FOR[type(node)]:
            exact = False
        if tag is not None:
            found[id(node)] = tag
        return tag

    def walk(items: list[Any]) -> None:
        for node in items:
            if isinstance(node, Block):
                tag = take(node)
                if tag is not None and tag.inverted:
                    walk(node.inverse)
                    walk(node.body)
                else:
                    walk(node.body)
                    walk(node.inverse)
            elif isinstance(node, InlinePartial | PartialBlock):
                take(node)
                walk(node.body)
            elif isinstance(node, Mustache) and _is_keep_marker(node):
                continue
            elif isinstance(node, Mustache | Partial):
                take(node)

    walk(nodes)
    return found, exact and next(node_tags, None) is None


_KINDS_FOR: dict[type, frozenset[TagKind]] = {
    Block: frozenset({TagKind.BLOCK, TagKind.ELSE_CHAIN}),
    InlinePartial: frozenset({TagKind.INLINE_PARTIAL}),
    PartialBlock: frozenset({TagKind.PARTIAL_BLOCK}),
    Partial: frozenset({TagKind.PARTIAL}),
    Mustache: frozenset({TagKind.MUSTACHE}),
}


def _is_keep_marker(node: Any) -> bool:
    return isinstance(node, Mustache) and node.call["name"] == KEEP_MARKER


def _marker(helper: str, *args: int) -> Mustache:
    return Mustache(
        call={"name": helper, "args": [str(arg) for arg in args], "hash": {}, "params": [], "literal": False},
        raw=True,
    )


def is_path_token(token: str) -> bool:
    """A token the engine resolves against the context (not a literal, data variable or sub-expression)."""
    if not token or token[0] in "\"'(@" or token in _LITERAL_WORDS:
        return False
    return _NUMBER.fullmatch(token) is None


def path_segments(path: str) -> tuple[str, ...]:
    """`User.UserAttributes.[Last Name].[0]` -> ("User", "UserAttributes", "Last Name", "0")."""
    parts: list[str] = []
    buf: list[str] = []
    i = 0

    def flush() -> None:
        if buf:
            parts.append("".join(buf))
            buf.clear()

    while i < len(path):
        char = path[i]
        if char == "[":
            end = path.find("]", i + 1)
            if end < 0:
                buf.append(path[i:])
                break
            flush()
            parts.append(path[i + 1 : end])
            i = end + 1
            if i < len(path) and path[i] in "./":
                i += 1
            continue
        if path.startswith("..", i):
            flush()
            parts.append("..")
            i += 3 if path[i + 2 : i + 3] in ("/", ".") else 2
            continue
        if char in "./":
            flush()
            i += 1
            continue
        buf.append(char)
        i += 1
    flush()
    return tuple(parts)


def default_candidates(path: str) -> tuple[tuple[str, ...], ...]:
    """The DefaultSubstitutions keys to try for a variable: as written, then without trailing `.[N]`."""
    segments = path_segments(path)
    candidates = [segments]
    trimmed = segments
    while trimmed and trimmed[-1].isdigit():
        trimmed = trimmed[:-1]
    if trimmed and trimmed != segments:
        candidates.append(trimmed)
    return tuple(candidates)


class _Instrumenter:
    def __init__(
        self, node_tags: dict[int, Tag], partial_indents: dict[int, str], helper_names: frozenset[str], template: str
    ) -> None:
        self._tags = node_tags
        self._indents = partial_indents
        self._helpers = helper_names
        self._template = template
        self._line = 0
        self._partial_blocks = 0
        self.blocks: list[BlockInfo] = []
        self.default_keys: list[tuple[tuple[str, ...], ...]] = []

    def nodes(self, items: list[Any]) -> list[Any]:
        # handlebars.js registers a block's inline partials before rendering it, so a partial may be used
        # above its definition; hoisting them gives the same result.
        hoisted = [node for node in items if isinstance(node, InlinePartial)]
        rest = [node for node in items if not isinstance(node, InlinePartial) and not _is_keep_marker(node)]
        out: list[Any] = []
        for node in hoisted:
            out.append(InlinePartial(node.name, self.nodes(node.body)))
        for node in rest:
            if isinstance(node, Text):
                out.append(node)
                continue
            tag = self._tags.get(id(node))
            line = tag.line if tag is not None else 0
            self._line = line
            out.append(_marker(LINE_MARKER, line))
            if isinstance(node, PartialBlock):
                out.extend(self._partial_block(node))
            elif isinstance(node, Partial) and tag is not None:
                out.append(Partial(node.name, node.context_path, node.hash, self._indents.get(tag.start, "")))
            else:
                out.append(self._node(node, line))
        return out

    def _node(self, node: Any, line: int) -> Any:
        if isinstance(node, Mustache):
            return Mustache(self._mustache_call(node.call), node.raw)
        if isinstance(node, Block):
            self._check_path(node.call["name"])
            block_id = len(self.blocks)
            self.blocks.append(BlockInfo(line, node.call["name"]))
            call = {**node.call, "args": self._tokens(node.call["args"]), "hash": self._hash(node.call["hash"])}
            body = [_marker(BRANCH_MARKER, block_id, 1), *self.nodes(node.body)]
            inverse = [_marker(BRANCH_MARKER, block_id, 0), *self.nodes(node.inverse)]
            return Block(call, body, inverse)
        return node  # a Partial without a matched tag: its program is instrumented where it is defined

    def _partial_block(self, node: PartialBlock) -> list[Any]:
        """handlebars.js and Handlebars.java render a partial block's body ({{> @partial-block}}) with the
        @partial-block of the place where the block was written, not the one of the partial that runs it; the
        engine keeps the latter, so nested partial blocks would render themselves forever. Markers around the
        block save that value, and the body, wrapped in a helper, runs with it (see renderer._partial_block_body).
        The wrapper also gives a fallback body the block's context (`{{#> missing ctx}}…`), as both engines do."""
        block_id = self._partial_blocks
        self._partial_blocks += 1
        args = [str(block_id), *([node.context_path] if node.context_path else [])]
        call = {"name": PARTIAL_BLOCK_BODY, "args": args, "hash": {}, "params": [], "literal": False}
        return [
            _marker(SAVE_PARTIAL_BLOCK, block_id),
            PartialBlock(node.name, [Block(call, self.nodes(node.body), [])], node.context_path, node.hash),
            _marker(DROP_PARTIAL_BLOCK, block_id),
        ]

    def _mustache_call(self, call: dict[str, Any]) -> dict[str, Any]:
        name = call["name"]
        args, hashed = self._tokens(call["args"]), self._hash(call["hash"])
        if call.get("literal") and not args and not hashed and name not in self._helpers and "]" not in name:
            # handlebars.js reads {{"foo bar"}} as the path [foo bar] when no helper has that name.
            default_id = self._default_id(f"[{name}]")
            return {**call, "name": PRINT_HELPER, "args": [f"[{name}]", str(default_id)], "hash": {}, "literal": False}
        if call.get("literal"):
            return {**call, "args": args, "hash": hashed}
        if not args and not hashed and name not in self._helpers:
            if _NUMBER.fullmatch(name) or name in ("true", "false", "null", "undefined"):
                # handlebars.js reads a lone literal as a name to look up ({{1}} prints the key "1"), not a value.
                name = f"[{name}]"
            if name.startswith("@"):
                self._check_path(name)
            if is_path_token(name):
                self._check_path(name)
                default_id = self._default_id(name)
                return {**call, "name": PRINT_HELPER, "args": [self._resolvable(name), str(default_id)], "hash": {}}
            return {**call, "name": PRINT_HELPER, "args": [name, str(NO_DEFAULT)], "hash": {}}
        pieces = [name, *args, *(f"{key}={value}" for key, value in hashed.items())]
        return {**call, "name": PRINT_HELPER, "args": ["(" + " ".join(pieces) + ")", str(NO_DEFAULT)], "hash": {}}

    def _default_id(self, path: str) -> int:
        self.default_keys.append(default_candidates(path))
        return len(self.default_keys) - 1

    def _tokens(self, tokens: list[str]) -> list[str]:
        return [self._token(token) for token in tokens]

    def _hash(self, hashed: dict[str, str]) -> dict[str, str]:
        return {key: self._token(token) for key, token in hashed.items()}

    def _token(self, token: str) -> str:
        if token.startswith("(") and token.endswith(")"):
            return self._subexpression(token)
        if token.startswith("@"):
            self._check_path(token)
        if is_path_token(token):
            self._check_path(token)
            return f"({DEFAULT_HELPER} {self._resolvable(token)} {self._default_id(token)})"
        return token

    def _check_path(self, token: str) -> None:
        reason = invalid_path_reason(token) if token[:1] not in "\"'(" else None
        if reason is not None:
            raise TemplateRenderError(self._template, self._line or None, reason)

    def _resolvable(self, token: str) -> str:
        """The token as the engine should evaluate it: itself, or helper calls where the engine would misread it."""
        segments = split_path(token)
        if segments is None or not needs_own_resolution(segments):
            return token
        first_literal = next(
            (i for i, segment in enumerate(segments) if segment.bracketed and segment.text in ("this", ".", "..")),
            len(segments),
        )
        expression = join_path(segments[:first_literal])
        rest: list[Segment] = segments[first_literal:]
        trailing_length = not segments[-1].bracketed and segments[-1].text == "length"
        if trailing_length and first_literal == len(segments):
            expression = join_path(segments[:-1])
            rest = [segments[-1]]
        for index, segment in enumerate(rest):
            if trailing_length and index == len(rest) - 1:
                expression = f"({LENGTH_HELPER} {expression})"
            else:
                key = segment.text.replace('"', '\\"')
                expression = f'({KEY_HELPER} {expression} "{key}")'
        return expression

    def _subexpression(self, token: str) -> str:
        call = parse_call(token[1:-1].strip())
        name = call["name"]
        if call.get("literal"):
            name = '"' + name.replace('"', '\\"') + '"'
        pieces = [name, *self._tokens(call["args"])]
        pieces += [f"{key}={value}" for key, value in self._hash(call["hash"]).items()]
        return "(" + " ".join(pieces) + ")"
