"""`pinrec permissions grant|show|revoke`: the resource policy that lets Pinpoint invoke the transformer."""

from __future__ import annotations

import argparse

from campaign_tools.aws.lambda_permission import (
    PermissionSpec,
    describe_policy,
    ensure_permission,
    read_policy,
    revoke_permission,
)
from campaign_tools.commands import options
from campaign_tools.console import print_json


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    permissions = commands.add_parser("permissions", help="let Pinpoint invoke the transformer Lambda")
    actions = permissions.add_subparsers(title="actions", metavar="ACTION", required=True)

    grant = actions.add_parser(
        "grant",
        help="add (or fix) the statement letting Pinpoint invoke the function",
        description="Adds a resource-policy statement (lambda:AddPermission) for the regional principal "
        "pinpoint.REGION.amazonaws.com, limited by AWS:SourceArn to this account's recommenders (one id, or "
        "recommenders/*) and by AWS:SourceAccount. The statement id is pinrec-pinpoint-all-recommenders or "
        "pinrec-pinpoint-recommender-ID: an identical statement is left alone, a differing one is replaced.",
    )
    _add_scope(grant)
    grant.set_defaults(run=run_grant)

    revoke = actions.add_parser(
        "revoke",
        help="remove pinrec's statement for one scope",
        description="Removes the statement `permissions grant` added for the same --recommender-id (or for all "
        "recommenders). Other statements are left alone.",
    )
    _add_scope(revoke)
    revoke.set_defaults(run=run_revoke)

    show = actions.add_parser("show", help="print the function's resource policy readably")
    show.add_argument("--function", required=True, help="Lambda function name or ARN")
    options.add_aws_options(show, dry_run=False)
    show.set_defaults(run=run_show)


def _add_scope(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--function", required=True, help="Lambda function name or ARN (in the same region)")
    parser.add_argument(
        "--recommender-id",
        help="allow only this recommender configuration (default: all of the account's recommenders)",
    )
    options.add_aws_options(parser)


def _spec(arguments: argparse.Namespace, region: str) -> PermissionSpec:
    recommender_id = getattr(arguments, "recommender_id", None)
    return PermissionSpec(function=arguments.function, recommender_id=recommender_id, region=region)


def run_grant(arguments: argparse.Namespace) -> int:
    session = options.open_session(arguments)
    options.report(arguments, session, [ensure_permission(session, _spec(arguments, session.region))])
    return 0


def run_revoke(arguments: argparse.Namespace) -> int:
    session = options.open_session(arguments)
    options.report(arguments, session, [revoke_permission(session, _spec(arguments, session.region))])
    return 0


def run_show(arguments: argparse.Namespace) -> int:
    session = options.open_session(arguments)
    policy = read_policy(session, _spec(arguments, session.region).function)
    if arguments.output == "json":
        print_json(policy or {"Statement": []})
    else:
        print(describe_policy(policy))
    return 0
