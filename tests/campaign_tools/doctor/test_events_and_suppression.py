"""The configuration set and its EventBridge destination (moto's configuration set; its destinations answered), the
events reaching the queue (SQS and CloudWatch on moto), and suppression (SES account answered, pinrec's list on
moto's DynamoDB)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from campaign_tools.doctor import events, suppression
from campaign_tools.doctor.base import Status
from campaign_tools.doctor.context import Stack
from campaign_tools.suppression.dynamodb import create_suppression_table, open_dynamodb
from tests.campaign_tools.doctor.conftest import answer, campaign, statuses
from tests.campaign_tools.doctor.test_ses import ACCOUNT_ANSWER

NOW = 1_800_000_000.0
DESTINATION = {
    "Name": "pinrec-eventbridge",
    "Enabled": True,
    "MatchingEventTypes": ["SEND", "DELIVERY", "BOUNCE", "COMPLAINT", "REJECT", "OPEN", "CLICK"],
    "EventBridgeDestination": {"EventBusArn": "arn:aws:events:eu-west-1:123456789012:event-bus/default"},
}


def events_stack(clients: Any) -> Stack:
    sqs = clients("sqs")
    queue = sqs.create_queue(QueueName="pinrec-events-events")["QueueUrl"]
    dead = sqs.create_queue(QueueName="pinrec-events-dead-letters")["QueueUrl"]
    outputs = {"QueueUrl": queue, "DeadLetterQueueUrl": dead, "ConfigurationSetName": "pinrec-events",
               "SuppressionTableName": "pinrec-suppression"}  # fmt: skip
    return Stack("pinrec-events", "CREATE_COMPLETE", outputs, {})


def queue_received(clients: Any, at: float, count: float = 3) -> None:
    """What SQS publishes for the queue: events sent to it in the 5 minutes starting at `at`."""
    clients("cloudwatch").put_metric_data(
        Namespace="AWS/SQS",
        MetricData=[{"MetricName": "NumberOfMessagesSent", "Dimensions": [{"Name": "QueueName",
                     "Value": "pinrec-events-events"}], "Timestamp": datetime.fromtimestamp(at, UTC),
                     "Value": count, "Unit": "Count"}],
    )  # fmt: skip


def test_configuration_set_with_eventbridge_and_recent_events_is_ok(clients, make_context, run_check):
    clients("sesv2").create_configuration_set(ConfigurationSetName="pinrec-events")
    answer(clients("sesv2"), "GetConfigurationSetEventDestinations", {"EventDestinations": [DESTINATION]})
    stack = events_stack(clients)
    queue_received(clients, NOW - 3600)
    context = make_context(campaign=campaign(), found_stacks={"pinrec-events": stack}, now=NOW)
    findings = run_check(events.CHECK, context)
    assert statuses(findings) == ["ok", "ok", "ok"], findings
    assert findings[0].detail.startswith("EventBridge destination pinrec-eventbridge: BOUNCE, CLICK, COMPLAINT")
    assert findings[1].detail == "empty"
    assert findings[2].detail == "the last event arrived about 55 minutes ago"


def test_no_eventbridge_destination_fails(clients, make_context, run_check):
    clients("sesv2").create_configuration_set(ConfigurationSetName="pinrec-events")
    answer(clients("sesv2"), "GetConfigurationSetEventDestinations", {"EventDestinations": []})
    findings = run_check(events.CHECK, make_context(campaign=campaign()))
    assert findings[0].status is Status.FAILURE
    assert findings[0].fix == (
        "deploy infra/events.yaml (SesEventDestination) or add an EventBridge destination to the default bus with "
        "every event type"
    )


def test_a_destination_without_bounces_fails(clients, make_context, run_check):
    clients("sesv2").create_configuration_set(ConfigurationSetName="pinrec-events")
    partial = {**DESTINATION, "MatchingEventTypes": ["SEND", "DELIVERY"]}
    answer(clients("sesv2"), "GetConfigurationSetEventDestinations", {"EventDestinations": [partial]})
    finding = run_check(events.CHECK, make_context(campaign=campaign()))[0]
    assert finding.detail == "the EventBridge destination leaves out BOUNCE, COMPLAINT"
    assert finding.fix == "add those event types to the destination (infra/events.yaml sends all of them)"


def test_a_missing_configuration_set_fails_with_how_to_deploy_it(clients, make_context, run_check):
    finding = run_check(events.CHECK, make_context(campaign=campaign()))[0]
    assert finding.status is Status.FAILURE
    assert finding.fix == (
        "deploy infra/events.yaml (its SesConfigurationSet) or name the set the campaign uses in [email] "
        "configuration_set"
    )


def test_a_silent_queue_warns_and_dead_letters_fail(clients, make_context, run_check):
    stack = events_stack(clients)
    clients("sqs").send_message(QueueUrl=stack.outputs["DeadLetterQueueUrl"], MessageBody="{}")
    context = make_context(campaign=campaign(channel="sms"),
                           found_stacks={"pinrec-events": stack}, now=NOW)  # fmt: skip
    dead, flow = run_check(events.CHECK, context)
    assert dead.status is Status.FAILURE and dead.detail == "1 event(s) the events function could not record"
    assert dead.fix.startswith("read the events function's log (errors), fix the cause, then redrive")
    assert flow.status is Status.WARNING and flow.detail == "the events queue received nothing in the last 24 hours"
    assert flow.fix.startswith("send through the configuration set (pinrec send --deliver --configuration-set NAME)")


def test_ses_suppression_on_and_a_fresh_pinrec_list_are_ok(clients, make_context, run_check):
    answer(clients("sesv2"), "GetAccount", ACCOUNT_ANSWER)
    clients("sesv2").create_configuration_set(
        ConfigurationSetName="pinrec-events", SuppressionOptions={"SuppressedReasons": ["BOUNCE", "COMPLAINT"]}
    )
    create_suppression_table(clients("dynamodb"), "pinrec-suppression")
    listing = open_dynamodb("pinrec-suppression", clients, False)
    listing.record_sync("ses-account", NOW - 2 * 3600)
    findings = run_check(suppression.CHECK, make_context(campaign=campaign(), now=NOW))
    assert statuses(findings) == ["ok", "ok"], findings
    assert findings[1].detail == "readable; ses-account synced 2.0 hours ago"


def test_ses_suppression_off_warns_and_a_missing_list_fails(clients, make_context, run_check):
    answer(clients("sesv2"), "GetAccount", {**ACCOUNT_ANSWER, "SuppressionAttributes": {"SuppressedReasons": []}})
    ses, pinrec = run_check(suppression.CHECK, make_context(campaign=campaign(), now=NOW))
    assert ses.status is Status.WARNING
    assert ses.fix == "aws sesv2 put-account-suppression-attributes --suppressed-reasons BOUNCE COMPLAINT"
    assert pinrec.status is Status.FAILURE
    assert pinrec.fix == (
        "create it (infra/events.yaml deploys the table) and grant dynamodb:GetItem, BatchGetItem on it"
    )


def test_a_stale_sync_warns(clients, make_context, run_check):
    answer(clients("sesv2"), "GetAccount", ACCOUNT_ANSWER)
    create_suppression_table(clients("dynamodb"), "pinrec-suppression")
    open_dynamodb("pinrec-suppression", clients, False).record_sync("ses-account", NOW - 30 * 3600)
    findings = run_check(suppression.CHECK, make_context(campaign=campaign(), now=NOW))
    assert findings[-1].status is Status.WARNING
    assert findings[-1].detail == "readable; last sync of ses-account 30 hours ago (over 24)"
    assert findings[-1].fix == "run pinrec suppression sync daily (cron or an EventBridge schedule)"


def test_a_configuration_set_turning_suppression_off_warns(clients, make_context, run_check):
    answer(clients("sesv2"), "GetAccount", ACCOUNT_ANSWER)
    clients("sesv2").create_configuration_set(
        ConfigurationSetName="pinrec-events", SuppressionOptions={"SuppressedReasons": []}
    )
    findings = run_check(suppression.CHECK, make_context(campaign=campaign(), now=NOW))
    assert findings[1].title == "configuration set pinrec-events suppression"
    assert findings[1].status is Status.WARNING
    assert findings[1].fix == "remove the override or list BOUNCE and COMPLAINT (infra/events.yaml does)"
