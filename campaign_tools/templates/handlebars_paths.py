"""Finds the variable paths a Handlebars source reads, with their lines, for the linter.

Not a renderer: it reads mustaches only far enough to tell helpers, literals and paths apart.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_MUSTACHE = re.compile(r"\\?\{\{(\{?)(~?)(.*?)(~?)\}\}(\}?)", re.DOTALL)
_COMMENT = re.compile(r"\{\{!--.*?--\}\}|\{\{![^}]*\}\}", re.DOTALL)
_TOKEN = re.compile(r"""\s*(?:("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(\()|(\))|([^\s()=]+=)|([^\s()]+))""")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_LITERALS = frozenset({"true", "false", "null", "undefined", "else"})
_BLOCK_PARAMS = re.compile(r"\bas\s+\|([^|]*)\|")


@dataclass(frozen=True, slots=True)
class PathUse:
    line: int
    path: str
    block: str | None
    """The block helper this path is the first argument of (`each`, `if`, ...), if any."""
    printed: bool
    """True when the mustache prints the path itself (`{{X}}` or `{{{X}}}`), not as a helper argument."""
    raw: str
    triple: bool = False


@dataclass(frozen=True, slots=True)
class Mustache:
    line: int
    raw: str
    body: str
    triple: bool


def mustaches(source: str) -> Iterator[Mustache]:
    blanked = _COMMENT.sub(lambda match: re.sub(r"[^\n]", " ", match.group(0)), source)
    for match in _MUSTACHE.finditer(blanked):
        if match.group(0).startswith("\\"):
            continue
        line = blanked.count("\n", 0, match.start()) + 1
        body = match.group(3).strip()
        yield Mustache(line, source[match.start() : match.end()], body, bool(match.group(1) and match.group(5)))


def _tokens(body: str) -> list[str]:
    out: list[str] = []
    for match in _TOKEN.finditer(body):
        string, opening, closing, key, word = match.groups()
        if string or key:
            out.append("" if string else key)
        elif opening or closing:
            out.append(opening or closing)
        elif word:
            out.append(word)
    return out


def _without_parents(word: str) -> str:
    while word.startswith(("../", "./")):
        word = word.removeprefix("../").removeprefix("./")
    return word


def _is_path(word: str, local_names: set[str]) -> bool:
    if not word or word in "()" or word.endswith("="):
        return False
    if word in _LITERALS or _NUMBER.fullmatch(word):
        return False
    if word.startswith("@") or word in ("this", ".") or word.startswith(("this.", "this/")):
        return False
    head = re.split(r"[./\[]", _without_parents(word), maxsplit=1)[0]
    return head not in local_names


def _uses_in(mustache: Mustache, words: list[str], opens_block: bool, local_names: set[str]) -> list[PathUse]:
    """The paths among a mustache's words: after the helper name, except sub-expression helper names."""
    helper_call = len(words) > 1 or opens_block
    block = words[0] if helper_call and opens_block else None
    first_argument = 1 if helper_call else 0
    uses = []
    for position, word in enumerate(words):
        if (position == 0 and helper_call) or (position > 0 and words[position - 1] == "("):
            continue
        if _is_path(word, local_names):
            uses.append(
                PathUse(
                    line=mustache.line,
                    path=_without_parents(word),
                    block=block if position == first_argument else None,
                    printed=not helper_call,
                    raw=mustache.raw,
                    triple=mustache.triple or mustache.body.startswith("&"),
                )
            )
    return uses


def path_uses(source: str) -> list[PathUse]:
    """Every variable path read by the source. Paths relative to an `each` item or block params are skipped."""
    uses: list[PathUse] = []
    locals_stack: list[set[str]] = []
    for mustache in mustaches(source):
        body = mustache.body
        if not body or body[0] in "!>" or body.startswith("#*"):
            continue  # comments, partial calls and inline partial definitions read no paths
        if body.startswith("/"):
            if locals_stack:
                locals_stack.pop()
            continue
        if body[0] in "#^":
            params = _BLOCK_PARAMS.search(body)
            locals_stack.append(set(params.group(1).split()) if params else set())
            body = _BLOCK_PARAMS.sub("", body[1:]).strip()
        words = _tokens(body.removeprefix("&").strip())
        chained = bool(words) and words[0] == "else"
        if chained:
            words = words[1:]
        if words:
            names = set().union(*locals_stack) if locals_stack else set()
            uses += _uses_in(mustache, words, mustache.body[0] in "#^" or chained, names)
    return uses
