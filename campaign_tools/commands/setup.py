"""`pinrec setup`: role, invoke permission and recommender in one idempotent run."""

from __future__ import annotations

import argparse
import re

from campaign_tools.aws.errors import ValidationFailed
from campaign_tools.aws.iam_role import RoleSpec
from campaign_tools.aws.lambda_permission import PermissionSpec
from campaign_tools.aws.setup import PLACEHOLDER_ROLE_ARN, SetupPlan, run_setup
from campaign_tools.commands import options
from campaign_tools.commands.recommender import add_recommender_options, recommender_spec, resolve_attributes

DEFAULT_NAME = "pinrec"


def default_role_name(recommender_name: str) -> str:
    """One role per recommender, so two recommenders on different campaigns never overwrite each other's policy."""
    return f"pinrec-personalize-{re.sub(r'[^A-Za-z0-9_-]+', '-', recommender_name)}"[:64]


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "setup",
        help="create or converge the role, the invoke permission and the recommender, then print the ids",
        description="Runs, in order and each idempotently: `role create` (role for Pinpoint to read Personalize), "
        "`permissions grant` (Pinpoint may invoke the function, for all of the account's recommenders) and "
        "`recommender register` (attributes from --config). Everything is validated before the first AWS call. "
        "Prints what changed and the recommender id to use in templates.",
    )
    add_recommender_options(parser)
    parser.add_argument("--name", default=DEFAULT_NAME, help=f"recommender name (default {DEFAULT_NAME})")
    parser.add_argument("--role-name", help="IAM role name (default pinrec-personalize-NAME)")
    parser.add_argument("--solution-arn", help="the campaign's solution (default: looked up from the campaign)")
    parser.add_argument("--filter-arn", action="append", default=[], help="Personalize filter ARN (repeatable)")
    parser.add_argument(
        "--skip-permission",
        action="store_true",
        help="do not grant the invoke permission: the function's stack already does (infra/template.yaml)",
    )
    parser.add_argument("--adopt-role", action="store_true", help="converge an existing role pinrec did not create")
    options.add_aws_options(parser)
    parser.set_defaults(run=run)


def run(arguments: argparse.Namespace) -> int:
    attributes, violations = resolve_attributes(arguments)
    plan = SetupPlan(
        role=RoleSpec(
            name=arguments.role_name or default_role_name(arguments.name),
            campaign_arn=arguments.campaign_arn,
            solution_arn=arguments.solution_arn,
            filter_arns=tuple(arguments.filter_arn),
        ),
        permission=None if arguments.skip_permission else PermissionSpec(function=arguments.function),
        recommender=recommender_spec(arguments, attributes, PLACEHOLDER_ROLE_ARN),
    )
    session = options.open_session(arguments)
    violations += plan.violations(session.region)
    if violations:
        raise ValidationFailed(violations)
    outcomes = run_setup(session, plan, adopt_role=arguments.adopt_role)
    recommender_id = outcomes[-1].details["recommender_id"]
    variables = ", ".join(f"{{{{Recommendations.{name}.[0]}}}}" for name in attributes)
    if session.dry_run and outcomes[-1].status == "created":
        footer = ["The recommender id is assigned when it is created: run without --dry-run to get it."]
    else:
        footer = [
            f"Use recommender id {recommender_id} in templates (RecommenderId); variables: {variables}",
            f"  pinrec templates publish NAME --recommender-id {recommender_id}",
        ]
    options.report(arguments, session, outcomes, footer=footer, extra={"recommender_id": recommender_id})
    return 0
