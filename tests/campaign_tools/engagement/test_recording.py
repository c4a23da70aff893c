"""At send time: the recipient records a tracking send keeps, with Personalize's recommendationId; and which sends
track at all (an email send of an opted-in template with a campaign id; never SMS, push or a preview)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
from botocore.stub import Stubber

from campaign_tools.engagement.recording import RecordingRecommendations
from campaign_tools.engagement.store import Recipient, SqliteEngagement
from campaign_tools.send.compose import ComposerOptions, TemplateComposer
from campaign_tools.send.recommendations.base import IdType
from campaign_tools.send.recommendations.personalize import PersonalizeRecommendations
from campaign_tools.send.segments import SegmentEndpoint
from tests.conftest import DEMO_DATA
from transformer.config import load_config

CAMPAIGN_ARN = "arn:aws:personalize:us-east-1:123456789012:campaign/spring"


def seg(endpoint_id: str, user_id: str | None) -> SegmentEndpoint:
    endpoint: dict[str, Any] = {"ChannelType": "EMAIL", "Address": f"{endpoint_id}@example.com"}
    if user_id:
        endpoint["User"] = {"UserId": user_id}
    return SegmentEndpoint(1, endpoint_id, endpoint)


def test_each_recipient_with_items_is_recorded_with_its_user_id_and_recommendation_id(tmp_path: Path) -> None:
    client = boto3.client(
        "personalize-runtime", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    source = PersonalizeRecommendations(CAMPAIGN_ARN, IdType.USER, 3, client=client, concurrency=1)
    store = SqliteEngagement(tmp_path / "ledger.db")
    recording = RecordingRecommendations(source, store, "spring", IdType.USER, clock=lambda: 7.0)
    with Stubber(client) as stubber:
        stubber.add_response(
            "get_recommendations",
            {"itemList": [{"itemId": "P1"}, {"itemId": "P2"}], "recommendationId": "RID-u1"},
            {"campaignArn": CAMPAIGN_ARN, "userId": "u1", "numResults": 3},
        )
        stubber.add_response(
            "get_recommendations", {"itemList": []}, {"campaignArn": CAMPAIGN_ARN, "userId": "u2", "numResults": 3}
        )
        lookup = recording.lookup([seg("e1", "u1"), seg("e2", "u2"), seg("e3", None)])
    assert lookup.items == {"e1": ["P1", "P2"]}
    assert store.recipients("spring", ["e1", "e2", "e3"]) == {"e1": Recipient("e1", "u1", "RID-u1", ("P1", "P2"))}
    assert recording.recorded == 1 and recording.describe() == source.describe()
    store.close()


def composer(channel: str, campaign_id: str | None) -> TemplateComposer:
    config = load_config(DEMO_DATA / "pinrec.toml")
    return TemplateComposer(ComposerOptions("recommended-for-you", None, channel, config, campaign_id=campaign_id))


def test_only_an_email_send_with_a_campaign_id_tracks_the_opted_in_templates_links() -> None:
    assert composer("email", "spring").tracked_attribute == "Url"
    assert composer("email", None).tracked_attribute is None  # a preview
    assert composer("sms", "spring").tracked_attribute is None
    assert composer("push", "spring").tracked_attribute is None
