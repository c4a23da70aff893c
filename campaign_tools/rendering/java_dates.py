"""Java `SimpleDateFormat` date patterns (`MM/dd/yyyy`, `EEEE, d MMMM`, `h:mm a z`), printed and parsed as Java does.

Pinpoint's `dateFormat` takes its `inputFormat` and `outputFormat` as SimpleDateFormat patterns (its helper page
links the SimpleDateFormat documentation). Letters follow that class, not CLDR's (which differ for `u`, `S` and
when parsing): G era, y year (`yy` two digits), Y week year, M/L month (1-2 letters a number, 3 the abbreviation,
4+ the full name), w/W week of year/month, D day of year, d day, F day-of-week in month, E day name (4+ full),
u day number (1 = Monday), a AM/PM, H 0-23, k 1-24, K 0-11, h 1-12, m, s, S milliseconds, z zone name,
Z `-0800`, X `-08` / `-0800` / `-08:00`. Text in single quotes is literal (`''` is a quote); any other ASCII
letter is an error, as in Java. Names (months, days, eras, AM/PM, zones) come from Babel's CLDR data in the
given locale, which is what Java 9 and later use too.

Parsing is SimpleDateFormat's lenient parse: a number takes all its digits unless the next field is also a
number (then it takes as many digits as its letters); names match in any case, full or abbreviated; `yy` puts a
two-digit year within 80 years before and 20 after the current year; fields not in the pattern take the epoch's
(1970-01-01 00:00); out-of-range values roll over (`02/30/2020` is March 1st); text after the pattern is ignored.
A text without a zone is a local time in the given zone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING

from campaign_tools.rendering.errors import HelperError

if TYPE_CHECKING:
    from babel import Locale

_PATTERN_LETTERS = frozenset("GyYMLwWDdFEuaHkKhmsSzZX")
_NUMERIC = frozenset("yYMLwWDdFuHkKhmsS")


@dataclass(frozen=True)
class Field:
    letter: str
    count: int

    @property
    def is_number(self) -> bool:
        return self.letter in _NUMERIC and not (self.letter in "ML" and self.count >= 3)


Token = Field | str


def tokenize(pattern: str) -> list[Token]:
    """The pattern's fields and literal text; HelperError for a letter SimpleDateFormat does not know."""
    tokens: list[Token] = []
    literal: list[str] = []
    i = 0

    def flush() -> None:
        if literal:
            tokens.append("".join(literal))
            literal.clear()

    while i < len(pattern):
        char = pattern[i]
        if char == "'":
            if pattern.startswith("''", i):
                literal.append("'")
                i += 2
                continue
            end = i + 1
            while end < len(pattern):
                if pattern.startswith("''", end):
                    literal.append("'")
                    end += 2
                    continue
                if pattern[end] == "'":
                    break
                literal.append(pattern[end])
                end += 1
            if end >= len(pattern):
                raise HelperError(f"unterminated quote in the date pattern {pattern!r}")
            i = end + 1
            continue
        if char.isascii() and char.isalpha():
            if char not in _PATTERN_LETTERS:
                raise HelperError(f"illegal pattern character {char!r} in the date pattern {pattern!r}")
            flush()
            run = len(pattern[i:]) - len(pattern[i:].lstrip(char))
            tokens.append(Field(char, run))
            i += run
            continue
        literal.append(char)
        i += 1
    flush()
    return tokens


# ---- printing ----


def format_java(moment: datetime, pattern: str, locale: Locale) -> str:
    """`moment` (aware, already in the wanted zone) printed with a SimpleDateFormat pattern."""
    return "".join(
        token if isinstance(token, str) else _field_text(moment, token, locale) for token in tokenize(pattern)
    )


def _padded(number: int, count: int) -> str:
    sign = "-" if number < 0 else ""
    return sign + str(abs(number)).rjust(count, "0")


def _name_width(count: int) -> str:
    return "wide" if count >= 4 else "abbreviated"


def _year(moment: datetime, count: int, locale: Locale) -> str:
    return _padded(moment.year % 100, 2) if count == 2 else _padded(moment.year, count)


def _month(context: str) -> Callable[[datetime, int, Locale], str]:
    def text(moment: datetime, count: int, locale: Locale) -> str:
        if count <= 2:
            return _padded(moment.month, count)
        return str(locale.months[context][_name_width(count)][moment.month])

    return text


def _day_name(moment: datetime, count: int, locale: Locale) -> str:
    return str(locale.days["format"][_name_width(count)][moment.weekday()])


def _era(moment: datetime, count: int, locale: Locale) -> str:
    return str(locale.eras[_name_width(count)][1 if moment.year > 0 else 0])


def _am_pm(moment: datetime, count: int, locale: Locale) -> str:
    return str(locale.day_periods["format"]["abbreviated"]["am" if moment.hour < 12 else "pm"])


def _number(read: Callable[[datetime], int]) -> Callable[[datetime, int, Locale], str]:
    return lambda moment, count, locale: _padded(read(moment), count)


def _babel(letter: str) -> Callable[[datetime, int, Locale], str]:
    def text(moment: datetime, count: int, locale: Locale) -> str:
        from babel.dates import format_datetime

        return str(format_datetime(moment, letter * count, tzinfo=moment.tzinfo, locale=locale))

    return text


def _offset(letter: str) -> Callable[[datetime, int, Locale], str]:
    return lambda moment, count, locale: _offset_text(moment, letter, count)


_PRINTERS: dict[str, Callable[[datetime, int, Locale], str]] = {
    "G": _era,
    "y": _year,
    "M": _month("format"),
    "L": _month("stand-alone"),
    "E": _day_name,
    "a": _am_pm,
    "d": _number(lambda moment: moment.day),
    "D": _number(lambda moment: moment.timetuple().tm_yday),
    "F": _number(lambda moment: (moment.day - 1) // 7 + 1),
    "u": _number(lambda moment: moment.isoweekday()),
    "H": _number(lambda moment: moment.hour),
    "k": _number(lambda moment: moment.hour or 24),
    "K": _number(lambda moment: moment.hour % 12),
    "h": _number(lambda moment: moment.hour % 12 or 12),
    "m": _number(lambda moment: moment.minute),
    "s": _number(lambda moment: moment.second),
    "S": _number(lambda moment: moment.microsecond // 1000),
    "Z": _offset("Z"),
    "X": _offset("X"),
    # Week fields and zone names: Babel's letters mean the same, with the locale's week rules and names.
    "Y": _babel("Y"),
    "w": _babel("w"),
    "W": _babel("W"),
    "z": _babel("z"),
}


def _field_text(moment: datetime, field: Field, locale: Locale) -> str:
    return _PRINTERS[field.letter](moment, field.count, locale)


def _offset_text(moment: datetime, letter: str, count: int) -> str:
    offset = moment.utcoffset() or timedelta()
    if letter == "X" and not offset:
        return "Z"
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    if letter == "X" and count == 1:
        return f"{sign}{hours:02d}"
    if letter == "X" and count >= 3:
        return f"{sign}{hours:02d}:{mins:02d}"
    return f"{sign}{hours:02d}{mins:02d}"


# ---- parsing ----

_OFFSET = re.compile(r"(?:GMT|UTC)?([+-])(\d{1,2}):?(\d{2})?|Z|GMT|UTC", re.IGNORECASE)


@dataclass
class _Parsed:
    year: int = 1970
    month: int = 1
    day: int = 1
    hour: int = 0
    minute: int = 0
    second: int = 0
    millisecond: int = 0
    pm: bool | None = None
    twelve_hour: int | None = None
    offset: timedelta | None = None
    ambiguous_year: bool = False


def parse_java(text: str, pattern: str, locale: Locale, zone: tzinfo, now: datetime) -> datetime:
    """The moment `text` names, read with a SimpleDateFormat pattern; HelperError when it does not match."""
    reader = _Reader(text, pattern, locale, now)
    tokens = tokenize(pattern)
    for index, token in enumerate(tokens):
        if isinstance(token, str):
            reader.literal(token)
            continue
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        reader.field(token, abutting=isinstance(following, Field) and following.is_number)
    moment = _moment(reader.parsed, zone)
    if reader.parsed.ambiguous_year and moment < _century_start(now):
        moment = moment.replace(year=moment.year + 100)
    return moment


class _Reader:
    """Reads a text field by field, left to right, into `parsed`."""

    def __init__(self, text: str, pattern: str, locale: Locale, now: datetime) -> None:
        self.text, self.pattern, self.locale, self.now = text, pattern, locale, now
        self.position = 0
        self.parsed = _Parsed()

    def mismatch(self) -> HelperError:
        return HelperError(f"dateFormat: {self.text!r} does not match the inputFormat {self.pattern!r}")

    def literal(self, token: str) -> None:
        if not self.text.startswith(token, self.position):
            raise self.mismatch()
        self.position += len(token)

    def field(self, field: Field, *, abutting: bool) -> None:
        if field.is_number:
            self.number(field, abutting=abutting)
        elif field.letter in "ML":
            self.parsed.month = self.name(self.locale.months["format"], self.locale.months["stand-alone"])
        elif field.letter == "E":
            self.name(self.locale.days["format"], self.locale.days["stand-alone"])  # checked; the date decides
        elif field.letter == "a":
            self.parsed.pm = self.word({str(name): key == "pm" for key, name in self._periods().items()})
        elif field.letter == "G":
            self.word({str(era): True for era in self.locale.eras["abbreviated"].values()})
        else:
            self.offset()

    def _periods(self) -> dict[str, str]:
        periods = self.locale.day_periods["format"]["abbreviated"]
        return {key: str(periods[key]) for key in ("am", "pm")}

    def number(self, field: Field, *, abutting: bool) -> None:
        shape = rf"\d{{1,{field.count}}}" if abutting else r"[+-]?\d+"
        match = re.compile(shape).match(self.text, self.position)
        if match is None:
            raise self.mismatch()
        _set_number(self.parsed, field.letter, match.group(), field.count, self.now)
        self.position = match.end()

    def name(self, *contexts: dict[str, dict[int, str]]) -> int:
        found = _match_name(self.text, self.position, *contexts)
        if found is None:
            raise self.mismatch()
        number, self.position = found
        return number

    def word(self, choices: dict[str, bool]) -> bool:
        for word, value in choices.items():
            end = self.position + len(word)
            if self.text[self.position : end].lower() == word.lower():
                self.position = end
                return value
        raise self.mismatch()

    def offset(self) -> None:
        match = _OFFSET.match(self.text, self.position)
        if match is None:
            raise self.mismatch()
        minutes = int(match.group(2) or 0) * 60 + int(match.group(3) or 0)
        self.parsed.offset = timedelta(minutes=-minutes if match.group(1) == "-" else minutes)
        self.position = match.end()


def _match_name(text: str, position: int, *contexts: dict[str, dict[int, str]]) -> tuple[int, int] | None:
    """The longest month or day name (full or abbreviated, any case) at position: (its number, end)."""
    best: tuple[int, int] | None = None
    for context in contexts:
        for width in ("wide", "abbreviated"):
            for number, name in context[width].items():
                end = position + len(str(name))
                if text[position:end].lower() == str(name).lower() and (best is None or end > best[1]):
                    best = (int(number), end)
    return best


def _set_number(parsed: _Parsed, letter: str, digits: str, count: int, now: datetime) -> None:
    value = int(digits)
    if letter == "y":
        if count <= 2 and len(digits.lstrip("+-")) == 2 and digits.isdigit():
            value = _two_digit_year(value, now)
            parsed.ambiguous_year = value == _century_start(now).year
        parsed.year = value
    elif letter in "ML":
        parsed.month = value
    elif letter == "d":
        parsed.day = value
    elif letter in "Hk":
        parsed.hour = 0 if letter == "k" and value == 24 else value
    elif letter in "Kh":
        parsed.twelve_hour = value % 12
    elif letter == "m":
        parsed.minute = value
    elif letter == "s":
        parsed.second = value
    elif letter == "S":
        parsed.millisecond = value
    # D F u w W Y: read and ignored, as the date fields decide the day


def _century_start(now: datetime) -> datetime:
    """80 years before now (February 29th becomes the 28th)."""
    try:
        return now.replace(year=now.year - 80)
    except ValueError:
        return now.replace(year=now.year - 80, day=28)


def _two_digit_year(value: int, now: datetime) -> int:
    """SimpleDateFormat: the year ending in these digits within 80 years before and 20 after now; the one year
    that could be either (the century start's) is settled by the full date once it is known."""
    start = _century_start(now).year
    year = start - start % 100 + value
    return year + 100 if year < start else year


def _moment(parsed: _Parsed, zone: tzinfo) -> datetime:
    hour = parsed.hour
    if parsed.twelve_hour is not None:
        hour = parsed.twelve_hour + (12 if parsed.pm else 0)
    elif parsed.pm and hour < 12:
        hour += 12
    years, month_index = divmod(parsed.month - 1, 12)
    try:
        start = datetime(parsed.year + years, month_index + 1, 1)
    except ValueError:
        raise HelperError(f"dateFormat: the year {parsed.year} is out of range") from None
    local = start + timedelta(
        days=parsed.day - 1,
        hours=hour,
        minutes=parsed.minute,
        seconds=parsed.second,
        milliseconds=parsed.millisecond,
    )
    if parsed.offset is not None:
        return local.replace(tzinfo=timezone(parsed.offset))
    return local.replace(tzinfo=zone)
