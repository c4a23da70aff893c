"""An email-only event-triggered campaign for the AWS tests (SES through moto)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.campaign_tools.send.test_on_aws import write_config


def email_event_campaign(folder: Path) -> Path:
    write_config(folder)
    (folder / "segment.jsonl").write_text(
        "".join(
            json.dumps(
                {"Id": f"ep-{n}", "ChannelType": "EMAIL", "Address": f"u{n}@example.com", "RecommendationItems": ["P1"]}
            )
            + "\n"
            for n in range(3)
        )
    )
    file = folder / "cart.toml"
    file.write_text(
        f'id = "cart"\nname = "Cart"\nsegment = "segment.jsonl"\nrecommendations = "segment"\n'
        f'config = "{folder / "pinrec.toml"}"\n'
        '[email]\ntemplate = "recommended-for-you"\nfrom_address = "shop@example.com"\n'
        '[schedule]\nstart = 2020-01-01T00:00:00Z\nfrequency = "event"\n'
        '[schedule.event_filter.event_type]\nvalues = ["cart.abandoned"]\n'
        "[limits]\ndaily = 1\nmessages_per_second = 10\n"
    )
    return file
