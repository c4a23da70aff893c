"""Pinpoint's math and encoding helpers: add ceiling decode64 divide encode64 floor md5 modulo multiply round
sha256 sha512 subtract uuid.

Pinpoint documents what each computes and one example each; the rules here reproduce every example:
- Arguments may be numbers or numeric strings (endpoint attributes are strings): `{{add "2" 3}}` is 5.
  Anything else, including a missing value, is an error naming the helper — a preview must not print a
  silent 0 that Pinpoint might not.
- add subtract multiply divide modulo compute in decimal and keep at most 8 decimal places, rounding half up,
  without trailing zeros: `{{divide 5 2.3}}` 2.17391304, `{{multiply 5 2.3}}` 11.5 (not the double
  11.499999999999998), `{{add 5 2.3}}` 7.3, `{{divide 10 5}}` 2 (a whole result prints without `.0`, as in
  the documentation's `{{modulo 7 2}}` 1). The result is a number, so it compares as one in `eq`/`gt`.
- `round` rounds half up like Java `Math.round` (2.5 -> 3, -2.5 -> -2); `ceiling`/`floor` give whole
  numbers; `modulo` keeps the sign of the dividend (Java `%`); dividing by zero is an error.
- encode64/decode64 use standard Base64 of UTF-8 text; md5/sha256/sha512 print lower-case hex of the UTF-8
  text. `uuid` comes from the renderer's injectable generator.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import Any

from dotpromptz_handlebars import HelperOptions

from campaign_tools.rendering.errors import HelperError
from campaign_tools.rendering.values import tidy_number, to_number, to_text

Helper = Callable[[list[Any], HelperOptions], Any]


def _operands(args: list[Any], helper: str, count: int) -> list[int | float]:
    if len(args) != count:
        raise HelperError(f"{helper} takes {count} value{'s' if count > 1 else ''}, got {len(args)}")
    return [to_number(value, helper, "value") for value in args]


RESULT_PLACES = 8
_PLACES = Decimal(1).scaleb(-RESULT_PLACES)
_ARITHMETIC = Context(prec=60)


def as_decimal(value: int | float, helper: str) -> Decimal:
    """The number as written: a double by its shortest text (Java `BigDecimal.valueOf`), an int exactly."""
    if isinstance(value, float) and not math.isfinite(value):
        raise HelperError(f"{helper}: {to_text(value)} is not a finite number")
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def documented_result(value: Decimal) -> int | float:
    """At most 8 decimal places, half up; a whole result as an int (prints `2`, not `2.0`)."""
    rounded = value.quantize(_PLACES, rounding=ROUND_HALF_UP, context=_ARITHMETIC)
    if rounded == rounded.to_integral_value():
        return int(rounded)
    return tidy_number(float(rounded))


def _binary(name: str, operation: Callable[[Decimal, Decimal], Decimal]) -> Helper:
    def helper(args: list[Any], options: HelperOptions) -> Any:
        a, b = (as_decimal(value, name) for value in _operands(args, name, 2))
        try:
            return documented_result(operation(a, b))
        except (InvalidOperation, ZeroDivisionError):
            raise HelperError(f"{name}: division by zero") from None

    return helper


def _divide(a: Decimal, b: Decimal) -> Decimal:
    if b == 0:
        raise HelperError("divide: division by zero")
    return _ARITHMETIC.divide(a, b)


def _modulo(a: Decimal, b: Decimal) -> Decimal:
    if b == 0:
        raise HelperError("modulo: division by zero")
    return _ARITHMETIC.remainder(a, b)  # the sign of the dividend, like Java's %


def _unary(name: str, operation: Callable[[Any], Any]) -> Helper:
    def helper(args: list[Any], options: HelperOptions) -> Any:
        (value,) = _operands(args, name, 1)
        if isinstance(value, float) and not math.isfinite(value):
            raise HelperError(f"{name}: {to_text(value)} is not a finite number")
        return operation(value)

    return helper


def _text_argument(args: list[Any], helper: str) -> str:
    if len(args) != 1:
        raise HelperError(f"{helper} takes one value, got {len(args)}")
    return to_text(args[0])


def _digest(name: str) -> Helper:
    def helper(args: list[Any], options: HelperOptions) -> Any:
        return hashlib.new(name, _text_argument(args, name).encode("utf-8"), usedforsecurity=False).hexdigest()

    return helper


def _encode64(args: list[Any], options: HelperOptions) -> Any:
    return base64.b64encode(_text_argument(args, "encode64").encode("utf-8")).decode("ascii")


def _decode64(args: list[Any], options: HelperOptions) -> Any:
    text = _text_argument(args, "decode64")
    try:
        return base64.b64decode(text.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise HelperError(f"decode64: {text!r} is not Base64 of UTF-8 text") from None


def number_helpers(make_uuid: Callable[[], str]) -> dict[str, Helper]:
    def uuid(args: list[Any], options: HelperOptions) -> Any:
        return make_uuid()

    return {
        "add": _binary("add", _ARITHMETIC.add),
        "ceiling": _unary("ceiling", math.ceil),
        "decode64": _decode64,
        "divide": _binary("divide", _divide),
        "encode64": _encode64,
        "floor": _unary("floor", math.floor),
        "md5": _digest("md5"),
        "modulo": _binary("modulo", _modulo),
        "multiply": _binary("multiply", _ARITHMETIC.multiply),
        "round": _unary("round", lambda value: math.floor(value + 0.5)),
        "sha256": _digest("sha256"),
        "sha512": _digest("sha512"),
        "subtract": _binary("subtract", _ARITHMETIC.subtract),
        "uuid": uuid,
    }
