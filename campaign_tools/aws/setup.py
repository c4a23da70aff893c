"""`pinrec setup`: the role, the invoke permission and the recommender, in that order, each idempotent.

Everything is validated when the settings are made, before the first AWS call. A role created in this run can take
a few seconds to be usable by Pinpoint (IAM is eventually consistent), so registering the recommender right after
creating the role is retried briefly when Pinpoint rejects it.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Mapping
from typing import ClassVar

from pydantic.dataclasses import dataclass

from campaign_tools.aws.errors import AwsError, ValidationFailed
from campaign_tools.aws.iam_role import RoleSpec, ensure_role
from campaign_tools.aws.lambda_permission import PermissionSpec, ensure_permission
from campaign_tools.aws.outcome import Outcome
from campaign_tools.aws.recommender import RecommenderSpec, register
from campaign_tools.aws.session import AwsSession, error_code
from campaign_tools.aws.validation import (
    Attributes,
    CampaignArn,
    Description,
    FilterArn,
    FunctionRef,
    IdType,
    PerMessage,
    RecommenderName,
    Region,
    RoleName,
    SolutionArn,
    require_in_region,
)
from campaign_tools.settings import SETTINGS_CONFIG, InvalidSettings, Settings
from transformer.limits import MAX_ITEMS_PER_MESSAGE

DEFAULT_NAME = "pinrec"
ROLE_PROPAGATION_ATTEMPTS = 6
ROLE_PROPAGATION_WAIT_SECONDS = 5.0


def default_role_name(recommender_name: str) -> str:
    """One role per recommender, so two recommenders on different campaigns never overwrite each other's policy."""
    return f"pinrec-personalize-{re.sub(r'[^A-Za-z0-9_-]+', '-', recommender_name)}"[:64]


@dataclass(frozen=True, kw_only=True, config=SETTINGS_CONFIG)
class SetupSettings(Settings):
    """What `pinrec setup` declares: the role, the permission (unless the stack grants it) and the recommender."""

    invalid: ClassVar[type[InvalidSettings]] = ValidationFailed
    flags: ClassVar[Mapping[str, str]] = {"attributes": "--attribute", "filter_arns": "--filter-arn"}

    campaign_arn: CampaignArn
    function: FunctionRef
    attributes: Attributes
    name: RecommenderName = DEFAULT_NAME
    role_name: RoleName | None = None
    """Default: pinrec-personalize-NAME."""
    solution_arn: SolutionArn | None = None
    """Default: looked up from the campaign."""
    filter_arns: tuple[FilterArn, ...] = ()
    skip_permission: bool = False
    """The function's stack grants Pinpoint the invoke permission already (infra/template.yaml)."""
    adopt_role: bool = False
    id_type: IdType = "endpoint"
    per_message: PerMessage = MAX_ITEMS_PER_MESSAGE
    description: Description | None = None
    region: Region = None

    def role(self) -> RoleSpec:
        return RoleSpec(
            name=self.role_name or default_role_name(self.name),
            campaign_arn=self.campaign_arn,
            solution_arn=self.solution_arn,
            filter_arns=self.filter_arns,
        )

    def permission(self) -> PermissionSpec | None:
        return None if self.skip_permission else PermissionSpec(function=self.function, region=self.region)

    def recommender(self, role_arn: str) -> RecommenderSpec:
        return RecommenderSpec(
            name=self.name,
            campaign_arn=self.campaign_arn,
            role_arn=role_arn,
            function=self.function,
            attributes=self.attributes,
            id_type=self.id_type,
            per_message=self.per_message,
            description=self.description,
            region=self.region,
        )


@dataclass(frozen=True)
class SetupResult:
    outcomes: tuple[Outcome, ...]
    """role, permission (unless skipped) and recommender, in that order."""
    recommender_id: str | None
    """None in a dry run that would create the recommender: AWS assigns the id."""
    variables: tuple[str, ...]
    """The template variables the recommender enables, e.g. {{Recommendations.Title.[0]}}."""


def run_setup(
    session: AwsSession,
    settings: SetupSettings,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> SetupResult:
    require_in_region(settings.function, session.region)
    role_spec = settings.role()
    role = ensure_role(session, role_spec, adopt=settings.adopt_role)
    outcomes = [role]
    permission = settings.permission()
    if permission is not None:
        outcomes.append(ensure_permission(session, permission))
    recommender_spec = settings.recommender(role.details["role_arn"])
    attempts = ROLE_PROPAGATION_ATTEMPTS if role.status == "created" and not session.dry_run else 1
    for attempt in range(1, attempts + 1):
        try:
            recommender = register(session, recommender_spec)
            break
        except AwsError as error:
            if attempt == attempts or error_code(error) != "BadRequestException":
                raise
            print(f"waiting for the new role {role_spec.name} to reach Pinpoint (attempt {attempt})", file=sys.stderr)
            sleep(ROLE_PROPAGATION_WAIT_SECONDS)
    variables = tuple(f"{{{{Recommendations.{name}.[0]}}}}" for name in settings.attributes)
    return SetupResult((*outcomes, recommender), recommender.details["recommender_id"], variables)
