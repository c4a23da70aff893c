"""Constructs whose output differs between handlebars.js (what the renderer follows) and Handlebars.java (what
Pinpoint runs), or that Pinpoint does not support. The renderer does not guess these; the linter reports them.

Codes:
- `bare-list`: prints a list attribute without `.[N]` or `join` (handlebars.js prints `a,b`, Java `[a, b]`).
- `number-print`: prints a number that Java formats as a double (`Metrics.X`, math helper results): `3.0`
  where the preview shows `3`.
- `float-literal`: a decimal literal argument such as `1.5`; Handlebars.java's grammar has integer literals
  only, so quote it or compute it.
- `if-number`: `{{#if Metrics.X}}` / `{{#unless Metrics.X}}`: 0 is false in handlebars.js, true in Java.
- `unquoted-argument`: a bare word argument that is not an endpoint variable at the template's top level
  (`tz=America/Los_Angeles`, `{{eq Id abc}}`): it is read as a variable and has no value; quote it.
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
_NUMBER_RESULT_HELPERS = frozenset({"add", "subtract", "multiply", "divide", "modulo"})
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
    if tag.kind is TagKind.MUSTACHE and name in _NUMBER_RESULT_HELPERS:
        found.append(
            Hazard(line, "number-print", f"{{{{{name} …}}}} prints a number; Pinpoint (Java) may print 2.0 for 2")
        )
    if is_block and name in ("if", "unless") and args and path_segments(args[0])[:1] == ("Metrics",):
        found.append(
            Hazard(line, "if-number", f"{{{{#{name} {args[0]}}}}}: 0 is false in handlebars.js but true in Pinpoint")
        )
    if tag.kind is TagKind.MUSTACHE and name not in _LIST_SAFE_HELPERS and args and list_path(args[0]):
        found.append(
            Hazard(line, "bare-list", f"{name} receives the whole list {args[0]}; pick an item with .[N] or use join")
        )
    # A bare word given to if/unless/each/with is a variable by intent (an unknown one is the linter's call).
    quote_hint = top_level and name not in BUILTIN_BLOCK_HELPERS
    for token in [*args, *hashed.values()]:
        found += _argument(line, token, top_level=quote_hint)
    return found


def _printed_path(line: int, path: str) -> list[Hazard]:
    if list_path(path):
        return [Hazard(line, "bare-list", f"{{{{{path}}}}} prints a whole list; use {path}.[0] or join")]
    if path_segments(path)[:1] == ("Metrics",):
        return [Hazard(line, "number-print", f"{{{{{path}}}}} prints a number; Pinpoint (Java) may print 3.0")]
    return []


def _argument(line: int, token: str, *, top_level: bool) -> list[Hazard]:
    if token.startswith("(") and token.endswith(")"):
        try:
            inner = parse_call(token[1:-1].strip())
        except ValueError:
            return []
        found: list[Hazard] = []
        if inner["name"] not in DOCUMENTED_HELPERS:
            found.append(Hazard(line, "unknown-helper", f"{inner['name']!r} is not a helper Pinpoint documents"))
        for nested in [*inner["args"], *inner["hash"].values()]:
            found += _argument(line, nested, top_level=top_level)
        return found
    if _FLOAT.fullmatch(token):
        return [Hazard(line, "float-literal", f"{token} is a decimal literal; Pinpoint's parser takes whole numbers")]
    if top_level and is_path_token(token) and not token.startswith("../"):
        root = path_segments(token)[:1]
        if root and root[0] not in ENDPOINT_ROOTS:
            return [Hazard(line, "unquoted-argument", f"{token} is read as a variable, not text; quote it")]
    return []
