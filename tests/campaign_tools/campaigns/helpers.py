"""Campaign definitions for tests: a valid base and keyword overrides."""

from __future__ import annotations

from typing import Any

from campaign_tools.campaigns.definition import CampaignDefinition, parse_campaign


def campaign(schedule: dict[str, Any] | None = None, **fields: Any) -> CampaignDefinition:
    data: dict[str, Any] = {
        "id": "c1",
        "name": "Test",
        "recommendations": "segment",
        "email": {"template": "picks"},
        "sms": {"template": "picks"},
        "push": {"template": "picks"},
        "schedule": {"start": "2027-03-01T09:00:00", "frequency": "daily", **(schedule or {})},
    }
    data.update(fields)
    return parse_campaign(data)


def endpoint(endpoint_id: str, zone: object = None, channel: str = "EMAIL", **extra: Any) -> dict[str, Any]:
    address = {"EMAIL": f"{endpoint_id}@example.com", "SMS": "+14155550123"}.get(channel, f"token-{endpoint_id}")
    record: dict[str, Any] = {"Id": endpoint_id, "ChannelType": channel, "Address": address, **extra}
    if zone is not None:
        record["Demographic"] = {"Timezone": zone}
    return record
