"""`pinrec events ingest`: replay delivery event records (as SES and End User Messaging publish them) into the send
ledger and the suppression list, through the same core as the events Lambda."""

from __future__ import annotations

import argparse
import sys

from campaign_tools.commands.options import add_aws_options
from campaign_tools.console import print_json
from campaign_tools.events.replay import IngestSettings, ingest_events
from campaign_tools.send.ledgers import registry as ledger_registry
from campaign_tools.send.settings import DEFAULT_LEDGER
from campaign_tools.suppression import registry as suppression_registry

EXIT_MALFORMED = 1


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    events = commands.add_parser("events", help="delivery events: replay them into the ledger and suppression list")
    actions = events.add_subparsers(title="actions", metavar="ACTION", required=True)
    ingest = actions.add_parser(
        "ingest",
        help="record SES and End User Messaging events in the ledger and feed the suppression list",
        description="Reads event records in the shapes the services publish -- SES event publishing records "
        "(bare, in an EventBridge event, in an SNS notification), End User Messaging SMS events and two-way "
        "opt-out replies (bare or in SNS), SQS messages and Lambda SQS events holding any of these -- as JSON "
        "Lines, a JSON array or pretty-printed documents, gzipped or not. Each event is stored once in the ledger "
        "(a replay or a duplicate changes nothing), attributed by the message's correlation tags or its message "
        "id; permanent bounces, complaints, unsubscribes and SMS opt-outs are added to the suppression list. A "
        "record that cannot be read is counted with its reason and line. Exit status 1 when any record was "
        "malformed.",
    )
    ingest.add_argument("source", metavar="FILE", help="events file: a path, s3://BUCKET/KEY, or - for stdin")
    ingest.add_argument("--ledger", default=DEFAULT_LEDGER, help=f"{ledger_registry.usage()} ({DEFAULT_LEDGER})")
    ingest.add_argument(
        "--suppression",
        default=suppression_registry.DEFAULT_SUPPRESSION,
        help=f"{suppression_registry.usage()} ({suppression_registry.DEFAULT_SUPPRESSION}); "
        "--no-suppression to feed none",
    )
    ingest.add_argument(
        "--no-suppression", action="store_true", help="record the events only, add nothing to a suppression list"
    )
    add_aws_options(ingest, dry_run=False)
    ingest.set_defaults(run=run_ingest)


def run_ingest(arguments: argparse.Namespace) -> int:
    settings = IngestSettings.model_validate(
        {
            "source": arguments.source,
            "ledger": arguments.ledger,
            "suppression": None if arguments.no_suppression else arguments.suppression,
            "region": arguments.region,
            "profile": arguments.profile,
            "endpoint_url": arguments.endpoint_url,
        }
    )
    report = ingest_events(settings, progress=lambda line: print(line, file=sys.stderr))
    if arguments.output == "json":
        print_json(report.to_dict())
    else:
        print("\n".join(report.lines()))
    return EXIT_MALFORMED if report.malformed else 0
