"""`pinrec doctor`: check a real AWS setup, read-only, each check ok / warning / failure with its fix."""

from __future__ import annotations

import argparse
from pathlib import Path

from campaign_tools.commands.options import add_aws_options
from campaign_tools.console import print_json
from campaign_tools.doctor.run import doctor
from campaign_tools.doctor.settings import DEFAULT_STACKS, DoctorSettings

EXIT_FAILED = 1


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "doctor",
        help="check the AWS setup (read-only): credentials, stacks, SES, events, suppression, SMS, push, tables, IAM",
        description="Reads the account's setup and reports each check as ok, warning, failure or skipped, with the "
        "fix. It changes nothing: only Describe/Get/List calls and iam:SimulatePrincipalPolicy. Exit status 1 when "
        "any check failed.",
    )
    parser.add_argument("--config", type=Path, help="pinrec.toml: the catalog store whose table is checked")
    parser.add_argument(
        "--campaign",
        type=Path,
        help="a campaign.toml: each channel table's sender settings (From identity, configuration set, "
        "origination identity, push application), its ledger, suppression list and recommendations are checked",
    )
    parser.add_argument(
        "--stack", action="append", dest="stacks", metavar="NAME",
        help=f"a pinrec stack to check (repeat; default: {', '.join(DEFAULT_STACKS)})",
    )  # fmt: skip
    parser.add_argument("--max-event-age", type=float, default=24.0, metavar="HOURS",
                        help="warn when the events queue received nothing for this long (default 24)")  # fmt: skip
    add_aws_options(parser, dry_run=False)
    parser.set_defaults(run=run)


def run(arguments: argparse.Namespace) -> int:
    settings = DoctorSettings(
        config=arguments.config,
        campaign=arguments.campaign,
        stacks=tuple(arguments.stacks) if arguments.stacks else DEFAULT_STACKS,
        max_event_age_hours=arguments.max_event_age,
        region=arguments.region,
        profile=arguments.profile,
        endpoint_url=arguments.endpoint_url,
    )
    report = doctor(settings)
    if arguments.output == "json":
        print_json(report.to_dict())
    else:
        print("\n".join(report.lines()))
    return EXIT_FAILED if report.failed else 0
