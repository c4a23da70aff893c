"""infra/events.yaml with an Amazon Personalize event tracker: the events function may call PutEvents on that one
tracker, nothing wider, and only when both the tracker's ARN and tracking id are given; the calls the function really
makes while forwarding a tracked click (recorded here, DynamoDB on moto, PutEvents answered in place: moto has no
Personalize Events) are exactly what its role grants."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient

from campaign_tools.engagement.links import tracked_url
from campaign_tools.engagement.store import DynamoDbEngagement, Recipient
from campaign_tools.events.tags import message_tags
from campaign_tools.send.ledgers.base import ClaimPolicy
from campaign_tools.send.ledgers.dynamodb import DynamoDbLedger, create_ledger_table
from campaign_tools.suppression import dynamodb as suppression_dynamodb
from tests.campaign_tools.loop_fixtures import T0, iso, ses_record, via_eventbridge
from tests.infra.cfn_policy import allows, grants, resources
from tests.infra.test_events import BASE, REGION, Recorder, _dynamodb_grant, _role, arn, deploy, recorder

__all__ = ["recorder"]

TRACKER_ARN = arn("personalize", "event-tracker/a1b2c3d4")
TRACKER = {**BASE, "PersonalizeEventTrackerArn": TRACKER_ARN, "PersonalizeTrackingId": "0a1b-tracking"}


def test_without_a_tracker_the_function_neither_forwards_nor_may_call_personalize() -> None:
    variables = resources(deploy())["EventsFunction"]["Environment"]["Variables"]
    assert "PINREC_PERSONALIZE_TRACKER" not in variables
    assert not any(action.startswith("personalize:") for action, _ in grants(_role(deploy(), "EventsRole")))
    half = deploy({**BASE, "PersonalizeEventTrackerArn": TRACKER_ARN})
    assert not any(action.startswith("personalize:") for action, _ in grants(_role(half, "EventsRole")))


def test_with_a_tracker_the_function_may_put_events_on_that_tracker_only() -> None:
    stack = deploy(TRACKER)
    variables = resources(stack)["EventsFunction"]["Environment"]["Variables"]
    assert (variables["PINREC_PERSONALIZE_TRACKER"], variables["PINREC_CLICK_EVENT_TYPE"]) == ("0a1b-tracking", "click")
    statements = _role(stack, "EventsRole")
    assert {grant for grant in grants(statements) if grant[0].startswith("personalize:")} == {
        ("personalize:PutEvents", TRACKER_ARN)
    }
    assert not allows(statements, "personalize:PutEvents", arn("personalize", "event-tracker/other"))
    assert not allows(statements, "personalize:PutUsers", TRACKER_ARN)


def test_forwarding_from_the_function_makes_only_calls_its_role_grants(
    moto_aws: str, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    import handlers.events

    dynamodb = boto3.client("dynamodb", region_name=REGION)
    create_ledger_table(dynamodb, "pinrec-send-ledger")
    suppression_dynamodb.create_suppression_table(dynamodb, "pinrec-suppression")
    ledger = DynamoDbLedger("pinrec-send-ledger", dynamodb)
    ledger.claim("spring", "ep-1", 1.0, ClaimPolicy("run"))
    ledger.mark_sent("spring", "ep-1", "ses-msg-1", 1.0)
    DynamoDbEngagement("pinrec-send-ledger", dynamodb).record_recipients(
        "spring", [Recipient("ep-1", "user-7", "rid-1", ("P1", "P2", "P3"))], 1.0
    )
    link = tracked_url("https://shop.example.com/p/P3", "P3", 3, "spring")
    details = {"timestamp": iso(T0 + 60), "link": link, "linkTags": {}}
    record = ses_record(
        "Click", "ses-msg-1", "ana@example.com", T0, tags=message_tags("spring", "ep-1"), details=details
    )
    event = {
        "Records": [{"messageId": "m-1", "eventSource": "aws:sqs", "body": json.dumps(via_eventbridge(record, T0))}]
    }
    for name, value in resources(deploy(TRACKER))["EventsFunction"]["Environment"]["Variables"].items():
        monkeypatch.setenv(name, value)
    recording = BaseClient._make_api_call

    def answer_put_events(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if operation == "PutEvents":
            recorder.calls.append((client.meta.service_model.signing_name, operation, dict(params)))
            return {}
        return recording(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", answer_put_events)
    handlers.events.reset()
    recorder.calls.clear()
    try:
        assert handlers.events.handler(event, None) == {"batchItemFailures": []}
    finally:
        handlers.events.reset()
    made = list(recorder.calls)
    (put,) = [params for service, operation, params in made if operation == "PutEvents"]
    assert (put["trackingId"], put["userId"], put["eventList"][0]["itemId"]) == ("0a1b-tracking", "user-7", "P3")
    assert put["eventList"][0]["recommendationId"] == "rid-1"
    statements = _role(deploy(TRACKER), "EventsRole")
    needed = {_dynamodb_grant(operation, params) for service, operation, params in made if service == "dynamodb"}
    needed.add(("personalize:PutEvents", TRACKER_ARN))  # the tracking id names this tracker
    assert all(allows(statements, *grant) for grant in needed), needed
    granted = {grant for grant in grants(statements) if grant[0].startswith(("dynamodb:", "personalize:"))}
    granted_ledger = {grant for grant in granted if "pinrec-suppression" not in grant[1]}
    assert needed == granted_ledger, "the role grants exactly what forwarding calls (a click suppresses no one)"
    assert {service for service, _, _ in made} == {"dynamodb", "personalize"}
