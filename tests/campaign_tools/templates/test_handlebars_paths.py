"""The linter's path finder: helpers, literals, block params and comments are not paths."""

from __future__ import annotations

from campaign_tools.templates.handlebars_paths import path_uses
from campaign_tools.templates.paths import default_key, describe_path

ATTRIBUTES = ("Title", "Price")


def _paths(source: str) -> list[tuple[int, str, str | None, bool]]:
    return [(use.line, use.path, use.block, use.printed) for use in path_uses(source)]


def test_helpers_literals_and_sub_expressions_are_told_apart() -> None:
    source = (
        '{{Id}}\n{{capitalize (lower Recommendations.Title.[0]) }} {{eq Metrics.orders 3 yes="a" no=b}}\n'
        "{{#if Recommendations.Price.[1]}}x{{else if Attributes.Vip.[0]}}y{{/if}} {{now}} {{! {{Ignored}} }}"
        "{{!-- {{Also.Ignored}} --}} \\{{Escaped}}"
    )
    assert _paths(source) == [
        (1, "Id", None, True),
        (2, "Recommendations.Title.[0]", None, False),
        (2, "Metrics.orders", None, False),
        (2, "b", None, False),
        (3, "Recommendations.Price.[1]", "if", False),
        (3, "Attributes.Vip.[0]", "if", False),
        (3, "now", None, True),
    ]


def test_each_item_and_block_params_are_not_endpoint_paths() -> None:
    source = (
        "{{#each Recommendations.Title as |title i|}}{{title}} {{i}} {{@index}} {{this}} {{../Id}}{{/each}}"
        "{{{Recommendations.Title.[0]}}}"
    )
    uses = path_uses(source)
    assert [(use.path, use.block) for use in uses] == [
        ("Recommendations.Title", "each"),
        ("Id", None),
        ("Recommendations.Title.[0]", None),
    ]
    assert uses[-1].triple and not uses[0].triple


def test_paths_are_classified_against_the_endpoint_shape() -> None:
    assert describe_path("Recommendations.Title.[2]", ATTRIBUTES).index == 2
    assert describe_path("Recommendations.Title", ATTRIBUTES).is_list
    assert describe_path("Recommendations.Genre.[0]", ATTRIBUTES).problem.startswith("Recommendations.Genre is not")
    assert describe_path("User.UserAttributes.[Last Name].[0]", ATTRIBUTES).known
    assert describe_path("Location.City", ATTRIBUTES).known
    assert not describe_path("Location.Street", ATTRIBUTES).known
    assert not describe_path("Attributes.Interests.[0].Name", ATTRIBUTES).known
    assert default_key("Recommendations.Title.[3]") == "Recommendations.Title"
