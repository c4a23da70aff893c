"""What `pinrec doctor` checks: the stacks by name, the configuration and campaign it reads the rest from, and where
AWS is called."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, ClassVar

from pydantic import AfterValidator, Field
from pydantic.dataclasses import dataclass

from campaign_tools.settings import SETTINGS_CONFIG, InvalidSettings, Settings, rule
from transformer.aws import AwsOptions

DEFAULT_STACKS = ("pinrec", "pinrec-send", "pinrec-events")
"""The stack names the README's deployment commands use: infra/template.yaml, send-statemachine.yaml, events.yaml."""


class InvalidDoctorSettings(InvalidSettings):
    heading = "invalid doctor settings"


def _existing_file(flag: str) -> AfterValidator:
    def check(path: Path | None) -> list[str]:
        if path is not None and not path.is_file():
            return [f"{flag} {path}: no such file"]
        return []

    return rule(check)


def _stacks(names: tuple[str, ...]) -> list[str]:
    return [
        f"--stack {name!r}: a stack name is 1-128 letters, digits and '-'" for name in names if not _stack_name(name)
    ]


def _stack_name(name: str) -> bool:
    return 0 < len(name) <= 128 and name[0].isalpha() and all(c.isascii() and (c.isalnum() or c == "-") for c in name)


@dataclass(frozen=True, kw_only=True, config=SETTINGS_CONFIG)
class DoctorSettings(Settings):
    invalid: ClassVar[type[InvalidSettings]] = InvalidDoctorSettings
    flags: ClassVar[Mapping[str, str]] = {"stacks": "--stack", "max_event_age_hours": "--max-event-age"}

    config: Annotated[Path | None, _existing_file("--config")] = None
    """pinrec.toml: the catalog store (and its table) the transformer and sends read."""
    campaign: Annotated[Path | None, _existing_file("--campaign")] = None
    """A campaign.toml (`campaigns.definition`): each channel table's sender settings, its ledger, suppression list
    and recommendations are checked."""
    stacks: Annotated[tuple[str, ...], rule(_stacks)] = DEFAULT_STACKS
    max_event_age_hours: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 24.0
    """A warning when the events queue received nothing for this long."""
    suppression_max_age_hours: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 24.0
    dns_timeout: Annotated[float, Field(gt=0, le=60, allow_inf_nan=False)] = 3.0
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None

    def aws(self) -> AwsOptions:
        return AwsOptions(region=self.region, profile=self.profile, endpoint_url=self.endpoint_url)
