"""Attribute values: scalar rendering, sandboxed templates, defaults and clean truncation."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from transformer.attributes import ItemProjector, Unrenderable, scalar_text, truncate_cleanly
from transformer.config import AttributeConfig


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("Tent", "Tent"),
        (3, "3"),
        (3.0, "3"),
        (-0.0, "0"),
        (19.99, "19.99"),
        (1e20, "1e+20"),
        (True, "true"),
        (False, "false"),
    ],
)
def test_scalar_text(value, text):
    assert scalar_text(value) == text


@pytest.mark.parametrize("value", [None, [1], {"a": 1}, float("nan"), float("inf")])
def test_non_scalars_are_unrenderable(value):
    with pytest.raises(Unrenderable):
        scalar_text(value)


def _project(attributes: dict, item: dict):
    specs = {name: AttributeConfig(**spec) for name, spec in attributes.items()}
    return ItemProjector(specs).project(item)


def test_fields_and_templates_in_configuration_order():
    values = _project(
        {
            "Title": {"field": "name"},
            "Price": {"template": "{{ '%.2f' | format(item.price) }}"},
            "Url": {"template": "https://shop.example.com/p/{{ item.id }}?utm_source=pinpoint"},
        },
        {"id": "P1", "name": "Tent", "price": 289},
    )
    assert values == ("Tent", "289.00", "https://shop.example.com/p/P1?utm_source=pinpoint")


def test_absent_field_uses_the_default_or_makes_the_item_unusable():
    attributes = {"Title": {"field": "name"}, "Price": {"template": "{{ '%.2f' | format(item.price) }}"}}
    assert _project(attributes, {"name": "Gift card"}) is None
    attributes["Price"]["default"] = ""
    assert _project(attributes, {"name": "Gift card"}) == ("Gift card", "")
    assert _project(attributes, {"name": "Gift card", "price": "n/a"}) == ("Gift card", "")


def test_templates_are_sandboxed():
    attributes = {"X": {"template": "{{ item.__class__.__mro__ }}", "default": "blocked"}}
    assert _project(attributes, {"id": "1"}) == ("blocked",)


def test_template_output_is_not_html_escaped_here():
    """Escaping is the message template's job ({{x}} escapes); the attribute carries the data as it is."""
    assert _project({"T": {"template": "{{ item.name }}"}}, {"name": "<b>A & B</b>"}) == ("<b>A & B</b>",)


def test_max_length_applies_to_values_and_defaults():
    specs = {"T": {"field": "name", "max_length": 4, "default": "unknown"}}
    assert _project(specs, {"name": "abcdefgh"}) == ("abcd",)
    assert _project(specs, {}) == ("unkn",)


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("Cafe\u0301 au lait", 4, "Caf"),  # e + combining acute stays whole
        ("Cafe\u0301 au lait", 5, "Cafe\u0301"),
        ("hi \U0001f469\u200d\U0001f4bb!", 4, "hi"),  # woman-technologist ZWJ sequence is not split
        ("hi \U0001f469\u200d\U0001f4bb!", 6, "hi \U0001f469\u200d\U0001f4bb"),
        ("ok \U0001f44d\U0001f3fd", 4, "ok"),  # skin-tone modifier stays with its emoji
        ("go \U0001f1eb\U0001f1f7\U0001f1e9\U0001f1ea", 6, "go \U0001f1eb\U0001f1f7"),  # flags are pairs
        ("go \U0001f1eb\U0001f1f7\U0001f1e9\U0001f1ea", 4, "go"),
        ("short", 10, "short"),
    ],
)
def test_truncation_never_splits_a_character(text, limit, expected):
    assert truncate_cleanly(text, limit) == expected


@given(st.text(), st.integers(min_value=1, max_value=40))
def test_truncation_is_a_prefix_within_the_limit(text, limit):
    cut = truncate_cleanly(text, limit)
    assert len(cut) <= limit
    assert text.startswith(cut)
    if len(text) <= limit:
        assert cut == text
    else:
        assert unicodedata.combining(text[len(cut)]) == 0, "the cut must not orphan a combining mark"
