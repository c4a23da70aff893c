"""`pinrec role create`: the IAM role Pinpoint assumes to read recommendations from Amazon Personalize."""

from __future__ import annotations

import argparse

from campaign_tools.aws.iam_role import DEFAULT_DESCRIPTION, POLICY_NAME, RoleSpec, ensure_role
from campaign_tools.commands import options


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    role = commands.add_parser("role", help="the IAM role Pinpoint assumes to read Amazon Personalize")
    actions = role.add_subparsers(title="actions", metavar="ACTION", required=True)
    create = actions.add_parser(
        "create",
        help="create the role, or converge an existing pinrec role to the declared state",
        description="Creates (or converges) an IAM role trusted only by pinpoint.amazonaws.com acting for this "
        "account's Pinpoint projects in the region (conditions AWS:SourceAccount and AWS:SourceArn "
        f"arn:aws:mobiletargeting:REGION:ACCOUNT:apps/*), with one inline policy ({POLICY_NAME}) allowing "
        "personalize:DescribeCampaign, personalize:DescribeSolution and personalize:GetRecommendations on exactly "
        "the given campaign, solution and filters. Re-running rewrites a drifted trust policy or policy and "
        "deletes stale pinrec-* inline policies. The account is the caller's (STS GetCallerIdentity).",
    )
    create.add_argument("--name", required=True, help="role name (1-64 letters, digits or +=,.@_-)")
    create.add_argument("--campaign-arn", required=True, help="the Personalize campaign ARN Pinpoint reads from")
    create.add_argument(
        "--solution-arn",
        help="the campaign's solution ARN (default: looked up with personalize:DescribeCampaign)",
    )
    create.add_argument(
        "--filter-arn",
        action="append",
        default=[],
        help="a Personalize filter ARN your campaigns use (repeatable)",
    )
    create.add_argument("--description", default=DEFAULT_DESCRIPTION, help="role description")
    create.add_argument(
        "--adopt",
        action="store_true",
        help="converge a role with this name that pinrec did not create (replaces its trust policy)",
    )
    options.add_aws_options(create)
    create.set_defaults(run=run_create)


def run_create(arguments: argparse.Namespace) -> int:
    spec = RoleSpec(
        name=arguments.name,
        campaign_arn=arguments.campaign_arn,
        solution_arn=arguments.solution_arn,
        filter_arns=tuple(arguments.filter_arn),
        description=arguments.description,
    )
    session = options.open_session(arguments)
    options.report(arguments, session, [ensure_role(session, spec, adopt=arguments.adopt)])
    return 0
