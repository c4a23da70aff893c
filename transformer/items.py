"""What an item id is, and why an item has no values: the one rule every lookup applies to the ids it is given."""

from __future__ import annotations

from enum import StrEnum

from transformer.limits import MAX_ITEM_ID_LENGTH


class ItemReason(StrEnum):
    """Why an item of an endpoint counts as unknown (dropped, or filled with the defaults)."""

    INVALID_ID = "invalid_id"
    """Not an item id: not a string, empty, longer than Pinpoint's 100 characters, or holding a lone surrogate."""
    NOT_IN_CATALOG = "not_in_catalog"
    DAMAGED = "damaged"
    """The catalog holds the id, but its stored document cannot be read as an item."""
    NO_VALUE = "no_value"
    """An attribute has neither a value nor a default for the item (field absent or not a scalar, template failed)."""


def encodable(text: str) -> bool:
    """True when UTF-8, every store's encoding, can encode `text`: it holds no lone surrogate.

    A lone surrogate (`"\\ud800"`) is valid in a JSON string and in a Python str, but no store can take it.
    """
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def is_item_id(value: object) -> bool:
    """True when `value` can be an item id: a non-empty string of at most 100 characters that UTF-8 can encode.

    Anything else that an endpoint's `RecommendationItems` holds counts as an unknown item (`invalid_id`) and never
    reaches a store. NUL and any other code point are allowed: both stores take them.
    """
    return isinstance(value, str) and 0 < len(value) <= MAX_ITEM_ID_LENGTH and encodable(value)
