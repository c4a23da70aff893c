"""How template values are tested, converted to text and read as numbers, shared by all helpers."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from campaign_tools.rendering.errors import HelperError

_INTEGER = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def is_list(value: Any) -> bool:
    kind = type(value)
    if kind is str or kind is dict:  # the common cases, without the abstract base class checks
        return False
    return kind is list or (isinstance(value, Sequence) and not isinstance(value, str | bytes))


def java_is_empty(value: Any) -> bool:
    """Handlebars.java `Utils.isEmpty`: null, "", an empty list and false are empty; 0 and {} are not."""
    if value is None or value is False:
        return True
    if isinstance(value, str) or is_list(value):
        return len(value) == 0
    return False


def has_no_value(value: Any) -> bool:
    """A variable with no value, so DefaultSubstitutions applies: absent, null, "" or an empty list."""
    return value is None or (isinstance(value, str) and value == "") or (is_list(value) and len(value) == 0)


def to_text(value: Any) -> str:
    """Text of a value the way handlebars.js prints it (lists as `a,b`, 1.0 as `1`, null as nothing)."""
    if type(value) is str:
        return value
    if value is None or isinstance(value, bool):
        return {None: "", True: "true", False: "false"}[value]
    if isinstance(value, float):
        return js_number(value)
    if is_list(value):
        return ",".join(to_text(item) for item in value)
    if isinstance(value, Mapping):
        return "[object Object]"
    return str(value)


def js_number(value: float) -> str:
    """A float as JavaScript's Number#toString writes it: shortest digits, exponent only below 1e-6 or from 1e21."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    decimal = Decimal(repr(abs(value)))
    digits = "".join(map(str, decimal.as_tuple().digits)).rstrip("0") or "0"
    exponent = int(decimal.as_tuple().exponent) + len(decimal.as_tuple().digits) - len(digits)
    k, n = len(digits), exponent + len(digits)  # n: where the decimal point goes
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * -n + digits
    else:
        mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
        text = f"{mantissa}e{'+' if n - 1 >= 0 else '-'}{abs(n - 1)}"
    return sign + text


def to_number(value: Any, helper: str, what: str = "argument") -> int | float:
    """A number from a number or numeric string (endpoint attributes are strings); HelperError otherwise."""
    if isinstance(value, bool) or value is None:
        raise HelperError(f"{helper}: {what} {to_text(value) or 'with no value'!s} is not a number")
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        text = value.strip()
        if _INTEGER.fullmatch(text):
            return int(text)
        if _DECIMAL.fullmatch(text):
            return float(text)
    raise HelperError(f"{helper}: {what} {to_text(value)!r} is not a number")


def to_int(value: Any, helper: str, what: str = "argument") -> int:
    number = to_number(value, helper, what)
    if isinstance(number, float):
        if not number.is_integer():
            raise HelperError(f"{helper}: {what} {to_text(number)} is not a whole number")
        return int(number)
    return number


def tidy_number(value: int | float) -> int | float:
    """An integral float as an int, so results print and compare like the integers they are."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value
