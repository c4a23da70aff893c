"""Why an attribute has no value for an item: the reason `pinrec config check` and the send show, which names what
the configuration wrote (a field, an undefined name in the template) and never an item's values."""

from __future__ import annotations

from typing import Any

import pytest

from transformer.attributes import AttributeRenderer, Unrenderable
from transformer.config import AttributeConfig


def reason(spec: dict[str, Any], item: dict[str, Any]) -> str:
    with pytest.raises(Unrenderable) as caught:
        AttributeRenderer("A", AttributeConfig(**spec)).value_of(item)
    return str(caught.value)


@pytest.mark.parametrize(
    ("spec", "item", "expected"),
    [
        (
            {"template": "https://shop.example.com/p/{{ item.idd }}"},
            {"id": "P1"},
            "template failed: undefined name 'idd'",
        ),
        ({"template": "{{ itm.id }}"}, {"id": "P1"}, "template failed: undefined name 'itm'"),
        ({"template": "{{ '%.2f' | format(item.price) }}"}, {"price": "cheap"}, "template failed: TypeError"),
        ({"field": "name"}, {"id": "P1"}, "field 'name' is absent"),
        ({"field": "tags"}, {"tags": ["a"]}, "a list is not a scalar (use a template to format it)"),
    ],
)
def test_the_reason_names_what_the_configuration_wrote(
    spec: dict[str, Any], item: dict[str, Any], expected: str
) -> None:
    assert reason(spec, item) == expected


def test_a_name_taken_from_the_item_s_data_is_not_shown() -> None:
    why = reason({"template": "{{ item[item.kind] }}"}, {"kind": "secret-value-of-the-item"})
    assert why == "template failed: UndefinedError" and "secret" not in why


def test_the_default_still_applies_and_the_own_value_is_what_value_of_reads() -> None:
    renderer = AttributeRenderer("A", AttributeConfig(template="{{ item.idd }}", default="-"))
    assert renderer.render({"id": "P1"}) == "-"
    assert AttributeRenderer("A", AttributeConfig(field="id", max_length=2)).value_of({"id": "P123"}) == "P123"
