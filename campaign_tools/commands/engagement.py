"""`pinrec engagement forward`: a campaign's tracked clicks to an Amazon Personalize event tracker, once each."""

from __future__ import annotations

import argparse

from campaign_tools.commands.options import add_aws_options
from campaign_tools.console import print_json
from campaign_tools.conversions import registry as conversions_registry
from campaign_tools.engagement.forward import DEFAULT_CLICK_EVENT_TYPE
from campaign_tools.engagement.run import ForwardSettings, forward_engagement
from campaign_tools.send.ledgers import registry as ledger_registry
from campaign_tools.send.settings import DEFAULT_LEDGER

EXIT_LEFT = 1


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    engagement = commands.add_parser("engagement", help="engagement back to the recommender (Amazon Personalize)")
    actions = engagement.add_subparsers(title="actions", metavar="ACTION", required=True)
    forward = actions.add_parser(
        "forward",
        help="forward a campaign's tracked clicks to a Personalize event tracker (PutEvents), each once",
        description="Reads the campaign's click events from the ledger (a send id, or a campaign: all its units), "
        "keeps those on a tracked recommendation link (a template with [links] track_recommendations), and sends "
        "each to the event tracker as the recipient's interaction with the item: userId as the recommender keys the "
        "recipient, eventAttributionSource the campaign (and treatment), recommendationId when Personalize gave "
        "one. An event forwarded once is never forwarded again; throttled calls are retried with backoff, and what "
        "is still left stays queued for the next run. Exit status 1 when events were left queued or rejected.",
    )
    forward.add_argument("--campaign-id", action="append", required=True, help="a send id or a campaign id (repeat)")
    forward.add_argument("--tracking-id", required=True, help="the event tracker's tracking id (not its ARN)")
    forward.add_argument("--ledger", default=DEFAULT_LEDGER, help=f"{ledger_registry.usage()} ({DEFAULT_LEDGER})")
    forward.add_argument(
        "--click-event-type",
        default=DEFAULT_CLICK_EVENT_TYPE,
        help=f"the EVENT_TYPE of a click in the interactions dataset (default {DEFAULT_CLICK_EVENT_TYPE})",
    )
    forward.add_argument(
        "--conversion-type",
        action="append",
        default=[],
        metavar="EVENT_TYPE",
        help="also forward conversions of this event type that name an item_id, as that EVENT_TYPE (repeat; "
        "e.g. purchase), each attributed to the latest send that reached its recipient within the window",
    )
    forward.add_argument(
        "--conversions",
        default=conversions_registry.DEFAULT_CONVERSIONS,
        help=f"{conversions_registry.usage()} (default {conversions_registry.DEFAULT_CONVERSIONS})",
    )
    forward.add_argument(
        "--conversion-window-hours",
        type=float,
        default=168.0,
        help="how long after a send a conversion is attributed to it (default 168: 7 days)",
    )
    forward.add_argument("--concurrency", type=int, default=8, help="PutEvents calls at a time (default 8)")
    forward.add_argument(
        "--max-seconds", type=float, help="stop calling after this long; the rest stays queued (default: no limit)"
    )
    add_aws_options(forward)
    forward.set_defaults(run=run_forward)


def run_forward(arguments: argparse.Namespace) -> int:
    settings = ForwardSettings(
        campaign_ids=tuple(arguments.campaign_id),
        tracking_id=arguments.tracking_id,
        ledger=arguments.ledger,
        click_event_type=arguments.click_event_type,
        conversion_types=tuple(arguments.conversion_type),
        conversions=arguments.conversions,
        conversion_window_hours=arguments.conversion_window_hours,
        concurrency=arguments.concurrency,
        max_seconds=arguments.max_seconds,
        dry_run=arguments.dry_run,
        region=arguments.region,
        profile=arguments.profile,
        endpoint_url=arguments.endpoint_url,
    )
    report = forward_engagement(settings)
    if arguments.output == "json":
        print_json(report.to_dict())
    else:
        print("\n".join(report.lines()))
    return EXIT_LEFT if not settings.dry_run and (report.queued or report.rejected) else 0
