"""The settings base: every violation at once, a rule's messages as they are, anything else naming its flag."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar

import pytest
from pydantic.dataclasses import dataclass

from campaign_tools.settings import SETTINGS_CONFIG, InvalidSettings, Settings, check_with, rule
from transformer.errors import PinrecError


def _even(value: int) -> list[str]:
    return [] if value % 2 == 0 else [f"--count {value} must be even"]


@dataclass(frozen=True, config=SETTINGS_CONFIG)
class Example(Settings):
    flags: ClassVar[Mapping[str, str]] = {"names": "--name"}

    count: Annotated[int, rule(_even)]
    names: tuple[str, ...] = ()
    limit: int = 10


def test_valid_settings_are_made_as_given() -> None:
    assert Example(4, ("a",), limit=3) == Example(count=4, names=("a",), limit=3)


def test_every_violation_is_reported_at_once_each_naming_its_flag() -> None:
    with pytest.raises(InvalidSettings) as raised:
        Example(3, "not a tuple", limit="many", other=1)  # type: ignore[arg-type, call-arg]

    assert raised.value.violations == [
        "--count 3 must be even",
        "--name: Input should be a valid tuple",
        "--limit: Input should be a valid integer, unable to parse string as an integer",
        "--other: Unexpected keyword argument",
    ]
    assert str(raised.value).startswith("invalid input:\n  - --count 3 must be even\n  - --name:")


def test_defaults_are_checked_like_given_values() -> None:
    @dataclass(frozen=True, config=SETTINGS_CONFIG)
    class OddDefault(Settings):
        count: Annotated[int, rule(_even)] = 1

    with pytest.raises(InvalidSettings, match="--count 1 must be even"):
        OddDefault()


def _known(value: str) -> str:
    if value != "known":
        raise PinrecError(f"--spec must be known, got {value!r}")
    return value


@dataclass(frozen=True, config=SETTINGS_CONFIG)
class Checked(Settings):
    spec: Annotated[str, check_with(_known)] = "known"


def test_a_check_that_raises_reports_its_message_as_the_violation() -> None:
    assert Checked().spec == "known"
    with pytest.raises(InvalidSettings) as raised:
        Checked("other")
    assert raised.value.violations == ["--spec must be known, got 'other'"]
