"""The helper set Pinpoint documents, assembled for one renderer (clock and uuid injected)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from dotpromptz_handlebars import HelperOptions

from campaign_tools.rendering.errors import HelperError
from campaign_tools.rendering.helpers.conditionals import CONDITIONAL_HELPERS
from campaign_tools.rendering.helpers.dates import date_helpers
from campaign_tools.rendering.helpers.numbers import number_helpers
from campaign_tools.rendering.helpers.strings import STRING_HELPERS
from campaign_tools.rendering.values import is_list

Helper = Callable[[list[Any], HelperOptions], Any]

# Block helpers the engine runs itself (handlebars.js semantics); `if` also has an inline form above.
BUILTIN_BLOCK_HELPERS = frozenset({"if", "unless", "each", "with"})


def _lookup(args: list[Any], options: HelperOptions) -> Any:
    """handlebars.js `lookup`: `{{lookup list @index}}`, `{{lookup obj "key"}}`; no value -> nothing."""
    if len(args) != 2:
        raise HelperError(f"lookup takes an object and a key, got {len(args)} values")
    container, key = args
    if isinstance(container, Mapping):
        return container.get(key if isinstance(key, str) else str(key))
    if is_list(container):
        try:
            index = int(key)
        except (TypeError, ValueError):
            return None
        return container[index] if 0 <= index < len(container) else None
    return None


def _log(args: list[Any], options: HelperOptions) -> Any:
    """`{{log …}}` prints nothing in handlebars.js and in Handlebars.java (both register it by default)."""
    return ""


# Helpers both engines register by default although Pinpoint does not document them: they render, lint flags them.
UNDOCUMENTED_BUILTINS = frozenset({"log"})


def pinpoint_helpers(*, clock: Callable[[], datetime], make_uuid: Callable[[], str]) -> dict[str, Helper]:
    helpers: dict[str, Helper] = {"lookup": _lookup, "log": _log}
    helpers.update(CONDITIONAL_HELPERS)
    helpers.update(STRING_HELPERS)
    helpers.update(date_helpers(clock))
    helpers.update(number_helpers(make_uuid))
    return helpers


DOCUMENTED_HELPERS = (
    frozenset(pinpoint_helpers(clock=datetime.now, make_uuid=str)) | BUILTIN_BLOCK_HELPERS
) - UNDOCUMENTED_BUILTINS
