"""SMS encoding and segment counting, as carriers bill it.

One SMS part carries 140 bytes: 160 GSM-7 septets, or 70 UCS-2 (UTF-16) units when any character is
outside GSM-7. A longer message is split into parts that each lose 6 bytes to the concatenation header:
153 septets or 67 units per part. Characters from the GSM-7 extension table (`^ { } \\ [ ] ~ | €` and form
feed) cost two septets (escape + character) and are never split across parts; neither are UTF-16 surrogate
pairs (emoji). One curly apostrophe or ™ turns the whole message into UCS-2, so `non_gsm_chars` lists each
such character with a suggested GSM-7 replacement where a faithful one exists.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from gsm0338 import Codec

GSM7 = "GSM-7"
UCS2 = "UCS-2"
_SINGLE = {GSM7: 160, UCS2: 70}
_MULTI = {GSM7: 153, UCS2: 67}
_CODEC = Codec()
_ESCAPE = "\x1b"

_REPLACEMENTS = {
    "\u2018": "'",  # left single quotation mark
    "\u2019": "'",  # right single quotation mark / curly apostrophe
    "\u201a": "'",
    "\u201b": "'",
    "\u2032": "'",  # prime
    "\u2039": "<",
    "\u203a": ">",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u201f": '"',
    "\u2033": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",  # en dash
    "\u2014": "-",  # em dash
    "\u2015": "-",
    "\u2212": "-",  # minus sign
    "\u2022": "-",  # bullet
    "\u2026": "...",  # ellipsis
    "\u00a0": " ",  # no-break space
    "\u2002": " ",
    "\u2003": " ",
    "\u2004": " ",
    "\u2005": " ",
    "\u2006": " ",
    "\u2007": " ",
    "\u2008": " ",
    "\u2009": " ",
    "\u200a": " ",
    "\u202f": " ",
    "\u205f": " ",
    "\u3000": " ",
    "\t": " ",
    "\u200b": "",  # zero-width space
    "\u200c": "",
    "\u200d": "",
    "\u2060": "",
    "\ufeff": "",  # byte-order mark
    "\u00ad": "",  # soft hyphen
    "\u2122": "TM",
    "\u00ae": "(R)",
    "\u00a9": "(C)",
    "\u00b7": ".",
    "\u02c6": "^",
    "\u02dc": "~",
}


@dataclass(frozen=True)
class NonGsmChar:
    char: str
    count: int
    replacement: str | None  # GSM-7 text to use instead, None when there is no faithful one

    @property
    def name(self) -> str:
        return unicodedata.name(self.char, f"U+{ord(self.char):04X}")


@dataclass(frozen=True)
class SmsInfo:
    encoding: str  # "GSM-7" | "UCS-2"
    characters: int  # Unicode code points
    units: int  # GSM-7 septets (extension characters count 2) or UTF-16 code units
    segments: int  # parts billed; 0 for an empty message
    parts: tuple[str, ...]  # the text as split into parts; "".join(parts) == text
    non_gsm_chars: tuple[NonGsmChar, ...]  # why the message is UCS-2, in order of first appearance
    suggested_text: str | None  # the text with every replaceable character replaced, or None

    @property
    def per_part(self) -> int:
        """Units one part carries for this message (160/70 alone, 153/67 when split)."""
        return _SINGLE[self.encoding] if self.segments <= 1 else _MULTI[self.encoding]


@lru_cache(maxsize=4096)
def gsm_septets(char: str) -> int | None:
    """Septets a character costs in GSM-7 (1, or 2 for the extension table), None if it has none."""
    if char == _ESCAPE:
        return None
    try:
        encoded, _ = _CODEC.encode(char)
    except (UnicodeEncodeError, KeyError):
        return None
    return len(encoded)


@lru_cache(maxsize=4096)
def gsm_replacement(char: str) -> str | None:
    """A GSM-7 stand-in for a character outside GSM-7: typographic punctuation, or the letter without accent."""
    if char in _REPLACEMENTS:
        return _REPLACEMENTS[char]
    decomposed = unicodedata.normalize("NFKD", char)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    if plain and plain != char and all(gsm_septets(c) is not None for c in plain):
        return plain
    return None


def _utf16_units(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def _split(text: str, costs: list[int], limit: int) -> tuple[str, ...]:
    parts: list[str] = []
    start = used = 0
    for index, cost in enumerate(costs):
        if used + cost > limit:
            parts.append(text[start:index])
            start, used = index, 0
        used += cost
    parts.append(text[start:])
    return tuple(parts)


def sms_encoding(text: str) -> SmsInfo:
    """Encoding, size, part count and split of an SMS body, plus what makes it UCS-2."""
    septets = [gsm_septets(char) for char in text]
    is_gsm = all(cost is not None for cost in septets)
    encoding = GSM7 if is_gsm else UCS2
    costs = [cost or 0 for cost in septets] if is_gsm else [_utf16_units(char) for char in text]
    units = sum(costs)
    if not text:
        parts: tuple[str, ...] = ()
    elif units <= _SINGLE[encoding]:
        parts = (text,)
    else:
        parts = _split(text, costs, _MULTI[encoding])
    offenders = _non_gsm(text, septets)
    return SmsInfo(
        encoding=encoding,
        characters=len(text),
        units=units,
        segments=len(parts),
        parts=parts,
        non_gsm_chars=offenders,
        suggested_text=_suggest(text, offenders),
    )


@lru_cache(maxsize=1)
def _basic_gsm7() -> re.Pattern[str]:
    """Text of GSM-7's basic table only (one septet per character, the escape excluded)."""
    table = (_CODEC.decode(bytes([septet]))[0] for septet in range(128))
    return re.compile("[" + "".join(re.escape(char) for char in table if char and gsm_septets(char) == 1) + "]*")


def sms_segments(text: str) -> int:
    """`sms_encoding(text).segments`: parts billed. Text of the basic GSM-7 table (most campaign texts) costs a
    septet per character and is counted from its length, without the per-character walk."""
    if _basic_gsm7().fullmatch(text):
        length = len(text)
        if length <= _SINGLE[GSM7]:
            return 1 if length else 0
        return -(-length // _MULTI[GSM7])
    return sms_encoding(text).segments


def _non_gsm(text: str, septets: list[int | None]) -> tuple[NonGsmChar, ...]:
    counts: dict[str, int] = {}
    for char, cost in zip(text, septets, strict=True):
        if cost is None:
            counts[char] = counts.get(char, 0) + 1
    return tuple(NonGsmChar(char, count, gsm_replacement(char)) for char, count in counts.items())


def _suggest(text: str, offenders: tuple[NonGsmChar, ...]) -> str | None:
    replacements = {item.char: item.replacement for item in offenders if item.replacement is not None}
    if not replacements:
        return None
    return "".join(replacements.get(char, char) for char in text)
