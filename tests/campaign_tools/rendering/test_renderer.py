"""Pinpoint-specific behaviour of the renderer: defaults, branch coverage, errors with lines, injection."""

from __future__ import annotations

import copy
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from campaign_tools.rendering import (
    BranchHit,
    PinpointRenderer,
    TemplateRenderError,
    parse_default_substitutions,
)
from campaign_tools.rendering.program import compile_program
from tests.campaign_tools.rendering.corpus import CORE_TEMPLATES, ENDPOINT, HELPER_TEMPLATES

# --- DefaultSubstitutions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "template"),
    [
        ("User.UserAttributes.Nickname", "{{User.UserAttributes.Nickname.[0]}}"),
        ("User.UserAttributes.Nickname.[0]", "{{User.UserAttributes.Nickname.[0]}}"),
        ("User.UserAttributes.Nickname", "{{User.UserAttributes.Nickname}}"),
        ("User.UserAttributes.[Nick Name]", "{{User.UserAttributes.[Nick Name].[0]}}"),
        ("User.UserAttributes.Nick Name", "{{User.UserAttributes.[Nick Name].[0]}}"),
        ("Recommendations.Name", "{{Recommendations.Name.[7]}}"),
        ("Location.Region", "{{Location.Region}}"),
    ],
)
def test_a_missing_variable_takes_its_default_in_every_documented_key_form(
    renderer: PinpointRenderer, key: str, template: str
) -> None:
    out = renderer.render(template, ENDPOINT, default_substitutions={key: "friend"})
    assert out.text == "friend"


def test_a_present_value_wins_over_the_default(renderer: PinpointRenderer) -> None:
    defaults = {"User.UserAttributes.FirstName": "friend", "Recommendations.Name": "Our picks"}
    out = renderer.render(
        "{{User.UserAttributes.FirstName.[0]}} / {{Recommendations.Name.[1]}} / {{Recommendations.Name.[3]}}",
        ENDPOINT,
        default_substitutions=defaults,
    )
    assert out.text == "Ana / Sun Hat &amp; Co / Our picks"


def test_an_indexed_key_is_more_specific_than_the_list_key(renderer: PinpointRenderer) -> None:
    defaults = {"Recommendations.Name": "any slot", "Recommendations.Name.[4]": "fifth slot"}
    out = renderer.render(
        "{{Recommendations.Name.[3]}}|{{Recommendations.Name.[4]}}", ENDPOINT, default_substitutions=defaults
    )
    assert out.text == "any slot|fifth slot"


@pytest.mark.parametrize("empty", [None, "", []])
def test_null_empty_text_and_empty_lists_count_as_no_value(renderer: PinpointRenderer, empty: object) -> None:
    endpoint = {"Attributes": {"City": empty}}
    out = renderer.render("[{{Attributes.City}}]", endpoint, default_substitutions={"Attributes.City": "Lyon"})
    assert out.text == "[Lyon]"


def test_without_a_default_a_missing_variable_renders_as_nothing(renderer: PinpointRenderer) -> None:
    out = renderer.render("[{{Recommendations.Name.[9]}}][{{Nope.Deeper}}]", ENDPOINT, default_substitutions={"X": "y"})
    assert out.text == "[][]"


def test_defaults_reach_helper_arguments_and_conditions_and_are_escaped(renderer: PinpointRenderer) -> None:
    defaults = {"Attributes.Tier": "<gold>", "Recommendations.Title": "our picks"}
    template = (
        "{{upper Attributes.Tier.[0]}}|{{#if Attributes.Tier.[0]}}tier{{else}}none{{/if}}|"
        "{{{Attributes.Tier.[0]}}}|{{capitalize (lower Recommendations.Title.[0])}}"
    )
    out = renderer.render(template, {}, default_substitutions=defaults)
    assert out.text == "&lt;GOLD&gt;|tier|<gold>|Our Picks"


def test_defaults_may_be_given_as_the_json_string_pinpoint_stores(renderer: PinpointRenderer) -> None:
    out = renderer.render("{{Location.City}}", {}, default_substitutions='{"Location.City": "Oslo"}')
    assert out.text == "Oslo"


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"A": 1}', "must be a string"),
        ('{"": "x"}', "empty variable name"),
    ],
)
def test_bad_default_substitutions_are_refused_with_a_clear_reason(raw: str, problem: str) -> None:
    with pytest.raises(TemplateRenderError, match=problem):
        parse_default_substitutions(raw, template="offer/sms")


def test_parse_default_substitutions_returns_the_object() -> None:
    assert parse_default_substitutions('{"A.B": "x", "C": ""}') == {"A.B": "x", "C": ""}
    assert parse_default_substitutions(None) == {}
    assert parse_default_substitutions("") == {}


# --- Branch coverage ------------------------------------------------------------------------------------

BRANCHY = """<h1>Hi</h1>
{{#if User.UserAttributes.FirstName.[0]}}
  {{User.UserAttributes.FirstName.[0]}}
{{else if Address}}
  {{Address}}
{{else}}
  there
{{/if}}
{{#each Recommendations.Name}}
  {{#if @first}}<b>{{this}}</b>{{else}}{{this}}{{/if}}
{{else}}
  nothing to recommend
{{/each}}
{{#with Location}}{{City}}{{else}}nowhere{{/with}}
{{#unless Attributes.Vip.[0]}}regular{{/unless}}
{{#eq Location.Country "FR"}}bonjour{{else}}hello{{/eq}}
"""


def test_branches_name_helper_branch_and_opening_line(renderer: PinpointRenderer) -> None:
    out = renderer.render(BRANCHY, ENDPOINT, name="offer/email.html")
    assert out.branches == (
        BranchHit("offer/email.html", 2, "if", "then"),
        BranchHit("offer/email.html", 10, "if", "then"),
        BranchHit("offer/email.html", 10, "if", "else"),
        BranchHit("offer/email.html", 9, "each", "each(3)"),
        BranchHit("offer/email.html", 14, "with", "then"),
        BranchHit("offer/email.html", 15, "unless", "then"),
        BranchHit("offer/email.html", 16, "eq", "then"),
    )


def test_an_endpoint_without_data_takes_the_other_branches(renderer: PinpointRenderer) -> None:
    out = renderer.render(BRANCHY, {"Address": "x@example.com", "Attributes": {"Vip": ["yes"]}})
    taken = {(hit.line, hit.helper, hit.branch) for hit in out.branches}
    assert taken == {
        (2, "if", "else"),
        (4, "if", "then"),
        (9, "each", "empty"),
        (14, "with", "else"),
        (15, "unless", "else"),
        (16, "eq", "else"),
    }


def test_each_reports_the_item_count_of_every_run(renderer: PinpointRenderer) -> None:
    template = "{{#each Groups}}{{#each this}}{{this}}{{/each}}{{/each}}"
    out = renderer.render(template, {"Groups": [["a"], ["b", "c"], ["d"]]})
    assert [(hit.helper, hit.branch) for hit in out.branches] == [
        ("each", "each(1)"),
        ("each", "each(2)"),
        ("each", "each(3)"),
    ]


def test_branches_inside_inline_partials_keep_their_source_lines(renderer: PinpointRenderer) -> None:
    template = '{{#* inline "card"}}\n{{#if this}}x{{else}}y{{/if}}\n{{/inline}}\n{{#each Items}}{{> card}}{{/each}}'
    out = renderer.render(template, {"Items": ["a", ""]})
    assert {(hit.line, hit.branch) for hit in out.branches} == {(2, "then"), (2, "else"), (4, "each(2)")}


# --- Errors ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "line", "reason"),
    [
        ("a\nb\n{{#if Address}}\nnever closed\n", 3, "never closed"),
        ("{{#each X}}\n{{/if}}", 2, "does not match"),
        ("x\n{{/if}}", 2, "not open"),
        ("x\n\n{{else}}", 3, "outside a block"),
        ("ok\n{{Address", 2, "unclosed tag"),
        ("ok\n{{!-- never ends }}", 2, "unclosed comment"),
        ("\n\n{{upper (lower 'A')}}\n{{shout Address}}", 4, "'shout' is not a helper Pinpoint documents"),
        ("{{add 1 2}}\n{{divide 1 0}}", 2, "division by zero"),
        ("{{#each X}}\n{{/each}}\n{{abbreviate 'abcdef' 2}}", 3, "at least 4"),
        ("x\n{{pinrec:default Address 0}}", 2, "reserved"),
        ("x\n{{#if (pinrec:print Address -1)}}{{/if}}", 2, "reserved"),
        ("x\n{{Address}}}", 2, "three braces"),
        ("x\n{{{{raw}}}}{{y}}{{{{/raw}}}}", 2, "raw blocks"),
        ("{{#if a}}\nx\n{{else with b}}y{{/if}}", 3, "can chain"),
        ("{{#if a}}{{/if}}\n{{Items.0}}", 2, "not valid"),
    ],
)
def test_errors_name_the_template_and_the_line(
    renderer: PinpointRenderer, template: str, line: int, reason: str
) -> None:
    with pytest.raises(TemplateRenderError) as caught:
        renderer.render(template, ENDPOINT, name="welcome/subject")
    err = caught.value
    assert (err.template, err.line) == ("welcome/subject", line)
    assert reason in err.reason
    assert str(err).startswith(f"welcome/subject:{line}: ")


def test_text_that_merely_mentions_the_reserved_prefix_is_fine(renderer: PinpointRenderer) -> None:
    assert renderer.render('{{replace "a pinrec:b" "pinrec:" ""}} pinrec:x', {}).text == "a b pinrec:x"


def test_check_reports_syntax_errors_without_rendering(renderer: PinpointRenderer) -> None:
    renderer.check("{{#if a}}ok{{/if}}")
    with pytest.raises(TemplateRenderError, match="never closed"):
        renderer.check("{{#each a}}", name="t")


# --- Escaping, injection, sharing ----------------------------------------------------------------------


def test_escape_false_prints_values_as_they_are(renderer: PinpointRenderer) -> None:
    endpoint = {"Recommendations": {"Name": ["Tom & Jerry's <DVD> `=`"]}}
    assert renderer.render("{{Recommendations.Name.[0]}}", endpoint).text == (
        "Tom &amp; Jerry&#x27;s &lt;DVD&gt; &#x60;&#x3D;&#x60;"
    )
    assert renderer.render("{{Recommendations.Name.[0]}}", endpoint, escape=False).text == "Tom & Jerry's <DVD> `=`"


def test_clock_and_uuid_are_injected() -> None:
    moments = iter([datetime(2030, 1, 2, 23, 30, tzinfo=UTC), datetime(2030, 1, 3, tzinfo=UTC)])
    ids = iter(["id-1", "id-2"])
    renderer = PinpointRenderer(now=lambda: next(moments), uuid=lambda: next(ids))
    template = "{{now 'yyyy-MM-dd HH:mm' tz='Asia/Tokyo'}} {{uuid}}"
    assert renderer.render(template, {}).text == "2030-01-03 08:30 id-1"
    assert renderer.render(template, {}).text == "2030-01-03 09:00 id-2"


def test_the_default_clock_and_uuid_are_real() -> None:
    renderer = PinpointRenderer()
    year = renderer.render("{{now 'yyyy'}}", {}).text
    assert abs(int(year) - datetime.now(UTC).year) <= 1
    first, second = renderer.render("{{uuid}}", {}).text, renderer.render("{{uuid}}", {}).text
    assert len(first) == 36 and first != second


def test_rendering_never_changes_the_endpoint(renderer: PinpointRenderer) -> None:
    before = copy.deepcopy(ENDPOINT)
    for template in CORE_TEMPLATES[:20]:
        renderer.render(template, ENDPOINT, default_substitutions={"Nope": "x"})
    assert before == ENDPOINT


def test_concurrent_renders_keep_their_own_branches_and_defaults(renderer: PinpointRenderer) -> None:
    template = "{{#if Flag}}{{Name}}{{else}}{{Missing}}{{/if}}"

    def render(i: int) -> tuple[str, tuple[str, ...]]:
        endpoint = {"Flag": i % 2 == 0, "Name": f"n{i}"}
        out = renderer.render(template, endpoint, default_substitutions={"Missing": f"d{i}"})
        return out.text, tuple(hit.branch for hit in out.branches)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(render, range(200)))
    assert results == [(f"n{i}", ("then",)) if i % 2 == 0 else (f"d{i}", ("else",)) for i in range(200)]


@pytest.mark.parametrize("template", CORE_TEMPLATES + HELPER_TEMPLATES)
def test_the_scanner_and_the_parser_agree_on_every_tag(template: str, renderer: PinpointRenderer) -> None:
    try:
        program = compile_program(template, template="t", helper_names=renderer.helper_names)
    except TemplateRenderError:
        return  # templates in the corpus that must fail to parse
    assert program.lines_exact
