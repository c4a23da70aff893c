"""`pinrec config check`: each configured attribute's coverage over the catalog, and why items have no value."""

from __future__ import annotations

import argparse

from campaign_tools.commands.options import add_aws_options
from campaign_tools.config_check import ConfigCheckSettings, config_check
from campaign_tools.console import print_json

EXIT_ATTRIBUTE_RESOLVES_FOR_NONE = 1


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    config = commands.add_parser("config", help="check a pinrec.toml against real catalog items")
    actions = config.add_subparsers(title="actions", metavar="ACTION", required=True)
    check = actions.add_parser(
        "check",
        help="each attribute's coverage over the catalog: own value, default or unknown, and why",
        description="Renders every configured attribute for the catalog's items (all of them, a random --sample, "
        "or the items of a file) and reports, per attribute, how many items have their own value, fall back to "
        "the default, or are unknown -- with the reasons (an absent field, a template error such as an undefined "
        "name). An item with an unknown attribute is unknown to the transformer, and an endpoint recommended only "
        "such items is left out. Exit status 1 when an attribute resolves for none of the items checked (or no "
        "item was checked); warnings (unknown for most items, never its own value) keep status 0.",
    )
    check.add_argument("--config", help="pinrec.toml (default: $PINREC_CONFIG or ./pinrec.toml)")
    source = check.add_mutually_exclusive_group()
    source.add_argument("--sample", type=int, metavar="N", help="check a random sample of N catalog items")
    source.add_argument(
        "--items", metavar="FILE", help="check the items of a JSON Lines or CSV file (local, s3://, -) instead"
    )
    add_aws_options(check, dry_run=False)
    check.set_defaults(run=run_check)


def run_check(arguments: argparse.Namespace) -> int:
    settings = ConfigCheckSettings.model_validate(
        {
            "config": arguments.config,
            "sample": arguments.sample,
            "items": arguments.items,
            "region": arguments.region,
            "profile": arguments.profile,
            "endpoint_url": arguments.endpoint_url,
        }
    )
    result = config_check(settings)
    if arguments.output == "json":
        print_json(result.to_dict())
    else:
        print("\n".join(result.lines()))
    return EXIT_ATTRIBUTE_RESOLVES_FOR_NONE if result.problems() else 0
