"""`pinrec segment build`: evaluate a Pinpoint segment definition over endpoint exports (campaign_tools.segments)."""

from __future__ import annotations

import argparse
import sys

from campaign_tools.commands.options import add_aws_options, aws_options
from campaign_tools.console import print_json
from campaign_tools.segments.build import SegmentBuildSettings, build_segment

BUILD_DESCRIPTION = """\
Evaluate a Pinpoint segment definition (a SegmentResponse from `aws pinpoint get-segment`, or a
WriteSegmentRequest) over endpoint export records and write its members as a pinrec segment (JSON Lines of
Endpoint records) that `pinrec send --segment` reads. Exports are read as they are: gzip and JSON Lines or CSV are
recognised by content, whatever the file names; a folder stands for the files in it. Everything streams: memory
stays constant whatever the exports' size. A definition with a feature pinrec cannot evaluate as Pinpoint did is
refused, every reason listed, before anything is read. Malformed records are skipped and counted with their line."""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    segment = commands.add_parser("segment", help="build audiences from Pinpoint segment definitions")
    actions = segment.add_subparsers(title="actions", metavar="ACTION", required=True)
    build = actions.add_parser(
        "build",
        help="evaluate a segment definition over endpoint exports",
        description=BUILD_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    build.add_argument("definition", metavar="SEGMENT.json", help="the segment definition (JSON)")
    build.add_argument(
        "--endpoints", nargs="+", required=True, metavar="EXPORT", help="export files or folders, s3://BUCKET/KEY or -"
    )
    build.add_argument("--out", required=True, metavar="AUDIENCE.jsonl", help="the segment to write (path, s3:// or -)")
    build.add_argument("--now", help="the instant Behavior.Recency is measured from, ISO-8601 (default: now)")
    build.add_argument(
        "--source",
        action="append",
        default=[],
        metavar="SEGMENT.json",
        help="the definition of a base segment its groups name (repeatable)",
    )
    build.add_argument(
        "--imported",
        action="append",
        default=[],
        metavar="ID=FILE[,FILE]",
        help="an imported base segment's endpoints (repeatable)",
    )
    add_aws_options(build, dry_run=False)
    build.set_defaults(run=run_build)


def run_build(arguments: argparse.Namespace) -> int:
    settings = SegmentBuildSettings(
        definition=arguments.definition,
        endpoints=tuple(arguments.endpoints),
        out=arguments.out,
        now=arguments.now,
        sources=tuple(arguments.source),
        imported=tuple(arguments.imported),
        aws=aws_options(arguments),
    )
    report = build_segment(settings)
    stream = sys.stderr if settings.out == "-" else sys.stdout
    if arguments.output == "json":
        print_json(report.to_dict()) if stream is sys.stdout else print(report.text(settings.out), file=stream)
    else:
        print(report.text(settings.out), file=stream)
    return 0
