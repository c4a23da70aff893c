"""Lint hazards (Handlebars.java differences) and the tag scanner that gives everything its line numbers."""

from __future__ import annotations

import pytest

from campaign_tools.rendering import Hazard, TemplateRenderError, lint_hazards
from campaign_tools.rendering.hazards import list_path
from campaign_tools.rendering.scanner import TagKind, scan
from campaign_tools.rendering.whitespace import prepare


def codes(source: str) -> list[tuple[int, str]]:
    return [(hazard.line, hazard.code) for hazard in lint_hazards(source)]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{Recommendations.Title}}", [(1, "bare-list")]),
        (
            "{{User.UserAttributes.Tags}}\n{{Attributes.Interests}}\n{{RecommendationItems}}",
            [(1, "bare-list"), (2, "bare-list"), (3, "bare-list")],
        ),
        ("{{upper Recommendations.Title}}", [(1, "bare-list")]),
        ("{{Metrics.Visits}}", [(1, "number-print")]),
        ("{{add 1 1.5}}", [(1, "float-literal")]),
        ("{{#if Metrics.Visits}}x{{/if}}", [(1, "if-number")]),
        ("{{#unless Metrics.Visits}}x{{/unless}}", [(1, "if-number")]),
        ('{{dateFormat "2026-01-01" tz=America/Los_Angeles}}', [(1, "unquoted-argument")]),
        ("{{eq Location.Country FR}}", [(1, "unquoted-argument")]),
        ("{{inflect 3 apple apples}}", [(1, "unquoted-argument"), (1, "unquoted-argument")]),
        ('{{#gt User.UserAttributes.Age.[0] "17"}}x{{/gt}}', [(1, "numeric-string-comparison")]),
        ("x\n{{lte 18 Attributes.Age.[0]}}", [(2, "numeric-string-comparison")]),
        ("{{#eq Recommendations.Price.[0] 25}}x{{/eq}}", [(1, "numeric-string-comparison")]),
        ("{{shout Address}}", [(1, "unknown-helper")]),
        ("{{#if (shout Address)}}x{{/if}}", [(1, "unknown-helper")]),
        ("{{{Recommendations.Name.[0]}}}\n{{& Address}}", [(1, "triple-stash"), (2, "triple-stash")]),
    ],
)
def test_each_hazard_is_reported_with_its_line(source: str, expected: list[tuple[int, str]]) -> None:
    assert codes(source) == expected


@pytest.mark.parametrize(
    "source",
    [
        "{{Recommendations.Title.[0]}} {{join Recommendations.Title ', '}} {{User.UserAttributes.Tags.[2]}}",
        "{{#each Recommendations.Title}}{{upper this}} {{lookup ../Recommendations.Price @index}}{{/each}}",
        "{{#each Items}}{{upper Name}}{{/each}}",  # relative paths inside each are fine
        "{{#with Location}}{{eq City 'Paris'}}{{/with}}",
        "{{upper Address}} {{eq Location.Country 'FR'}} {{#if User.UserAttributes.FirstName.[0]}}x{{/if}}",
        "{{#if (gt (add Metrics.A 2) 3)}}x{{/if}} {{#if Nope}}{{/if}}",  # math inside a condition prints nothing
        "{{divide 5 2}}",  # math results print as Pinpoint documents them
        '{{gt Metrics.Age 17}} {{eq Location.Country "17"}} {{lt Attributes.Name.[0] "Bob"}}',  # number vs number, text
    ],
)
def test_safe_templates_have_no_hazards(source: str) -> None:
    assert lint_hazards(source) == []


def test_hazards_are_dataclasses_with_readable_messages() -> None:
    (hazard,) = lint_hazards("line one\n{{Recommendations.Title}}")
    assert hazard == Hazard(2, "bare-list", hazard.message)
    assert "Recommendations.Title.[0]" in hazard.message


def test_a_template_that_does_not_scan_has_no_hazards() -> None:
    assert lint_hazards("{{Recommendations.Title") == []


@pytest.mark.parametrize(
    ("path", "is_list"),
    [
        ("Recommendations.Title", True),
        ("Recommendations.Title.[0]", False),
        ("User.UserAttributes.[Last Name]", True),
        ("User.UserAttributes.[Last Name].[0]", False),
        ("Attributes.Tier", True),
        ("RecommendationItems", True),
        ("RecommendationItems.[1]", False),
        ("Location.City", False),
    ],
)
def test_list_paths(path: str, is_list: bool) -> None:
    assert list_path(path) is is_list


def test_scanner_lines_kinds_and_escapes() -> None:
    source = (
        "a \\{{not a tag}} b\n"
        "{{#if x}}\n"
        "{{!-- a }} comment --}}{{else if y}}\n"
        "{{{raw}}} {{~& amp ~}}\n"
        '{{#* inline "p"}}{{> p}}{{/inline}}\n'
        "{{^z}}{{/z}}{{else}}"
    )
    tags = scan(source)
    assert [(tag.line, tag.kind) for tag in tags] == [
        (2, TagKind.BLOCK),
        (3, TagKind.COMMENT),
        (3, TagKind.ELSE_CHAIN),
        (4, TagKind.MUSTACHE),
        (4, TagKind.MUSTACHE),
        (5, TagKind.INLINE_PARTIAL),
        (5, TagKind.PARTIAL),
        (5, TagKind.CLOSE),
        (6, TagKind.BLOCK),
        (6, TagKind.CLOSE),
        (6, TagKind.ELSE),
    ]
    assert tags[3].triple and tags[3].body == "raw"
    assert tags[8].inverted and tags[8].name == "z"
    assert tags[2].name == "if"


def test_unclosed_tags_report_their_line() -> None:
    with pytest.raises(TemplateRenderError) as caught:
        scan("one\ntwo {{{ x }}\n", template="t")
    assert caught.value.line == 2


def test_the_parser_gets_whitespace_already_controlled_and_its_spellings() -> None:
    source = 'x\n  {{#*   inline "card"}}\nbody {{~a~}} z\n{{/inline}}\n{{#if b}}{{^}}{{/if}}'
    prepared = prepare(source, scan(source), keep_marker="{{K}}")
    assert (
        prepared.source
        == 'x\n{{#*inline "card"}}{{K}}body{{a}}z\n{{/inline}}{{K}}{{#if b}}{{K}}{{else}}{{K}}{{/if}}{{K}}'
    )


@pytest.mark.parametrize(
    ("source", "named"),
    [
        ('{{dateFormat "2020-09-19" tz=America/Los_Angeles}}', 'write tz="America/Los_Angeles"'),
        ("{{inflect 3 apple apples includeCount=true}}", 'write "apple"'),
        ("{{upper (now 'short' tz=Europe/Paris)}}", 'write tz="Europe/Paris"'),
    ],
)
def test_a_bare_word_argument_is_named_with_its_quoted_form(source: str, named: str) -> None:
    assert named in lint_hazards(source)[0].message


def test_a_numeric_string_comparison_says_what_happens_for_9_and_100() -> None:
    (quoted,) = lint_hazards('{{#gt User.UserAttributes.Age.[0] "17"}}x{{/gt}}')
    assert '"9" counts as greater than "17" and "100" as less' in quoted.message
    (unquoted,) = lint_hazards("{{gt User.UserAttributes.Age.[0] 17}}")
    assert 'fails on it for "9" and "100" alike' in unquoted.message
