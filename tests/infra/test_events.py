"""infra/events.yaml: cfn-lint clean, and the wiring the delivery-event loop depends on, read from the template as
deployed with given parameters (tests/infra/cfn_policy.py resolves the intrinsic functions).

Each part is checked field by field: the SES configuration set and its EventBridge destination, the rule's pattern
(matched against SES events by moto's EventBridge pattern matcher), the queues and who may send to them, the SMS
configuration set and its SNS topic, the two functions, their roles (every grant, no wildcard where a resource can be
named), the public function URL's two permissions, the alarms and their thresholds, and the outputs. The unsubscribe
key's location is read by campaign_tools.unsubscribe.keys from moto, through the call the role allows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import boto3
import pytest
from cfnlint.decode.cfn_yaml import load as load_template
from moto.events.models import EventPattern

from campaign_tools.suppression import dynamodb as suppression_dynamodb
from campaign_tools.unsubscribe.keys import check_key_source, forget_keys, is_deployable, load_key_ring
from tests.infra.cfn_policy import (
    MOTO_ACCOUNT,
    MOTO_REGION,
    ROOT,
    Call,
    Stack,
    allows,
    dynamodb_grant,
    function,
    grants,
    lint_findings,
    linted_by_make,
    log_group,
    moto_arn,
    queue,
    record_calls,
    resources,
    role,
    role_statements,
)

TEMPLATE = ROOT / "infra" / "events.yaml"
REGION = MOTO_REGION
ACCOUNT = MOTO_ACCOUNT
STACK_NAME = "pinrec-events"
BASE = {"CodeBucket": "code-bucket", "EventsCodeKey": "pinrec/events.zip", "UnsubscribeCodeKey": "pinrec/unsub.zip"}
SSM_KEY = {**BASE, "UnsubscribeKeyParameterName": "/pinrec/unsubscribe-key"}
KMS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
ALARM_TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:ops-alarms"
SES_EVENT_TYPES = {
    "send",
    "delivery",
    "bounce",
    "complaint",
    "reject",
    "renderingFailure",
    "deliveryDelay",
    "open",
    "click",
    "subscription",
}
"""Every SES event type (CloudFormation's spelling of SEND, DELIVERY, ... SUBSCRIPTION)."""


arn = moto_arn


def _named(name: Callable[[Stack], str], make_arn: Callable[[Stack, str], str]) -> Callable[[Stack, str], str]:
    return lambda stack, attribute: make_arn(stack, name(stack)) if attribute == "Arn" else name(stack)


SECRET_ARN = arn("secretsmanager", "secret:UnsubscribeKeySecret-AbCdEf")
RULE_ARN = arn("events", f"rule/{STACK_NAME}-SesEventsRule-1A2B3C")
SMS_TOPIC_ARN = arn("sns", f"{STACK_NAME}-SmsEventsTopic-1A2B3C")
ALARM_EMAIL_TOPIC_ARN = arn("sns", f"{STACK_NAME}-AlarmTopic-1A2B3C")
FUNCTION_URL = "https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws/"


def deploy(parameters: Mapping[str, Any] = BASE, *, secret_arn: str = SECRET_ARN) -> Stack:
    """The stack as CloudFormation would deploy it with these parameters, with plausible physical ids."""
    physical: dict[str, Callable[[Stack, str], str]] = {
        "SuppressionTable": _named(
            lambda stack: stack.parameter("SuppressionTableName"), lambda _, name: arn("dynamodb", f"table/{name}")
        ),
        "SesConfigurationSet": lambda stack, _: stack.parameter("ConfigurationSetName"),
        "SesEventsRule": _named(lambda _: RULE_ARN.rpartition("/")[2], lambda *_: RULE_ARN),
        "SmsEventsTopic": lambda *_: SMS_TOPIC_ARN,
        "AlarmTopic": lambda *_: ALARM_EMAIL_TOPIC_ARN,
        "EventsQueue": queue("events"),
        "EventsDeadLetterQueue": queue("events-dlq"),
        "EventsLogGroup": log_group("events"),
        "UnsubscribeLogGroup": log_group("unsubscribe"),
        "EventsFunction": function("events"),
        "UnsubscribeFunction": function("unsubscribe"),
        "UnsubscribeKeySecret": lambda *_: secret_arn,
        "UnsubscribeUrl": lambda *_: FUNCTION_URL,
        "EventsRole": role("EventsRole"),
        "UnsubscribeRole": role("UnsubscribeRole"),
    }
    return Stack(load_template(str(TEMPLATE)), parameters, REGION, ACCOUNT, STACK_NAME, physical)


def of_type(stack: Stack, kind: str) -> dict[str, dict[str, Any]]:
    return {name: value for name, value in resources(stack).items() if value["Type"] == kind}


@pytest.fixture(scope="module")
def stack() -> Stack:
    return deploy()


@pytest.fixture(scope="module")
def deployed(stack: Stack) -> dict[str, dict[str, Any]]:
    return resources(stack)


# ---- lint --------------------------------------------------------------------------------------------------------


def test_cfn_lint_finds_nothing_including_informational_checks():
    assert lint_findings(TEMPLATE) == []


def test_make_lint_runs_cfn_lint_on_the_template():
    assert linted_by_make(TEMPLATE)


def test_every_deployment_names_only_parameters_the_template_declares():
    declared = set(load_template(str(TEMPLATE))["Parameters"])
    assert set(BASE) | set(SSM_KEY) <= declared
    required = {name for name, spec in load_template(str(TEMPLATE))["Parameters"].items() if "Default" not in spec}
    assert required == set(BASE), "only the code locations have no default"


# ---- email: SES -> EventBridge -----------------------------------------------------------------------------------


def test_configuration_set_uses_the_account_suppression_list_and_publishes_reputation_metrics(deployed):
    configuration_set = deployed["SesConfigurationSet"]
    assert configuration_set["Name"] == "pinrec-events"
    assert configuration_set["ReputationOptions"] == {"ReputationMetricsEnabled": True}
    assert configuration_set["SendingOptions"] == {"SendingEnabled": True}
    assert sorted(configuration_set["SuppressionOptions"]["SuppressedReasons"]) == ["BOUNCE", "COMPLAINT"]
    assert "TrackingOptions" not in configuration_set, "SES's own tracking domain unless one is given"


def test_a_custom_redirect_domain_sets_the_tracking_options():
    tracking = resources(deploy({**BASE, "CustomRedirectDomain": "click.shop.example.com"}))["SesConfigurationSet"]
    assert tracking["TrackingOptions"] == {"CustomRedirectDomain": "click.shop.example.com", "HttpsPolicy": "OPTIONAL"}
    required = deploy({**BASE, "CustomRedirectDomain": "click.shop.example.com", "TrackingHttpsPolicy": "REQUIRE"})
    assert resources(required)["SesConfigurationSet"]["TrackingOptions"]["HttpsPolicy"] == "REQUIRE"


def test_event_destination_sends_every_ses_event_type_to_the_default_event_bus(deployed):
    destination = deployed["SesEventDestination"]
    assert destination["ConfigurationSetName"] == "pinrec-events"
    event_destination = destination["EventDestination"]
    assert event_destination["Enabled"] is True
    assert set(event_destination["MatchingEventTypes"]) == SES_EVENT_TYPES
    assert len(event_destination["MatchingEventTypes"]) == len(SES_EVENT_TYPES)
    assert event_destination["EventBridgeDestination"] == {"EventBusArn": arn("events", "event-bus/default")}
    assert set(event_destination) == {"Name", "Enabled", "MatchingEventTypes", "EventBridgeDestination"}


def ses_event(detail_type: str, event_type: str, configuration_set: str | None) -> dict[str, Any]:
    """An SES email event as EventBridge delivers it (the detail is SES's event record)."""
    tags = {"pinrec-campaign": ["spring"]}
    if configuration_set:
        tags["ses:configuration-set"] = [configuration_set]
    return {
        "version": "0",
        "id": "c3b5e8f2-0000-0000-0000-000000000000",
        "detail-type": detail_type,
        "source": "aws.ses",
        "account": ACCOUNT,
        "region": REGION,
        "resources": [],
        "detail": {
            "eventType": event_type,
            "mail": {"messageId": "0100018f-example-000000", "destination": ["user@example.com"], "tags": tags},
        },
    }


def test_rule_takes_the_ses_events_of_this_configuration_set_only(deployed):
    rule = deployed["SesEventsRule"]
    assert rule["EventBusName"] == "default"
    assert rule["State"] == "ENABLED"
    assert rule["EventPattern"] == {
        "source": ["aws.ses"],
        "detail": {"mail": {"tags": {"ses:configuration-set": ["pinrec-events"]}}},
    }
    pattern = EventPattern.load(json.dumps(rule["EventPattern"]))
    for detail_type, event_type in [
        ("Email Sent", "Send"),
        ("Email Delivered", "Delivery"),
        ("Email Bounced", "Bounce"),
        ("Email Complaint Received", "Complaint"),
        ("Email Clicked", "Click"),
        ("Email Subscribed", "Subscription"),
    ]:
        assert pattern.matches_event(ses_event(detail_type, event_type, "pinrec-events")), detail_type
    assert not pattern.matches_event(ses_event("Email Sent", "Send", "another-set"))
    assert not pattern.matches_event(ses_event("Email Sent", "Send", None))
    assert not pattern.matches_event({**ses_event("Email Sent", "Send", "pinrec-events"), "source": "aws.sns"})
    advisor = {**ses_event("Advisor Recommendation Status Open", "", None), "detail": {"status": "OPEN"}}
    assert not pattern.matches_event(advisor)


def test_rule_pattern_follows_the_configuration_set_name():
    rule = resources(deploy({**BASE, "ConfigurationSetName": "newsletter"}))["SesEventsRule"]
    assert rule["EventPattern"]["detail"]["mail"]["tags"] == {"ses:configuration-set": ["newsletter"]}


def test_rule_targets_the_queue_with_the_dead_letter_queue_for_undeliverable_events(deployed):
    (target,) = deployed["SesEventsRule"]["Targets"]
    assert target["Arn"] == arn("sqs", f"{STACK_NAME}-events")
    assert target["DeadLetterConfig"] == {"Arn": arn("sqs", f"{STACK_NAME}-events-dlq")}
    assert "InputTransformer" not in target and "Input" not in target, "the event arrives as EventBridge sends it"


# ---- the queues --------------------------------------------------------------------------------------------------


def test_queue_is_encrypted_and_redrives_to_the_dead_letter_queue(deployed, stack):
    queue, dead_letters = deployed["EventsQueue"], deployed["EventsDeadLetterQueue"]
    assert queue["SqsManagedSseEnabled"] is True and dead_letters["SqsManagedSseEnabled"] is True
    assert "KmsMasterKeyId" not in queue, "EventBridge and SNS cannot send to a queue under the aws/sqs KMS key"
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": arn("sqs", f"{STACK_NAME}-events-dlq"),
        "maxReceiveCount": 5,
    }
    assert stack.template["Parameters"]["MaxReceiveCount"]["Default"] == 5
    assert dead_letters["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert dead_letters["MessageRetentionPeriod"] > queue["MessageRetentionPeriod"], "a dead letter keeps its age"
    assert queue["VisibilityTimeout"] >= 6 * deployed["EventsFunction"]["Timeout"], "Lambda's SQS guidance"
    redrive = resources(deploy({**BASE, "MaxReceiveCount": 3}))["EventsQueue"]["RedrivePolicy"]
    assert redrive["maxReceiveCount"] == 3


def _policy(deployed: dict[str, dict[str, Any]], name: str) -> list[dict[str, Any]]:
    policy = deployed[name]
    return policy["PolicyDocument"]["Statement"]


def test_queue_policy_lets_only_the_rule_and_the_sms_topic_send(deployed):
    assert deployed["EventsQueuePolicy"]["Queues"] == [
        f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{STACK_NAME}-events"
    ]
    statements = {statement["Sid"]: statement for statement in _policy(deployed, "EventsQueuePolicy")}
    assert set(statements) == {"SesEventsRule", "SmsEventsTopic", "DenyInsecureTransport"}
    queue = arn("sqs", f"{STACK_NAME}-events")
    assert statements["SesEventsRule"] == {
        "Sid": "SesEventsRule",
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": queue,
        "Condition": {"ArnEquals": {"aws:SourceArn": RULE_ARN}},
    }
    assert statements["SmsEventsTopic"] == {
        "Sid": "SmsEventsTopic",
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": queue,
        "Condition": {"ArnEquals": {"aws:SourceArn": SMS_TOPIC_ARN}},
    }
    deny = statements["DenyInsecureTransport"]
    assert (deny["Effect"], deny["Principal"], deny["Action"], deny["Resource"]) == ("Deny", "*", "sqs:*", queue)
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_without_sms_events_the_queue_admits_the_rule_only():
    deployed = resources(deploy({**BASE, "SmsConfigurationSetName": ""}))
    assert {s["Sid"] for s in _policy(deployed, "EventsQueuePolicy")} == {"SesEventsRule", "DenyInsecureTransport"}
    assert not {"SmsEventsTopic", "SmsEventsTopicPolicy", "SmsConfigurationSet", "SmsEventsSubscription"} & set(
        deployed
    )


def test_dead_letter_queue_admits_the_rules_undeliverable_events_only(deployed):
    statements = {statement["Sid"]: statement for statement in _policy(deployed, "EventsDeadLetterQueuePolicy")}
    assert set(statements) == {"SesEventsRuleUndeliverable", "DenyInsecureTransport"}
    allow = statements["SesEventsRuleUndeliverable"]
    assert allow["Principal"] == {"Service": "events.amazonaws.com"}
    assert allow["Action"] == "sqs:SendMessage"
    assert allow["Resource"] == arn("sqs", f"{STACK_NAME}-events-dlq")
    assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": RULE_ARN}}


def test_no_resource_policy_allows_anyone_but_the_url_permissions():
    for parameters in (BASE, {**BASE, "SmsConfigurationSetName": ""}):
        for name, resource in resources(deploy(parameters)).items():
            if "PolicyDocument" not in resource:
                continue
            for statement in resource["PolicyDocument"]["Statement"]:
                if statement["Effect"] == "Allow":
                    assert statement["Principal"] != "*" and "Condition" in statement, (name, statement)


# ---- SMS: End User Messaging -> SNS -> the same queue ------------------------------------------------------------


def test_sms_configuration_set_publishes_text_events_to_the_topic(deployed):
    configuration_set = deployed["SmsConfigurationSet"]
    assert configuration_set["Type"] == "AWS::SMSVOICE::ConfigurationSet"
    assert configuration_set["ConfigurationSetName"] == "pinrec-events"
    (destination,) = configuration_set["EventDestinations"]
    assert destination["Enabled"] is True
    assert destination["MatchingEventTypes"] == ["TEXT_ALL"]
    assert destination["SnsDestination"] == {"TopicArn": SMS_TOPIC_ARN}
    assert load_template(str(TEMPLATE))["Resources"]["SmsConfigurationSet"]["DependsOn"] == "SmsEventsTopicPolicy"


def test_sms_topic_admits_only_this_accounts_configuration_set_over_tls(deployed):
    policy = deployed["SmsEventsTopicPolicy"]
    assert policy["Topics"] == [SMS_TOPIC_ARN]
    statements = {statement["Sid"]: statement for statement in policy["PolicyDocument"]["Statement"]}
    assert statements["EndUserMessagingConfigurationSet"] == {
        "Sid": "EndUserMessagingConfigurationSet",
        "Effect": "Allow",
        "Principal": {"Service": "sms-voice.amazonaws.com"},
        "Action": "sns:Publish",
        "Resource": SMS_TOPIC_ARN,
        "Condition": {
            "StringEquals": {"aws:SourceAccount": ACCOUNT},
            "ArnLike": {"aws:SourceArn": arn("sms-voice", "configuration-set/pinrec-events")},
        },
    }
    assert statements["EndUserMessagingTwoWay"]["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": arn("sms-voice", "phone-number/*")},
    }, "two-way replies (opt-out keywords) from this account's numbers"
    assert set(statements) == {"EndUserMessagingConfigurationSet", "EndUserMessagingTwoWay", "DenyInsecureTransport"}
    assert statements["DenyInsecureTransport"]["Effect"] == "Deny"
    assert statements["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_sms_events_reach_the_same_queue_as_raw_messages(deployed):
    subscription = deployed["SmsEventsSubscription"]
    assert subscription["TopicArn"] == SMS_TOPIC_ARN
    assert subscription["Protocol"] == "sqs"
    assert subscription["Endpoint"] == arn("sqs", f"{STACK_NAME}-events")
    assert subscription["RawMessageDelivery"] is True, "the body is End User Messaging's event, no SNS envelope"


# ---- the suppression table ---------------------------------------------------------------------------------------


def test_suppression_table_key_schema_is_the_suppression_modules(deployed, stack):
    table = deployed["SuppressionTable"]
    assert table["TableName"] == "pinrec-suppression"
    assert table["KeySchema"] == [{"AttributeName": suppression_dynamodb.KEY, "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": suppression_dynamodb.KEY, "AttributeType": "S"}]
    assert stack.template["Mappings"]["SuppressionTableSchema"]["Keys"] == {"PartitionKey": suppression_dynamodb.KEY}
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"] == {"SSEEnabled": True}
    raw = stack.template["Resources"]["SuppressionTable"]
    assert raw["DeletionPolicy"] == "Retain" and raw["UpdateReplacePolicy"] == "Retain"


# ---- the events function -----------------------------------------------------------------------------------------


def test_events_function_settings(deployed):
    function = deployed["EventsFunction"]
    assert function["Handler"] == "handlers.events.handler"
    assert function["Runtime"] in {"python3.12", "python3.13"}
    assert function["Architectures"] == ["arm64"]
    assert function["Code"] == {"S3Bucket": "code-bucket", "S3Key": "pinrec/events.zip"}
    assert function["Role"] == arn("iam", "role/pinrec-events-EventsRole").replace(f":{REGION}:", "::")
    assert function["LoggingConfig"] == {"LogGroup": f"/aws/lambda/{STACK_NAME}-events"}
    assert function["Environment"]["Variables"] == {
        "PINREC_LEDGER": "dynamodb:pinrec-send-ledger",
        "PINREC_SUPPRESSION": "dynamodb:pinrec-suppression",
        "POWERTOOLS_SERVICE_NAME": "pinrec-events",
        "POWERTOOLS_METRICS_NAMESPACE": "pinrec",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }
    assert load_template(str(TEMPLATE))["Resources"]["EventsFunction"]["Properties"]["Role"] == {
        "Fn::GetAtt": ["EventsRole", "Arn"]
    }
    variables = resources(deploy({**BASE, "LedgerTableName": "ledger-2", "SuppressionTableName": "supp-2"}))[
        "EventsFunction"
    ]["Environment"]["Variables"]
    assert (variables["PINREC_LEDGER"], variables["PINREC_SUPPRESSION"]) == ("dynamodb:ledger-2", "dynamodb:supp-2")


def test_queue_invokes_the_events_function_in_batches_reporting_partial_failures(deployed):
    mapping = deployed["EventsQueueMapping"]
    assert mapping["EventSourceArn"] == arn("sqs", f"{STACK_NAME}-events")
    assert mapping["FunctionName"] == f"{STACK_NAME}-events"
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["Enabled"] is True
    assert (mapping["BatchSize"], mapping["MaximumBatchingWindowInSeconds"]) == (100, 5)
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": 10}


def _role(stack: Stack, name: str) -> list[dict[str, Any]]:
    return role_statements(stack, name)


def test_events_role_grants_exactly_the_queue_the_ledger_and_the_suppression_table(stack):
    statements = _role(stack, "EventsRole")
    ledger = arn("dynamodb", "table/pinrec-send-ledger")
    suppression = arn("dynamodb", "table/pinrec-suppression")
    queue = arn("sqs", f"{STACK_NAME}-events")
    items = ["BatchGetItem", "PutItem", "UpdateItem"]
    expected = {
        ("logs:CreateLogStream", arn("logs", f"log-group:/aws/lambda/{STACK_NAME}-events:*")),
        ("logs:PutLogEvents", arn("logs", f"log-group:/aws/lambda/{STACK_NAME}-events:*")),
        *{(f"sqs:{action}", queue) for action in ["ReceiveMessage", "DeleteMessage", "GetQueueAttributes"]},
        ("sqs:ChangeMessageVisibility", queue),
        *{(f"dynamodb:{action}", ledger) for action in items},
        ("dynamodb:UpdateItem", suppression),
    }
    assert grants(statements) == expected
    wide = {resource for _, resource in grants(statements) if "*" in resource}
    assert wide == {arn("logs", f"log-group:/aws/lambda/{STACK_NAME}-events:*")}
    assert not allows(statements, "dynamodb:PutItem", arn("dynamodb", "table/pinrec-send-ledger-other"))
    assert not allows(statements, "dynamodb:DeleteItem", suppression), "nothing the events function never does"
    assert not allows(statements, "dynamodb:Scan", ledger)
    assert not allows(statements, "sqs:SendMessage", queue)
    (trust,) = stack.resolve(stack.template["Resources"]["EventsRole"]["Properties"])["AssumeRolePolicyDocument"][
        "Statement"
    ]
    assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}


# ---- one-click unsubscribe ---------------------------------------------------------------------------------------


def test_unsubscribe_function_settings_with_a_generated_key(deployed, stack):
    function = deployed["UnsubscribeFunction"]
    assert function["Handler"] == "handlers.unsubscribe.handler"
    assert function["Code"] == {"S3Bucket": "code-bucket", "S3Key": "pinrec/unsub.zip"}
    assert function["Environment"]["Variables"] == {
        "PINREC_UNSUBSCRIBE_KEY": f"secretsmanager:{SECRET_ARN}",
        "PINREC_SUPPRESSION": "dynamodb:pinrec-suppression",
        "PINREC_LEDGER": "dynamodb:pinrec-send-ledger",
    }
    secret = deployed["UnsubscribeKeySecret"]
    generated = secret["GenerateSecretString"]
    assert generated["PasswordLength"] >= 32, "keys.py needs at least 32 characters"
    assert generated["ExcludePunctuation"] is True, "never starts with '{' (a key ring)"
    raw = stack.template["Resources"]["UnsubscribeKeySecret"]
    assert raw["DeletionPolicy"] == "Retain" and raw["UpdateReplacePolicy"] == "Retain", "links already sent"


def test_unsubscribe_function_with_an_ssm_key_uses_that_parameter_and_no_secret():
    deployed = resources(deploy(SSM_KEY))
    assert "UnsubscribeKeySecret" not in deployed
    variables = deployed["UnsubscribeFunction"]["Environment"]["Variables"]
    assert variables["PINREC_UNSUBSCRIBE_KEY"] == "ssm:/pinrec/unsubscribe-key"


@pytest.mark.parametrize("parameters", [BASE, SSM_KEY], ids=["secretsmanager", "ssm"])
def test_unsubscribe_key_location_is_one_the_function_can_read(parameters):
    spec = resources(deploy(parameters))["UnsubscribeFunction"]["Environment"]["Variables"]["PINREC_UNSUBSCRIBE_KEY"]
    assert check_key_source(spec) == spec
    assert is_deployable(spec)
    assert deploy(parameters).resolve(deploy(parameters).template["Outputs"]["UnsubscribeKey"]["Value"]) == spec


def test_unsubscribe_role_with_a_generated_key_reads_that_secret_and_writes_suppressions_only(stack):
    statements = _role(stack, "UnsubscribeRole")
    log_group = arn("logs", f"log-group:/aws/lambda/{STACK_NAME}-unsubscribe:*")
    suppression = arn("dynamodb", "table/pinrec-suppression")
    ledger = arn("dynamodb", "table/pinrec-send-ledger")
    assert grants(statements) == {
        ("logs:CreateLogStream", log_group),
        ("logs:PutLogEvents", log_group),
        ("dynamodb:UpdateItem", suppression),
        *{(f"dynamodb:{action}", ledger) for action in ["BatchGetItem", "PutItem", "UpdateItem"]},
        ("secretsmanager:GetSecretValue", SECRET_ARN),
    }
    assert not allows(statements, "dynamodb:Query", ledger), "the function never reads the campaign's rows"


def test_unsubscribe_role_with_an_ssm_key_reads_that_parameter_and_its_kms_key_only():
    parameter = arn("ssm", "parameter/pinrec/unsubscribe-key")
    statements = _role(deploy(SSM_KEY), "UnsubscribeRole")
    key_grants = {grant for grant in grants(statements) if not grant[0].startswith(("logs:", "dynamodb:"))}
    assert key_grants == {("ssm:GetParameter", parameter)}, "the AWS managed aws/ssm key needs no grant"
    with_kms = _role(deploy({**SSM_KEY, "UnsubscribeKeyKmsKeyArn": KMS_KEY}), "UnsubscribeRole")
    key_grants = {grant for grant in grants(with_kms) if not grant[0].startswith(("logs:", "dynamodb:"))}
    assert key_grants == {("ssm:GetParameter", parameter), ("kms:Decrypt", KMS_KEY)}
    assert not allows(with_kms, "ssm:GetParameter", arn("ssm", "parameter/pinrec/other"))


class Recorder:
    def __init__(self, calls: list[Call]) -> None:
        self.calls = calls


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    recording = Recorder(record_calls(monkeypatch))
    forget_keys()
    yield recording
    forget_keys()


def _checked_resource(service: str, operation: str, params: dict[str, Any]) -> tuple[str, str]:
    if (service, operation) == ("secretsmanager", "GetSecretValue"):
        return "secretsmanager:GetSecretValue", params["SecretId"]
    if (service, operation) == ("ssm", "GetParameter"):
        return "ssm:GetParameter", arn("ssm", f"parameter{params['Name']}")
    pytest.fail(f"the unsubscribe key is read with {service}:{operation}: add the resource IAM checks")


def test_the_generated_secret_is_read_by_the_key_loader_through_the_granted_call(moto_aws, recorder):
    secrets = boto3.client("secretsmanager", region_name=REGION)
    value = secrets.get_random_password(PasswordLength=64, ExcludePunctuation=True)["RandomPassword"]
    secret_arn = secrets.create_secret(Name="UnsubscribeKeySecret-AbCdEf", SecretString=value)["ARN"]
    stack = deploy(BASE, secret_arn=secret_arn)
    spec = resources(stack)["UnsubscribeFunction"]["Environment"]["Variables"]["PINREC_UNSUBSCRIBE_KEY"]
    recorder.calls.clear()
    ring = load_key_ring(spec, lambda service: boto3.client(service, region_name=REGION))
    assert ring.current.secret == value.encode()
    statements = _role(stack, "UnsubscribeRole")
    needed = [_checked_resource(*call) for call in recorder.calls]
    assert needed and all(allows(statements, action, resource) for action, resource in needed), needed


def test_an_ssm_securestring_key_is_read_by_the_key_loader_through_the_granted_call(moto_aws, recorder):
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name="/pinrec/unsubscribe-key", Value="k" * 40, Type="SecureString"
    )
    stack = deploy(SSM_KEY)
    spec = resources(stack)["UnsubscribeFunction"]["Environment"]["Variables"]["PINREC_UNSUBSCRIBE_KEY"]
    recorder.calls.clear()
    ring = load_key_ring(spec, lambda service: boto3.client(service, region_name=REGION))
    assert ring.current.secret == b"k" * 40
    needed = [_checked_resource(*call) for call in recorder.calls]
    assert needed and all(allows(_role(stack, "UnsubscribeRole"), *pair) for pair in needed), needed


def test_function_url_is_public_and_both_permissions_are_limited_to_it(deployed):
    url = deployed["UnsubscribeUrl"]
    assert url["TargetFunctionArn"] == arn("lambda", f"function:{STACK_NAME}-unsubscribe")
    assert url["AuthType"] == "NONE"
    assert "Cors" not in url, "mail clients post server-side; the confirmation page posts to itself"
    permissions = {p["Action"]: p for p in of_type(deploy(), "AWS::Lambda::Permission").values()}
    assert set(permissions) == {"lambda:InvokeFunctionUrl", "lambda:InvokeFunction"}
    url_permission = permissions["lambda:InvokeFunctionUrl"]
    assert (url_permission["Principal"], url_permission["FunctionUrlAuthType"]) == ("*", "NONE")
    assert url_permission["FunctionName"] == f"{STACK_NAME}-unsubscribe"
    invoke = permissions["lambda:InvokeFunction"]
    assert (invoke["Principal"], invoke["InvokedViaFunctionUrl"]) == ("*", True), "never a direct public Invoke"
    assert invoke["FunctionName"] == f"{STACK_NAME}-unsubscribe"


# ---- alarms ------------------------------------------------------------------------------------------------------


def _alarms(stack: Stack) -> dict[str, dict[str, Any]]:
    return of_type(stack, "AWS::CloudWatch::Alarm")


def test_alarms_and_their_thresholds(stack):
    alarms = _alarms(stack)
    assert set(alarms) == {
        "DeadLetterAlarm",
        "QueueAgeAlarm",
        "EventsErrorsAlarm",
        "UnsubscribeErrorsAlarm",
        "BounceRateAlarm",
        "ComplaintRateAlarm",
    }
    dead = alarms["DeadLetterAlarm"]
    assert (dead["Namespace"], dead["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert dead["Dimensions"] == [{"Name": "QueueName", "Value": f"{STACK_NAME}-events-dlq"}]
    assert (dead["Threshold"], dead["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    age = alarms["QueueAgeAlarm"]
    assert (age["Namespace"], age["MetricName"]) == ("AWS/SQS", "ApproximateAgeOfOldestMessage")
    assert age["Dimensions"] == [{"Name": "QueueName", "Value": f"{STACK_NAME}-events"}]
    assert age["Threshold"] == 600
    errors = alarms["EventsErrorsAlarm"]
    assert (errors["Namespace"], errors["MetricName"], errors["Threshold"]) == ("AWS/Lambda", "Errors", 1)
    assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": f"{STACK_NAME}-events"}]
    assert alarms["UnsubscribeErrorsAlarm"]["Dimensions"] == [
        {"Name": "FunctionName", "Value": f"{STACK_NAME}-unsubscribe"}
    ]
    # SES reviews an account at a 5 % bounce rate (pauses at 10 %) and at a 0.1 % complaint rate (pauses at 0.5 %);
    # the metrics are fractions (SES Developer Guide: reputation metrics messages; CloudWatch reputation alarms).
    bounce, complaint = alarms["BounceRateAlarm"], alarms["ComplaintRateAlarm"]
    assert (bounce["Namespace"], bounce["MetricName"], bounce["Threshold"]) == (
        "AWS/SES",
        "Reputation.BounceRate",
        0.05,
    )
    assert (complaint["MetricName"], complaint["Threshold"]) == ("Reputation.ComplaintRate", 0.001)
    assert complaint["Namespace"] == "AWS/SES"
    for rate in (bounce, complaint):
        assert "Dimensions" not in rate, "the account-level rate SES reviews"
        assert rate["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    for alarm in alarms.values():
        assert alarm["TreatMissingData"] == "notBreaching"
        assert "AlarmActions" not in alarm, "no action unless AlarmTopicArn or AlarmEmail is given"
    tuned = _alarms(deploy({**BASE, "BounceRateAlarmThreshold": 0.02, "ComplaintRateAlarmThreshold": 0.0005}))
    assert (tuned["BounceRateAlarm"]["Threshold"], tuned["ComplaintRateAlarm"]["Threshold"]) == (0.02, 0.0005)


@pytest.mark.parametrize(
    ("parameters", "actions"),
    [
        ({"AlarmTopicArn": ALARM_TOPIC}, [ALARM_TOPIC]),
        ({"AlarmEmail": "ops@shop.example.com"}, [ALARM_EMAIL_TOPIC_ARN]),
        ({"AlarmTopicArn": ALARM_TOPIC, "AlarmEmail": "ops@shop.example.com"}, [ALARM_TOPIC, ALARM_EMAIL_TOPIC_ARN]),
    ],
)
def test_every_alarm_notifies_the_given_topic_or_email(parameters, actions):
    stack = deploy({**BASE, **parameters})
    for alarm in _alarms(stack).values():
        assert alarm["AlarmActions"] == actions
    topics = of_type(stack, "AWS::SNS::Topic")
    if "AlarmEmail" in parameters:
        assert topics["AlarmTopic"]["Subscription"] == [{"Protocol": "email", "Endpoint": "ops@shop.example.com"}]
    else:
        assert "AlarmTopic" not in topics


# ---- outputs -----------------------------------------------------------------------------------------------------


def test_outputs(stack):
    outputs = {name: stack.resolve(output["Value"]) for name, output in stack.template["Outputs"].items()}
    assert outputs == {
        "ConfigurationSetName": "pinrec-events",
        "SmsConfigurationSetName": "pinrec-events",
        "QueueUrl": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{STACK_NAME}-events",
        "DeadLetterQueueUrl": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{STACK_NAME}-events-dlq",
        "UnsubscribeUrl": FUNCTION_URL,
        "UnsubscribeKey": f"secretsmanager:{SECRET_ARN}",
        "SuppressionTableName": "pinrec-suppression",
        "EventsFunctionArn": arn("lambda", f"function:{STACK_NAME}-events"),
        "SmsEventsTopicArn": SMS_TOPIC_ARN,
    }
    assert re.fullmatch(r"https://[a-z0-9]+\.lambda-url\.[a-z0-9-]+\.on\.aws/", outputs["UnsubscribeUrl"])


# ---- the events function's calls, against its role ---------------------------------------------------------------


def _dynamodb_grant(operation: str, params: dict[str, Any]) -> tuple[str, str]:
    return dynamodb_grant(operation, params, REGION, ACCOUNT)


def test_the_events_function_makes_only_calls_its_role_grants(moto_aws, recorder, monkeypatch):
    """The handler, on the stack's environment, ingests every SES sample into a DynamoDB ledger and suppression list
    (moto); every call it makes must be allowed by EventsRole on exactly the resource it names."""
    import handlers.events
    from campaign_tools.send.ledgers.base import ClaimPolicy
    from campaign_tools.send.ledgers.dynamodb import DynamoDbLedger, create_ledger_table

    dynamodb = boto3.client("dynamodb", region_name=REGION)
    create_ledger_table(dynamodb, "pinrec-send-ledger")
    suppression_dynamodb.create_suppression_table(dynamodb, "pinrec-suppression")
    ledger = DynamoDbLedger("pinrec-send-ledger", dynamodb)
    for number in range(1, 10):
        ledger.claim("spring", f"ep-{number}", 1.0, ClaimPolicy("run"))
        ledger.mark_sent("spring", f"ep-{number}", f"ses-msg-{number}", 1.0)
    for name, value in resources(deploy())["EventsFunction"]["Environment"]["Variables"].items():
        monkeypatch.setenv(name, value)
    samples = Path(__file__).parents[1] / "data" / "events" / "ses-eventbridge.jsonl"
    bodies = [line for line in samples.read_text().splitlines() if line.strip()]
    event = {
        "Records": [{"messageId": f"m-{n}", "eventSource": "aws:sqs", "body": body} for n, body in enumerate(bodies)]
    }
    handlers.events.reset()
    recorder.calls.clear()
    try:
        assert handlers.events.handler(event, None) == {"batchItemFailures": []}
    finally:
        handlers.events.reset()
    made = list(recorder.calls)  # the function's calls only, not this test's reads below
    assert len(list(ledger.events("spring"))) >= 10, "the samples were recorded"
    calls = [(operation, params) for service, operation, params in made if service == "dynamodb"]
    assert {operation for operation, _ in calls} >= {"PutItem", "UpdateItem"}
    assert all(service == "dynamodb" for service, _, _ in made), "the function calls DynamoDB only"
    statements = _role(deploy(), "EventsRole")
    needed = {_dynamodb_grant(operation, params) for operation, params in calls}
    assert all(allows(statements, *grant) for grant in needed), needed
    granted = {grant for grant in grants(statements) if grant[0].startswith("dynamodb:")}
    assert needed == granted, "the role grants exactly what the function calls"


def test_the_unsubscribe_function_makes_only_calls_its_role_grants(moto_aws, recorder, monkeypatch):
    """The handler, on the stack's environment (its key in Secrets Manager, its suppression table and the ledger on
    moto), answers a one-click POST for a sent message: it suppresses the address and records the unsubscribe as an
    event of its campaign; every call it makes must be allowed by UnsubscribeRole on exactly the resource it names,
    and the role grants nothing more."""
    import handlers.unsubscribe
    from campaign_tools.send.ledgers.base import ClaimPolicy
    from campaign_tools.send.ledgers.dynamodb import DynamoDbLedger, create_ledger_table
    from campaign_tools.unsubscribe.tokens import Claims, issue

    secrets = boto3.client("secretsmanager", region_name=REGION)
    secret_arn = secrets.create_secret(Name="UnsubscribeKeySecret-AbCdEf", SecretString="s" * 64)["ARN"]
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    create_ledger_table(dynamodb, "pinrec-send-ledger")
    suppression_dynamodb.create_suppression_table(dynamodb, "pinrec-suppression")
    ledger = DynamoDbLedger("pinrec-send-ledger", dynamodb)
    ledger.claim("spring", "ep-1", 1.0, ClaimPolicy("run"))
    ledger.mark_sent("spring", "ep-1", "ses-msg-1", 1.0)
    stack = deploy(BASE, secret_arn=secret_arn)
    for name, value in resources(stack)["UnsubscribeFunction"]["Environment"]["Variables"].items():
        monkeypatch.setenv(name, value)
    ring = load_key_ring(f"secretsmanager:{secret_arn}", lambda service: boto3.client(service, region_name=REGION))
    forget_keys()
    token = issue(Claims("spring", "ep-1", "ana@example.com", None, 20_400), ring.current)
    post = {
        "rawPath": f"/u/{token}",
        "requestContext": {"http": {"method": "POST"}},
        "body": "List-Unsubscribe=One-Click",
    }
    handlers.unsubscribe.reset()
    recorder.calls.clear()
    try:
        assert handlers.unsubscribe.handler(post)["statusCode"] == 200
    finally:
        handlers.unsubscribe.reset()
    made = list(recorder.calls)
    (event,) = ledger.events("spring")
    assert (event.kind, event.subtype, event.endpoint_id) == ("subscription", "unsubscribed", "ep-1")
    statements = _role(stack, "UnsubscribeRole")
    needed = {
        _dynamodb_grant(operation, params) if service == "dynamodb" else _checked_resource(service, operation, params)
        for service, operation, params in made
    }
    assert all(allows(statements, *grant) for grant in needed), needed
    granted = {grant for grant in grants(statements) if not grant[0].startswith("logs:")}
    assert needed == granted, "the role grants exactly what the function calls"
