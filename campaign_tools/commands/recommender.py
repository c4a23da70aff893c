"""`pinrec recommender register|list|show|delete`: Pinpoint recommender configurations, updated in place by name."""

from __future__ import annotations

import argparse
from typing import Any

from campaign_tools.aws.errors import ValidationFailed
from campaign_tools.aws.recommender import (
    RecommenderSpec,
    declared_attributes,
    delete_configuration,
    describe_configuration,
    get_configuration,
    iter_configurations,
)
from campaign_tools.aws.recommender import register as register_recommender
from campaign_tools.aws.validation import ID_TYPES
from campaign_tools.commands import options
from campaign_tools.console import print_json, table
from transformer.limits import MAX_ITEMS_PER_MESSAGE


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    recommender = commands.add_parser("recommender", help="Pinpoint recommender configurations (models)")
    actions = recommender.add_subparsers(title="actions", metavar="ACTION", required=True)

    create = actions.add_parser(
        "register",
        help="create the configuration with this name, or update it in place (its id never changes)",
        description="Finds the configuration named --name over every page of GetRecommenderConfigurations and "
        "updates it when it differs, else creates it; it is never deleted and re-created, so templates keep "
        "working. Attributes default to those of pinrec.toml, as Recommendations.<Name> -> display name. Every "
        "name, display name, count and ARN is checked before AWS is called. Prints the recommender id.",
    )
    add_recommender_options(create)
    create.add_argument("--name", required=True, help="configuration name (1-128 letters, digits, spaces, _ or -)")
    create.add_argument(
        "--role-arn", required=True, help="role Pinpoint assumes to read Personalize (pinrec role create)"
    )
    options.add_aws_options(create)
    create.set_defaults(run=run_register)

    listing = actions.add_parser("list", help="list every recommender configuration in the region")
    options.add_aws_options(listing, dry_run=False)
    listing.set_defaults(run=run_list)

    show = actions.add_parser("show", help="print one configuration")
    show.add_argument("id", metavar="ID", help="recommender id")
    options.add_aws_options(show, dry_run=False)
    show.set_defaults(run=run_show)

    delete = actions.add_parser(
        "delete",
        help="delete one configuration (breaks unsent messages whose templates use it)",
        description="Deletes a recommender configuration. Messages not yet sent with templates that use it will "
        "fail, so this needs --yes.",
    )
    delete.add_argument("id", metavar="ID", help="recommender id")
    delete.add_argument("--yes", action="store_true", help="confirm the deletion")
    options.add_aws_options(delete)
    delete.set_defaults(run=run_delete)


def add_recommender_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--campaign-arn", required=True, help="the Personalize campaign ARN")
    parser.add_argument("--function", required=True, help="transformer Lambda function name or ARN (same region)")
    parser.add_argument(
        "--attribute",
        action="append",
        default=[],
        metavar="NAME=DISPLAY",
        help="a recommended attribute and its display name (repeatable; default: the attributes of --config)",
    )
    parser.add_argument(
        "--config",
        help="pinrec.toml whose attributes to register when no --attribute is given "
        "(default: $PINREC_CONFIG or ./pinrec.toml)",
    )
    parser.add_argument(
        "--id-type",
        choices=tuple(ID_TYPES),
        default="endpoint",
        help="ask Personalize by endpoint id or by user id (user needs User.UserId on endpoints; default endpoint)",
    )
    parser.add_argument(
        "--per-message",
        type=int,
        default=MAX_ITEMS_PER_MESSAGE,
        help=f"recommended items per message, 1-5 (default {MAX_ITEMS_PER_MESSAGE})",
    )
    parser.add_argument("--description", help="description (at most 128 characters)")


def recommender_arguments(arguments: argparse.Namespace) -> dict[str, Any]:
    """The values of `add_recommender_options` (and --name), as RecommenderSpec and SetupSettings take them."""
    return {
        "name": arguments.name,
        "campaign_arn": arguments.campaign_arn,
        "function": arguments.function,
        "attributes": declared_attributes(arguments.attribute, arguments.config),
        "id_type": arguments.id_type,
        "per_message": arguments.per_message,
        "description": arguments.description,
    }


def run_register(arguments: argparse.Namespace) -> int:
    values = recommender_arguments(arguments)
    session = options.open_session(arguments)
    spec = RecommenderSpec(**values, role_arn=arguments.role_arn, region=session.region)
    outcome = register_recommender(session, spec)
    recommender_id = outcome.details["recommender_id"]
    options.report(
        arguments,
        session,
        [outcome],
        footer=[f"recommender id: {recommender_id or 'assigned when created (run without --dry-run)'}"],
        extra={"recommender_id": recommender_id},
    )
    return 0


def run_list(arguments: argparse.Namespace) -> int:
    session = options.open_session(arguments)
    items = list(iter_configurations(session))
    if arguments.output == "json":
        print_json(items)
        return 0
    if not items:
        print(f"no recommender configurations in {session.region}")
        return 0
    rows = [
        (item.get("Id"), item.get("Name", ""), len(item.get("Attributes") or {}), item.get("LastModifiedDate", ""))
        for item in items
    ]
    print(table(("ID", "NAME", "ATTRIBUTES", "MODIFIED"), rows))
    return 0


def run_show(arguments: argparse.Namespace) -> int:
    session = options.open_session(arguments)
    item = get_configuration(session, arguments.id)
    if arguments.output == "json":
        print_json(item)
    else:
        print(describe_configuration(item))
    return 0


def run_delete(arguments: argparse.Namespace) -> int:
    if not arguments.yes and not arguments.dry_run:
        raise ValidationFailed(
            [f"deleting recommender {arguments.id} breaks messages not yet sent with templates that use it; pass --yes"]
        )
    session = options.open_session(arguments)
    options.report(arguments, session, [delete_configuration(session, arguments.id)])
    return 0
