"""Names, limits and ARN shapes checked before any AWS call. Each check returns its violations as messages; the
annotated types at the end make them the rules of the settings fields (campaign_tools.settings)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, ValidationInfo

from campaign_tools.aws.errors import ValidationFailed
from campaign_tools.settings import Violations, rule
from transformer.limits import (
    ATTRIBUTE_NAME_PATTERN,
    DISPLAY_NAME_PATTERN,
    MAX_ATTRIBUTE_NAME_LENGTH,
    MAX_ATTRIBUTES,
    MAX_DISPLAY_NAME_LENGTH,
    MAX_ITEMS_PER_MESSAGE,
    MIN_ATTRIBUTES,
    MIN_ITEMS_PER_MESSAGE,
)

MAX_RECOMMENDER_NAME_LENGTH = 128
MAX_DESCRIPTION_LENGTH = 128
MAX_STATEMENT_ID_LENGTH = 100
MAX_ROLE_NAME_LENGTH = 64

_PARTITION = r"arn:aws(?:-[a-z]+)*"
_REGION = r"[a-z]{2}(?:-[a-z]+)+-\d{1,2}"
_ACCOUNT = r"\d{12}"
_PERSONALIZE_NAME = r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}"
RECOMMENDER_NAME = re.compile(r"[A-Za-z0-9 _-]{1,128}")
ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}")
FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
RECOMMENDER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
STATEMENT_ID = re.compile(r"[a-zA-Z0-9_-]{1,100}")
ID_TYPES = {"endpoint": "PINPOINT_ENDPOINT_ID", "user": "PINPOINT_USER_ID"}


@dataclass(frozen=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource: str


def _arn(kind: str) -> re.Pattern[str]:
    return re.compile(rf"({_PARTITION}):personalize:({_REGION}):({_ACCOUNT}):{kind}/({_PERSONALIZE_NAME})")


PERSONALIZE_CAMPAIGN_ARN = _arn("campaign")
PERSONALIZE_SOLUTION_ARN = _arn("solution")
PERSONALIZE_FILTER_ARN = _arn("filter")
ROLE_ARN = re.compile(rf"({_PARTITION}):iam::({_ACCOUNT}):role/(?:[\w+=,.@-]+/)*([\w+=,.@-]{{1,64}})")
FUNCTION_ARN = re.compile(
    rf"({_PARTITION}):lambda:({_REGION}):({_ACCOUNT}):function:([A-Za-z0-9_-]{{1,64}})(?::([A-Za-z0-9_$-]{{1,128}}))?"
)


def parse_arn(value: str) -> Arn:
    """Split an ARN already checked against one of the shapes above."""
    partition, service, region, account, resource = value.split(":", 4)
    return Arn(partition, service, region, account, resource)


def check_campaign_arn(value: str) -> list[str]:
    if PERSONALIZE_CAMPAIGN_ARN.fullmatch(value):
        return []
    hint = ""
    if ":personalize:" in value and ":solution/" in value:
        hint = " (this is a solution ARN; Pinpoint needs the campaign deployed from it)"
    elif ":personalize:" in value and ":recommender/" in value:
        hint = " (Pinpoint supports Personalize campaigns, not domain recommenders)"
    return [
        f"--campaign-arn {value!r} is not a Personalize campaign ARN "
        f"(arn:aws:personalize:REGION:ACCOUNT:campaign/NAME){hint}"
    ]


def check_solution_arn(value: str) -> list[str]:
    if PERSONALIZE_SOLUTION_ARN.fullmatch(value):
        return []
    return [
        f"--solution-arn {value!r} is not a Personalize solution ARN (arn:aws:personalize:REGION:ACCOUNT:solution/NAME)"
    ]


def check_filter_arn(value: str) -> list[str]:
    if PERSONALIZE_FILTER_ARN.fullmatch(value):
        return []
    return [f"--filter-arn {value!r} is not a Personalize filter ARN (arn:aws:personalize:REGION:ACCOUNT:filter/NAME)"]


def check_role_arn(value: str) -> list[str]:
    if ROLE_ARN.fullmatch(value):
        return []
    return [f"--role-arn {value!r} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)"]


def check_role_name(value: str) -> list[str]:
    if ROLE_NAME.fullmatch(value):
        return []
    return [f"role name {value!r} must be 1-{MAX_ROLE_NAME_LENGTH} letters, digits or +=,.@_-"]


def check_function(value: str, region: str | None = None) -> list[str]:
    """A Lambda function name or ARN; an ARN must be in `region` (Pinpoint invokes functions in its own region)."""
    if FUNCTION_NAME.fullmatch(value):
        return []
    match = FUNCTION_ARN.fullmatch(value)
    if match is None:
        return [
            f"--function {value!r} is neither a Lambda function name (1-64 letters, digits, '_' or '-') "
            "nor a function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME)"
        ]
    if region is not None and match.group(2) != region:
        return [
            f"--function {value!r} is in {match.group(2)} but the region is {region}: "
            "Pinpoint only invokes functions in its own region"
        ]
    return []


def check_recommender_id(value: str) -> list[str]:
    if RECOMMENDER_ID.fullmatch(value):
        return []
    return [f"recommender id {value!r} must be 1-64 letters, digits, '_' or '-'"]


def check_recommender_name(value: str) -> list[str]:
    if RECOMMENDER_NAME.fullmatch(value):
        return []
    return [
        f"recommender name {value!r} must be 1-{MAX_RECOMMENDER_NAME_LENGTH} letters, digits, spaces, '_' or '-' "
        f"(it has {len(value)} characters)"
    ]


def check_description(value: str | None) -> list[str]:
    if value is None or len(value) <= MAX_DESCRIPTION_LENGTH:
        return []
    return [f"--description has {len(value)} characters; Pinpoint allows at most {MAX_DESCRIPTION_LENGTH}"]


def check_per_message(value: int) -> list[str]:
    if MIN_ITEMS_PER_MESSAGE <= value <= MAX_ITEMS_PER_MESSAGE:
        return []
    return [f"--per-message {value} must be {MIN_ITEMS_PER_MESSAGE} to {MAX_ITEMS_PER_MESSAGE}"]


def check_id_type(value: str) -> list[str]:
    if value in ID_TYPES:
        return []
    return [f"--id-type {value!r} must be one of {', '.join(ID_TYPES)}"]


def check_attributes(attributes: Mapping[str, str]) -> list[str]:
    """Recommended attributes as name -> display name, against Pinpoint's count, length and character rules."""
    violations = []
    if not MIN_ATTRIBUTES <= len(attributes) <= MAX_ATTRIBUTES:
        violations.append(
            f"Pinpoint accepts {MIN_ATTRIBUTES} to {MAX_ATTRIBUTES} recommended attributes, got {len(attributes)}"
        )
    for name, display in attributes.items():
        if not ATTRIBUTE_NAME_PATTERN.fullmatch(name):
            violations.append(
                f"attribute name {name!r} must be 1-{MAX_ATTRIBUTE_NAME_LENGTH} letters, digits, '_' or '-' "
                f"(it has {len(name)} characters)"
            )
        if not DISPLAY_NAME_PATTERN.fullmatch(display):
            violations.append(
                f"display name {display!r} of attribute {name!r} must be 1-{MAX_DISPLAY_NAME_LENGTH} letters, "
                f"digits, spaces, '_' or '-' (it has {len(display)} characters)"
            )
    return violations


def parse_attribute_options(values: list[str]) -> tuple[dict[str, str], list[str]]:
    """`--attribute Name=Display` options (display defaults to the name) as a map, plus violations."""
    attributes: dict[str, str] = {}
    violations = []
    for value in values:
        name, separator, display = value.partition("=")
        name = name.strip()
        display = display.strip() if separator else name[:MAX_DISPLAY_NAME_LENGTH]
        if name in attributes:
            violations.append(f"--attribute {name!r} is given more than once")
        attributes[name] = display
    return attributes, violations


class AttributeOptions(dict[str, str]):
    """`--attribute Name=Display` options as name -> display name, remembering the names given more than once."""

    def __init__(self, values: Iterable[str]) -> None:
        attributes, self.repeated = parse_attribute_options(list(values))
        super().__init__(attributes)


def require_in_region(function: str, region: str) -> None:
    """Refuse a function ARN in another region than the one the run calls (no AWS call is made before this)."""
    found = check_function(function, region)
    if found:
        raise ValidationFailed(found)


def _declared_attributes(value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value  # not a mapping: pydantic reports the type
    found = list(getattr(value, "repeated", [])) + check_attributes(value)
    if found:
        raise Violations(found)
    return value


def _function_in_region(region: str | None, info: ValidationInfo) -> str | None:
    """The `region` field of a settings class checks its `function` field (validated before it) against it."""
    function = info.data.get("function")
    if region is not None and isinstance(function, str):
        found = check_function(function, region)
        if found:
            raise Violations(found)
    return region


CampaignArn = Annotated[str, rule(check_campaign_arn)]
SolutionArn = Annotated[str, rule(check_solution_arn)]
FilterArn = Annotated[str, rule(check_filter_arn)]
RoleArn = Annotated[str, rule(check_role_arn)]
RoleName = Annotated[str, rule(check_role_name)]
FunctionRef = Annotated[str, rule(check_function)]
"""A function name or ARN; an ARN's region is checked by the `Region` field declared after it."""
RecommenderId = Annotated[str, rule(check_recommender_id)]
RecommenderName = Annotated[str, rule(check_recommender_name)]
Description = Annotated[str, rule(check_description)]
PerMessage = Annotated[int, rule(check_per_message)]
IdType = Annotated[str, rule(check_id_type)]
Attributes = Annotated[dict[str, str], BeforeValidator(_declared_attributes)]
"""name -> display name; an `AttributeOptions` also reports the names given more than once."""
Region = Annotated[str | None, AfterValidator(_function_in_region)]
"""The region the run calls, when known: the settings' function ARN must be in it. None: checked when it runs."""
