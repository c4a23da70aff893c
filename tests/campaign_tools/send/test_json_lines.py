"""One JSON line's verdict: the reader's shortcut (no walk when the line cannot hold what the walk looks for) gives
the same answer as parsing the line and walking every value, whatever the line holds."""

from __future__ import annotations

import json
import math

from hypothesis import given
from hypothesis import strategies as st

from campaign_tools.send.json_lines import MalformedLine, parse_line, value_problem

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text()
    | st.sampled_from(["\ud800", "\udfff", "a\udc80b"])
)
VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3)
)
TOKENS = st.sampled_from(
    ["1e400", "-1e999", "1" + "0" * 400 + ".5", "2.5", '"\\ud800"', '"\\u00e9"', "[" * 40 + "]" * 40]
)


def walked(line: str) -> object:
    """The verdict by parsing and walking every value (json_lines' rules, without its shortcut)."""
    try:
        value = json.loads(line, parse_constant=lambda name: float("nan"))
    except (json.JSONDecodeError, RecursionError, ValueError):
        return "not JSON"
    if any(isinstance(item, float) and math.isnan(item) for item in [value]):
        return "not JSON"
    problem = value_problem(value)
    return value if problem is None else MalformedLine(problem)


def verdict(result: object) -> object:
    """Malformed, or the value; a line breaking two rules may be refused naming either."""
    return "malformed" if isinstance(result, MalformedLine) else ("value", json.dumps(result, sort_keys=True))


@given(VALUES, st.booleans())
def test_any_value_written_as_a_line_gets_the_walks_verdict(value: object, ascii_only: bool) -> None:
    try:
        line = json.dumps(value, ensure_ascii=ascii_only)
    except (RecursionError, ValueError):
        return
    ours, theirs = parse_line(line), walked(line)
    assert verdict(ours) == ("malformed" if theirs == "not JSON" else verdict(theirs))


@given(st.lists(TOKENS, min_size=1, max_size=4))
def test_overflowing_numbers_surrogate_escapes_and_deep_nesting_get_the_walks_verdict(tokens: list[str]) -> None:
    line = '{"x": [' + ", ".join(tokens) + "]}"
    ours, theirs = parse_line(line), walked(line)
    assert verdict(ours) == verdict(theirs)
    if isinstance(ours, MalformedLine) and len(set(tokens)) == 1:
        assert ours == theirs, "one rule broken: the same reason"
