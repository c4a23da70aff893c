"""Path expressions as handlebars.js compiles them: which are refused, and which the engine would misread.

A path is split into segments at `.` and `/`; a segment in brackets (`[this]`, `[Last Name]`) is a literal key.
handlebars.js refuses a path in which `..`, `.` or `this` (unbracketed) follows a name (`foo/../name`,
`text/this/foo`): they may only lead a path. The engine we build on forgets which segments were bracketed, so
the renderer resolves the two constructs it would misread itself (see `program.py`):

- a bracketed `[this]`, `[.]` or `[..]` names a key, not the current context (`{{text/[this]}}`);
- `list.length` is the number of items, in handlebars.js and in Handlebars.java alike (its value resolvers map
  `length` to a collection's `size()`).
"""

from __future__ import annotations

from dataclasses import dataclass

_SPECIAL = frozenset({"..", ".", "this"})


@dataclass(frozen=True)
class Segment:
    text: str
    bracketed: bool

    @property
    def is_special(self) -> bool:
        """`..`, `.` or `this` written as such: a scope step, not a key."""
        return not self.bracketed and self.text in _SPECIAL


def split_path(path: str) -> list[Segment] | None:
    """The segments of a path token (without a leading `@`), or None when it is not a plain path."""
    segments: list[Segment] = []
    buf: list[str] = []
    i = 0

    def flush() -> None:
        if buf:
            segments.append(Segment("".join(buf), False))
            buf.clear()

    while i < len(path):
        char = path[i]
        if char == "[" and not buf:
            end = path.find("]", i + 1)
            if end < 0:
                return None
            segments.append(Segment(path[i + 1 : end], True))
            i = end + 1
            if i < len(path) and path[i] in "./":
                i += 1
            continue
        if path.startswith("..", i) and not buf:
            segments.append(Segment("..", False))
            i += 2
            if i < len(path) and path[i] in "./":
                i += 1
            continue
        if char in "./":
            if not buf and char == ".":
                segments.append(Segment(".", False))
            flush()
            i += 1
            continue
        buf.append(char)
        i += 1
    flush()
    return segments


def invalid_path_reason(token: str) -> str | None:
    """Why handlebars.js refuses this path at compile time, or None."""
    segments = split_path(token[1:] if token.startswith("@") else token)
    if not segments:
        return None
    seen_name = False
    for segment in segments:
        if not segment.bracketed and ("[" in segment.text or "]" in segment.text):
            return f"invalid path {token}: an index is written .[N], as in Attributes.Colors.[0]"
        if segment.is_special:
            if seen_name:
                return f"invalid path {token}: '{segment.text}' may only start a path"
        else:
            seen_name = True
    return None


def needs_own_resolution(segments: list[Segment]) -> bool:
    """The path holds a bracketed `this`/`.`/`..`, or ends in `.length` after a name."""
    if any(segment.bracketed and segment.text in _SPECIAL for segment in segments):
        return True
    names = [segment for segment in segments if not segment.is_special]
    return len(names) >= 2 and not segments[-1].bracketed and segments[-1].text == "length"


def join_path(segments: list[Segment]) -> str:
    """Segments back into a path token the engine reads the same way (bracketing what needs it)."""
    pieces: list[str] = []
    for segment in segments:
        if segment.is_special:
            pieces.append(segment.text)
        else:
            pieces.append(f"[{segment.text}]")
    return "/".join(pieces) if pieces else "."
