"""The renderer against handlebars.js 4.7.8 (tests/oracle/render.js under Node): same text, or both refuse."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaign_tools.rendering import PinpointRenderer, TemplateRenderError
from tests.campaign_tools.rendering.conftest import FIXED_UUID
from tests.campaign_tools.rendering.corpus import CORE_TEMPLATES, ENDPOINT, HELPER_TEMPLATES
from tests.campaign_tools.rendering.oracle import HandlebarsOracle

ORACLE_NOW = "2026-11-23T09:30:00Z"  # the same moment as conftest.FIXED_NOW


def ours(renderer: PinpointRenderer, template: str, context: Any, *, escape: bool = True) -> dict[str, str]:
    try:
        return {"text": renderer.render(template, context, escape=escape).text}
    except TemplateRenderError as err:
        return {"error": str(err)}


def assert_same(expected: dict[str, str], actual: dict[str, str], template: str) -> None:
    if "error" in expected or "error" in actual:
        assert ("error" in expected, "error" in actual) == (True, True), (template, expected, actual)
    else:
        assert actual["text"] == expected["text"], template


@pytest.mark.parametrize("template", CORE_TEMPLATES)
def test_core_constructs_match_handlebars_js(
    renderer: PinpointRenderer, oracle: HandlebarsOracle, template: str
) -> None:
    expected = oracle.render(template, ENDPOINT)
    assert_same(expected, ours(renderer, template, ENDPOINT), template)


@pytest.mark.parametrize("template", CORE_TEMPLATES[:12])
def test_unescaped_rendering_matches_handlebars_js_no_escape(
    renderer: PinpointRenderer, oracle: HandlebarsOracle, template: str
) -> None:
    expected = oracle.render(template, ENDPOINT, escape=False)
    assert_same(expected, ours(renderer, template, ENDPOINT, escape=False), template)


@pytest.mark.parametrize("template", HELPER_TEMPLATES)
def test_pinpoint_helpers_match_the_javascript_reference(
    renderer: PinpointRenderer, oracle: HandlebarsOracle, template: str
) -> None:
    expected = oracle.render(template, ENDPOINT, helpers=True, now=ORACLE_NOW, uuid=FIXED_UUID)
    assert_same(expected, ours(renderer, template, ENDPOINT), template)


def test_the_corpus_renders_something_real(renderer: PinpointRenderer) -> None:
    """Guards the differential tests against passing on a corpus where everything errors or prints nothing."""
    texts = [ours(renderer, t, ENDPOINT).get("text", "") for t in CORE_TEMPLATES + HELPER_TEMPLATES]
    assert sum(1 for text in texts if text.strip()) > len(texts) * 3 // 4
    assert "O&#x27;Neil &amp; &quot;Sons&quot; &lt;Ltd&gt; &#x60;&#x3D;&#x60;" in "".join(texts)


# Text with markup, quotes, backticks, equals signs and any non-surrogate Unicode.
_value_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("<>&\"'`= /{}")),
        st.characters(exclude_categories=("Cs",)),
    ),
    max_size=12,
)
_endpoints = st.fixed_dictionaries(
    {
        "Address": _value_text,
        "User": st.fixed_dictionaries(
            {"UserAttributes": st.fixed_dictionaries({"FirstName": st.lists(_value_text, max_size=2)})}
        ),
        "Attributes": st.fixed_dictionaries({"Tier": st.lists(_value_text, max_size=2)}),
        "Metrics": st.fixed_dictionaries(
            {"Score": st.one_of(st.integers(-1000, 1000), st.floats(-1e6, 1e6, allow_nan=False))}
        ),
        "Recommendations": st.fixed_dictionaries(
            {
                "Name": st.lists(_value_text, max_size=5),
                "Price": st.lists(st.from_regex(r"\d{1,3}(\.\d{1,2})?", fullmatch=True), max_size=5),
            }
        ),
    }
)
_PROPERTY_TEMPLATES = [
    "<p>{{Address}}</p><p>{{{Address}}}</p>",
    "Hi {{#if User.UserAttributes.FirstName.[0]}}{{User.UserAttributes.FirstName.[0]}}{{else}}there{{/if}}!",
    '{{#each Recommendations.Name}}<li data-i="{{@index}}">{{#if @first}}*{{/if}}{{this}}'
    " {{lookup ../Recommendations.Price @index}}</li>{{else}}<li>none</li>{{/each}}",
    "{{Recommendations.Name.[0]}}|{{Recommendations.Name.[4]}}|{{Attributes.Tier.[1]}}|{{Metrics.Score}}",
    "{{#unless Attributes.Tier}}no tier{{else}}{{Attributes.Tier.[0]}}{{/unless}} {{#with Recommendations}}"
    "{{Name.[1]}}{{/with}}",
]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(endpoint=_endpoints, template=st.sampled_from(_PROPERTY_TEMPLATES))
def test_generated_endpoints_render_like_handlebars_js(
    renderer: PinpointRenderer, oracle: HandlebarsOracle, endpoint: dict[str, Any], template: str
) -> None:
    assert_same(oracle.render(template, endpoint), ours(renderer, template, endpoint), template)


def _javascript_can_title_case(char: str) -> bool:
    """JavaScript has no titlecase mapping: the oracle upper-cases a single character, which is what Java's
    Character.toTitleCase gives for every character except these few (checked by hand-computed tests)."""
    upper = char.upper()
    return char.title() == (upper if len(upper) == 1 else char)


_helper_text = _value_text.filter(lambda text: all(_javascript_can_title_case(char) for char in text))
_HELPER_PROPERTY_TEMPLATES = [
    "{{upper Address}}|{{lower Address}}|{{capitalizeFirst Address}}|{{capitalize Address}}",
    "{{cut Address 'a'}}|{{replace Address '<' '['}}|{{stripTags Address}}|{{abbreviate Address 6}}",
    "{{join Recommendations.Name ' · ' prefix='(' suffix=')'}}|{{upper Recommendations.Name}}|{{lower Tags}}",
    "[{{ljust Address size=8 pad='.'}}][{{rjust Address size=8}}][{{center Address size=9 pad='ab'}}]",
    "{{#eq Address Recommendations.Name.[0]}}same{{else}}different{{/eq}} {{lt Address 'm'}} {{not Address}}",
    "{{encode64 Address}} {{md5 Address}} {{sha256 Recommendations.Name.[0]}}",
]


_helper_endpoints = st.fixed_dictionaries(
    {
        "Address": _helper_text,
        "Recommendations": st.fixed_dictionaries({"Name": st.lists(_helper_text, max_size=4)}),
        "Tags": st.lists(_helper_text, min_size=1, max_size=3),
    }
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(endpoint=_helper_endpoints, template=st.sampled_from(_HELPER_PROPERTY_TEMPLATES))
def test_generated_text_through_helpers_matches_the_javascript_reference(
    renderer: PinpointRenderer, oracle: HandlebarsOracle, endpoint: dict[str, Any], template: str
) -> None:
    expected = oracle.render(template, endpoint, helpers=True, now=ORACLE_NOW, uuid=FIXED_UUID)
    assert_same(expected, ours(renderer, template, endpoint), template)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**53), 2**53), max_size=4))
def test_numbers_print_like_javascript(renderer: PinpointRenderer, oracle: HandlebarsOracle, values: list) -> None:
    endpoint = {"Metrics": {"First": values[0] if values else None}, "Values": values}
    template = "{{Metrics.First}}|{{#each Values}}{{this}};{{/each}}|{{Values}}|{{lookup Values 0}}"
    assert_same(oracle.render(template, endpoint), ours(renderer, template, endpoint), template)
