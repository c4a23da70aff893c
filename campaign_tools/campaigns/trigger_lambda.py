"""The campaign trigger Lambda behind `infra/campaigns.yaml`'s EventBridge rule (its `TriggerFunction`): each app
event the rule matches runs `trigger.trigger_campaign` for the campaign packaged with the function, delivering
through SES / End User Messaging with the DynamoDB ledger (and its limits) of the send state machine.

Event: an EventBridge event whose `detail` is the app event (`endpoint_id` / `user_id`, `event_type`, `timestamp`,
`attributes`, `metrics`; `campaign_tools.campaigns.event_filter`), or the app event itself (a direct invoke).
Environment: `PINREC_CAMPAIGN` (the campaign.toml packaged with the function; its `built` template folders and
`config` relative to it), `PINREC_LEDGER_TABLE`, optionally `PINREC_CAMPAIGN_SEGMENT` (the endpoints, s3://; default
the campaign's `segment`) and `PINREC_SUPPRESSION` (KIND:TARGET; default none). An event that is not one, or does
not match, returns its status (no retry); a failure raises, so EventBridge retries it and then dead-letters it —
the ledger sends nobody a retried event's message twice.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from campaign_tools.campaigns.run import CampaignRunSettings
from campaign_tools.campaigns.trigger import trigger_campaign
from campaign_tools.channels.base import ClientFactory
from campaign_tools.send.child import LEDGER_TABLE_ENV
from campaign_tools.send.run import client_factory
from transformer.aws import AwsOptions
from transformer.errors import PinrecError

CAMPAIGN_ENV = "PINREC_CAMPAIGN"
SEGMENT_ENV = "PINREC_CAMPAIGN_SEGMENT"
SUPPRESSION_ENV = "PINREC_SUPPRESSION"
STAGE_DIR = Path("/tmp/pinrec-campaign-units")  # noqa: S108 - Lambda's only writable place
"""Each trigger's unit file (the send's segment setting): Lambda's writable /tmp."""


@functools.cache
def warm_clients() -> ClientFactory:
    return client_factory(AwsOptions())


def app_event(event: object) -> object:
    """The app event of an EventBridge event (its `detail`), or the event itself."""
    if isinstance(event, Mapping) and "detail" in event and "detail-type" in event:
        return event["detail"]
    return event


def settings_of(environment: Mapping[str, str], stage_dir: Path = STAGE_DIR) -> CampaignRunSettings:
    campaign = environment.get(CAMPAIGN_ENV)
    table = environment.get(LEDGER_TABLE_ENV)
    missing = [name for name, value in ((CAMPAIGN_ENV, campaign), (LEDGER_TABLE_ENV, table)) if not value]
    if missing:
        raise PinrecError(f"{' and '.join(missing)} not set")
    return CampaignRunSettings(
        file=Path(str(campaign)),
        segment=environment.get(SEGMENT_ENV) or None,
        ledger=f"dynamodb:{table}",
        deliver=True,
        suppression=environment.get(SUPPRESSION_ENV) or "none",
        stage_dir=stage_dir,
    )


def handle(
    event: object, environment: Mapping[str, str], clients: ClientFactory | None = None, stage_dir: Path | None = None
) -> dict[str, Any]:
    settings = settings_of(environment, stage_dir or STAGE_DIR)
    result = trigger_campaign(settings, app_event(event), clients=clients or warm_clients())
    return result.to_dict()
