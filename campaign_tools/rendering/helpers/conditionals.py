"""Pinpoint's conditional helpers: and eq gt gte if lt lte neq not or.

Semantics follow Handlebars.java's `ConditionalHelpers` (Pinpoint's helper set matches it):

- Block form `{{#eq a b}}yes{{else}}no{{/eq}}` renders the body or the else part.
- Inline form `{{eq a b}}` prints `true`/`false`; `{{eq a b yes='y' no='n'}}` prints the given words.
- `and`, `or`, `not` and inline `if` use Handlebars.java truthiness: null, "", an empty list and false are
  false; 0 and an empty object are true (unlike the built-in block `{{#if}}`, which follows handlebars.js).
- `eq`/`neq` compare by type and value (Java `equals`): `"1"` is not equal to `1`, but the numbers `1` and
  `1.0` are equal (JSON does not tell ints and doubles apart, so we do not either).
- `gt gte lt lte` compare two numbers, or two strings (by UTF-16 code units, like Java `compareTo`), or two
  booleans. Any other pair — a missing value, or a string against a number — is an error in Java and
  here: Pinpoint's behaviour for it is not documented, so the preview refuses to guess.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dotpromptz_handlebars import HelperOptions

from campaign_tools.rendering.errors import HelperError
from campaign_tools.rendering.values import is_list, java_is_empty, to_text

Helper = Callable[[list[Any], HelperOptions], Any]


def _outcome(truth: bool, options: HelperOptions) -> Any:
    if options.is_block:
        return options.fn() if truth else options.inverse()
    if truth:
        return options.hash.get("yes", True)
    return options.hash.get("no", False)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def values_equal(a: Any, b: Any) -> bool:
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    if type(a) is not type(b) and not (is_list(a) and is_list(b)):
        return False
    if is_list(a):
        return len(a) == len(b) and all(values_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def compare(a: Any, b: Any, helper: str) -> int:
    if _is_number(a) and _is_number(b):
        return int(a > b) - int(a < b)
    if isinstance(a, str) and isinstance(b, str):
        left, right = a.encode("utf-16-be"), b.encode("utf-16-be")
        return (left > right) - (left < right)
    if isinstance(a, bool) and isinstance(b, bool):
        return int(a) - int(b)
    raise HelperError(
        f"{helper} cannot compare {_describe(a)} with {_describe(b)}; compare two numbers or two strings"
        " (Pinpoint does not document what happens otherwise)"
    )


def _describe(value: Any) -> str:
    if value is None:
        return "a missing value"
    if _is_number(value):
        return f"the number {to_text(value)}"
    if isinstance(value, str):
        return f"the string {value!r}"
    return f"{type(value).__name__} {to_text(value)!r}"


def _pair(args: list[Any], helper: str) -> tuple[Any, Any]:
    if len(args) != 2:
        raise HelperError(f"{helper} takes two values, got {len(args)}")
    return args[0], args[1]


def _eq(args: list[Any], options: HelperOptions) -> Any:
    return _outcome(values_equal(*_pair(args, "eq")), options)


def _neq(args: list[Any], options: HelperOptions) -> Any:
    return _outcome(not values_equal(*_pair(args, "neq")), options)


def _comparison(name: str, test: Callable[[int], bool]) -> Helper:
    def helper(args: list[Any], options: HelperOptions) -> Any:
        a, b = _pair(args, name)
        return _outcome(test(compare(a, b, name)), options)

    return helper


def _and(args: list[Any], options: HelperOptions) -> Any:
    if not args:
        raise HelperError("and takes at least one value")
    return _outcome(all(not java_is_empty(value) for value in args), options)


def _or(args: list[Any], options: HelperOptions) -> Any:
    if not args:
        raise HelperError("or takes at least one value")
    return _outcome(any(not java_is_empty(value) for value in args), options)


def _not(args: list[Any], options: HelperOptions) -> Any:
    if len(args) != 1:
        raise HelperError(f"not takes one value, got {len(args)}")
    return _outcome(java_is_empty(args[0]), options)


def _inline_if(args: list[Any], options: HelperOptions) -> Any:
    # Only the inline form reaches here: the engine runs the block {{#if}} itself (handlebars.js rules).
    if len(args) != 1:
        raise HelperError(f"if takes one value, got {len(args)}")
    return _outcome(not java_is_empty(args[0]), options)


CONDITIONAL_HELPERS: dict[str, Helper] = {
    "and": _and,
    "eq": _eq,
    "gt": _comparison("gt", lambda c: c > 0),
    "gte": _comparison("gte", lambda c: c >= 0),
    "if": _inline_if,
    "lt": _comparison("lt", lambda c: c < 0),
    "lte": _comparison("lte", lambda c: c <= 0),
    "neq": _neq,
    "not": _not,
    "or": _or,
}
