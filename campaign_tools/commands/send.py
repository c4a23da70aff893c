"""`pinrec send` and `pinrec send status`: run a campaign without Pinpoint, exactly once per endpoint."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from campaign_tools.channels import registry as channel_registry
from campaign_tools.commands import options
from campaign_tools.console import Progress, print_json
from campaign_tools.send import report
from campaign_tools.send.ledgers import registry as ledger_registry
from campaign_tools.send.ledgers.base import (
    DEFAULT_EVENT_GRACE_SECONDS,
    DEFAULT_LEASE_SECONDS,
    Ledger,
    LedgerError,
    State,
)
from campaign_tools.send.on_aws import StateMachine, run_on_aws
from campaign_tools.send.outbox import DEFAULT_OUTBOX
from campaign_tools.send.recommendations.base import IdType
from campaign_tools.send.reconcile import ReconcilePolicy, ReconcileSettings, Reconciliation, reconcile, run_reconcile
from campaign_tools.send.run import SendRun, client_factory
from campaign_tools.send.settings import (
    DEFAULT_LEDGER,
    DEFAULT_LIST_SEPARATOR,
    DEFAULT_SUPPRESSION_MAX_AGE_HOURS,
    UNSUBSCRIBE_FIELDS,
    AwsSettings,
    SendSettings,
)
from campaign_tools.suppression import registry as suppression_registry
from campaign_tools.unsubscribe.links import MODES
from transformer.errors import PinrecError
from transformer.limits import MAX_ITEMS_PER_MESSAGE

EXIT_SOME_FAILED = 3
REQUIRED = ("segment", "campaign_id", "recommendations")


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    send = commands.add_parser(
        "send",
        help="send a campaign through SES / End User Messaging (or to an outbox), exactly once per endpoint",
        description="Reads a segment of Pinpoint endpoints, gets each one's recommendations, runs the transformer "
        "core in batches of 50, renders the template and delivers each message -- to files in an outbox (the "
        "default) or through SES v2, End User Messaging SMS or push with --deliver. A ledger keyed by (campaign "
        "id, endpoint id) records every message before and after delivery: re-running a campaign resumes it "
        "and never sends an endpoint a second message. Exit status 3 when some messages failed (they are "
        "retried by the next run).",
        epilog="See `pinrec send status --help` for the ledger summary.",
    )
    template = send.add_mutually_exclusive_group()
    template.add_argument(
        "--template", help="template name (./templates/NAME, built in) or folder, built from source for this run"
    )
    template.add_argument(
        "--built",
        metavar="DIR",
        help="a template pre-built by `pinrec templates build NAME --out DIR`: rendered as is, without the "
        "authoring pipeline (what the send Lambda does)",
    )
    send.add_argument("--templates-dir", help="folder holding templates (default ./templates)")
    send.add_argument("--segment", help="endpoints: JSON Lines or CSV file, local or s3://bucket/key, gzip or not")
    send.add_argument(
        "--segment-format",
        choices=["jsonl", "csv"],
        help="default: from the file name, else from the content (JSON Lines when it starts with {, else CSV)",
    )
    send.add_argument(
        "--csv-list-separator",
        default=DEFAULT_LIST_SEPARATOR,
        help=f"separator of list values in CSV attribute columns (default {DEFAULT_LIST_SEPARATOR!r})",
    )
    send.add_argument("--config", help="pinrec.toml (default: $PINREC_CONFIG or ./pinrec.toml)")
    send.add_argument("--campaign-id", help="the campaign's id: the ledger key, the outbox folder, the SES tag")
    send.add_argument("--channel", choices=channel_registry.names(), default="email")
    send.add_argument(
        "--recommendations",
        help="personalize:CAMPAIGN_ARN (or recommender ARN), personalize-recommender:RECOMMENDER_ARN[@ITEM_PATH] "
        "(a domain recommender; ITEM_PATH: the endpoint attribute holding the item of a '... like X' use case), "
        "customer-profiles:DOMAIN/RECOMMENDER[@PROFILE_ID_PATH] (Amazon Connect Customer Profiles; profile id from "
        "--id-type or the named attribute), file:PATH (JSON Lines, incl. Personalize batch inference output), or "
        "segment (RecommendationItems already in the segment)",
    )
    send.add_argument(
        "--id-type",
        choices=[kind.value for kind in IdType],
        default=IdType.ENDPOINT.value,
        help="recommendations per endpoint id or per User.UserId (Pinpoint's RecommendationProviderIdType)",
    )
    send.add_argument("--filter-arn", help="Personalize filter ARN")
    send.add_argument(
        "--filter-value", action="append", default=[], metavar="NAME=VALUE", help="Personalize filter value"
    )
    send.add_argument(
        "--per-message",
        type=int,
        default=MAX_ITEMS_PER_MESSAGE,
        help="recommended items per message, 1-5 (RecommendationsPerMessage; default 5)",
    )
    send.add_argument("--recommendation-concurrency", type=int, default=8, help="parallel Personalize calls")
    where = send.add_mutually_exclusive_group()
    where.add_argument("--outbox", metavar="DIR", help=f"write messages as files (default {DEFAULT_OUTBOX}/)")
    where.add_argument("--deliver", action="store_true", help="deliver through SES / End User Messaging")
    _add_sender_options(send)
    send.add_argument(
        "--rate", type=float, help="messages per second (default: SES MaxSendRate; SMS 1/s; push 100/s; outbox none)"
    )
    send.add_argument("--workers", type=int, default=4, help="deliveries in flight at once (default 4)")
    send.add_argument(
        "--compose-processes",
        type=int,
        default=1,
        help="render messages in N processes (default 1); rendering an email takes ~8 ms, so above ~120 "
        "messages/s use one per core",
    )
    send.add_argument("--ledger", default=DEFAULT_LEDGER, help=f"{ledger_registry.usage()} ({DEFAULT_LEDGER})")
    send.add_argument(
        "--retry-pending",
        action="store_true",
        help="also send messages left pending (in doubt) by a run that died past the lease, though no delivery "
        "event settled them: they may have been delivered already, so this can send those endpoints a second "
        "message (without it, a run resends only those no event confirmed within the lease and --event-grace)",
    )
    send.add_argument(
        "--lease-seconds", type=float, default=DEFAULT_LEASE_SECONDS, help="age after which pending is in doubt"
    )
    _add_event_grace_option(send)
    send.add_argument(
        "--rebind",
        action="store_true",
        help="a campaign id is bound to the template, config, segment, channel and recommendations it started "
        "with, and a run that differs is refused; --rebind goes on under the id with what this run sends instead "
        "(endpoints already sent are not sent again)",
    )
    _add_unsubscribe_options(send)
    _add_suppression_options(send)
    options.add_dry_run_option(send, help="compose and count; deliver and record nothing")
    aws = send.add_argument_group("on AWS (infra/send-statemachine.yaml)")
    aws.add_argument(
        "--on-aws",
        action="store_true",
        help="run the campaign in Step Functions (a Distributed Map, 50 endpoints per Lambda child) and follow it",
    )
    aws.add_argument("--state-machine-arn", help="the stack's StateMachineArn output")
    aws.add_argument("--bucket", help="bucket to upload a local segment to (s3://BUCKET/pinrec-send/CAMPAIGN/...)")
    aws.add_argument("--max-concurrency", type=int, default=10, help="children running at once (default 10)")
    send.add_argument(
        "--composer",
        metavar="MODULE:FACTORY",
        help="use your own composer instead of the template: FACTORY(options) returns an object with "
        "compose(endpoint_id, endpoint) -> the channel's message",
    )
    options.add_aws_options(send, dry_run=False)
    send.set_defaults(run=run_send)

    actions = send.add_subparsers(title="actions", metavar="ACTION", required=False)
    _add_status(actions)
    _add_reconcile(actions)
    _register_report(actions)


def _add_status(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    status = actions.add_parser(
        "status",
        help="summarise a campaign's ledger: sent, skipped, failed by reason, pending",
        description="Counts the ledger's rows of one campaign. Pending rows older than the lease are 'in doubt': "
        "their run died between delivering and recording. With delivery events flowing, the next run (or `pinrec "
        "send reconcile`) marks those with an event sent and resends those without one after the grace period.",
    )
    status.add_argument("campaign_id", metavar="CAMPAIGN_ID")
    status.add_argument("--ledger", default=DEFAULT_LEDGER, help=f"{ledger_registry.usage()} ({DEFAULT_LEDGER})")
    status.add_argument("--lease-seconds", type=float, default=DEFAULT_LEASE_SECONDS)
    _add_event_grace_option(status)
    status.add_argument(
        "--list",
        choices=[state.value for state in State],
        help="also print the endpoint ids in this state, one per line, with reason, attempts and last change",
    )
    options.add_aws_options(status, dry_run=False)
    status.set_defaults(run=run_status)


def _add_sender_options(parser: argparse.ArgumentParser) -> None:
    """Each channel's sender flags (From, origination identity, application, ...); a flag channels share is
    added once."""
    added: set[str] = set()
    for channel in channel_registry.CHANNELS:
        for option in channel.send_options:
            if option.flag in added:
                continue
            added.add(option.flag)
            parser.add_argument(
                option.flag, dest=f"sender_{option.field}", type=option.type, choices=option.choices, help=option.help
            )


def _add_unsubscribe_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("unsubscribing (email; default: the template's [links])")
    group.add_argument(
        "--unsubscribe-mode",
        choices=MODES,
        help="url: the template's links.unsubscribe_url; pinrec: pinrec's signed one-click links to "
        "--unsubscribe-endpoint; ses: SES subscription management (--contact-list, --topic)",
    )
    group.add_argument("--contact-list", help="ses: the SES contact list the emails belong to")
    group.add_argument("--topic", help="ses, pinrec: the list's topic an unsubscribe applies to (default: all)")
    group.add_argument(
        "--unsubscribe-endpoint", metavar="URL", help="pinrec: the unsubscribe function URL (https://HOST[/PATH])"
    )
    group.add_argument(
        "--unsubscribe-key",
        metavar="SOURCE",
        help="pinrec: where the signing key is -- secretsmanager:SECRET_ID or ssm:NAME (env:VARIABLE or file:PATH "
        "for outbox runs)",
    )


def _add_suppression_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("suppression (see `pinrec suppression --help`)")
    group.add_argument(
        "--suppression",
        metavar="KIND:TARGET",
        help=f"the suppression list consulted before every message: {suppression_registry.usage()}, or none "
        f"(default: {suppression_registry.DEFAULT_SUPPRESSION} when that file exists, else none); suppressed "
        "recipients are skipped as suppressed:<reason>",
    )
    group.add_argument(
        "--suppression-max-age",
        type=float,
        default=DEFAULT_SUPPRESSION_MAX_AGE_HOURS,
        metavar="HOURS",
        help="warn when the copy of the provider lists (pinrec suppression sync) is older than this "
        f"(default {DEFAULT_SUPPRESSION_MAX_AGE_HOURS:g})",
    )


def sender_values(arguments: argparse.Namespace, channel_name: str) -> dict[str, Any]:
    """The chosen channel's sender settings from the flags given."""
    channel = channel_registry.channel(channel_name)
    values = {option.field: getattr(arguments, f"sender_{option.field}", None) for option in channel.send_options}
    return {field: value for field, value in values.items() if value is not None}


def parse_filter_values(values: list[str]) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for value in values:
        name, separator, text = value.partition("=")
        if not separator or not name:
            raise PinrecError(f"--filter-value must be NAME=VALUE, got {value!r}")
        parsed[name] = text
    return parsed


def settings_from(arguments: argparse.Namespace) -> SendSettings:
    missing = ["--" + name.replace("_", "-") for name in REQUIRED if not getattr(arguments, name)]
    if missing:
        raise PinrecError(f"pinrec send needs {', '.join(missing)}")
    return SendSettings.model_validate(
        {
            "campaign_id": arguments.campaign_id,
            "channel": arguments.channel,
            "template": arguments.template,
            "built": arguments.built,
            "templates_dir": arguments.templates_dir,
            "composer": arguments.composer,
            "config": arguments.config,
            "segment": arguments.segment,
            "segment_format": arguments.segment_format,
            "csv_list_separator": arguments.csv_list_separator,
            "recommendations": arguments.recommendations,
            "id_type": arguments.id_type,
            "per_message": arguments.per_message,
            "filter_arn": arguments.filter_arn,
            "filter_values": parse_filter_values(arguments.filter_value),
            "recommendation_concurrency": arguments.recommendation_concurrency,
            "sender": sender_values(arguments, arguments.channel),
            "outbox": arguments.outbox,
            "deliver": arguments.deliver,
            "dry_run": arguments.dry_run,
            "rate": arguments.rate,
            "workers": arguments.workers,
            "compose_processes": arguments.compose_processes,
            "ledger": arguments.ledger,
            "retry_pending": arguments.retry_pending,
            "rebind": arguments.rebind,
            "lease_seconds": arguments.lease_seconds,
            "suppression": arguments.suppression,
            "suppression_max_age": arguments.suppression_max_age,
            "event_grace_seconds": arguments.event_grace,
            "aws": {"region": arguments.region, "profile": arguments.profile, "endpoint_url": arguments.endpoint_url},
            **{field: getattr(arguments, field) for field in UNSUBSCRIBE_FIELDS},
        }
    )


def run_send(arguments: argparse.Namespace) -> int:
    settings = settings_from(arguments)
    if arguments.on_aws:
        return _run_on_aws(arguments, settings)
    progress = Progress("sending")
    with SendRun(settings, progress=progress) as send:
        print("\n".join([send.describe(), *(f"  {note}" for note in send.notes)]), file=sys.stderr)
        try:
            summary = send.run()
        finally:
            progress.done()
            stopped = send.summary.stopped
            dominant = send.dominant_reason()
            prominent = [dominant.line()] if dominant else []
            reconciled = send.reconciliation
            stream = sys.stderr if stopped else sys.stdout
            if arguments.output == "json":
                data = report.run_dict(send.summary)
                data["reconciliation"] = reconciled.to_dict() if reconciled else None
                print_json({**data, "dominant_reason": dominant.to_dict() if dominant else None}, file=stream)
            else:
                output = report.describe_run(send.summary, send.parts.recommendations, prominent)
                print("\n".join([output, *(reconciled.lines() if reconciled else [])]), file=stream)
    return EXIT_SOME_FAILED if summary.failed else 0


def _run_on_aws(arguments: argparse.Namespace, settings: SendSettings) -> int:
    machine = StateMachine(arguments.state_machine_arn or "", arguments.bucket, arguments.max_concurrency)
    progress = Progress("endpoints")
    try:
        result = run_on_aws(
            settings,
            machine,
            client_factory(settings.aws.options()),
            say=lambda line: print(line, file=sys.stderr),
            progress=lambda counts: progress(counts.succeeded + counts.failed),
        )
    finally:
        progress.done()
    if arguments.output == "json":
        reconciled = result.reconciliation.to_dict() if result.reconciliation else None
        data = {**report.status_dict(result.ledger), "reconciliation": reconciled}
        print_json({**data, "seconds": round(result.seconds, 1)})
    else:
        print(f"{report.describe_status(result.ledger)}\n  on AWS in {result.seconds:.1f}s")
    return EXIT_SOME_FAILED if result.ledger.failed else 0


def _outlook(ledger: Ledger, arguments: argparse.Namespace, now: float) -> Reconciliation | str:
    """What the next run would settle from the delivery events, judged only (the ledger is open read-only); why
    the events cannot be read, when they cannot."""
    policy = ReconcilePolicy(arguments.lease_seconds, arguments.event_grace)
    try:
        return reconcile(ledger, arguments.campaign_id, now, policy, apply=False)
    except LedgerError as error:
        return str(error)


def run_status(arguments: argparse.Namespace) -> int:
    clients = client_factory(options.aws_options(arguments))
    ledger = ledger_registry.open_ledger(arguments.ledger, clients, read_only=True)
    try:
        now = time.time()
        summary = ledger.summary(arguments.campaign_id, now, arguments.lease_seconds)
        if summary.total == 0:
            raise PinrecError(f"campaign {arguments.campaign_id} has no rows in ledger {arguments.ledger}")
        rows = list(ledger.rows(arguments.campaign_id, State(arguments.list))) if arguments.list else []
        outlook = _outlook(ledger, arguments, now) if summary.pending_in_doubt else None
    finally:
        ledger.close()
    if arguments.output == "json":
        data = report.status_dict(summary)
        data["reconciliation"] = outlook.to_dict() if isinstance(outlook, Reconciliation) else outlook
        if arguments.list:
            data["rows"] = [report.row_dict(row) for row in rows]
        print_json(data)
        return 0
    heading = "  judged by their delivery events (the next run or `pinrec send reconcile` settles them):"
    found = [f"  delivery events: {outlook}"] if isinstance(outlook, str) else outlook.lines(heading) if outlook else []
    print("\n".join([report.describe_status(summary), *found]))
    if arguments.list:
        print(f"\n{arguments.list} endpoints (id, reason, attempts, last change):")
        for row in rows:
            print(report.describe_row(row))
    return 0


def _add_event_grace_option(parser: argparse.ArgumentParser, *names: str) -> None:
    parser.add_argument(
        *names,
        "--event-grace",
        dest="event_grace",
        metavar="SECONDS",
        type=float,
        default=DEFAULT_EVENT_GRACE_SECONDS,
        help="how long delivery events may take to reach the ledger once a claim's lease ran out: an in-doubt "
        f"message with no event after lease + grace is sent again (default {DEFAULT_EVENT_GRACE_SECONDS:g})",
    )


def _add_reconcile(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = actions.add_parser(
        "reconcile",
        help="settle a campaign's in-doubt messages from their delivery events",
        description="Pending rows older than the lease are in doubt: their run died between delivering and "
        "recording. A row with a delivery event of its own (send, delivery, bounce, ...: the provider accepted "
        "it) is marked sent; one with none after the lease plus the grace period, while events of the campaign "
        "kept arriving, is released (failed: unconfirmed) and the next run sends it; the rest stay in doubt. Every "
        "resumed `pinrec send` does this first. Needs the events flowing: --configuration-set on the send and the "
        "events ingested into this ledger.",
    )
    command.add_argument("campaign_id", metavar="CAMPAIGN_ID")
    command.add_argument("--ledger", default=DEFAULT_LEDGER, help=f"{ledger_registry.usage()} ({DEFAULT_LEDGER})")
    command.add_argument("--lease-seconds", type=float, default=DEFAULT_LEASE_SECONDS)
    _add_event_grace_option(command, "--grace")
    options.add_dry_run_option(command, help="judge and report; change nothing")
    options.add_aws_options(command, dry_run=False)
    command.set_defaults(run=run_reconcile_command)


def run_reconcile_command(arguments: argparse.Namespace) -> int:
    settings = ReconcileSettings(
        campaign_id=arguments.campaign_id,
        ledger=arguments.ledger,
        lease_seconds=arguments.lease_seconds,
        grace_seconds=arguments.event_grace,
        dry_run=arguments.dry_run,
        aws=AwsSettings(region=arguments.region, profile=arguments.profile, endpoint_url=arguments.endpoint_url),
    )
    found = run_reconcile(settings, client_factory(settings.aws.options()), time.time())
    if arguments.output == "json":
        print_json({"campaign_id": settings.campaign_id, **found.to_dict()})
    else:
        print(
            "\n".join(
                [f"campaign {settings.campaign_id}:", *found.lines()]
                if found
                else [f"campaign {settings.campaign_id}: nothing in doubt"]
            )
        )
    return 0


def _register_report(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report_parser = actions.add_parser(
        "report",
        help="a campaign's delivery report from its ledger's rows and events: figures, rates, warnings, charts",
        description="Counts what became of a campaign's messages from the ledger's rows and the delivery events "
        "recorded for them: sent, delivered, bounced (hard / soft), complained, rejected, opened, clicked (and clicks "
        "per link), unsubscribed, suppressed and failed, per channel and in total, with rates, the first 72 hours "
        "hour by hour, and warnings when the email bounce or complaint rate nears what SES and the mailbox "
        "providers act on. Each recipient counts once per figure.",
    )
    report_parser.add_argument("campaign_id", metavar="CAMPAIGN")
    report_parser.add_argument("--ledger", default=DEFAULT_LEDGER, help=f"{ledger_registry.usage()} ({DEFAULT_LEDGER})")
    report_parser.add_argument(
        "--html",
        metavar="FILE",
        help="also write the report as one self-contained HTML page with charts (needs: pip install 'pinrec[report]')",
    )
    options.add_aws_options(report_parser, dry_run=False)
    report_parser.set_defaults(run=run_report)


def run_report(arguments: argparse.Namespace) -> int:
    from campaign_tools.report import json_report, text
    from campaign_tools.report.run import ReportSettings, campaign_report

    settings = ReportSettings(
        campaign_id=arguments.campaign_id,
        ledger=arguments.ledger,
        html=arguments.html,
        region=arguments.region,
        profile=arguments.profile,
        endpoint_url=arguments.endpoint_url,
    )
    result = campaign_report(settings)
    if arguments.output == "json":
        print_json(json_report.report_dict(result.report))
    else:
        print(text.describe_report(result.report))
    if result.html is not None:
        print(f"HTML report: {result.html}", file=sys.stderr)
    return 0
