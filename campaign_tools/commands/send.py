"""`pinrec send` and `pinrec send status`: run a campaign without Pinpoint, exactly once per endpoint."""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from campaign_tools.console import Progress
from campaign_tools.send.assemble import (
    DEFAULT_LEDGER,
    DEFAULT_OUTBOX,
    boto_client,
    check_campaign_id,
    default_rate,
    deliverer_for,
    open_ledger,
    parse_filter_values,
    recommendation_source,
    sms_settings_for,
)
from campaign_tools.send.compose import ComposerOptions, make_composer
from campaign_tools.send.compose_pool import ComposerPool, InlineComposer
from campaign_tools.send.delivery_outbox import DEFAULT_FROM, OutboxDeliverer
from campaign_tools.send.delivery_push import PushSettings
from campaign_tools.send.delivery_ses import EmailSettings
from campaign_tools.send.delivery_sms import SmsSettings
from campaign_tools.send.dry_run import DryRunDeliverer, NullLedger
from campaign_tools.send.ledger import DEFAULT_LEASE_SECONDS, ClaimPolicy, LedgerSummary, State
from campaign_tools.send.messages import Channel
from campaign_tools.send.pacing import TokenBucket
from campaign_tools.send.pipeline import CampaignRun, RunSummary
from campaign_tools.send.recommendations import FileRecommendations, IdType, PersonalizeRecommendations
from campaign_tools.send.segments import DEFAULT_LIST_SEPARATOR, read_segment
from transformer.config import config_path_from_environment, load_config
from transformer.errors import PinrecError
from transformer.limits import MAX_ITEMS_PER_MESSAGE
from transformer.service import Transformer

EXIT_SOME_FAILED = 3


def register(commands: argparse._SubParsersAction) -> None:
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
    send.add_argument("--segment-format", choices=["jsonl", "csv"], help="default: from the file name")
    send.add_argument(
        "--csv-list-separator",
        default=DEFAULT_LIST_SEPARATOR,
        help=f"separator of list values in CSV attribute columns (default {DEFAULT_LIST_SEPARATOR!r})",
    )
    send.add_argument("--config", help="pinrec.toml (default: $PINREC_CONFIG or ./pinrec.toml)")
    send.add_argument("--campaign-id", help="the campaign's id: the ledger key, the outbox folder, the SES tag")
    send.add_argument("--channel", choices=[channel.value for channel in Channel], default="email")
    send.add_argument(
        "--recommendations",
        help="personalize:CAMPAIGN_ARN (or recommender ARN), file:PATH (JSON Lines, incl. Personalize batch "
        "inference output), or segment (RecommendationItems already in the segment)",
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
    send.add_argument("--from", dest="from_address", help="email From address (a verified SES identity)")
    send.add_argument("--configuration-set", help="SES or SMS configuration set")
    send.add_argument("--origination-identity", help="SMS: phone number, sender id, pool or their ARN")
    send.add_argument("--sms-type", choices=["PROMOTIONAL", "TRANSACTIONAL"], default="PROMOTIONAL")
    send.add_argument("--sms-max-parts", type=int, help="SMS part budget (default: the template's sms.max_segments)")
    send.add_argument("--application-id", help="push: the End User Messaging (Pinpoint) application id")
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
    send.add_argument("--ledger", default=DEFAULT_LEDGER, help=f"sqlite:PATH or dynamodb:TABLE ({DEFAULT_LEDGER})")
    send.add_argument(
        "--retry-pending",
        action="store_true",
        help="also send messages left pending (in doubt) by a run that died past the lease: they may have been "
        "delivered already, so this can send those endpoints a second message",
    )
    send.add_argument(
        "--lease-seconds", type=float, default=DEFAULT_LEASE_SECONDS, help="age after which pending is in doubt"
    )
    send.add_argument("--dry-run", action="store_true", help="compose and count; deliver and record nothing")
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
        "compose(endpoint_id, endpoint) -> EmailMessage | SmsMessage | PushMessage",
    )
    send.set_defaults(run=run_send)

    actions = send.add_subparsers(title="actions", metavar="ACTION", required=False)
    status = actions.add_parser(
        "status",
        help="summarise a campaign's ledger: sent, skipped, failed by reason, pending",
        description="Counts the ledger's rows of one campaign. Pending rows older than the lease are 'in doubt': "
        "their run died between delivering and recording; re-run with --retry-pending to send them again.",
    )
    status.add_argument("campaign_id", metavar="CAMPAIGN_ID")
    status.add_argument("--ledger", default=DEFAULT_LEDGER, help=f"sqlite:PATH or dynamodb:TABLE ({DEFAULT_LEDGER})")
    status.add_argument("--lease-seconds", type=float, default=DEFAULT_LEASE_SECONDS)
    status.add_argument(
        "--list",
        choices=[state.value for state in State],
        help="also print the endpoint ids in this state, one per line, with reason, attempts and last change",
    )
    status.set_defaults(run=run_status)


def _require(arguments: argparse.Namespace, *names: str) -> None:
    missing = ["--" + name.replace("_", "-") for name in names if not getattr(arguments, name)]
    if missing:
        raise PinrecError(f"pinrec send needs {', '.join(missing)}")


def _sms_settings(arguments: argparse.Namespace, composer: Any) -> SmsSettings:
    return sms_settings_for(
        composer,
        max_parts=arguments.sms_max_parts,
        origination_identity=arguments.origination_identity,
        message_type=arguments.sms_type,
        configuration_set=arguments.configuration_set,
    )


def run_send(arguments: argparse.Namespace) -> int:
    _require(arguments, "segment", "campaign_id", "recommendations")
    if not arguments.template and not arguments.built and not arguments.composer:
        raise PinrecError("pinrec send needs --template or --built (or --composer)")
    if arguments.built and arguments.templates_dir:
        raise PinrecError("--templates-dir goes with --template; --built names the built folder itself")
    campaign_id = check_campaign_id(arguments.campaign_id)
    channel = Channel(arguments.channel)
    if not 1 <= arguments.compose_processes <= 64:
        raise PinrecError("--compose-processes must be 1 to 64")
    if arguments.on_aws:
        return run_on_aws(arguments, campaign_id, channel)
    config = load_config(arguments.config or config_path_from_environment())
    options = ComposerOptions(arguments.template, arguments.templates_dir, channel, config, built=arguments.built)
    composer = make_composer(arguments.composer, options)
    email = EmailSettings(arguments.from_address or DEFAULT_FROM, arguments.configuration_set)
    sms = _sms_settings(arguments, composer) if channel is Channel.SMS else None
    push = PushSettings(arguments.application_id) if arguments.application_id else None
    outbox = None if arguments.deliver else (arguments.outbox or DEFAULT_OUTBOX)
    if arguments.dry_run:
        deliverer: Any = DryRunDeliverer(OutboxDeliverer(DEFAULT_OUTBOX, email=email, sms=sms, push=push))
        ledger: Any = NullLedger()
    else:
        deliverer = deliverer_for(channel, outbox=outbox, email=email, sms=sms, push=push)
        ledger = open_ledger(arguments.ledger, durable=not deliverer.idempotent)
    source = recommendation_source(
        arguments.recommendations,
        id_type=IdType(arguments.id_type),
        per_message=arguments.per_message,
        filter_arn=arguments.filter_arn,
        filter_values=parse_filter_values(arguments.filter_value),
        concurrency=arguments.recommendation_concurrency,
    )
    if arguments.rate is not None:
        if not arguments.rate > 0:
            raise PinrecError("--rate must be a positive number of messages per second")
        rate, rate_source = arguments.rate, f"{arguments.rate:g}/s (--rate)"
    elif arguments.dry_run:
        rate, rate_source = None, "unpaced (dry run)"
    else:
        rate, rate_source = default_rate(channel, arguments.deliver, boto_client)
    batch_composer: Any = (
        ComposerPool(arguments.composer, options, arguments.compose_processes)
        if arguments.compose_processes > 1
        else InlineComposer(composer)
    )
    run = CampaignRun(
        campaign_id=campaign_id,
        recommendations=source,
        enricher=Transformer(config),
        composer=batch_composer,
        deliverer=deliverer,
        ledger=ledger,
        claim_policy=ClaimPolicy(
            run_id=uuid.uuid4().hex,
            lease_seconds=arguments.lease_seconds,
            reclaim_pending=deliverer.idempotent,
            reclaim_expired=arguments.retry_pending,
        ),
        pacer=TokenBucket(rate) if rate is not None else None,
        workers=arguments.workers,
        dry_run=arguments.dry_run,
        progress=(progress := Progress("sending")),
    )
    print(
        f"campaign {campaign_id}: {channel} via {deliverer.describe()}, recommendations from {source.describe()}, "
        f"ledger {ledger.describe()}, pace {rate_source}",
        file=sys.stderr,
    )
    try:
        endpoints = read_segment(
            arguments.segment,
            channel,
            run.summary.segment,
            segment_format=arguments.segment_format,
            list_separator=arguments.csv_list_separator,
            on_skip=run.record_segment_skip,
        )
        summary = run.run(endpoints)
    finally:
        progress.done()
        print(describe_run(run.summary, source), file=sys.stderr if run.summary.stopped else sys.stdout)
        batch_composer.close()
        ledger.close()
    return EXIT_SOME_FAILED if summary.failed else 0


def _reasons(counter: Counter[str]) -> str:
    return ", ".join(f"{reason} {count:,}" for reason, count in counter.most_common())


def describe_run(summary: RunSummary, source: object) -> str:
    skipped = summary.all_skipped()
    verb = "would send" if summary.dry_run else "sent"
    rate = summary.sent / summary.seconds if summary.seconds > 0 else 0.0
    lines = [
        f"campaign {summary.campaign_id}: {verb} {summary.sent:,}, skipped {sum(skipped.values()):,}, "
        f"failed {sum(summary.failed.values()):,} of {summary.segment.rows:,} rows in {summary.seconds:.2f}s "
        f"({rate:,.0f} messages/s)"
    ]
    if skipped:
        lines.append(f"  skipped: {_reasons(skipped)}")
    if summary.failed:
        lines.append(f"  failed: {_reasons(summary.failed)} (a re-run retries them)")
    if summary.throttled_retries:
        lines.append(f"  throttled: {summary.throttled_retries:,} retries after backoff")
    if summary.segment.malformed:
        examples = "; ".join(f"line {line}: {reason}" for line, reason in summary.segment.malformed_examples)
        lines.append(f"  malformed segment rows: {summary.segment.malformed:,} skipped ({examples})")
    if isinstance(source, FileRecommendations):
        stats = source.stats
        lines.append(f"  recommendations file: {stats.ids:,} ids, {stats.error_lines:,} batch inference error lines")
        if stats.malformed:
            examples = "; ".join(f"line {line}: {reason}" for line, reason in stats.malformed_examples)
            lines.append(f"  malformed recommendation lines: {stats.malformed:,} skipped ({examples})")
    if isinstance(source, PersonalizeRecommendations):
        lines.append(f"  Personalize: {source.calls:,} calls, {source.retries:,} retries")
    if skipped.get("in_progress") or skipped.get("in_doubt"):
        lines.append(
            "  pending from an earlier run: 'in_progress' rows become 'in doubt' after the lease; "
            "`pinrec send status` lists them, --retry-pending sends them again (perhaps a second time)"
        )
    if summary.stopped:
        lines.append(f"  stopped early: {summary.stopped}")
    return "\n".join(lines)


def _when(epoch: float | None) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds") if epoch is not None else "-"


def describe_status(summary: LedgerSummary) -> str:
    lines = [
        f"campaign {summary.campaign_id}: {summary.total:,} endpoints in the ledger",
        f"  sent      {summary.sent:,}",
        f"  skipped   {sum(summary.skipped.values()):,}"
        + (f"  ({_reasons(summary.skipped)})" if summary.skipped else ""),
        f"  failed    {sum(summary.failed.values()):,}" + (f"  ({_reasons(summary.failed)})" if summary.failed else ""),
        f"  pending   {summary.pending_in_lease:,} in progress, {summary.pending_in_doubt:,} in doubt",
    ]
    if summary.pending_in_doubt:
        lines.append(
            f"  in doubt since {_when(summary.oldest_pending)}: a run died between delivering and recording; "
            "re-run with --retry-pending to send them again (they may already have received it)"
        )
    lines.append(f"  first activity {_when(summary.first_at)}, last {_when(summary.last_at)}")
    return "\n".join(lines)


def run_status(arguments: argparse.Namespace) -> int:
    ledger = open_ledger(arguments.ledger)
    try:
        summary = ledger.summary(arguments.campaign_id, time.time(), arguments.lease_seconds)
        if summary.total == 0:
            raise PinrecError(f"campaign {arguments.campaign_id} has no rows in ledger {arguments.ledger}")
        print(describe_status(summary))
        if arguments.list:
            print(f"\n{arguments.list} endpoints (id, reason, attempts, last change):")
            for row in ledger.rows(arguments.campaign_id, State(arguments.list)):
                print(f"{row.endpoint_id}\t{row.reason or '-'}\t{row.attempts}\t{_when(row.updated_at)}")
    finally:
        ledger.close()
    return 0


def _built_template_name(built: str | None) -> str | None:
    """The name in a pre-built folder: the child checks it against the template bundled in its code."""
    if not built:
        return None
    from campaign_tools.templates.prebuilt import load_prebuilt

    return load_prebuilt(Path(built)).name


def run_on_aws(arguments: argparse.Namespace, campaign_id: str, channel: Channel) -> int:
    from campaign_tools.send import on_aws
    from campaign_tools.send.aws_batch import BatchSettings

    _require(arguments, "state_machine_arn")
    if not arguments.ledger.startswith("dynamodb:"):
        raise PinrecError("--on-aws needs --ledger dynamodb:TABLE (the stack's LedgerTableName output)")
    if arguments.dry_run or arguments.outbox:
        raise PinrecError("--on-aws delivers: it takes neither --dry-run nor --outbox")
    if arguments.segment_format == "csv" or arguments.segment.lower().removesuffix(".gz").endswith(".csv"):
        raise PinrecError("--on-aws reads JSON Lines segments (the Distributed Map's JSONL reader)")
    if not 1 <= arguments.max_concurrency <= 10_000:
        raise PinrecError("--max-concurrency must be 1 to 10,000")
    if arguments.rate is not None:
        rate = arguments.rate
    else:
        rate, _ = default_rate(channel, True, boto_client)
    settings = BatchSettings(
        campaign_id=campaign_id,
        recommendations=arguments.recommendations,
        channel=channel.value,
        template=arguments.template or _built_template_name(arguments.built),
        composer=arguments.composer,
        id_type=arguments.id_type,
        per_message=arguments.per_message,
        filter_arn=arguments.filter_arn,
        filter_values=tuple(sorted(parse_filter_values(arguments.filter_value).items())),
        from_address=arguments.from_address,
        configuration_set=arguments.configuration_set,
        origination_identity=arguments.origination_identity,
        sms_type=arguments.sms_type,
        sms_max_parts=arguments.sms_max_parts,
        application_id=arguments.application_id,
        rate=rate / arguments.max_concurrency if rate else None,
        lease_seconds=arguments.lease_seconds,
        retry_pending=arguments.retry_pending,
    )
    started = time.monotonic()
    bucket, key = on_aws.segment_location(arguments.segment, boto_client("s3"), arguments.bucket, campaign_id)
    sfn = boto_client("stepfunctions")
    payload = on_aws.execution_input(bucket, key, settings, arguments.max_concurrency)
    execution_arn = on_aws.start(sfn, arguments.state_machine_arn, campaign_id, payload)
    print(f"campaign {campaign_id}: started {execution_arn} over s3://{bucket}/{key}", file=sys.stderr)
    progress = Progress("endpoints")
    try:
        on_aws.follow(sfn, execution_arn, progress=lambda counts: progress(counts.succeeded + counts.failed))
    finally:
        progress.done()
    ledger = open_ledger(arguments.ledger)
    try:
        summary = ledger.summary(campaign_id, time.time(), arguments.lease_seconds)
    finally:
        ledger.close()
    print(f"{describe_status(summary)}\n  on AWS in {time.monotonic() - started:.1f}s")
    return EXIT_SOME_FAILED if summary.failed else 0
