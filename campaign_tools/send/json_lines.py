"""Reading JSON Lines in a send (segments and `file:` recommendations): whatever one line holds, it is that line's
problem alone.

Every line comes out as its parsed value or as a `MalformedLine` that names the rule it broke (never its content),
and nothing a line holds raises out of the reader. A line is malformed when it is not UTF-8, longer than
MAX_LINE_CHARACTERS, not JSON, nested deeper than MAX_DEPTH (deeper than Python's parser can go included), or holds
a number Python will not convert (over 4,300 digits), NaN or Infinity, or a string that is not Unicode text: a lone
surrogate, which `json.loads` accepts from a `"\\ud800"` escape but no store, file or AWS request can take.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NoReturn, TextIO

from transformer.files import is_text, read_lines

MAX_LINE_CHARACTERS = 1 << 20
"""A Pinpoint endpoint or a batch inference output line is a few kilobytes; a longer line is refused unread."""
MAX_DEPTH = 32
"""Nesting the Endpoint shape and the recommendation lines never come near; deeper values could exhaust the stack of
whatever walks them later."""


NOT_FINITE = "a number is not finite"


@dataclass(frozen=True, slots=True)
class MalformedLine:
    """Why one line is not usable, in words that never quote it."""

    reason: str


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


class _NotFinite(ValueError):
    pass


def _finite_float(literal: str) -> float:
    """A JSON number with a fraction or exponent, as `json.loads` makes it, unless it overflows to infinity."""
    number = float(literal)
    if math.isinf(number):
        raise _NotFinite
    return number


def value_problem(value: object) -> str | None:
    """Why a parsed value cannot go further, or None: too deep, a number that is not finite, a string (value or
    key) that is not Unicode text. Walked without recursion, so any depth is safe to check."""
    pending: list[tuple[object, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if not is_text(item):
                return "a string is not Unicode text (a lone surrogate)"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return NOT_FINITE
        elif isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                return f"nested deeper than {MAX_DEPTH} levels"
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
    return None


def parse_line(line: str) -> object:
    """The value of one line, or a MalformedLine."""
    if not is_text(line):
        return MalformedLine("not UTF-8 text")
    try:
        value = json.loads(line, parse_constant=_reject_constant, parse_float=_finite_float)
    except json.JSONDecodeError as error:
        return MalformedLine(f"not JSON ({error.msg} at column {error.colno})")
    except RecursionError:
        return MalformedLine(f"nested deeper than {MAX_DEPTH} levels")
    except _NotFinite:
        return MalformedLine(NOT_FINITE)
    except ValueError as error:  # a number too long to convert, NaN or Infinity
        return MalformedLine(f"not JSON ({str(error).partition(':')[0]})")
    return _checked(line, value)


def _checked(line: str, value: object) -> object:
    """`value` (parsed from `line`, its numbers finite), or a MalformedLine when `value_problem` finds one."""
    if "\\u" not in line and line.count("{") + line.count("[") <= MAX_DEPTH:
        # The walk would find nothing: a lone surrogate in a text line comes only from a \u escape, and there are
        # too few brackets, counted in strings too, to nest deeper than MAX_DEPTH.
        return value
    problem = value_problem(value)
    return value if problem is None else MalformedLine(problem)


def read_json_lines(text: TextIO) -> Iterator[tuple[int, object]]:
    """(line number, value or MalformedLine) for every line that is not blank."""
    for number, line in enumerate(read_lines(text, MAX_LINE_CHARACTERS), start=1):
        if line is None:
            yield number, MalformedLine(f"longer than {MAX_LINE_CHARACTERS:,} characters")
        elif line.strip():
            yield number, parse_line(line)
