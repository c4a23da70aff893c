"""Attribute values computed when the catalog is loaded, so a cache miss costs a lookup instead of a decode and a
render per attribute.

A load given the `[attributes.*]` tables (`pinrec catalog load --config`) stores, beside each item, the values
`ItemProjector.project` gives it (or that it has none: `no_value`), and the fingerprint of the tables they were
computed for. A reader serves stored values only for the fingerprint the running configuration has; any other
configuration (another field, template, default, cut, order or attribute name; another rendering version or jinja2
version) reads the documents and renders them as before, so a stale value is never served.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from itertools import chain
from typing import TYPE_CHECKING

import jinja2

from transformer.attributes import ItemProjector, ItemValues
from transformer.stores.base import Item, Precomputed

if TYPE_CHECKING:
    from transformer.config import AttributeConfig

RENDERING_VERSION = 1
"""Bump whenever a change to `transformer.attributes` could change a rendered value: catalogs loaded before then
fall back to rendering until they are loaded again."""


def attributes_fingerprint(attributes: Mapping[str, AttributeConfig]) -> str:
    """A digest of everything the values depend on: each attribute's name, source, default and cut, in order, the
    rendering version and, when a template is configured, jinja2's version."""
    tables = [[name, spec.field, spec.template, spec.default, spec.max_length] for name, spec in attributes.items()]
    templating = jinja2.__version__ if any(spec.template is not None for spec in attributes.values()) else None
    text = json.dumps([RENDERING_VERSION, templating, tables], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def encode_values(values: ItemValues | None) -> str:
    """How a store holds an item's values: a JSON array of strings, or `null` for an item without (`no_value`).
    ASCII-escaped, so a lone surrogate in a value is stored as text any store takes."""
    return json.dumps(None if values is None else list(values), separators=(",", ":"))


def decode_values(text: object, count: int | None = None) -> Precomputed | None:
    """Stored values as `Precomputed`, or None when they are not what `encode_values` writes (then the reader
    renders the document instead)."""
    if not isinstance(text, str):
        return None
    try:
        values = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if values is None:
        return Precomputed(None)
    if type(values) is not list or not all(type(value) is str for value in values):
        return None
    if count is not None and len(values) != count:
        return None
    return Precomputed(tuple(values))


def decode_many(rows: Sequence[tuple[str, object]]) -> dict[str, Precomputed]:
    """`decode_values` of many (id, stored text) rows, with one JSON parse for all of them when every row is what
    `encode_values` writes (row by row otherwise); rows that are not are left out."""
    try:
        values = json.loads("[" + ",".join([text for _, text in rows]) + "]")  # type: ignore[misc]  # else TypeError
        if len(values) == len(rows) and {type(value) for value in values} <= _LIST_OR_NULL:
            "".join(chain.from_iterable(value for value in values if value is not None))  # TypeError: not a string
            return {
                item_id: Precomputed(None if value is None else tuple(value))
                for (item_id, _), value in zip(rows, values, strict=True)
            }
    except (TypeError, ValueError, RecursionError):
        pass
    decoded = ((item_id, decode_values(text)) for item_id, text in rows)
    return {item_id: value for item_id, value in decoded if value is not None}


_LIST_OR_NULL = {list, type(None)}


class LoadProjection:
    """What a load computes for each item: the configured attributes' values, and their fingerprint."""

    def __init__(self, attributes: Mapping[str, AttributeConfig]) -> None:
        self.fingerprint = attributes_fingerprint(attributes)
        self.count = len(attributes)
        self._projector = ItemProjector(attributes)

    def values_text(self, item: Item) -> str:
        return encode_values(self._projector.project(item))
