"""dateFormat and now, with an injectable clock.

Usage as Pinpoint documents it (from Handlebars.java `StringHelpers.dateFormat`):
`{{dateFormat date ["format"] ["locale"] [format="format"] [tz="Zone/Id"]}}` and `{{now ["format"] [tz=…]}}`.

- The format is `full`, `long`, `medium` (default) or `short` — a date without time, as Java's
  `DateFormat.getDateInstance` gives ("Tuesday, June 19, 2012", "June 19, 2012", "Jun 19, 2012",
  "6/19/12" in en_US) — or a date pattern. Patterns use Java `SimpleDateFormat` letters (`yyyy-MM-dd`,
  `EEEE`, `HH:mm`, `'quoted'`); Babel's CLDR patterns, which we render with, use the same letters.
- The locale defaults to en_US (the JVM default on AWS); `tz` defaults to UTC; an unknown zone or
  locale is an error rather than Java's silent fallback to GMT, so a preview never hides a typo.
- Endpoint values are strings, so the date may be an ISO-8601 text (`2026-11-23`, `2026-11-23T09:30:00Z`,
  with or without an offset; without one it is UTC), a `datetime`/`date`, or epoch milliseconds (a
  number, as Java's `Date(long)`). A missing date prints the first extra argument or nothing, like the
  other string helpers.
- `{{now}}` honours a positional format (`{{now "short"}}`) as Pinpoint documents, where Handlebars.java
  would read the format from the hash only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotpromptz_handlebars import HelperOptions

from campaign_tools.rendering.errors import HelperError
from campaign_tools.rendering.values import java_is_empty, to_text

Helper = Callable[[list[Any], HelperOptions], Any]
Clock = Callable[[], datetime]
_STYLES = frozenset({"full", "long", "medium", "short"})


def parse_date(value: Any, helper: str = "dateFormat") -> datetime:
    """An aware datetime from what an endpoint or template can hold."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise HelperError(f"{helper}: {value!r} is not an ISO-8601 date such as 2026-11-23T09:30:00Z") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise HelperError(f"{helper}: {to_text(value)!r} is not a date")


def _zone(options: HelperOptions, helper: str) -> ZoneInfo:
    name = options.hash.get("tz")
    if name is None:
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(to_text(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise HelperError(
            f"{helper}: unknown time zone {to_text(name)!r} (use an IANA name such as Europe/Paris)"
        ) from None


def format_date(moment: datetime, pattern: str, locale_name: str, zone: ZoneInfo, helper: str) -> str:
    from babel import Locale, UnknownLocaleError
    from babel.dates import format_date as babel_format_date
    from babel.dates import format_datetime

    try:
        locale = Locale.parse(locale_name.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        raise HelperError(f"{helper}: unknown locale {locale_name!r} (use a name such as en_US or fr_FR)") from None
    local = moment.astimezone(zone)
    try:
        if pattern in _STYLES:
            return babel_format_date(local.date(), format=pattern, locale=locale)
        return format_datetime(local, pattern, tzinfo=zone, locale=locale)
    except (ValueError, KeyError) as err:
        raise HelperError(f"{helper}: cannot use the date pattern {pattern!r}: {err}") from None


def _pattern_and_locale(extra: list[Any], options: HelperOptions) -> tuple[str, str]:
    pattern = to_text(extra[0]) if extra else to_text(options.hash.get("format", "medium"))
    locale = to_text(extra[1]) if len(extra) > 1 else "en_US"
    return pattern or "medium", locale


def date_helpers(clock: Clock) -> dict[str, Helper]:
    def date_format(args: list[Any], options: HelperOptions) -> Any:
        value = args[0] if args else None
        if java_is_empty(value):
            return to_text(args[1]) if len(args) > 1 else ""
        pattern, locale = _pattern_and_locale(args[1:], options)
        return format_date(parse_date(value), pattern, locale, _zone(options, "dateFormat"), "dateFormat")

    def now(args: list[Any], options: HelperOptions) -> Any:
        pattern, locale = _pattern_and_locale(args, options)
        return format_date(parse_date(clock(), "now"), pattern, locale, _zone(options, "now"), "now")

    return {"dateFormat": date_format, "now": now}
