"""`pinrec setup`: role, invoke permission and recommender in one idempotent run."""

from __future__ import annotations

import argparse

from campaign_tools.aws.setup import DEFAULT_NAME, SetupResult, SetupSettings, run_setup
from campaign_tools.commands import options
from campaign_tools.commands.recommender import add_recommender_options, recommender_arguments


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    values = recommender_arguments(arguments)
    session = options.open_session(arguments)
    settings = SetupSettings(
        **values,
        role_name=arguments.role_name,
        solution_arn=arguments.solution_arn,
        filter_arns=tuple(arguments.filter_arn),
        skip_permission=arguments.skip_permission,
        adopt_role=arguments.adopt_role,
        region=session.region,
    )
    result = run_setup(session, settings)
    footer = _next_steps(result)
    options.report(arguments, session, result.outcomes, footer=footer, extra={"recommender_id": result.recommender_id})
    return 0


def _next_steps(result: SetupResult) -> list[str]:
    if result.recommender_id is None:
        return ["The recommender id is assigned when it is created: run without --dry-run to get it."]
    return [
        f"Use recommender id {result.recommender_id} in templates (RecommenderId); variables: "
        + ", ".join(result.variables),
        f"  pinrec templates publish NAME --recommender-id {result.recommender_id}",
    ]
