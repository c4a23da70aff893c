"""The jinja2 environment template sources render in.

Whoever can edit a template folder must not be able to run code as the person or CI job that builds and publishes
it, nor exhaust its memory. So sources render in jinja2's immutable sandbox (no attribute starting with `_`, no
`str.format` escapes, no mutation of lists and dicts, `range` capped) with bounds of pinrec's own on how large a
value a source can ask for: `*` and `**`, sizes and widths passed to a function or filter (`center`, `ljust`,
`batch`...), and field widths in `%` and `str.format` strings. The rendered text of one part is capped, and runaway
recursion (a macro calling itself) is an error, not a crash.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Callable, Iterable
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_OUTPUT_CHARS = 2_000_000
"""Longest text one part may render to: over three times Pinpoint's largest part (an email's 600,000 characters)."""
MAX_SIZE = MAX_OUTPUT_CHARS
"""Largest string or list `*` may build, and largest whole number a function, filter or field width may be given."""
MAX_POWER_BITS = 4_096
"""Largest number, in bits, `**` may compute."""
_PRINTF_WIDTHS = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\d+|\*)?(?:\.(\d+|\*))?")
_DIGITS = re.compile(r"\d+")


class SourceTooLarge(SecurityError):
    """A source asked for a value or an output beyond the sandbox's bounds."""


_SIZING_FILTERS = ("center", "indent", "batch", "slice")
"""Filters whose arguments size what they build."""


class TemplateSandbox(ImmutableSandboxedEnvironment):
    """jinja2's immutable sandbox with sizes bounded. `*`, `**` and `%` are intercepted: jinja2 evaluates them
    unchecked, even at compile time (intercepting them also stops constant folding). `lipsum`, which writes as
    many paragraphs as asked, is not offered."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals.pop("lipsum", None)
        for name in _SIZING_FILTERS:
            self.filters[name] = _bounded(self.filters[name])
        self.filters["format"] = _bounded_format(self.filters["format"])

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            _check_repetition(left, right)
        elif operator == "**":
            _check_power(left, right)
        elif operator == "%" and isinstance(left, str):
            _check_printf(left, right if isinstance(right, tuple) else (right,))
        return super().call_binop(context, operator, left, right)

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        _check_arguments(args, kwargs)
        return super().call(context, obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            _check_format_widths(value.__self__)
        return wrapped


def _bounded(function: Callable[..., Any]) -> Callable[..., Any]:
    """A sizing filter refusing whole-number arguments over MAX_SIZE."""

    @functools.wraps(function)
    def bounded(value: Any, *args: Any, **kwargs: Any) -> Any:
        _check_arguments(args, kwargs)
        return function(value, *args, **kwargs)

    return bounded


def _bounded_format(function: Callable[..., Any]) -> Callable[..., Any]:
    """The `format` filter refusing field widths over MAX_SIZE."""

    @functools.wraps(function)
    def bounded(value: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            _check_printf(value, args)
        return function(value, *args, **kwargs)

    return bounded


def _too_large(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_SIZE


def _check_arguments(args: Iterable[Any], kwargs: dict[str, Any]) -> None:
    if any(_too_large(value) for value in (*args, *kwargs.values())):
        raise SourceTooLarge(f"a size, width or count over {MAX_SIZE:,} was given to a function or filter")


def _repeated_length(sequence: object, times: object) -> int:
    if isinstance(sequence, str | list | tuple) and isinstance(times, int):
        return len(sequence) * times
    return 0


def _check_repetition(left: object, right: object) -> None:
    if max(_repeated_length(left, right), _repeated_length(right, left)) > MAX_SIZE:
        raise SourceTooLarge(f"'*' would build a value of more than {MAX_SIZE:,} items")


def _check_power(base: object, exponent: object) -> None:
    if not (isinstance(base, int) and isinstance(exponent, int)):
        return
    if abs(base) > 1 and exponent > 0 and abs(base).bit_length() * exponent > MAX_POWER_BITS:
        raise SourceTooLarge(f"'**' would compute a number of more than {MAX_POWER_BITS:,} bits")


def _check_widths(widths: Iterable[str]) -> None:
    if any(int(width) > MAX_SIZE for width in widths):
        raise SourceTooLarge(f"a field width or precision over {MAX_SIZE:,}")


def _check_printf(text: str, values: tuple[Any, ...]) -> None:
    """Field widths and precisions of a `%` format: written in it, or taken from the values (`*`)."""
    widths = [width for match in _PRINTF_WIDTHS.finditer(text) for width in match.groups() if width]
    _check_widths(width for width in widths if width != "*")
    if "*" in widths:
        _check_arguments(values, {})


def _check_format_widths(text: str) -> None:
    try:
        specs = [spec for _, _, spec, _ in string.Formatter().parse(text) if spec]
    except ValueError:
        return  # a malformed format string fails when it is formatted
    _check_widths(number for spec in specs for number in _DIGITS.findall(spec))


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
