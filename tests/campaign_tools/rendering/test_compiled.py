"""Programs compiled into closures render exactly as the engine interprets them: the same text, the same branches
and the same errors, over handlebars.js's spec corpus and the shipped templates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaign_tools.rendering import PinpointRenderer, TemplateRenderError
from tests.campaign_tools.rendering.conftest import FIXED_NOW, FIXED_UUID

HERE = Path(__file__).parent
CORPUS = json.loads((HERE / "handlebars_spec_corpus.json").read_text(encoding="utf-8"))["cases"]


def renderers() -> tuple[PinpointRenderer, PinpointRenderer]:
    compiled = PinpointRenderer(now=lambda: FIXED_NOW, uuid=lambda: FIXED_UUID)
    engine = PinpointRenderer(now=lambda: FIXED_NOW, uuid=lambda: FIXED_UUID, compiled=False)
    return compiled, engine


def outcome(renderer: PinpointRenderer, template: str, data: Any, escape: bool = True) -> dict[str, Any]:
    try:
        rendered = renderer.render(template, data, escape=escape, default_substitutions={"a": "A", "b.c": "BC"})
    except TemplateRenderError as error:
        return {"error": str(error)}
    return {"text": rendered.text, "branches": rendered.branches}


@pytest.mark.parametrize("escape", [True, False])
def test_the_spec_corpus_renders_alike_compiled_or_interpreted(escape: bool) -> None:
    compiled, engine = renderers()
    compared = 0
    for case in CORPUS:
        data = case.get("input")
        if not isinstance(data, dict | list | str | int | float | bool | type(None)):
            continue
        expected = outcome(engine, case["template"], data, escape)
        assert outcome(compiled, case["template"], data, escape) == expected, case["id"]
        compared += 1
    assert compared > 500


def test_most_corpus_programs_are_compiled() -> None:
    compiled, _ = renderers()
    programs = 0
    for case in CORPUS:
        try:
            program = compiled._compile(case["template"], "t")
        except TemplateRenderError:
            continue
        programs += program.render is not None
    assert programs > 400


FRAGMENTS = [
    *("text ", "\n", "<p>", "{{a}}", "{{{a}}}", "{{l.[0]}}", "{{l.[7]}}", "{{#if a}}", "{{#if n}}", "{{else if b}}"),
    *("{{else}}", "{{^}}", "{{/if}}", "{{#each l}}", "{{#each o as |v k|}}{{k}}={{v}}", "{{@index}}{{this}}"),
    *("{{@first}}{{@last}}{{@key}}", "{{/each}}", "{{#unless b}}", "{{/unless}}", "{{#with o}}", "{{x}}{{../a}}"),
    *("{{/with}}", "{{#with o as |w|}}{{w.x}}", "{{#o}}{{x}}{{/o}}", "{{#l}}{{.}}{{/l}}", "{{^a}}none{{/a}}"),
    *("{{#t}}{{a}}{{/t}}", "{{#t as |z|}}{{z}}{{/t}}", "{{lookup l 1}}", "{{l.length}}", '{{"a"}}', "{{1.5}}"),
    *("{{.5}}", "{{a.b..c}}", "{{@root.a}}", "{{@../index}}", "{{../../a}}", "{{eq a b}}", "{{#eq n 0}}z{{/eq}}"),
    *("{{upper a}}", "{{default b 'dflt'}}", "{{nope a}}", "{{#if}}x{{/if}}", "{{#each}}x{{/each}}", "{{f}}"),
    *("{{l.[²]}}", "{{a.[0]}}", "{{n.[0]}}", "{{o.y.[0]}}", "{{l.[1].x}}"),
    *("{{#if n includeZero=true}}zero{{/if}}", "{{(lookup o 'x')}}", "{{b.c}}", "{{u}}", "{{[x y]}}", "{{this.a}}"),
]
CONTEXT = {"a": "<A&'>", "b": "", "n": 0, "t": True, "l": ["x", "<y>", 3, 2.5, None], "o": {"x": "X", "y": [1]}}


@settings(max_examples=400, deadline=None)
@given(template=st.lists(st.sampled_from(FRAGMENTS), max_size=14).map("".join), escape=st.booleans())
def test_random_templates_render_alike_compiled_or_interpreted(template: str, escape: bool) -> None:
    compiled, engine = renderers()
    assert outcome(compiled, template, CONTEXT, escape) == outcome(engine, template, CONTEXT, escape)


@given(st.text() | st.text(alphabet="&<>\"'`=a;#x"))
def test_printed_values_are_escaped_as_the_engine_escapes_them(text: str) -> None:
    from dotpromptz_handlebars._render import _ESCAPE

    from campaign_tools.rendering.compiled import _escaped

    assert _escaped(text) == text.translate(_ESCAPE)
