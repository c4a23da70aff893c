"""Constructs whose output differs between handlebars.js (what the renderer follows) and Handlebars.java (what
Pinpoint runs), or that Pinpoint does not support. The renderer does not guess these; the linter reports them.

Codes:
- `bare-list`: prints a list attribute without `.[N]` or `join` (handlebars.js prints `a,b`, Java `[a, b]`).
- `number-print`: prints `Metrics.X`, a number Java holds as a double: `3.0` where the preview shows `3`.
  (Math helper results print as Pinpoint's helper page shows them, at most 8 decimals, and are not flagged.)
- `float-literal`: a decimal literal argument such as `1.5`: a Java double in Pinpoint, so math on it is
  rounded to 8 decimal places.
- `if-number`: `{{#if Metrics.X}}` / `{{#unless Metrics.X}}`: 0 is false in handlebars.js, true in Java.
- `unquoted-argument`: a bare word argument that is not an endpoint variable at the template's top level
  (`tz=America/Los_Angeles`, `{{inflect 3 apple apples}}`): Handlebars.java reads it as a variable, which has no
  value, so the template silently prints the wrong text; the message names the quoted form.
- `numeric-string-comparison`: `gt gte lt lte` between an endpoint string (every attribute is a list of
  strings) and a number literal, quoted or not: Handlebars.java compares two strings character by character
  ("9" is greater than "17", "100" is less) and cannot compare a string with a number at all; `eq`/`neq`
  between such a string and an unquoted number are never equal.
- `unknown-helper`: a helper Pinpoint does not document.
- `triple-stash`: `{{{x}}}` / `{{& x}}` prints without HTML escaping.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from dotpromptz_handlebars._render import _call as parse_call

from campaign_tools.rendering.errors import TemplateRenderError
from campaign_tools.rendering.helpers import BUILTIN_BLOCK_HELPERS, DOCUMENTED_HELPERS
from campaign_tools.rendering.program import is_path_token, path_segments
from campaign_tools.rendering.scanner import Tag, TagKind, scan

ENDPOINT_ROOTS = frozenset(
    {
        "Address",
        "Attributes",
        "ChannelType",
        "CreationDate",
        "Demographic",
        "EffectiveDate",
        "EndpointStatus",
        "Id",
        "Location",
        "Metrics",
        "OptOut",
        "RecommendationItems",
        "Recommendations",
        "RequestId",
        "User",
    }
)
_SCOPE_HELPERS = frozenset({"each", "with"})
_ORDER_HELPERS = frozenset({"gt", "gte", "lt", "lte"})
_EQUALITY_HELPERS = frozenset({"eq", "neq"})
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_LIST_SAFE_HELPERS = frozenset({"join", "lookup", "eq", "neq", "and", "or", "not", "if"})
_FLOAT = re.compile(r"-?\d+\.\d+")


@dataclass(frozen=True)
class Hazard:
    line: int
    code: str
    message: str


def list_path(path: str) -> bool:
    """A variable path that names a whole list attribute (no `.[N]` after the attribute name)."""
    segments = path_segments(path)
    if segments[:1] == ("RecommendationItems",):
        return len(segments) == 1
    if segments[:1] in (("Attributes",), ("Recommendations",)):
        return len(segments) == 2
    if segments[:2] == ("User", "UserAttributes"):
        return len(segments) == 3
    return False


def lint_hazards(source: str) -> list[Hazard]:
    """Hazards in source order; a template that does not parse yields none (the renderer reports it)."""
    try:
        tags = scan(source)
    except TemplateRenderError:
        return []
    hazards: list[Hazard] = []
    depth = 0  # how many each/with/inline-partial scopes enclose the tag: relative paths are legal there
    scopes: list[bool] = []
    for tag in tags:
        if tag.kind is TagKind.CLOSE:
            if scopes and scopes.pop():
                depth -= 1
            continue
        if tag.kind not in (TagKind.MUSTACHE, TagKind.BLOCK, TagKind.ELSE_CHAIN):
            if tag.kind in (TagKind.INLINE_PARTIAL, TagKind.PARTIAL_BLOCK, TagKind.RAW_TEXT):
                scopes.append(True)
                depth += 1
            continue
        call = _parse(tag)
        if tag.kind is TagKind.BLOCK:
            opens_scope = call is not None and call["name"] in _SCOPE_HELPERS
            if call is not None:
                hazards += _check(tag, call, top_level=depth == 0)
            scopes.append(opens_scope)
            depth += opens_scope
            continue
        if call is not None:
            hazards += _check(tag, call, top_level=depth == 0)
    return hazards


def _parse(tag: Tag) -> dict[str, Any] | None:
    body = tag.body
    if tag.kind is TagKind.BLOCK:
        body = body[1:]
    elif tag.kind is TagKind.ELSE_CHAIN:
        body = body[len("else") :]
    elif body.startswith("&"):
        body = body[1:]
    try:
        return parse_call(body.strip())
    except ValueError:
        return None


def _check(tag: Tag, call: dict[str, Any], *, top_level: bool) -> list[Hazard]:
    found: list[Hazard] = []
    name: str = call["name"]
    args: list[str] = call["args"]
    hashed: dict[str, str] = call["hash"]
    is_block = tag.kind is not TagKind.MUSTACHE
    is_helper_call = bool(args or hashed) or name in DOCUMENTED_HELPERS
    line = tag.line

    if tag.kind is TagKind.MUSTACHE and (tag.triple or tag.body.startswith("&")):
        found.append(Hazard(line, "triple-stash", f"{{{{{{{tag.body}}}}}}} prints without HTML escaping"))
    if is_helper_call and name not in DOCUMENTED_HELPERS:
        found.append(Hazard(line, "unknown-helper", f"{name!r} is not a helper Pinpoint documents"))
    if not is_helper_call and tag.kind is TagKind.MUSTACHE and is_path_token(name):
        found += _printed_path(line, name)
    if is_block and name in ("if", "unless") and args and path_segments(args[0])[:1] == ("Metrics",):
        found.append(
            Hazard(line, "if-number", f"{{{{#{name} {args[0]}}}}}: 0 is false in handlebars.js but true in Pinpoint")
        )
    if tag.kind is TagKind.MUSTACHE and name not in _LIST_SAFE_HELPERS and args and list_path(args[0]):
        found.append(
            Hazard(line, "bare-list", f"{name} receives the whole list {args[0]}; pick an item with .[N] or use join")
        )
    found += _comparison(line, name, args)
    # A bare word given to if/unless/each/with is a variable by intent (an unknown one is the linter's call).
    quote_hint = top_level and name not in BUILTIN_BLOCK_HELPERS
    for token in args:
        found += _argument(line, token, top_level=quote_hint)
    for key, token in hashed.items():
        found += _argument(line, token, top_level=quote_hint, key=key)
    return found


def _endpoint_string(token: str) -> bool:
    """A path to an endpoint value Pinpoint holds as a string: anything but Metrics (numbers)."""
    if not is_path_token(token):
        return False
    root = path_segments(token)[:1]
    return bool(root) and root[0] in ENDPOINT_ROOTS and root[0] != "Metrics"


def _numeric_literal(token: str) -> tuple[str, bool] | None:
    """(the number, whether it is quoted) for `17`, `"17"` or `'17'`; None for anything else."""
    if _NUMBER.fullmatch(token):
        return token, False
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "\"'" and _NUMBER.fullmatch(token[1:-1]):
        return token[1:-1], True
    return None


def _comparison(line: int, helper: str, args: list[str]) -> list[Hazard]:
    if helper not in _ORDER_HELPERS | _EQUALITY_HELPERS or len(args) != 2:
        return []
    for path, other in ((args[0], args[1]), (args[1], args[0])):
        literal = _numeric_literal(other)
        if not _endpoint_string(path) or literal is None:
            continue
        number, quoted = literal
        if helper in _EQUALITY_HELPERS:
            if quoted:
                return []
            message = (
                f"{helper} {path} {other}: {path} is a string and {number} a number, so they are never equal"
                f' in Pinpoint (Handlebars.java compares type and value); write "{number}"'
            )
        elif quoted:
            message = (
                f"{helper} compares {path} with {other} as text, character by character, because endpoint"
                f' attributes are strings: "9" counts as greater than "{number}" and "100" as less'
                f" whatever the numbers; compare numbers instead (a metric such as Metrics.X with {number})"
            )
        else:
            message = (
                f"{helper} cannot compare {path}, a string (endpoint attributes are strings), with the number"
                f' {number}: Handlebars.java fails on it for "9" and "100" alike and the message does not render;'
                f' compare numbers (a metric such as Metrics.X) or, knowing it compares text, "{number}"'
            )
        return [Hazard(line, "numeric-string-comparison", message)]
    return []


def _printed_path(line: int, path: str) -> list[Hazard]:
    if list_path(path):
        return [Hazard(line, "bare-list", f"{{{{{path}}}}} prints a whole list; use {path}.[0] or join")]
    if path_segments(path)[:1] == ("Metrics",):
        return [Hazard(line, "number-print", f"{{{{{path}}}}} prints a number; Pinpoint (Java) may print 3.0")]
    return []


def _argument(line: int, token: str, *, top_level: bool, key: str | None = None) -> list[Hazard]:
    if token.startswith("(") and token.endswith(")"):
        try:
            inner = parse_call(token[1:-1].strip())
        except ValueError:
            return []
        found: list[Hazard] = []
        if inner["name"] not in DOCUMENTED_HELPERS:
            found.append(Hazard(line, "unknown-helper", f"{inner['name']!r} is not a helper Pinpoint documents"))
        for nested in inner["args"]:
            found += _argument(line, nested, top_level=top_level)
        for nested_key, nested in inner["hash"].items():
            found += _argument(line, nested, top_level=top_level, key=nested_key)
        return found
    if _FLOAT.fullmatch(token):
        message = f"{token} is a decimal literal, a Java double in Pinpoint: math on it is rounded to 8 decimal places"
        return [Hazard(line, "float-literal", message)]
    if top_level and is_path_token(token) and not token.startswith("../"):
        root = path_segments(token)[:1]
        if root and root[0] not in ENDPOINT_ROOTS:
            written = f"{key}={token}" if key else token
            quoted = f'{key}="{token}"' if key else f'"{token}"'
            message = (
                f"{written} is read as a variable, which has no value, so the template silently prints the wrong"
                f" text; write {quoted}"
            )
            return [Hazard(line, "unquoted-argument", message)]
    return []
