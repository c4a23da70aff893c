"""handlebars.js's own spec suite (v4.7.8) as a differential corpus: every case a Pinpoint template could express
renders as handlebars.js renders it, or is listed in handlebars_spec_failures.toml with what Handlebars.java does.

The corpus is extracted mechanically by tests/oracle/extract-spec.js (its header says how to run it again); the
scope rule (JSON data; no custom helpers, registered partials, decorators, compile or runtime options) is applied
there and stored with each case.
"""

from __future__ import annotations

import json
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from campaign_tools.rendering import PinpointRenderer, TemplateRenderError
from tests.campaign_tools.rendering.oracle import HandlebarsOracle

HERE = Path(__file__).parent
CORPUS = json.loads((HERE / "handlebars_spec_corpus.json").read_text(encoding="utf-8"))
IN_SCOPE: list[dict[str, Any]] = [case for case in CORPUS["cases"] if not case["out_of_scope"]]
FAILURES: dict[str, str] = {
    entry["id"]: entry["reason"]
    for entry in tomllib.loads((HERE / "handlebars_spec_failures.toml").read_text(encoding="utf-8"))["failure"]
}
MIN_PASS_RATE = 0.97


def _outcome(renderer: PinpointRenderer, case: dict[str, Any]) -> dict[str, Any]:
    try:
        return {"text": renderer.render(case["template"], case["input"]).text}
    except TemplateRenderError as err:
        return {"error": str(err)}


def _matches(expected: dict[str, Any], outcome: dict[str, Any]) -> bool:
    if "error" in expected:
        return "error" in outcome
    return outcome.get("text") == expected["text"]


@cache
def _failing_ids(renderer: PinpointRenderer) -> frozenset[str]:
    return frozenset(case["id"] for case in IN_SCOPE if not _matches(case["expected"], _outcome(renderer, case)))


def test_the_corpus_is_the_pinned_spec_suite() -> None:
    assert CORPUS["handlebars"] == "4.7.8"
    assert len(CORPUS["cases"]) > 500
    assert len(IN_SCOPE) > 200
    assert len({case["id"] for case in CORPUS["cases"]}) == len(CORPUS["cases"])
    # The extractor rendered every in-scope case with handlebars.js: it agrees with the spec's expectation.
    for case in IN_SCOPE:
        assert _matches(case["expected"], case["oracle"]), case["id"]


@pytest.mark.parametrize("case", IN_SCOPE, ids=[case["id"] for case in IN_SCOPE])
def test_spec_case_renders_like_handlebars_js_unless_listed(renderer: PinpointRenderer, case: dict[str, Any]) -> None:
    matches = _matches(case["expected"], _outcome(renderer, case))
    if case["id"] in FAILURES:
        assert not matches, f"{case['id']} passes now: remove it from handlebars_spec_failures.toml"
    else:
        assert matches, (case["template"], case["input"], case["expected"], _outcome(renderer, case))


def test_the_failure_list_is_exactly_the_failing_cases(renderer: PinpointRenderer) -> None:
    in_scope_ids = {case["id"] for case in IN_SCOPE}
    assert set(FAILURES) <= in_scope_ids, set(FAILURES) - in_scope_ids
    assert _failing_ids(renderer) == set(FAILURES)
    assert all(len(reason) > 40 for reason in FAILURES.values())  # a reason, not a placeholder


def test_at_least_97_percent_of_the_in_scope_cases_pass(renderer: PinpointRenderer) -> None:
    passing = len(IN_SCOPE) - len(_failing_ids(renderer))
    assert passing / len(IN_SCOPE) >= MIN_PASS_RATE, f"{passing} of {len(IN_SCOPE)}"


def test_the_installed_handlebars_js_still_renders_the_recorded_expectations(oracle: HandlebarsOracle) -> None:
    for case in IN_SCOPE:
        assert _matches(case["expected"], oracle.render(case["template"], case["input"])), case["id"]
