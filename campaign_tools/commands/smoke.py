"""`pinrec smoke`: one small campaign to the SES mailbox simulator (and End User Messaging's simulator numbers)
through the deployed stacks, checked end to end; it never sends to a real recipient."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from campaign_tools.commands.options import add_aws_options
from campaign_tools.console import print_json
from campaign_tools.doctor.run import MARKS
from campaign_tools.smoke.run import SmokeSettings, Waiting, run_smoke

EXIT_FAILED = 1


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "smoke",
        help="send one small campaign to the providers' simulators and check its events, suppressions and report",
        description="Sends the campaign (a campaign.toml) to the providers' simulators: for each of its [email] and "
        "[sms] tables, the campaign's own message with that table's template and sender settings, through the "
        "campaign's configuration set, ledger and suppression list, under a fresh campaign id -- email to the SES "
        "mailbox simulator (success@, bounce@, complaint@, suppressionlist@simulator.amazonses.com), SMS to End User "
        "Messaging's US simulator numbers ([push] has no simulator: skipped); waits until the deployed loop brought "
        "every message's events into the ledger; checks the ledger, the suppression list and the report against "
        "what the simulators promise; removes the simulator addresses' suppression entries and its temporary "
        "files. It never sends to any other recipient. Exit status 1 when a check failed.",
    )
    parser.add_argument("--campaign", type=Path, required=True, metavar="FILE",
                        help="the campaign.toml: it must name its ledger, suppression list and each table's "
                        "configuration_set")  # fmt: skip
    parser.add_argument("--item", action="append", dest="items", default=[], metavar="ID",
                        help="recommend this catalog item id to every simulator endpoint (repeat; default: the "
                        "campaign's recommendations)")  # fmt: skip
    parser.add_argument("--timeout", type=float, default=600.0, metavar="SECONDS",
                        help="how long to wait for the events (default 600)")  # fmt: skip
    parser.add_argument("--poll", type=float, default=10.0, metavar="SECONDS",
                        help="seconds between two reads of the ledger (default 10)")  # fmt: skip
    add_aws_options(parser, dry_run=False)
    parser.set_defaults(run=run)


def run(arguments: argparse.Namespace) -> int:
    settings = SmokeSettings(
        campaign=arguments.campaign, items=tuple(arguments.items), timeout_seconds=arguments.timeout,
        poll_seconds=arguments.poll, region=arguments.region, profile=arguments.profile,
        endpoint_url=arguments.endpoint_url,
    )  # fmt: skip
    waiting = Waiting(progress=lambda line: print(f"pinrec smoke: {line}", file=sys.stderr))
    report = run_smoke(settings, waiting=waiting)
    if arguments.output == "json":
        print_json(report.to_dict())
    else:
        for result in report.results:
            print(f"smoke campaign {result.campaign_id} ({result.channel}): {'ok' if result.ok else 'FAILED'}")
            for finding in result.findings:
                print(f"[{MARKS[finding.status]}] {finding.title}: {finding.detail}")
                if finding.fix:
                    print(f"       fix: {finding.fix}")
    return 0 if report.ok else EXIT_FAILED
