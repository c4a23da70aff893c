"""dateFormat and now, with an injectable clock.

Usage as Pinpoint documents it (its current helper page, and the earlier one for the positional forms):
`{{dateFormat date [inputFormat="MM/dd/yyyy"] [outputFormat="full"] [tz="America/Los_Angeles"]}}`,
`{{dateFormat date ["format"] ["locale"] [format=…] [locale=…] [tz=…]}}` and `{{now ["format"] [tz=…]}}`.

- The output format (first extra argument, else `outputFormat=`, else `format=`, else `medium`) is `full`,
  `long`, `medium` or `short` — a date without time, as Java's `DateFormat.getDateInstance` gives it
  ("Saturday, September 19, 2020", "September 19, 2020", "Sep 19, 2020", "9/19/20" in en_US) — or a
  SimpleDateFormat pattern (`yyyy-MM-dd`, `EEEE`, `h:mm a`), printed by `java_dates`.
- `inputFormat=` is the SimpleDateFormat pattern the date text is written in (`09/19/2020` with
  `MM/dd/yyyy`). Without it the date may be ISO-8601 text (`2026-11-23`, `2026-11-23T09:30:00Z`), a
  `datetime`/`date`, or epoch milliseconds (a number, as Java's `Date(long)`).
- A date without a zone or offset is a local time in `tz`, so `09/19/2020` stays September 19th whatever the zone.
- The locale (second extra argument, else `locale=`) defaults to en_US, the JVM default on AWS; `tz`
  defaults to UTC. An unknown zone or locale is an error rather than Java's silent fallback to GMT, so a
  preview never hides a typo. `tz=America/Los_Angeles` without quotes is a path with no value, so the zone is
  UTC, as in Pinpoint (lint reports the bare word).
- A missing date prints the first extra argument or nothing, like the other string helpers.
- `{{now}}` honours a positional format (`{{now "short"}}`) as Pinpoint documents, where Handlebars.java
  would read the format from the hash only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotpromptz_handlebars import HelperOptions

from campaign_tools.rendering.errors import HelperError
from campaign_tools.rendering.java_dates import format_java, parse_java
from campaign_tools.rendering.values import java_is_empty, to_text

if TYPE_CHECKING:
    from babel import Locale

Helper = Callable[[list[Any], HelperOptions], Any]
Clock = Callable[[], datetime]
_STYLES = frozenset({"full", "long", "medium", "short"})


def parse_date(value: Any, helper: str = "dateFormat", zone: ZoneInfo | None = None) -> datetime:
    """An aware datetime from what an endpoint or template can hold; no offset means local time in `zone`."""
    local = zone or ZoneInfo("UTC")
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=local)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=local)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise HelperError(
                f"{helper}: {value!r} is not an ISO-8601 date such as 2026-11-23T09:30:00Z"
                ' (give its pattern as inputFormat="MM/dd/yyyy")'
            ) from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=local)
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


def _locale(name: str, helper: str) -> Locale:
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(name.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        raise HelperError(f"{helper}: unknown locale {name!r} (use a name such as en_US or fr_FR)") from None


def format_date(moment: datetime, pattern: str, locale_name: str, zone: ZoneInfo, helper: str) -> str:
    from babel.dates import format_date as babel_format_date

    locale = _locale(locale_name, helper)
    local = moment.astimezone(zone)
    if pattern in _STYLES:
        return str(babel_format_date(local.date(), format=pattern, locale=locale))
    try:
        return format_java(local, pattern, locale)
    except HelperError as err:
        raise HelperError(f"{helper}: {err}") from None


def _output_and_locale(extra: list[Any], options: HelperOptions) -> tuple[str, str]:
    hashed = options.hash
    pattern = to_text(extra[0]) if extra else to_text(hashed.get("outputFormat", hashed.get("format", "medium")))
    locale = to_text(extra[1]) if len(extra) > 1 else to_text(hashed.get("locale", "en_US"))
    return pattern or "medium", locale or "en_US"


def date_helpers(clock: Clock) -> dict[str, Helper]:
    def date_format(args: list[Any], options: HelperOptions) -> Any:
        value = args[0] if args else None
        if java_is_empty(value):
            return to_text(args[1]) if len(args) > 1 else ""
        pattern, locale = _output_and_locale(args[1:], options)
        zone = _zone(options, "dateFormat")
        input_format = options.hash.get("inputFormat")
        if input_format is not None and isinstance(value, str):
            moment = parse_java(value.strip(), to_text(input_format), _locale(locale, "dateFormat"), zone, clock())
        else:
            moment = parse_date(value, "dateFormat", zone)
        return format_date(moment, pattern, locale, zone, "dateFormat")

    def now(args: list[Any], options: HelperOptions) -> Any:
        pattern, locale = _output_and_locale(args, options)
        return format_date(parse_date(clock(), "now"), pattern, locale, _zone(options, "now"), "now")

    return {"dateFormat": date_format, "now": now}
