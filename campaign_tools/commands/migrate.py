"""`pinrec migrate`: a Pinpoint project into a pinrec project (campaign_tools.migrate)."""

from __future__ import annotations

import argparse

from campaign_tools.commands.options import add_aws_options, aws_options
from campaign_tools.console import print_json
from campaign_tools.migrate.run import MIGRATION_FILE, MigrateSettings, migrate

DESCRIPTION = """\
Turn what a Pinpoint project exported into a pinrec project: templates as built template folders holding the
stored parts byte for byte (with DefaultSubstitutions and the recommender binding, linted), recommender
configurations as pinrec.toml attribute mappings and recommendation sources, segments as definition files and
audiences built over the endpoint exports. Campaigns are not built yet: MIGRATION.md lists each with every field.
MIGRATION.md lists every object, what it became, and what could not be carried over and why.

--from DIR: a folder of `aws pinpoint get-email-template / get-sms-template / get-push-template / get-segments /
get-campaigns / get-recommender-configurations` outputs (any names) and endpoint export files (gzip and JSON Lines
recognised by content); an imported segment's own endpoints go under imports/SEGMENT_ID/.
--from-api APPLICATION_ID: the same read through the Pinpoint API; give the endpoint exports with --endpoints."""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "migrate",
        help="turn a Pinpoint project export into a pinrec project",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--from", dest="source", metavar="DIR", help="the folder of exported JSON and endpoint exports")
    source.add_argument("--from-api", dest="application_id", metavar="APPLICATION_ID", help="read through the API")
    parser.add_argument("--out", default="pinrec-project", metavar="DIR", help="a new folder (default pinrec-project)")
    parser.add_argument("--endpoints", nargs="+", default=[], metavar="EXPORT", help="more endpoint export files")
    parser.add_argument("--now", help="the instant segment recency is measured from, ISO-8601 (default: now)")
    add_aws_options(parser, dry_run=False)
    parser.set_defaults(run=run)


def run(arguments: argparse.Namespace) -> int:
    settings = MigrateSettings(
        source=arguments.source,
        application_id=arguments.application_id,
        out=arguments.out,
        endpoints=tuple(arguments.endpoints),
        now=arguments.now,
        aws=aws_options(arguments),
    )
    migration = migrate(settings)
    counts = migration.counts()
    if arguments.output == "json":
        print_json({"out": str(migration.out), **counts})
    else:
        print(
            f"{counts['objects']} Pinpoint objects: {counts['carried']} carried over, {counts['not_carried']} with "
            f"something not carried over; see {migration.out / MIGRATION_FILE}"
        )
    return 0
