"""The jinja2 environment template sources render in.

Whoever can edit a template folder must not be able to run code as the person or CI job that builds and publishes
it, nor exhaust its memory. So sources render in jinja2's immutable sandbox (no attribute starting with `_`, no
`str.format` escapes, no mutation of lists and dicts, `range` capped) with three bounds of pinrec's own: `*` and
`**` may not build huge strings, lists or numbers, the rendered text of one part is capped, and runaway recursion
(a macro calling itself) is an error, not a crash.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_OUTPUT_CHARS = 2_000_000
"""Longest text one part may render to: over three times Pinpoint's largest part (an email's 600,000 characters)."""
MAX_REPEATED_LENGTH = MAX_OUTPUT_CHARS
"""Longest string or list `*` may build."""
MAX_POWER_BITS = 4_096
"""Largest number, in bits, `**` may compute."""


class SourceTooLarge(SecurityError):
    """A source tried to build a value or an output beyond the sandbox's bounds."""


class TemplateSandbox(ImmutableSandboxedEnvironment):
    """jinja2's immutable sandbox, with `*` and `**` bounded (jinja2 evaluates them unchecked, even at compile
    time: intercepting them also stops constant folding)."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            _check_repetition(left, right)
        elif operator == "**":
            _check_power(left, right)
        return super().call_binop(context, operator, left, right)


def _repeated_length(sequence: object, times: object) -> int:
    if isinstance(sequence, str | list | tuple) and isinstance(times, int):
        return len(sequence) * times
    return 0


def _check_repetition(left: object, right: object) -> None:
    if max(_repeated_length(left, right), _repeated_length(right, left)) > MAX_REPEATED_LENGTH:
        raise SourceTooLarge(f"'*' would build a value of more than {MAX_REPEATED_LENGTH:,} items")


def _check_power(base: object, exponent: object) -> None:
    if not (isinstance(base, int) and isinstance(exponent, int)):
        return
    if abs(base) > 1 and exponent > 0 and abs(base).bit_length() * exponent > MAX_POWER_BITS:
        raise SourceTooLarge(f"'**' would compute a number of more than {MAX_POWER_BITS:,} bits")


def render_bounded(template: jinja2.Template, limit: int = MAX_OUTPUT_CHARS) -> str:
    """Render `template`, refusing once its output passes `limit` characters."""
    return _joined(template.generate(), limit)


def _joined(pieces: Iterable[str], limit: int) -> str:
    kept: list[str] = []
    size = 0
    for piece in pieces:
        size += len(piece)
        if size > limit:
            raise SourceTooLarge(f"the source renders to more than {limit:,} characters")
        kept.append(piece)
    return "".join(kept)
