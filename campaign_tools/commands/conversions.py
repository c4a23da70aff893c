"""`pinrec conversions ingest`: JSON Lines conversions into the conversions store the campaign report reads."""

from __future__ import annotations

import argparse

from campaign_tools.commands.options import add_aws_options
from campaign_tools.console import print_json
from campaign_tools.conversions import registry
from campaign_tools.conversions.ingest import ConversionsIngestSettings, ingest_conversions

EXIT_MALFORMED = 1


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    conversions = commands.add_parser("conversions", help="conversions: what recipients did after a campaign")
    actions = conversions.add_subparsers(title="actions", metavar="ACTION", required=True)
    ingest = actions.add_parser(
        "ingest",
        help="store JSON Lines conversions (endpoint or user id, time, event type, value) for campaign reports",
        description="Reads one JSON object per line: endpoint_id and/or user_id, time (ISO 8601 with an offset, or "
        "seconds since the epoch), event_type, and optionally value (a number) and id. Each conversion is stored "
        "once by its id (given, or derived from its content), so a replay adds nothing. A line that holds no "
        "conversion is counted with its line and reason. Exit status 1 when any line was malformed.",
    )
    ingest.add_argument("source", metavar="FILE", help="a path, s3://BUCKET/KEY, or - for stdin (gzip read as is)")
    ingest.add_argument(
        "--conversions",
        default=registry.DEFAULT_CONVERSIONS,
        help=f"{registry.usage()} (default {registry.DEFAULT_CONVERSIONS}: beside the default send ledger)",
    )
    add_aws_options(ingest, dry_run=False)
    ingest.set_defaults(run=run_ingest)


def run_ingest(arguments: argparse.Namespace) -> int:
    settings = ConversionsIngestSettings.model_validate(
        {
            "source": arguments.source,
            "conversions": arguments.conversions,
            "region": arguments.region,
            "profile": arguments.profile,
            "endpoint_url": arguments.endpoint_url,
        }
    )
    report = ingest_conversions(settings)
    if arguments.output == "json":
        print_json(report.to_dict())
    else:
        print("\n".join(report.text()))
    return EXIT_MALFORMED if report.malformed else 0
