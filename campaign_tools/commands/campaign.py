"""`pinrec campaign validate | show | plan`: a campaign.toml checked, shown normalised with its next slots, and its
dry run over a segment; `run` and `trigger`: the due slots, or one event, sent inside the campaign's limits;
`report`: conversions and lift per treatment over the holdout; `deploy` ... `list`: EventBridge Scheduler."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from campaign_tools.campaigns import aws as campaign_aws
from campaign_tools.campaigns.aws import DEFAULT_GROUP, DEFAULT_HORIZON, DeployTarget
from campaign_tools.campaigns.definition import load_campaign
from campaign_tools.campaigns.plan import plan
from campaign_tools.campaigns.recipients import segment_rows
from campaign_tools.campaigns.report import CampaignReportSettings, campaign_lift_report
from campaign_tools.campaigns.run import DEFAULT_STAGE_DIR, CampaignRunSettings, run_campaign
from campaign_tools.campaigns.schedule import Timetable
from campaign_tools.campaigns.trigger import read_event, trigger_campaign
from campaign_tools.commands.options import add_aws_options, add_dry_run_option, add_output_option, aws_options
from campaign_tools.console import print_json
from campaign_tools.conversions import registry as conversions_registry
from campaign_tools.send.ledgers import registry as ledger_registry
from campaign_tools.send.outbox import DEFAULT_OUTBOX
from campaign_tools.send.settings import DEFAULT_LEDGER
from transformer.aws import client
from transformer.errors import PinrecError

NEXT_SLOTS = 5


def _instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date-time: {text!r}") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give an offset or Z: {text!r}")
    return value.astimezone(UTC)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    campaign = commands.add_parser(
        "campaign", help="campaigns as Pinpoint ran them: validate, show, plan, run, trigger, report, deploy"
    )
    actions = campaign.add_subparsers(title="actions", metavar="ACTION", required=True)
    validate = actions.add_parser("validate", help="check a campaign.toml: every problem at once, exit status 1")
    validate.add_argument("file", metavar="FILE")
    validate.set_defaults(run=run_validate)
    show = actions.add_parser("show", help="the normalised definition and its next slots")
    show.add_argument("file", metavar="FILE")
    show.add_argument("--now", type=_instant, help="ISO 8601 instant the next slots follow (default: now)")
    add_output_option(show)
    show.set_defaults(run=run_show)
    dry = actions.add_parser(
        "plan",
        help="the dry run: slots due, upcoming and skipped, recipients per slot, channel and treatment",
        description="Reads the segment once and prints, for the slots with since < at <= until judged at --now, "
        "the recipients per channel and treatment (and the holdout), and what is skipped and why: quiet_time, "
        "late (past max_lateness), expired; no_channel, opted_out, inactive, no_address, invalid_address; "
        "endpoints without a valid time zone are counted. Sends nothing.",
    )
    dry.add_argument("file", metavar="FILE")
    dry.add_argument("--segment", help="endpoints (JSON Lines or CSV, local or s3://); default: the file's segment")
    dry.add_argument("--segment-format", choices=("jsonl", "csv"), help="default: from the file name")
    dry.add_argument("--now", type=_instant, help="ISO 8601 instant to judge at (default: now)")
    dry.add_argument("--since", type=_instant, help="slots after this instant (default: one period before lateness)")
    dry.add_argument("--until", type=_instant, help="slots up to this instant (default: --now)")
    add_output_option(dry)
    dry.set_defaults(run=run_plan)
    report = actions.add_parser(
        "report",
        help="per treatment and the holdout: recipients, conversions, rate, value, lift with confidence intervals",
        description="Reads the campaign's units from the ledger (<campaign>.<slot>.<treatment>.<channel>; the "
        "holdout's skipped rows with reason holdout under <campaign>.<slot>.holdout.<channel>) and the conversions "
        "store (pinrec conversions ingest), attributes each recipient's conversions within the [conversions] window "
        "after its message (the holdout: its slot), and prints each group's conversion rate (Wilson interval), "
        "value, and lift over the holdout: the rate difference (Newcombe interval) and relative lift (Katz log "
        "interval). Needs the pinrec[stats] extra (statsmodels).",
    )
    report.add_argument("file", metavar="FILE")
    report.add_argument("--ledger", default=DEFAULT_LEDGER, help=f"{ledger_registry.usage()} ({DEFAULT_LEDGER})")
    report.add_argument(
        "--conversions",
        default=conversions_registry.DEFAULT_CONVERSIONS,
        help=f"{conversions_registry.usage()} ({conversions_registry.DEFAULT_CONVERSIONS})",
    )
    report.add_argument("--segment", help="maps user-keyed conversions to endpoints (default: the file's segment)")
    report.add_argument("--confidence", type=float, default=0.95, help="of the intervals, 0.5-1 exclusive (0.95)")
    add_aws_options(report, dry_run=False)
    report.set_defaults(run=run_report)
    deploy = actions.add_parser(
        "deploy",
        help="EventBridge Scheduler: one at() schedule per upcoming unit invoking the campaign's slot function",
        description="Plans the slots after --now up to --horizon over the segment (local-time campaigns: one slot "
        "per UTC offset with recipients) and makes the group's schedules of the campaign exactly one per (slot, "
        "treatment, channel): new ones created, existing ones updated (a paused campaign stays paused), unwanted "
        "ones deleted. Each invokes the campaign's slot function (infra/campaigns.yaml) with its unit; at the slot "
        "the function stages the unit's recipients, binds and reconciles the unit in the ledger and starts the send "
        "state machine.",
    )
    deploy.add_argument("file", metavar="FILE")
    deploy.add_argument("--slot-function-arn", required=True, help="infra/campaigns.yaml's SlotFunctionArn")
    deploy.add_argument("--scheduler-role-arn", required=True, help="infra/campaigns.yaml's SchedulerRoleArn")
    deploy.add_argument("--dead-letter-arn", help="infra/campaigns.yaml's ScheduleDeadLetterQueueArn")
    deploy.add_argument("--segment", help="endpoints (JSON Lines or CSV, local or s3://); default: the file's")
    deploy.add_argument("--segment-format", choices=("jsonl", "csv"), help="default: from the file name")
    deploy.add_argument("--now", type=_instant, help="ISO 8601 instant; slots after it are scheduled (default: now)")
    deploy.add_argument("--horizon-days", type=int, default=DEFAULT_HORIZON.days, help="how far ahead (35)")
    for parser, name in (
        (deploy, "deploy"),
        (actions.add_parser("pause", help="disable every schedule of the campaign (State DISABLED)"), "pause"),
        (actions.add_parser("resume", help="enable every schedule of the campaign (State ENABLED)"), "resume"),
        (actions.add_parser("delete", help="delete every schedule of the campaign"), "delete"),
    ):
        if name != "deploy":
            parser.add_argument("file", metavar="FILE")
        parser.add_argument("--group", default=DEFAULT_GROUP, help=f"the schedule group ({DEFAULT_GROUP})")
        add_aws_options(parser, dry_run=True)
        parser.set_defaults(run=run_scheduler, action=name)
    _register_run(actions)
    listing = actions.add_parser("list", help="the campaign files of a folder; with --aws their deployed schedules")
    listing.add_argument("folder", metavar="FOLDER", nargs="?", default=".")
    listing.add_argument("--aws", action="store_true", help="count each campaign's schedules by state")
    listing.add_argument("--group", default=DEFAULT_GROUP, help=f"the schedule group ({DEFAULT_GROUP})")
    add_aws_options(listing, dry_run=False)
    listing.set_defaults(run=run_list)


def _register_run(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    running = actions.add_parser(
        "run",
        help="send the slots that are due now, each unit through the send, inside the campaign's limits",
        description="Reads the segment once and splits the due slots (judged at --now) into units (slot, treatment, "
        "channel) under --stage-dir; records each slot's holdout as skipped holdout and quiet-time recipients as "
        "skipped quiet_time; sends each unit as `pinrec send` would (ledger id <campaign>.<slot>.<treatment>."
        "<channel>), reserving the [limits] caps per endpoint before each delivery (cap_daily / cap_total when "
        "refused). A re-run sends nothing twice.",
    )
    running.add_argument("file", metavar="FILE")
    running.add_argument("--now", type=_instant, help="ISO 8601 instant the slots are judged at (default: now)")
    trig = actions.add_parser(
        "trigger",
        help="send an event-triggered campaign's message for one event (if its filter matches, limits allowing)",
        description="Reads one event (JSON: endpoint_id and/or user_id, event_type, timestamp, attributes, "
        "metrics) and, if the campaign's event filter matches it, sends the campaign's message to the endpoint "
        "it names (or the user's endpoints) found in the segment, inside the campaign's limits.",
    )
    trig.add_argument("file", metavar="FILE")
    trig.add_argument("--event", required=True, metavar="EVENT.json", help="the event (a JSON file, or - for stdin)")
    for parser in (running, trig):
        parser.add_argument("--segment", help="endpoints (JSON Lines or CSV, local or s3://); default: the file's")
        parser.add_argument("--segment-format", choices=("jsonl", "csv"), help="default: from the file name")
        parser.add_argument(
            "--ledger",
            help=f"{ledger_registry.usage()}; the limits are kept beside it (default: the file's ledger, else "
            f"{DEFAULT_LEDGER})",
        )
        where = parser.add_mutually_exclusive_group()
        where.add_argument("--outbox", metavar="DIR", help=f"write messages as files (default {DEFAULT_OUTBOX}/)")
        where.add_argument("--deliver", action="store_true", help="deliver through SES / End User Messaging")
        parser.add_argument(
            "--suppression", help="as pinrec send --suppression (KIND:TARGET or none; default: the file's suppression)"
        )
        parser.add_argument("--workers", type=int, default=4, help="deliveries in flight at once (default 4)")
        parser.add_argument(
            "--stage-dir",
            default=DEFAULT_STAGE_DIR,
            help=f"where each unit's endpoints are written ({DEFAULT_STAGE_DIR})",
        )
        add_aws_options(parser, dry_run=False)
        add_dry_run_option(parser, "compose every message, send and record nothing (limits are not reserved)")
    running.set_defaults(run=run_run)
    trig.set_defaults(run=run_trigger)


def run_validate(arguments: argparse.Namespace) -> int:
    definition = load_campaign(arguments.file)
    print(f"{arguments.file}: campaign {definition.id} is valid")
    return 0


def run_show(arguments: argparse.Namespace) -> int:
    definition = load_campaign(arguments.file)
    now = arguments.now or datetime.now(UTC)
    upcoming = Timetable(definition.schedule, definition.expiry_instant()).next_occurrences(now, NEXT_SLOTS)
    slots = [
        {"occurrence": occurrence.isoformat(), "first": first.isoformat(), "last": last.isoformat()}
        for occurrence, first, last in upcoming
    ]
    if arguments.output == "json":
        print_json({"definition": definition.normalised(), "next_slots": slots})
        return 0
    print(json.dumps(definition.normalised(), indent=2, ensure_ascii=False))
    where = "in each recipient's zone, " if definition.schedule.local_time else ""
    print(f"next slots ({where}UTC from first to last):" if slots else "next slots: none")
    for slot in slots:
        span = slot["first"] if slot["first"] == slot["last"] else f"{slot['first']} .. {slot['last']}"
        print(f"  {slot['occurrence']}: {span}")
    return 0


def run_plan(arguments: argparse.Namespace) -> int:
    definition = load_campaign(arguments.file)
    segment = arguments.segment or definition.segment
    if not segment:
        raise PinrecError("campaign plan needs a segment: --segment FILE, or segment in the campaign file")
    now = arguments.now or datetime.now(UTC)
    with segment_rows(
        segment, arguments.segment_format or definition.segment_format, definition.csv_list_separator
    ) as rows:
        result = plan(definition, rows, now, since=arguments.since, until=arguments.until)
    if arguments.output == "json":
        print_json(result.to_dict())
    else:
        print("\n".join(result.lines()))
    return 0


def run_report(arguments: argparse.Namespace) -> int:
    settings = CampaignReportSettings(
        file=arguments.file,
        ledger=arguments.ledger,
        conversions=arguments.conversions,
        segment=arguments.segment,
        confidence=arguments.confidence,
        region=arguments.region,
        profile=arguments.profile,
        endpoint_url=arguments.endpoint_url,
    )
    result = campaign_lift_report(settings)
    if arguments.output == "json":
        print_json(result.to_dict())
    else:
        print("\n".join(result.lines()))
    return 0


def scheduler_client(arguments: argparse.Namespace) -> Any:
    """The Scheduler client of a command run. Tests point it at moto."""
    return client("scheduler", aws_options(arguments))


def run_scheduler(arguments: argparse.Namespace) -> int:
    definition = load_campaign(arguments.file)
    scheduler = scheduler_client(arguments)
    if arguments.action == "deploy":
        segment = arguments.segment or definition.segment
        if not segment and definition.schedule.frequency != "event":
            raise PinrecError("campaign deploy needs a segment: --segment FILE, or segment in the campaign file")
        target = DeployTarget(
            arguments.slot_function_arn, arguments.scheduler_role_arn, arguments.group, arguments.dead_letter_arn
        )
        now = arguments.now or datetime.now(UTC)
        horizon = timedelta(days=arguments.horizon_days)
        if segment:
            s3 = client("s3", aws_options(arguments)) if segment.startswith("s3://") else None
            fmt = arguments.segment_format or definition.segment_format
            with segment_rows(segment, fmt, definition.csv_list_separator, s3) as rows:
                result = campaign_aws.deploy(
                    definition, rows, scheduler, target, now, horizon=horizon, dry_run=arguments.dry_run
                )
        else:
            result = campaign_aws.deploy(definition, [], scheduler, target, now, dry_run=arguments.dry_run)
    elif arguments.action == "delete":
        result = campaign_aws.delete(definition.id, scheduler, arguments.group, dry_run=arguments.dry_run)
    else:
        enabled = arguments.action == "resume"
        result = campaign_aws.set_state(
            definition.id, scheduler, arguments.group, enabled=enabled, dry_run=arguments.dry_run
        )
    if arguments.output == "json":
        print_json(result.to_dict())
    else:
        print("\n".join(result.lines()))
    return 0


def _run_settings(arguments: argparse.Namespace) -> CampaignRunSettings:
    return CampaignRunSettings(
        file=Path(arguments.file),
        now=getattr(arguments, "now", None),
        segment=arguments.segment,
        segment_format=arguments.segment_format,
        ledger=arguments.ledger,
        outbox=arguments.outbox,
        deliver=arguments.deliver,
        dry_run=arguments.dry_run,
        suppression=arguments.suppression,
        workers=arguments.workers,
        stage_dir=Path(arguments.stage_dir),
        region=arguments.region,
        profile=arguments.profile,
        endpoint_url=arguments.endpoint_url,
    )


def run_run(arguments: argparse.Namespace) -> int:
    result = run_campaign(_run_settings(arguments))
    if arguments.output == "json":
        print_json(result.to_dict())
    else:
        print("\n".join(result.lines()))
    return 0


def run_trigger(arguments: argparse.Namespace) -> int:
    event = read_event(arguments.event)
    result = trigger_campaign(_run_settings(arguments), event)
    if arguments.output == "json":
        print_json(result.to_dict())
    else:
        print("\n".join(result.lines()))
    return 1 if result.status == "invalid_event" else 0


def run_list(arguments: argparse.Namespace) -> int:
    client_of = (lambda: scheduler_client(arguments)) if arguments.aws else None
    found = campaign_aws.list_campaigns(Path(arguments.folder), client_of, arguments.group)
    if arguments.output == "json":
        print_json([entry.to_dict() for entry in found])
        return 0
    for entry in found:
        if entry.error is not None:
            print(f"{entry.file}: invalid: {entry.error}")
            continue
        deployed = ""
        if entry.schedules is not None:
            states = ", ".join(f"{state.lower()} {n}" for state, n in sorted(entry.schedules.items()))
            deployed = f"; schedules: {states or 'none'}"
        print(f"{entry.file}: {entry.campaign_id} ({entry.name}), {entry.frequency}{deployed}")
    return 0
