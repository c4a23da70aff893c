"""Pinpoint's string helpers, with Handlebars.java `StringHelpers` semantics where Pinpoint is silent.

Rules shared by most of them (Handlebars.java `StringHelpers.apply`): when the value is empty (missing,
null, "", an empty list, false) the helper prints its first extra argument, or nothing — so
`{{upper User.UserAttributes.Nickname.[0]}}` prints nothing for an endpoint without a nickname, and
`{{lower missing "friend"}}` prints `friend`. Values print as handlebars.js prints them.

Per helper (Java method in brackets):
- abbreviate v width: v if it fits, else its first width-3 characters and "..."; width < 4 is an error
  (commons-lang `StringUtils.abbreviate`).
- capitalize v [fully=true]: first letter of every blank-separated word title-cased (`WordUtils.capitalize`;
  blanks are Java `Character.isWhitespace`, which excludes no-break spaces); fully=true lower-cases the rest
  first (`capitalizeFully`).
- capitalizeFirst v: first character upper-cased, the rest unchanged (`StringUtils.capitalize`).
- center v size=N [pad=" "], ljust v size=N [pad], rjust v size=N [pad]: pad to N characters; the pad
  string repeats and is cut to fit (`StringUtils.center/rightPad/leftPad`). The width may also be the first
  argument, `{{ljust Location.City 15}}`, as Pinpoint's helper page writes it.
- cut v [s=" "]: remove every s. replace v target replacement: replace every target (literal).
- join list sep [prefix=""] [suffix=""]: items joined by sep (the last argument); with several values
  instead of a list, `join a b c sep` joins them. An empty list prints nothing.
- lower v, upper v: case-map the text. stripTags v: remove `<…>` tags (regex `<[^>]*>`).
- slugify v: trim, lower-case letters, turn each blank into `-` and drop everything else, digits included
  (Handlebars.java keeps only letters: "Top 10 picks" -> "top--picks").
- substring v start [end]: characters start..end-1; an out-of-range index is an error.
- yesno v [yes="yes"] [no="no"] [maybe="maybe"]: true/false/missing to words. Endpoint attributes are strings,
  so "true"/"false" (any case) count as the booleans and "" as no value; any other value is an error.
- inflect count singular plural [includeCount=false]: plural when count is 0 or above 1, else singular; with
  includeCount=true (or a fourth argument true), "3 apples". ordinalize n: 1st 2nd 3rd 4th 11th 12th 13th 21st 22nd 101st (the
  handlebars-helpers rules Pinpoint's names come from).
Indexes and lengths count Unicode code points (Java counts UTF-16 units: they differ only for emoji and
other characters outside the Basic Multilingual Plane).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from typing import Any

from dotpromptz_handlebars import HelperOptions

from campaign_tools.rendering.errors import HelperError
from campaign_tools.rendering.values import is_list, java_is_empty, to_int, to_number, to_text

Helper = Callable[[list[Any], HelperOptions], Any]
_TAG = re.compile(r"<[^>]*>", re.DOTALL)


def _java_string_helper(name: str, apply: Callable[[str, list[Any], HelperOptions], str]) -> Helper:
    def helper(args: list[Any], options: HelperOptions) -> Any:
        value = args[0] if args else None
        if java_is_empty(value):
            return to_text(args[1]) if len(args) > 1 else ""
        return apply(to_text(value), args[1:], options)

    helper.__name__ = name
    return helper


_JAVA_CONTROL_WHITESPACE = frozenset("\t\n\x0b\f\r\x1c\x1d\x1e\x1f")
_NO_BREAK_SPACES = frozenset("\u00a0\u2007\u202f")


def java_is_whitespace(char: str) -> bool:
    """Java `Character.isWhitespace`: Unicode space separators except no-break spaces, plus ASCII controls."""
    if char in _JAVA_CONTROL_WHITESPACE:
        return True
    return unicodedata.category(char) in ("Zs", "Zl", "Zp") and char not in _NO_BREAK_SPACES


def _title_first(text: str) -> str:
    if not text:
        return text
    titled = text[0].title()
    return (titled if len(titled) == 1 else text[0]) + text[1:]


def _capitalize_words(text: str) -> str:
    out: list[str] = []
    start_of_word = True
    for char in text:
        out.append(_title_first(char) if start_of_word else char)
        start_of_word = java_is_whitespace(char)
    return "".join(out)


def _pad_string(options: HelperOptions) -> str:
    pad = to_text(options.hash.get("pad", " "))
    return pad or " "


def _size(rest: list[Any], options: HelperOptions, helper: str) -> int:
    """The width: `size=N` (Handlebars.java) or the first argument (`{{ljust Location.City 15}}`, Pinpoint's docs)."""
    if "size" in options.hash:
        return to_int(options.hash["size"], helper, "size")
    if rest:
        return to_int(rest[0], helper, "width")
    raise HelperError(f"{helper} needs a width, e.g. {{{{{helper} value 20}}}} or {{{{{helper} value size=20}}}}")


def _padding(count: int, pad: str) -> str:
    if count <= 0:
        return ""
    return (pad * (count // len(pad) + 1))[:count]


def left_pad(text: str, size: int, pad: str) -> str:
    return _padding(size - len(text), pad) + text


def right_pad(text: str, size: int, pad: str) -> str:
    return text + _padding(size - len(text), pad)


def center(text: str, size: int, pad: str) -> str:
    missing = size - len(text)
    if missing <= 0:
        return text
    return right_pad(left_pad(text, len(text) + missing // 2, pad), size, pad)


def abbreviate(text: str, width: int) -> str:
    if width < 4:
        raise HelperError(f"abbreviate: the width must be at least 4, got {width}")
    return text if len(text) <= width else text[: width - 3] + "..."


def _abbreviate(text: str, rest: list[Any], options: HelperOptions) -> str:
    if not rest:
        raise HelperError("abbreviate needs a width, e.g. {{abbreviate value 20}}")
    return abbreviate(text, to_int(rest[0], "abbreviate", "width"))


def _capitalize(text: str, rest: list[Any], options: HelperOptions) -> str:
    if options.hash.get("fully") is True:
        text = text.lower()
    return _capitalize_words(text)


def _cut(text: str, rest: list[Any], options: HelperOptions) -> str:
    target = to_text(rest[0]) if rest else " "
    return text.replace(target, "") if target else text


def _replace(text: str, rest: list[Any], options: HelperOptions) -> str:
    if len(rest) < 2 or not isinstance(rest[0], str) or not isinstance(rest[1], str):
        raise HelperError('replace needs two strings, e.g. {{replace value "old" "new"}}')
    return text.replace(rest[0], rest[1]) if rest[0] else text


def slugify(text: str) -> str:
    out: list[str] = []
    start, end = 0, len(text)
    while start < end and java_is_whitespace(text[start]):
        start += 1
    while end > start and java_is_whitespace(text[end - 1]):
        end -= 1
    for char in text[start:end]:
        if char.isalpha():
            out.append(char.lower())
        elif java_is_whitespace(char):
            out.append("-")
    return "".join(out)


def _substring(text: str, rest: list[Any], options: HelperOptions) -> str:
    if not rest:
        raise HelperError("substring needs a start index, e.g. {{substring value 0 10}}")
    start = to_int(rest[0], "substring", "start")
    end = to_int(rest[1], "substring", "end") if len(rest) > 1 else len(text)
    if start < 0 or end > len(text) or start > end:
        raise HelperError(f"substring: indexes {start}..{end} are outside a text of {len(text)} characters")
    return text[start:end]


def _join(args: list[Any], options: HelperOptions) -> Any:
    if not args or java_is_empty(args[0]):
        return ""
    if len(args) < 2 or not isinstance(args[-1], str):
        raise HelperError('join needs a separator string as its last argument, e.g. {{join list ", "}}')
    separator = args[-1]
    items = args[0] if is_list(args[0]) else args[:-1]
    prefix = to_text(options.hash.get("prefix", ""))
    suffix = to_text(options.hash.get("suffix", ""))
    return prefix + separator.join(to_text(item) for item in items) + suffix


def _yesno(args: list[Any], options: HelperOptions) -> Any:
    value = args[0] if args else None
    if isinstance(value, str):
        # Endpoint attributes are strings: "true" and "false" (any case) are the booleans, "" is no value.
        value = {"true": True, "false": False, "": None}.get(value.strip().lower(), value)
    if value is None:
        return options.hash.get("maybe", "maybe")
    if not isinstance(value, bool):
        raise HelperError(f"yesno expects true, false or no value, got {to_text(value)!r}")
    return options.hash.get("yes", "yes") if value else options.hash.get("no", "no")


def _inflect(args: list[Any], options: HelperOptions) -> Any:
    if len(args) < 3:
        raise HelperError('inflect needs a count, a singular and a plural, e.g. {{inflect n "item" "items"}}')
    count = to_number(args[0], "inflect", "count")
    word = args[2] if count > 1 or count == 0 else args[1]
    include = options.hash["includeCount"] if "includeCount" in options.hash else (args[3] if len(args) > 3 else False)
    return f"{to_text(args[0])} {to_text(word)}" if include is True else to_text(word)


def ordinal_suffix(number: int | float) -> str:
    whole = abs(math.floor(number + 0.5))  # JavaScript Math.round, as handlebars-helpers does
    if whole % 100 in (11, 12, 13):
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(whole % 10, "th")


def _ordinalize(args: list[Any], options: HelperOptions) -> Any:
    if not args:
        raise HelperError("ordinalize needs a number, e.g. {{ordinalize 3}}")
    number = to_number(args[0], "ordinalize", "value")
    return to_text(args[0]) + ordinal_suffix(number)


STRING_HELPERS: dict[str, Helper] = {
    "abbreviate": _java_string_helper("abbreviate", _abbreviate),
    "capitalize": _java_string_helper("capitalize", _capitalize),
    "capitalizeFirst": _java_string_helper("capitalizeFirst", lambda text, rest, options: _title_first(text)),
    "center": _java_string_helper(
        "center", lambda text, rest, options: center(text, _size(rest, options, "center"), _pad_string(options))
    ),
    "cut": _java_string_helper("cut", _cut),
    "inflect": _inflect,
    "join": _join,
    "ljust": _java_string_helper(
        "ljust", lambda text, rest, options: right_pad(text, _size(rest, options, "ljust"), _pad_string(options))
    ),
    "lower": _java_string_helper("lower", lambda text, rest, options: text.lower()),
    "ordinalize": _ordinalize,
    "replace": _java_string_helper("replace", _replace),
    "rjust": _java_string_helper(
        "rjust", lambda text, rest, options: left_pad(text, _size(rest, options, "rjust"), _pad_string(options))
    ),
    "slugify": _java_string_helper("slugify", lambda text, rest, options: slugify(text)),
    "stripTags": _java_string_helper("stripTags", lambda text, rest, options: _TAG.sub("", text)),
    "substring": _java_string_helper("substring", _substring),
    "upper": _java_string_helper("upper", lambda text, rest, options: text.upper()),
    "yesno": _yesno,
}
