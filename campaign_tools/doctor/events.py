"""The delivery-event loop: the SES configuration set exists with an enabled EventBridge destination for the events
pinrec needs (sesv2 GetConfigurationSet, GetConfigurationSetEventDestinations), and events do reach the queue.

How "events reach the queue" is measured: the events queue's CloudWatch metric `NumberOfMessagesSent` (AWS/SQS, per
5 minutes) over the last `--max-event-age` hours gives the age of the last event that arrived; it needs no campaign
id and reads nothing personal. The ledger's latest event would need a campaign; SQS's ApproximateAgeOfOldestMessage
measures a stuck queue, not a silent one. Events in the dead-letter queue (sqs GetQueueAttributes) are a failure: the
events function could not record them."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from campaign_tools.doctor.base import Check, Finding, Findings
from campaign_tools.doctor.context import DoctorContext

found = Findings("events")

NEEDED_EVENT_TYPES = ("SEND", "DELIVERY", "BOUNCE", "COMPLAINT")
"""What reconciliation (any event), the report and the suppression list need at least."""
METRIC_PERIOD = 300
MAX_DATAPOINTS = 1440


def _configuration_set(context: DoctorContext, name: str) -> list[Finding]:
    from botocore.exceptions import ClientError

    ses = context.clients("sesv2")
    title = f"SES configuration set {name}"
    try:
        ses.get_configuration_set(ConfigurationSetName=name)
        destinations = ses.get_configuration_set_event_destinations(ConfigurationSetName=name)["EventDestinations"]
    except ClientError as error:
        return [found.aws_error(title, "ses:GetConfigurationSet", error,
                                "ses:GetConfigurationSet and ses:GetConfigurationSetEventDestinations",
                                missing="deploy infra/events.yaml (its SesConfigurationSet) or name the set the "
                                "campaign uses in [email] configuration_set")]  # fmt: skip
    bridged = [d for d in destinations if d.get("Enabled") and d.get("EventBridgeDestination")]
    if not bridged:
        return [found.failure(title, "no enabled EventBridge event destination: SES events never reach pinrec",
                              "deploy infra/events.yaml (SesEventDestination) or add an EventBridge destination to "
                              "the default bus with every event type")]  # fmt: skip
    types = {str(t).upper() for d in bridged for t in d.get("MatchingEventTypes", [])}
    missing = [t for t in NEEDED_EVENT_TYPES if t not in types]
    if missing:
        return [found.failure(title, f"the EventBridge destination leaves out {', '.join(missing)}",
                              "add those event types to the destination (infra/events.yaml sends all of them)")]  # fmt: skip
    return [found.ok(title, f"EventBridge destination {bridged[0].get('Name', '')}: {', '.join(sorted(types))}")]


def _dead_letters(context: DoctorContext, url: str) -> Finding:
    from botocore.exceptions import ClientError

    title = "events dead-letter queue"
    try:
        attributes = context.clients("sqs").get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
    except ClientError as error:
        return found.aws_error(title, "sqs:GetQueueAttributes", error, "sqs:GetQueueAttributes on the queue")
    waiting = int(attributes.get("ApproximateNumberOfMessages", 0))
    if waiting:
        return found.failure(title, f"{waiting} event(s) the events function could not record",
                             "read the events function's log (errors), fix the cause, then redrive the dead-letter "
                             "queue to the events queue (SQS console: Start DLQ redrive)")  # fmt: skip
    return found.ok(title, "empty")


def last_event_age(context: DoctorContext, queue_url: str) -> float | None:
    """Seconds since the last 5-minute period in which the queue received an event (None: none in the window)."""
    hours = context.settings.max_event_age_hours
    period = max(METRIC_PERIOD, math.ceil(hours * 3600 / MAX_DATAPOINTS / 60) * 60)
    end = datetime.fromtimestamp(context.now, UTC)
    start = datetime.fromtimestamp(context.now - hours * 3600, UTC)
    points = context.clients("cloudwatch").get_metric_statistics(
        Namespace="AWS/SQS",
        MetricName="NumberOfMessagesSent",
        Dimensions=[{"Name": "QueueName", "Value": queue_url.rstrip("/").rpartition("/")[2]}],
        StartTime=start,
        EndTime=end,
        Period=period,
        Statistics=["Sum"],
    )["Datapoints"]
    times = [point["Timestamp"].timestamp() for point in points if point.get("Sum", 0) > 0]
    return max(0.0, context.now - max(times) - period) if times else None


def _flow(context: DoctorContext, url: str) -> Finding:
    from botocore.exceptions import ClientError

    title = "events reach the queue"
    hours = context.settings.max_event_age_hours
    try:
        age = last_event_age(context, url)
    except ClientError as error:
        return found.aws_error(title, "cloudwatch:GetMetricStatistics", error, "cloudwatch:GetMetricStatistics")
    if age is None:
        return found.warning(title, f"the events queue received nothing in the last {hours:g} hours",
                             "send through the configuration set (pinrec send --deliver --configuration-set NAME) or "
                             "run pinrec smoke; if events still do not come, check the EventBridge rule "
                             "SesEventsRule and the queue policy")  # fmt: skip
    return found.ok(title, f"the last event arrived about {age / 60:.0f} minutes ago")


def run(context: DoctorContext) -> list[Finding]:
    findings = []
    if context.sends("email"):
        for name in context.configuration_sets:
            findings += _configuration_set(context, name)
        if not context.configuration_sets:
            findings.append(found.failure("SES configuration set", "none named: a send without one has no events",
                                          "deploy infra/events.yaml, or set configuration_set in the campaign's "
                                          "[email] table"))  # fmt: skip
    if context.dead_letter_queue_url:
        findings.append(_dead_letters(context, context.dead_letter_queue_url))
    if context.queue_url:
        findings.append(_flow(context, context.queue_url))
    else:
        findings.append(found.skipped("events reach the queue", "no events stack found (its QueueUrl output)",
                                      "deploy infra/events.yaml and name it with --stack"))  # fmt: skip
    return findings


CHECK = Check("events", "configuration set, EventBridge destination, events reaching the queue", run)
