"""`pinrec setup`: the role, the invoke permission and the recommender, in that order, each idempotent.

Everything is validated before the first AWS call. A role created in this run can take a few seconds to be
usable by Pinpoint (IAM is eventually consistent), so registering the recommender right after creating the role
is retried briefly when Pinpoint rejects it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from campaign_tools.aws.errors import AwsError, ValidationFailed
from campaign_tools.aws.iam_role import RoleSpec, ensure_role
from campaign_tools.aws.lambda_permission import PermissionSpec, ensure_permission
from campaign_tools.aws.outcome import Outcome
from campaign_tools.aws.recommender import RecommenderSpec, register
from campaign_tools.aws.session import AwsSession, error_code

ROLE_PROPAGATION_ATTEMPTS = 6
ROLE_PROPAGATION_WAIT_SECONDS = 5.0
PLACEHOLDER_ROLE_ARN = "arn:aws:iam::000000000000:role/placeholder"


@dataclass(frozen=True)
class SetupPlan:
    role: RoleSpec
    permission: PermissionSpec | None  # None: the function's stack grants it (infra/template.yaml)
    recommender: RecommenderSpec  # role_arn is filled in from the role step

    def violations(self, region: str | None) -> list[str]:
        found = self.role.violations()
        if self.permission is not None:
            found += self.permission.violations(region)
        found += [v for v in self.recommender.violations(region) if v not in found]
        return found


def run_setup(
    session: AwsSession,
    plan: SetupPlan,
    *,
    adopt_role: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Outcome]:
    violations = plan.violations(session.region)
    if violations:
        raise ValidationFailed(violations)
    role = ensure_role(session, plan.role, adopt=adopt_role)
    outcomes = [role]
    if plan.permission is not None:
        outcomes.append(ensure_permission(session, plan.permission))
    recommender_spec = replace(plan.recommender, role_arn=role.details["role_arn"])
    attempts = ROLE_PROPAGATION_ATTEMPTS if role.status == "created" and not session.dry_run else 1
    for attempt in range(1, attempts + 1):
        try:
            recommender = register(session, recommender_spec)
            break
        except AwsError as error:
            if attempt == attempts or error_code(error) != "BadRequestException":
                raise
            print(f"waiting for the new role {plan.role.name} to reach Pinpoint (attempt {attempt})", file=sys.stderr)
            sleep(ROLE_PROPAGATION_WAIT_SECONDS)
    return [*outcomes, recommender]
