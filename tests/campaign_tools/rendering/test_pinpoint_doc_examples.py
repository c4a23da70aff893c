"""Every example of Pinpoint's "Supported helpers" pages, in one table: what pinrec renders, and what lint says.

Pages: "current" is the page's last published source (awsdocs/amazon-pinpoint-user-guide, message-template-helpers.md,
2023-05-24, "Using message template helpers"); "earlier" is its first published version (2021-06-09, "Using
advanced template capabilities"); "live" marks the spellings issue 12 quotes from today's page where they differ
(`.[0]` on the yesno attribute, quoted `tz` and `inflect` words). An example the two pages share is listed once.

Each row renders as documented, or, where the page is wrong, as the helper really behaves — `doc_error` says what the
page claims and why it cannot be — or is refused: by the renderer (`refused`: a template Pinpoint cannot compile
either) or by lint (`hazards` holding an error code: the template renders, but not what the page says).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from campaign_tools.rendering import PinpointRenderer, TemplateRenderError, lint_hazards
from tests.campaign_tools.rendering.conftest import FIXED_UUID

LINT_ERRORS = frozenset({"unquoted-argument", "bare-list", "unknown-helper"})
"""Hazard codes lint reports as errors (see campaign_tools/templates/lint/registry.py)."""


@dataclass(frozen=True)
class DocExample:
    page: str  # "current", "earlier", "both" or "live"
    helper: str
    template: str
    endpoint: dict[str, Any]
    expected: str | None  # what pinrec renders; None when the renderer refuses the template
    hazards: tuple[str, ...] = ()  # lint_hazards codes, in order
    doc_error: str = ""  # what the page claims instead, and why it is wrong
    refused: str = ""  # the renderer's reason, when it refuses to compile the template
    note: str = ""

    @property
    def id(self) -> str:
        return f"{self.page}-{self.helper}-{self.template[:40]}"


def user(**attributes: str | list[str]) -> dict[str, Any]:
    """An endpoint whose user attributes are these (each a one-item list, as Pinpoint stores them)."""
    return {"User": {"UserAttributes": {k: v if isinstance(v, list) else [v] for k, v in attributes.items()}}}


def attributes(**values: str | list[str]) -> dict[str, Any]:
    return {"Attributes": {k: v if isinstance(v, list) else [v] for k, v in values.items()}}


LA = {"Location": {"City": "Los Angeles", "Country": "US"}}
RENT = "You are old enough to rent a car."
NO_RENT = "You are not old enough to rent a car."
TEXT_COMPARISON = ("numeric-string-comparison",)

EXAMPLES = [
    # ---- Default helpers ----
    DocExample(
        "both",
        "each",
        "{{#each User.UserAttributes.FavoriteColors}}<li>{{this}}</li>{{else}}You have no favorite colors.{{/each}}",
        user(FavoriteColors=["red", "blue", "yellow"]),
        "<li>red</li><li>blue</li><li>yellow</li>",
    ),
    DocExample(
        "both",
        "each",
        "{{#each User.UserAttributes.FavoriteColors}}<li>{{this}}</li>{{else}}You have no favorite colors.{{/each}}",
        user(FavoriteColors=[]),
        "You have no favorite colors.",
    ),
    DocExample(
        "both",
        "if",
        "{{#if User.UserAttributes.FirstName.[0]}}Hello {{User.UserAttributes.FirstName.[0]}},{{else}}Hello,{{/if}}",
        user(FirstName="Jane"),
        "Hello Jane,",
        doc_error='the earlier page says "Hello, Jane": the comma follows the name in the template',
    ),
    # ---- Conditional helpers ----
    DocExample(
        "both",
        "and",
        '{{#and (eq Location.City "Los Angeles") (eq Location.Country "US")}}You live in Los Angeles and the US.'
        "{{else}}You don’t live in Los Angeles and the US.{{/and}}",
        LA,
        "You live in Los Angeles and the US.",
    ),
    DocExample(
        "both",
        "eq",
        '{{#eq User.UserAttributes.FavoriteColors.[0] "red"}}Your favorite color is red.{{else}}'
        "You don't like red.{{/eq}}",
        user(FavoriteColors="red"),
        "Your favorite color is red.",
    ),
    DocExample(
        "current",
        "gt",
        f'{{{{#gt User.UserAttributes.UserAge.[0] "17"}}}}{RENT}{{{{else}}}}{NO_RENT}{{{{/gt}}}}',
        user(UserAge="22"),
        RENT,
        TEXT_COMPARISON,
    ),
    DocExample(
        "current",
        "gt",
        f'{{{{#gt User.UserAttributes.UserAge.[0] "17"}}}}{RENT}{{{{else}}}}{NO_RENT}{{{{/gt}}}}',
        user(UserAge="9"),
        RENT,
        TEXT_COMPARISON,
        note='the attribute is the string "9": Handlebars.java compares it with "17" as text, and "9" > "1"',
    ),
    DocExample(
        "earlier",
        "gt",
        f'{{{{#gt User.UserAttributes.UserAge[0] "17"}}}}{RENT}{{{{else}}}}{NO_RENT}{{{{/gt}}}}',
        user(UserAge="22"),
        None,
        TEXT_COMPARISON,
        refused="invalid path",
        doc_error="UserAge[0] is not a path (the current page writes UserAge.[0]); Pinpoint cannot run it either",
    ),
    DocExample(
        "both",
        "gte",
        f'{{{{#gte User.UserAttributes.UserAge.[0] "18"}}}}{RENT}{{{{else}}}}{NO_RENT}{{{{/gte}}}}',
        user(UserAge="22"),
        RENT,
        TEXT_COMPARISON,
    ),
    DocExample(
        "both",
        "if",
        "{{#if User.UserAttributes.FirstName.[0]}}Hello {{User.UserAttributes.FirstName.[0]}},{{else}}Hello,{{/if}}",
        user(),
        "Hello,",
    ),
    DocExample(
        "earlier",
        "if",
        "{{#if value}}Condition is true.{{else}}Condition is false.{{/gt}}",
        {},
        None,
        refused="does not match",
        doc_error="the usage closes {{#if}} with {{/gt}}",
    ),
    DocExample(
        "both",
        "lt",
        f'{{{{#lt User.UserAttributes.UserAge.[0] "18"}}}}{NO_RENT}{{{{else}}}}{RENT}{{{{/lt}}}}',
        user(UserAge="22"),
        RENT,
        TEXT_COMPARISON,
    ),
    DocExample(
        "earlier",
        "lt",
        "{{#lt valuea valueb}}Condition is true.{{else}}Condition is false.{{/gt}}",
        {},
        None,
        ("unquoted-argument", "unquoted-argument"),
        refused="does not match",
        doc_error="the usage closes {{#lt}} with {{/gt}}",
    ),
    DocExample(
        "current",
        "lte",
        f'{{{{#lte User.UserAttributes.Age.[0] "17"}}}}{NO_RENT}{{{{else}}}}{RENT}{{{{/lte}}}}',
        user(Age="22"),
        RENT,
        TEXT_COMPARISON,
    ),
    DocExample(
        "earlier",
        "lte",
        f'{{{{#lte User.UserAttributes.Age[0] "17"}}}}{NO_RENT}{{{{else}}}}{RENT}{{{{/lte}}}}',
        user(Age="22"),
        None,
        TEXT_COMPARISON,
        refused="invalid path",
        doc_error="Age[0] is not a path (the current page writes Age.[0])",
    ),
    DocExample(
        "current",
        "neq",
        '{{#neq User.UserAttributes.Favorite.Colors.[0] "red"}}You do not like red.{{else}}You like red.{{/neq}}',
        user(FavoriteColors="red"),
        "You do not like red.",
        doc_error="the example reads User.UserAttributes.Favorite.Colors (the text says FavoriteColors), which has no"
        ' value, so neq is true even for "red"',
    ),
    DocExample(
        "earlier",
        "neq",
        '{{#neg User.UserAttributes.Favorite.Colors[0] "red"}}You do not like red.{{else}}You like red.{{/neg}}',
        user(FavoriteColors="red"),
        None,
        ("unknown-helper",),
        refused="invalid path",
        doc_error="the earlier page calls a helper neg (for neq) on the path Colors[0]",
    ),
    DocExample(
        "current",
        "not",
        '{{#not (eq User.UserAttributes.Favorite.Colors.[0] "red")}}You do not like red.{{else}}You like red.{{/not}}',
        user(FavoriteColors="red"),
        "You do not like red.",
        doc_error="reads User.UserAttributes.Favorite.Colors, which has no value (see neq)",
    ),
    DocExample(
        "earlier",
        "not",
        '{{#not (eq User.UserAttributes.Favorite.Colors[0] "red")}}You do not like red.{{else}}You like red.{{/not}}',
        user(FavoriteColors="red"),
        None,
        refused="invalid path",
        doc_error="Colors[0] is not a path",
    ),
    DocExample(
        "both",
        "not",
        '{{not (eq User.UserAttributes.FavoriteColors.[0] "red")}}',
        user(FavoriteColors="red"),
        "false",
    ),
    DocExample(
        "both",
        "or",
        '{{#or (eq Location.City "Los Angeles") (eq Location.City "Seattle")}}You live on the West Coast of the'
        " United States.{{else}}You do not live on the West Coast of the United States.{{/or}}",
        {"Location": {"City": "Seattle"}},
        "You live on the West Coast of the United States.",
    ),
    # ---- String helpers ----
    DocExample(
        "both", "abbreviate", "{{abbreviate User.UserAttributes.LastName.[0] 6}}", user(LastName="Alejandro"), "Ale..."
    ),
    DocExample(
        "both",
        "capitalize",
        "{{capitalize Attributes.description.[0]}}",
        attributes(description="my first post"),
        "My First Post",
    ),
    DocExample(
        "both",
        "capitalizeFirst",
        "{{capitalizeFirst Attributes.description.[0]}}",
        attributes(description="my first post"),
        "My first post",
    ),
    DocExample(
        "both",
        "center",
        "{{center Location.City size=19}}",
        LA,
        "    Los Angeles    ",
        note='the page shows " Los Angeles " with its padding collapsed; 19 characters are 4 + 11 + 4',
    ),
    DocExample("both", "cut", '{{cut Location.City "e"}}', LA, "Los Angls"),
    DocExample(
        "current",
        "dateFormat",
        'We can meet with you any time on {{dateFormat User.UserAttributes.StartDate.[0] inputFormat="MM/dd/yyyy"'
        ' outputFormat="full" tz=America/Los_Angeles}}.',
        user(StartDate="09/19/2020"),
        "We can meet with you any time on Saturday, September 19, 2020.",
        ("unquoted-argument",),
        doc_error="the page says Tuesday; 2020-09-19 was a Saturday. Its unquoted tz is a path with no value, so"
        " the zone is UTC (the same date here); lint asks for the quoted form",
    ),
    DocExample(
        "live",
        "dateFormat",
        'We can meet with you any time on {{dateFormat User.UserAttributes.StartDate.[0] inputFormat="MM/dd/yyyy"'
        ' outputFormat="full" tz="America/Los_Angeles"}}.',
        user(StartDate="09/19/2020"),
        "We can meet with you any time on Saturday, September 19, 2020.",
        doc_error="the page says Tuesday; 2020-09-19 was a Saturday",
    ),
    DocExample(
        "earlier",
        "dateFormat",
        'We can meet with you any time on {{dateFormat date format="full" tz=America/Los_Angles}}.',
        {},
        "We can meet with you any time on .",
        ("unquoted-argument", "unquoted-argument"),
        doc_error='"date" is a placeholder (a path with no value, so nothing prints) and the zone, misspelt'
        " America/Los_Angles, is unquoted; the page's Tuesday, September 19, 2020 cannot come out",
    ),
    DocExample(
        "both",
        "inflect",
        "Thank you for your purchase of {{inflect 3 apple apples includeCount=false}}.",
        {},
        "Thank you for your purchase of .",
        ("unquoted-argument", "unquoted-argument"),
        doc_error="apple and apples are unquoted, so they are paths with no value and nothing prints; lint asks"
        ' for "apple" and "apples"',
    ),
    DocExample(
        "live",
        "inflect",
        'Thank you for your purchase of {{inflect 3 "apple" "apples" includeCount=false}}.',
        {},
        "Thank you for your purchase of apples.",
    ),
    DocExample(
        "live",
        "inflect",
        'Thank you for your purchase of {{inflect 3 "apple" "apples" includeCount=true}}.',
        {},
        "Thank you for your purchase of 3 apples.",
    ),
    DocExample(
        "both",
        "join",
        '{{join Attributes.favorite_colors ", "}}',
        attributes(favorite_colors=["blue", "red", "green"]),
        "blue, red, green",
    ),
    DocExample(
        "both",
        "ljust",
        "{{ljust Location.City 15}}",
        LA,
        "Los Angeles    ",
        note='the page shows "Los Angeles " with its padding collapsed',
    ),
    DocExample("both", "lower", "{{lower User.UserAttributes.LastName.[0]}}", user(LastName="Santos"), "santos"),
    DocExample(
        "both",
        "now",
        '{{now "medium" tz=America/Los_Angeles}}',
        {},
        "Nov 23, 2026",
        ("unquoted-argument",),
        doc_error='the page shows "Sept 19, 2020" (its day): en_US writes "Sep" in the medium format ("Sept" is'
        " en_GB); the unquoted zone has no value, so the date is UTC's",
    ),
    DocExample("live", "now", '{{now "medium" tz="America/Los_Angeles"}}', {}, "Nov 23, 2026"),
    DocExample("live", "now", '{{now "full" tz="Pacific/Auckland"}}', {}, "Monday, November 23, 2026"),
    DocExample(
        "current",
        "ordinalize",
        "Congratulations on your {{ordinalize User.UserAttributes.UserAge.[0]}} birthday!",
        user(UserAge="22"),
        "Congratulations on your 22nd birthday!",
    ),
    DocExample(
        "earlier",
        "ordinalize",
        "Congratulations on your {{ordinalize User.UserAttributes.UserAge[0]}} birthday!",
        user(UserAge="22"),
        None,
        refused="invalid path",
        doc_error="UserAge[0] is not a path (the current page writes UserAge.[0])",
    ),
    DocExample("both", "replace", '{{replace Location.City " " "_"}}', LA, "Los_Angeles"),
    DocExample(
        "both",
        "rjust",
        "{{rjust Location.City 15}}",
        LA,
        "    Los Angeles",
        note='the page shows " Los Angeles" with its padding collapsed',
    ),
    DocExample("both", "slugify", "{{slugify Location.City}}", LA, "los-angeles"),
    DocExample(
        "both", "stripTags", "{{stripTags User.UserAttributes.interests.[0]}}", user(interests="<h1>Art</h1>"), "Art"
    ),
    DocExample("both", "substring", "{{substring Location.City 4 9}}", LA, "Angel"),
    DocExample("both", "upper", "{{upper User.UserAttributes.LastName.[0]}}", user(LastName="Roe"), "ROE"),
    DocExample(
        "both",
        "yesno",
        "{{yesno Attributes.IsUserSubscribed}}",
        attributes(IsUserSubscribed="true"),
        None,
        ("bare-list",),
        doc_error="attributes are lists: the whole list is no boolean, and Pinpoint's yesno fails on it (lint: use"
        " .[0])",
    ),
    DocExample(
        "live", "yesno", "{{yesno Attributes.IsUserSubscribed.[0]}}", attributes(IsUserSubscribed="true"), "yes"
    ),
    DocExample(
        "live", "yesno", "{{yesno Attributes.IsUserSubscribed.[0]}}", attributes(IsUserSubscribed="false"), "no"
    ),
    DocExample("live", "yesno", "{{yesno Attributes.IsUserSubscribed.[0]}}", {}, "maybe"),
    # ---- Math and encoding helpers ----
    DocExample("both", "add", "{{add 5 2.3}}", {}, "7.3", ("float-literal",)),
    DocExample("both", "ceiling", "{{ceiling 5.23}}", {}, "6", ("float-literal",)),
    DocExample(
        "both",
        "decode64",
        '{{encode64 "SGVsbG8gd29ybGQ="}}',
        {},
        "U0dWc2JHOGdkMjl5YkdRPQ==",
        doc_error='the decode64 example calls encode64, and says "Hello World"; Base64-encoding the text prints this',
    ),
    DocExample(
        "both",
        "decode64",
        '{{decode64 "SGVsbG8gd29ybGQ="}}',
        {},
        "Hello world",
        doc_error='the intended call; the text decodes to "Hello world" (lower-case w), not "Hello World"',
    ),
    DocExample("both", "divide", "{{divide 5 2.3}}", {}, "2.17391304", ("float-literal",)),
    DocExample(
        "both",
        "encode64",
        '{{encode64 "Hello World"}}',
        {},
        "SGVsbG8gV29ybGQ=",
        doc_error='the page prints SGVsbG8gd29ybGQ=, which is "Hello world" (lower-case w)',
    ),
    DocExample("both", "floor", "{{floor 5.23}}", {}, "5", ("float-literal",)),
    DocExample(
        "both",
        "md5",
        '{{md5 "Hello World"}}',
        {},
        "b10a8db164e0754105b7a99be72e3fe5",
        doc_error='the page prints 3e25960a79dbc69b674cd4ec67a72c62, the MD5 of "Hello world" (lower-case w)',
    ),
    DocExample("both", "modulo", "{{modulo 7 2}}", {}, "1"),
    DocExample("both", "multiply", "{{multiply 5 2.3}}", {}, "11.5", ("float-literal",)),
    DocExample(
        "both",
        "round",
        "You spent an average of {{round 19.21}} minutes on our website each day.",
        {},
        "You spent an average of 19 minutes on our website each day.",
        ("float-literal",),
    ),
    DocExample(
        "both",
        "sha256",
        '{{sha256 "Hello World"}}',
        {},
        "a591a6d40bf420404a011733cfb7b190d62c65bf0bcda32b57b277d9ad9f146e",
    ),
    DocExample(
        "both",
        "sha512",
        '{{sha512 "Hello World"}}',
        {},
        "2c74fd17edafd80e8447b0d46741ee243b7eb74dd2149a0ab1b9246fb30382f2"
        "7e853d8585719e0e67cbda0daa8f51671064615d645ae27acb15bfb1447f459b",
    ),
    DocExample("both", "subtract", "{{subtract 5 2.3}}", {}, "2.7", ("float-literal",)),
    DocExample("both", "uuid", "{{uuid}}", {}, FIXED_UUID, note="random in Pinpoint; the renderer's uuid is injected"),
    # ---- Inline partials, nesting, variables ----
    DocExample(
        "both",
        "inline",
        '{{#* inline "fullName"}}{{User.UserAttributes.FirstName.[0]}} {{#if User.UserAttributes.LastName.[0]}}'
        " {{User.UserAttributes.LastName.[0]}} {{/if}}{{/inline}}Hello {{> fullName}}",
        user(FirstName="Jane", LastName="Doe"),
        "Hello Jane  Doe ",
        note='the page shows "Hello Jane Doe": its spaces, collapsed by HTML',
    ),
    DocExample(
        "both",
        "inline",
        '{{#* inline "fullName"}}{{User.UserAttributes.FirstName.[0]}} {{#if User.UserAttributes.LastName.[0]}}'
        " {{User.UserAttributes.LastName.[0]}} {{/if}}{{/inline}}Hello {{> fullName}}",
        user(FirstName="Jane"),
        "Hello Jane ",
    ),
    DocExample("current", "nesting", '{{capitalizeFirst (lower "JANE")}}', {}, "Jane"),
    DocExample("both", "variables", "{{upper User.UserAttributes.LastName.[0]}}", user(LastName="Santos"), "SANTOS"),
    DocExample(
        "current", "variables", "{{User.UserAttributes.[Last Name].[0]}}", user(**{"Last Name": "Santos"}), "Santos"
    ),
]


@pytest.mark.parametrize("example", EXAMPLES, ids=[example.id for example in EXAMPLES])
def test_doc_example_renders_as_documented_or_is_refused(renderer: PinpointRenderer, example: DocExample) -> None:
    if example.refused:
        with pytest.raises(TemplateRenderError, match=example.refused):
            renderer.check(example.template, name="doc")
        return
    if example.expected is None:
        with pytest.raises(TemplateRenderError):
            renderer.render(example.template, example.endpoint)
        return
    # Unescaped: the text a reader sees (an HTML part escapes "=" as &#x3D;, which displays as "=").
    assert renderer.render(example.template, example.endpoint, escape=False).text == example.expected


@pytest.mark.parametrize("example", EXAMPLES, ids=[example.id for example in EXAMPLES])
def test_doc_example_gets_exactly_its_lint_hazards(example: DocExample) -> None:
    assert tuple(hazard.code for hazard in lint_hazards(example.template)) == example.hazards


def test_every_example_that_does_not_render_as_documented_says_why() -> None:
    for example in EXAMPLES:
        rejected_by_lint = bool(LINT_ERRORS & set(example.hazards))
        if example.refused or example.expected is None or rejected_by_lint:
            assert example.doc_error, example.id  # what the page claims and why it cannot come out


def test_the_table_covers_every_documented_helper_on_both_pages() -> None:
    documented = {"each", "if", "and", "eq", "gt", "gte", "lt", "lte", "neq", "not", "or"}
    documented |= {"abbreviate", "capitalize", "capitalizeFirst", "center", "cut", "dateFormat", "inflect", "join"}
    documented |= {"ljust", "lower", "now", "ordinalize", "replace", "rjust", "slugify", "stripTags", "substring"}
    documented |= {"upper", "yesno", "add", "ceiling", "decode64", "divide", "encode64", "floor", "md5", "modulo"}
    documented |= {"multiply", "round", "sha256", "sha512", "subtract", "uuid", "inline"}
    for page in ("current", "earlier"):
        covered = {example.helper for example in EXAMPLES if example.page in (page, "both")}
        assert documented <= covered, (page, documented - covered)
