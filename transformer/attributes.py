"""Turning one catalog item into the string values of the configured recommendation attributes."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import jinja2

from transformer.template_sandbox import attribute_environment, render_bounded

if TYPE_CHECKING:
    from transformer.config import AttributeConfig

ItemValues = tuple[str, ...]
"""One string per configured attribute, in configuration order."""


class TemplateSyntaxProblem(ValueError):
    """An attribute template does not compile."""


class Unrenderable(ValueError):
    """An attribute has no value for an item: the field is absent or not a scalar, or the template failed.

    The message says why without quoting the item's values, so `pinrec config check` and the send can show it."""


_UNDEFINED = re.compile(r"'([^']+)' is undefined|has no attribute '([^']+)'")


def template_failure(error: Exception, source: str) -> str:
    """Why a template failed, naming an undefined name only when the template's own text holds it (a name taken
    from the item's data could be one of its values)."""
    if isinstance(error, jinja2.UndefinedError):
        match = _UNDEFINED.search(str(error))
        name = next((group for group in match.groups() if group), "") if match else ""
        if name.isidentifier() and re.search(rf"\b{re.escape(name)}\b", source):
            return f"template failed: undefined name {name!r}"
    return f"template failed: {type(error).__name__}"


def compile_template(source: str) -> jinja2.Template:
    """Compile an attribute template in the sandbox (transformer.template_sandbox)."""
    environment = attribute_environment()
    try:
        return environment.from_string(source)
    except jinja2.TemplateSyntaxError as error:
        raise TemplateSyntaxProblem(f"line {error.lineno}: {error.message}") from None
    except RecursionError:
        raise TemplateSyntaxProblem("the template is nested too deeply to compile") from None


def scalar_text(value: Any) -> str:
    """Render a catalog value as Pinpoint text: numbers without a trailing '.0', booleans in lower case."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise Unrenderable("not a finite number")
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    raise Unrenderable(f"a {type(value).__name__} is not a scalar (use a template to format it)")


_JOINERS = {"\u200d"}  # zero-width joiner glues emoji sequences


def _continues_cluster(char: str) -> bool:
    """True when `char` belongs to the grapheme cluster before it (combining mark, joiner, modifier)."""
    code = ord(char)
    return (
        unicodedata.combining(char) != 0
        or unicodedata.category(char) in ("Mn", "Me", "Mc")
        or char in _JOINERS
        or 0xFE00 <= code <= 0xFE0F  # variation selectors
        or 0x1F3FB <= code <= 0x1F3FF  # emoji skin-tone modifiers
        or 0xE0020 <= code <= 0xE007F  # emoji tag sequences
    )


def _is_regional_indicator(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def truncate_cleanly(text: str, max_length: int) -> str:
    """Cut `text` to at most `max_length` characters without splitting a user-perceived character."""
    if len(text) <= max_length:
        return text
    cut = max_length
    while cut > 0 and (_continues_cluster(text[cut]) or text[cut - 1] in _JOINERS):
        cut -= 1
    # Flags are pairs of regional indicators: never keep an odd one of a run that crosses the cut.
    if cut > 0 and _is_regional_indicator(text[cut - 1]) and _is_regional_indicator(text[cut]):
        run_start = cut
        while run_start > 0 and _is_regional_indicator(text[run_start - 1]):
            run_start -= 1
        if (cut - run_start) % 2:
            cut -= 1
    return text[:cut].rstrip()


class AttributeRenderer:
    """Computes one attribute's value for an item, from a field or a sandboxed jinja2 template."""

    def __init__(self, name: str, spec: AttributeConfig) -> None:
        self.name = name
        self._field = spec.field
        self._source = spec.template or ""
        self._template = compile_template(spec.template) if spec.template is not None else None
        self._default = spec.default
        self._max_length = spec.max_length

    def render(self, item: Mapping[str, Any]) -> str:
        """The attribute value for `item`; raises Unrenderable when there is neither value nor default."""
        try:
            value = self.value_of(item)
        except Unrenderable:
            if self._default is None:
                raise
            value = self._default
        if self._max_length is not None:
            value = truncate_cleanly(value, self._max_length)
        return value

    def value_of(self, item: Mapping[str, Any]) -> str:
        """The item's own value, before any default or cut; raises Unrenderable saying why there is none."""
        if self._field is not None:
            if self._field not in item:
                raise Unrenderable(f"field {self._field!r} is absent")
            return scalar_text(item[self._field])
        assert self._template is not None
        try:
            return render_bounded(self._template, item)
        except Exception as error:  # whatever a template raises (its own bugs, the sandbox's limits) is its failure
            raise Unrenderable(template_failure(error, self._source)) from None

    @property
    def default(self) -> str | None:
        if self._default is None or self._max_length is None:
            return self._default
        return truncate_cleanly(self._default, self._max_length)


class ItemProjector:
    """Projects catalog items onto the configured attributes, in configuration order."""

    def __init__(self, attributes: Mapping[str, AttributeConfig]) -> None:
        self._renderers = [AttributeRenderer(name, spec) for name, spec in attributes.items()]
        self.names: tuple[str, ...] = tuple(attributes)
        defaults = [renderer.default for renderer in self._renderers]
        self.fill_values: ItemValues | None = (
            None if any(value is None for value in defaults) else tuple(defaults)  # type: ignore[arg-type]
        )

    def project(self, item: Mapping[str, Any]) -> ItemValues | None:
        """All attribute values for `item`, or None when any attribute has neither value nor default."""
        try:
            return tuple(renderer.render(item) for renderer in self._renderers)
        except Unrenderable:
            return None
