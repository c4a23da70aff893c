"""Templates stitched from random fragments: the renderer either renders them like handlebars.js or refuses
them with a TemplateRenderError — never another exception — and lines always match the scanner."""

from __future__ import annotations

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from campaign_tools.rendering import PinpointRenderer, TemplateRenderError
from campaign_tools.rendering.program import compile_program
from tests.campaign_tools.rendering.oracle import HandlebarsOracle

FRAGMENTS = [
    "text ",
    "\n",
    "  ",
    "<p>",
    "{{a}}",
    "{{{a}}}",
    "{{l.[0]}}",
    "{{l.[7]}}",
    "{{#if a}}",
    "{{#if n}}",
    "{{else if b}}",
    "{{else}}",
    "{{^}}",
    "{{/if}}",
    "{{#each l}}",
    "{{@index}}{{this}}",
    "{{/each}}",
    "{{#unless b}}",
    "{{/unless}}",
    "{{#with o}}",
    "{{x}}{{../a}}",
    "{{/with}}",
    "{{!-- c }} --}}",
    "{{! c }}",
    "\\{{a}}",
    "{{~a~}}",
    '{{#*inline "p"}}',
    "{{/inline}}",
    "{{> p}}",
    "{{lookup l 1}}",
    "{{l.length}}",
    '{{"a"}}',
    "{{log a}}",
    "{{",
    "}}",
    "}",
]
CONTEXT = {"a": "<A&'>", "b": "", "n": 0, "l": ["x", "<y>"], "o": {"x": "X"}}
_templates = st.lists(st.sampled_from(FRAGMENTS), max_size=12).map("".join)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(template=_templates)
def test_random_templates_render_like_handlebars_js_or_are_refused(
    renderer: PinpointRenderer, oracle: HandlebarsOracle, template: str
) -> None:
    try:
        text = renderer.render(template, CONTEXT).text
    except TemplateRenderError:
        event("refused")
        return  # refusing is allowed (see RENDERING_API.md); crashing with anything else is not
    event("rendered and compared")
    program = compile_program(template, template="t", helper_names=renderer.helper_names)
    assert program.lines_exact
    assert oracle.render(template, CONTEXT) == {"text": text}


_LEAVES = st.sampled_from(
    [
        "text ",
        "\n",
        "  ",
        "\t",
        "{{a}}",
        "{{{a}}}",
        "{{l.[1]}}",
        "{{l.[9]}}",
        "{{o.x}}",
        "{{@index}}",
        "{{this}}",
        "{{../a}}",
        "{{! note }}",
        "{{!-- long }} note --}}",
        "{{~a}}",
        "{{a~}}",
        "{{~! note ~}}",
        "\\{{a}}",
        "{{lookup l 0}}",
        "{{> p}}",
        "{{l.length}}",
        "{{'a'}}",
        "{{o.[x]}}",
    ]
)


def _blocks(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    def wrap(kind: str, body: str, other: str | None, pad: str, tilde: str) -> str:
        openers = {
            "if": ("{{#if a}}", "{{/if}}"),
            "if-zero": ("{{#if n}}", "{{/if}}"),
            "unless": ("{{#unless b}}", "{{/unless}}"),
            "each": ("{{#each l}}", "{{/each}}"),
            "each-empty": ("{{#each e}}", "{{/each}}"),
            "with": ("{{#with o}}", "{{/with}}"),
        }
        start, end = openers[kind]
        if tilde == "open":
            start = "{{~" + start[2:-2] + "~}}"
        elif tilde == "close":
            end = "{{~" + end[2:]
        middle = "" if other is None else pad + ("{{~else}}" if tilde == "else" else "{{else}}") + pad + other
        return start + pad + body + middle + pad + end

    return st.builds(
        wrap,
        st.sampled_from(["if", "if-zero", "unless", "each", "each-empty", "with"]),
        children,
        st.none() | children,
        st.sampled_from(["", "\n", "  \n", "\n  ", " "]),
        st.sampled_from(["", "", "", "open", "close", "else"]),
    )


_balanced = st.recursive(
    _LEAVES, lambda children: st.one_of(st.lists(children, max_size=4).map("".join), _blocks(children)), max_leaves=12
)
_with_partial = st.builds(lambda body, rest: '{{#*inline "p"}}' + body + "{{/inline}}\n" + rest, _balanced, _balanced)
# A partial block: its body runs where the inline partial says {{> @partial-block}}, or instead of a missing partial.
_with_partial_block = st.builds(
    lambda body, block, name: (
        '{{#*inline "p"}}' + body + "{{> @partial-block}}{{/inline}}\n{{#> " + name + "}}" + block + "{{/" + name + "}}"
    ),
    _balanced,
    _balanced,
    st.sampled_from(["p", "missing"]),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(template=st.one_of(_balanced, _with_partial, _with_partial_block))
def test_random_well_formed_templates_render_like_handlebars_js(
    renderer: PinpointRenderer, oracle: HandlebarsOracle, template: str
) -> None:
    context = dict(CONTEXT, e=[])
    expected = oracle.render(template, context)
    try:
        text = renderer.render(template, context).text
    except TemplateRenderError:
        assert "error" in expected, template
        return
    assert compile_program(template, template="t", helper_names=renderer.helper_names).lines_exact
    assert expected == {"text": text}
