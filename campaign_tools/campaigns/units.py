"""What phase 2's `campaign run` hands the send pipeline: one send per (slot, treatment, channel) of a due slot, as
the `SendSettings` of an ordinary `pinrec send`, plus the filter that keeps the endpoints of that unit.

The send's ledger id is `<campaign>.<slot instant, YYYYMMDDTHHMMSSZ>.<treatment>.<channel>` (at most 104 characters
by the definition's rules), so each unit resumes and binds on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from campaign_tools.campaigns.definition import CampaignDefinition
from campaign_tools.campaigns.plan import Planner, SlotKey
from campaign_tools.campaigns.recipients import Recipient, recipient
from campaign_tools.channels import registry as channel_registry
from campaign_tools.send.settings import SendSettings


@dataclass(frozen=True, slots=True)
class SendUnit:
    campaign_id: str
    at: datetime
    treatment: str
    channel: str

    @property
    def send_id(self) -> str:
        return f"{self.campaign_id}.{self.at:%Y%m%dT%H%M%SZ}.{self.treatment}.{self.channel}"


def unit_of(definition: CampaignDefinition, slot: SlotKey, treatment: str, channel: str) -> SendUnit:
    return SendUnit(definition.id, slot.at, treatment, channel)


def send_settings(definition: CampaignDefinition, unit: SendUnit, **overrides: Any) -> SendSettings:
    """The send of one unit: the treatment's template and sender settings on the channel, the campaign's segment,
    recommendations and pace; `overrides` are further SendSettings fields (ledger, deliver, outbox, aws, ...)."""
    message = definition.message(unit.treatment, unit.channel)
    channel = channel_registry.channel(unit.channel)
    fields: dict[str, Any] = {
        "campaign_id": unit.send_id,
        "channel": unit.channel,
        "template": message.template,
        "built": message.built,
        "config": definition.config,
        "segment": definition.segment,
        "segment_format": definition.segment_format,
        "csv_list_separator": definition.csv_list_separator,
        "recommendations": definition.recommendations,
        "id_type": definition.id_type,
        "per_message": definition.per_message,
        "sender": message.sender(channel),
        "rate": definition.limits.messages_per_second,
    }
    if definition.ledger is not None:
        fields["ledger"] = definition.ledger
    if definition.suppression is not None:
        fields["suppression"] = definition.suppression
    return SendSettings.model_validate(fields | overrides)


class UnitFilter:
    """Whether an endpoint of the segment belongs to a unit: its channel, its group and its slot instant."""

    def __init__(self, planner: Planner, unit: SendUnit) -> None:
        self.planner = planner
        self.unit = unit

    def __call__(self, endpoint_id: str, endpoint: Mapping[str, Any]) -> bool:
        found = recipient(0, {**endpoint, "Id": endpoint_id}, self.planner.channels)
        if not isinstance(found, Recipient) or found.channel.name != self.unit.channel:
            return False
        group = self.planner.group_of(found)
        if group != self.unit.treatment:
            return False
        return any(fire.at == self.unit.at for fire in self.planner.fires(group, self.planner.zone_of(found)))
