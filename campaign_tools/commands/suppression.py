"""`pinrec suppression list|add|remove|import|export|sync`: parse the options, call
campaign_tools.suppression.workflows, print the result."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from campaign_tools.channels import registry as channel_registry
from campaign_tools.commands import options
from campaign_tools.console import print_json
from campaign_tools.suppression import registry, workflows
from campaign_tools.suppression.base import Reason
from campaign_tools.suppression.sync import PROVIDER_LISTS, iso

REASONS = [reason.value for reason in Reason]
DESCRIPTION = """\
A suppression list holds the recipients pinrec must not send to again, each entry with its channel, address, reason
(bounce, complaint, unsubscribe, opt_out, manual, provider), since when (printed in ISO 8601 UTC), the topic an
unsubscribe is limited to, and what put it there. `pinrec send --suppression` consults it before every message and
skips a suppressed recipient as suppressed:<reason>. Permanent bounces, complaints and SMS opt-outs arrive from the
delivery events, unsubscribes from the one-click endpoint, the providers' own lists from `sync`; `add`, `remove`
and `import` change it by hand. Removing a complaint needs --force."""


def _common(parser: argparse.ArgumentParser, *, output: bool = True) -> None:
    parser.add_argument(
        "--suppression",
        default=registry.DEFAULT_SUPPRESSION,
        metavar="KIND:TARGET",
        help=f"the list: {registry.usage()} (default {registry.DEFAULT_SUPPRESSION})",
    )
    options.add_aws_options(parser, dry_run=False, output=output)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    suppression = commands.add_parser(
        "suppression",
        help="list and change the suppression list a send consults",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = suppression.add_subparsers(title="actions", metavar="ACTION", required=True)
    channels = channel_registry.names()

    listing = actions.add_parser("list", help="print the entries (and when the provider lists were last synced)")
    listing.add_argument("--channel", choices=channels)
    listing.add_argument("--reason", choices=REASONS)
    _common(listing)
    listing.set_defaults(run=run_list)

    add = actions.add_parser("add", help="suppress addresses")
    add.add_argument("addresses", nargs="+", metavar="ADDRESS")
    add.add_argument("--channel", choices=channels, default="email")
    add.add_argument("--reason", choices=REASONS, default=Reason.MANUAL.value, help="(default manual)")
    add.add_argument("--topic", help="unsubscribe or manual: only sends of this topic are suppressed (default: all)")
    _common(add)
    add.set_defaults(run=run_add)

    remove = actions.add_parser("remove", help="remove every entry of addresses (a complaint only with --force)")
    remove.add_argument("addresses", nargs="+", metavar="ADDRESS")
    remove.add_argument("--channel", choices=channels, default="email")
    remove.add_argument(
        "--force", action="store_true", help="also remove complaints (sending to a complainer again risks the account)"
    )
    _common(remove)
    remove.set_defaults(run=run_remove)

    load = actions.add_parser(
        "import",
        help="add the entries of a CSV or JSON Lines file (bad rows counted with their line, never stopping it)",
        description="Rows: channel, address, reason, since, topic, source (CSV: a header naming them; only address "
        "is required). since: ISO 8601 (UTC without an offset) or epoch seconds; default now. An address the "
        "channel cannot deliver to is refused, row by row.",
    )
    load.add_argument("source", metavar="FILE", help="a file, s3://BUCKET/KEY, or - for standard input")
    load.add_argument("--format", choices=("csv", "jsonl"), help="default: from the file name")
    load.add_argument("--channel", choices=channels, default="email", help="for rows without one (default email)")
    load.add_argument("--reason", choices=REASONS, default=Reason.MANUAL.value, help="for rows without one")
    _common(load)
    load.set_defaults(run=run_import)

    export = actions.add_parser("export", help="write the entries as CSV or JSON Lines (what import reads)")
    export.add_argument("--out", default="-", help="a file (default - : standard output)")
    export.add_argument("--format", choices=("csv", "jsonl"), help="default: csv for a .csv --out, else jsonl")
    export.add_argument("--channel", choices=channels)
    export.add_argument("--reason", choices=REASONS)
    _common(export, output=False)
    export.set_defaults(run=run_export)

    sync = actions.add_parser(
        "sync",
        help="import the SES account suppression list and the End User Messaging SMS opt-out lists",
        description="SES: ListSuppressedDestinations (bounce and complaint entries, source ses-account). SMS: "
        "DescribeOptOutLists and DescribeOptedOutNumbers (opt_out entries, or provider for numbers an "
        "administrator added, source opt-out-list:NAME). Each source's time is recorded in the list when it was "
        "read in full; the send preflight reports it. Entries are only added, never removed.",
    )
    sync.add_argument("--source", dest="sources", action="append", choices=("ses", "sms"), help="(default both)")
    sync.add_argument(
        "--opt-out-list", dest="opt_out_lists", action="append", default=[], help="SMS: only this list (repeatable)"
    )
    _common(sync)
    sync.set_defaults(run=run_sync)


def _target(arguments: argparse.Namespace) -> dict[str, Any]:
    aws = options.aws_options(arguments)
    return {
        "suppression": arguments.suppression,
        "aws": {"region": aws.region, "profile": aws.profile, "endpoint_url": aws.endpoint_url},
    }


def run_list(arguments: argparse.Namespace) -> int:
    settings = workflows.ListSettings(**_target(arguments), channel=arguments.channel, reason=arguments.reason)
    entries = workflows.list_entries(settings)
    synced = workflows.sync_times(settings)
    if arguments.output == "json":
        print_json(
            {
                "suppression": settings.suppression,
                "entries": [workflows.entry_dict(entry) for entry in entries],
                "synced": {source: iso(at) for source, at in sorted(synced.items())},
            }
        )
        return 0
    for entry in entries:
        row = workflows.entry_dict(entry)
        print("\t".join([row["channel"], row["address"], row["reason"], row["since"], row["topic"] or "*",
                         row["source"]]))  # fmt: skip
    print(f"{len(entries):,} entries in {settings.suppression}", file=sys.stderr)
    for source, name in PROVIDER_LISTS.values():
        print(f"  {name}: {'synced ' + iso(synced[source]) if source in synced else 'never synced'}", file=sys.stderr)
    return 0


def run_add(arguments: argparse.Namespace) -> int:
    settings = workflows.AddSettings(
        **_target(arguments),
        channel=arguments.channel,
        addresses=tuple(arguments.addresses),
        reason=arguments.reason,
        topic=arguments.topic,
    )
    added = workflows.add_entries(settings)
    kept = len(settings.addresses) - added
    if arguments.output == "json":
        print_json({"added": added, "already_held": kept})
    else:
        print(f"added {added:,} entries to {settings.suppression}" + (f" ({kept:,} already held)" if kept else ""))
    return 0


def run_remove(arguments: argparse.Namespace) -> int:
    settings = workflows.RemoveSettings(
        **_target(arguments), channel=arguments.channel, addresses=tuple(arguments.addresses), force=arguments.force
    )
    result = workflows.remove_entries(settings)
    if arguments.output == "json":
        print_json({"removed": result.removed, "not_found": result.absent})
    else:
        print(f"removed {result.removed:,} addresses from {settings.suppression} ({result.absent:,} not found)")
    return 0


def run_import(arguments: argparse.Namespace) -> int:
    settings = workflows.ImportSettings(
        **_target(arguments),
        source=arguments.source,
        format=arguments.format,
        channel=arguments.channel,
        reason=arguments.reason,
    )
    result = workflows.import_entries(settings)
    if arguments.output == "json":
        print_json(
            {
                "rows": result.rows,
                "imported": result.imported,
                "added": result.added,
                "bad": result.bad,
                "bad_examples": [{"line": line, "reason": reason} for line, reason in result.bad_examples],
            }
        )
    else:
        print(
            f"imported {result.imported:,} of {result.rows:,} rows into {settings.suppression} ({result.added:,} "
            f"entries written, {result.bad:,} bad rows)"
        )
        for line, reason in result.bad_examples:
            print(f"  line {line}: {reason}")
    return 0


def run_export(arguments: argparse.Namespace) -> int:
    settings = workflows.ExportSettings(
        **_target(arguments),
        out=arguments.out,
        format=arguments.format,
        channel=arguments.channel,
        reason=arguments.reason,
    )
    count = workflows.export_entries(settings)
    print(f"exported {count:,} entries of {settings.suppression}", file=sys.stderr)
    return 0


def run_sync(arguments: argparse.Namespace) -> int:
    settings = workflows.SyncSettings(
        **_target(arguments),
        sources=tuple(arguments.sources or ("ses", "sms")),
        opt_out_lists=tuple(arguments.opt_out_lists),
    )
    results = workflows.sync(settings)
    if arguments.output == "json":
        print_json(
            {
                "suppression": settings.suppression,
                "sources": [
                    {"source": r.source, "read": r.read, "added": r.added, "bad": r.bad, "error": r.error}
                    for r in results
                ],
            }
        )
    else:
        for result in results:
            line = f"{result.source}: read {result.read:,}, {result.added:,} entries written"
            line += f", {result.bad:,} without a usable address" if result.bad else ""
            print(line + (f" -- stopped: {result.error} (sync time not recorded)" if result.error else ""))
    return 1 if any(result.error for result in results) else 0
