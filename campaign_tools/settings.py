"""Validated settings: the one schema a workflow's options go through, whether they come from the CLI, from code or
from a deployed Lambda's input.

A settings class derives from `Settings` (a frozen pydantic dataclass, built like a dataclass) or from
`SettingsModel` (a frozen pydantic model, for settings that travel as JSON, such as a send's to its Lambda
children). Either way every rule is checked when it is made, and every violation is reported at once, in one
`InvalidSettings` error: a rule's own messages as they are (they name the flag), anything else prefixed with the flag
of the field it is about.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    ValidationError,
    ValidatorFunctionWrapHandler,
    model_validator,
)
from pydantic.dataclasses import dataclass

from transformer.errors import PinrecError

SETTINGS_CONFIG = ConfigDict(extra="forbid", validate_default=True, arbitrary_types_allowed=False)
"""Every settings class's pydantic configuration: no unknown fields, defaults checked like given values."""

Value = TypeVar("Value")


class InvalidSettings(PinrecError):
    """Settings broke one or more rules; the message lists every violation."""

    heading: ClassVar[str] = "invalid input"

    def __init__(self, violations: Sequence[str]) -> None:
        self.violations = list(violations)
        super().__init__(f"{self.heading}:\n" + "\n".join(f"  - {violation}" for violation in self.violations))


class Violations(ValueError):
    """What a rule raises: its messages, each reported as it is."""

    def __init__(self, messages: Sequence[str]) -> None:
        self.messages = list(messages)
        super().__init__("; ".join(self.messages))


def rule(check: Callable[[Value], list[str]]) -> AfterValidator:
    """A validator from a check that returns its violations as messages (an empty list: the value is fine)."""

    def validate(value: Value) -> Value:
        found = check(value)
        if found:
            raise Violations(found)
        return value

    return AfterValidator(validate)


def check_with(check: Callable[[Value], object]) -> AfterValidator:
    """A validator from a check that raises PinrecError for a bad value (its message is the violation) and returns
    anything for a good one: a registry's `check_spec`, a name check."""

    def validate(value: Value) -> Value:
        try:
            check(value)
        except PinrecError as error:
            raise Violations([str(error)]) from None
        return value

    return AfterValidator(validate)


def flag_name(field: str) -> str:
    return "--" + field.replace("_", "-")


@dataclass(frozen=True, config=SETTINGS_CONFIG)
class Settings:
    """Base of every settings class: turns pydantic's errors into one `invalid` error listing them all."""

    invalid: ClassVar[type[InvalidSettings]] = InvalidSettings
    flags: ClassVar[Mapping[str, str]] = {}
    """Fields whose flag is not `--` + the field name with `-` for `_` (e.g. filter_arns: --filter-arn)."""

    @model_validator(mode="wrap")
    @classmethod
    def _every_violation_at_once(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(data)
        except ValidationError as error:
            raise cls.invalid(cls._describe(error)) from None

    @classmethod
    def _describe(cls, error: ValidationError) -> list[str]:
        return describe(error, cls._flag)

    @classmethod
    def _flag(cls, location: tuple[int | str, ...]) -> str:
        if not location:
            return "settings"
        first = location[0]
        if isinstance(first, int):  # a positional argument of the constructor
            positional = [field.name for field in dataclasses.fields(cls) if not field.kw_only]
            first = positional[first] if first < len(positional) else str(first)
        return cls.flags.get(first, flag_name(first))


def describe(error: ValidationError, flag: Callable[[tuple[int | str, ...]], str]) -> list[str]:
    """Each violation of `error` once: a rule's own messages as they are, others prefixed with their flag."""
    found: list[str] = []
    for detail in error.errors():
        cause = (detail.get("ctx") or {}).get("error")
        if isinstance(cause, Violations):
            found += [message for message in cause.messages if message not in found]
            continue
        message = str(cause) if isinstance(cause, ValueError) else detail["msg"]
        found.append(f"{flag(detail['loc'])}: {message.removeprefix('Value error, ')}")
    return found


class SettingsModel(BaseModel):
    """Base of settings that travel as JSON: the same rules and errors as `Settings`, as a pydantic model."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    invalid: ClassVar[type[InvalidSettings]] = InvalidSettings
    flags: ClassVar[Mapping[str, str]] = {}
    """Fields whose flag is not `--` + the field name with `-` for `_`."""

    @model_validator(mode="wrap")
    @classmethod
    def _every_violation_at_once(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            settings = handler(data)
        except ValidationError as error:
            raise cls.invalid(describe(error, cls._flag)) from None
        problems = settings.problems() if isinstance(settings, SettingsModel) else []
        if problems:
            raise cls.invalid(problems)
        return settings

    def problems(self) -> list[str]:
        """Violations of rules between fields, once every field is valid (each message names its flags)."""
        return []

    @classmethod
    def _flag(cls, location: tuple[int | str, ...]) -> str:
        if not location:
            return "settings"
        return cls.flags.get(str(location[0]), flag_name(str(location[0])))
