"""infra/campaigns.yaml: cfn-lint clean (informational checks too), and each resource field by field as deployed with
given parameters (tests/infra/cfn_policy.py resolves the intrinsic functions): the slot function, its retries and
role, the schedule group and the role Scheduler assumes (trusted only by this account's schedules of the group;
InvokeFunction on exactly the slot function), the trigger function with its rule, permission, dead-letter queue and
role. Each function runs for real on moto with the environment the stack gives it, and every call it makes must be
one its role grants, and its role grants nothing it does not call."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from cfnlint.decode.cfn_yaml import load as load_template

from campaign_tools.campaigns.aws import DEFAULT_GROUP
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

TEMPLATE = ROOT / "infra" / "campaigns.yaml"
REGION = MOTO_REGION
ACCOUNT = MOTO_ACCOUNT
STACK_NAME = "pinrec-spring"
MACHINE = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:pinrec-send"
CODE = {"CodeBucket": "code-bucket", "StateMachineArn": MACHINE, "SegmentBucket": "pinrec-segments"}
SLOT = {**CODE, "SlotCodeKey": "pinrec/campaign-slot.zip"}
TRIGGER = {**CODE, "TriggerCodeKey": "pinrec/campaign-trigger.zip", "SenderIdentity": "shop@example.com"}
BOTH = {**SLOT, **TRIGGER}
RULE_ARN = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{STACK_NAME}-TriggerRule"
LEDGER = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/pinrec-send-ledger"


arn = moto_arn


def deploy(parameters: dict[str, Any] | None = None) -> Stack:
    physical = {
        "ScheduleGroup": lambda stack, _: stack.parameter("ScheduleGroupName"),
        "ScheduleDeadLetterQueue": queue("schedules-dlq"),
        "TriggerDeadLetterQueue": queue("trigger-dlq"),
        "TriggerRule": lambda *_: RULE_ARN,
        "SchedulerRole": role("SchedulerRole"),
        "SlotFunctionRole": role("SlotFunctionRole"),
        "TriggerFunctionRole": role("TriggerFunctionRole"),
        "SlotFunction": function("slot"),
        "TriggerFunction": function("trigger"),
        "SlotFunctionLogGroup": log_group("slot"),
        "TriggerFunctionLogGroup": log_group("trigger"),
    }
    return Stack(load_template(str(TEMPLATE)), parameters or BOTH, REGION, ACCOUNT, STACK_NAME, physical)


@pytest.fixture(scope="module")
def deployed() -> dict[str, dict[str, Any]]:
    return resources(deploy(BOTH))


# ---- the template ------------------------------------------------------------------------------------------------


def test_cfn_lint_finds_nothing_including_informational_checks():
    assert lint_findings(TEMPLATE) == []


def test_make_lint_runs_cfn_lint_on_the_template():
    assert linted_by_make(TEMPLATE)


def test_required_parameters_and_a_rule_asking_for_one_function_at_least():
    template = load_template(str(TEMPLATE))
    parameters = template["Parameters"]
    assert {name for name, spec in parameters.items() if "Default" not in spec} == set(CODE)
    assert parameters["ScheduleGroupName"]["Default"] == DEFAULT_GROUP
    (assertion,) = template["Rules"]["AFunction"]["Assertions"]
    both_empty = deploy({**CODE, "SlotCodeKey": "", "TriggerCodeKey": ""})
    assert both_empty.resolve(assertion["Assert"]) is False
    assert deploy(SLOT).resolve(assertion["Assert"]) is True and deploy(TRIGGER).resolve(assertion["Assert"]) is True


def test_a_scheduled_campaigns_stack_has_no_trigger_and_an_event_campaigns_no_schedules():
    slot_only = set(resources(deploy(SLOT)))
    assert slot_only == {
        "ScheduleGroup",
        "ScheduleDeadLetterQueue",
        "SlotFunctionLogGroup",
        "SlotFunctionRole",
        "SlotFunction",
        "SlotFunctionInvokeConfig",
        "SchedulerRole",
    }
    trigger_only = set(resources(deploy(TRIGGER)))
    assert trigger_only == {
        "TriggerFunctionLogGroup",
        "TriggerFunctionRole",
        "TriggerFunction",
        "TriggerDeadLetterQueue",
        "TriggerRule",
        "TriggerPermission",
        "TriggerDeadLetterQueuePolicy",
    }
    outputs = deploy(BOTH).template["Outputs"]
    assert {name: output["Condition"] for name, output in outputs.items()} == {
        "ScheduleGroupName": "HasSlot",
        "SchedulerRoleArn": "HasSlot",
        "ScheduleDeadLetterQueueArn": "HasSlot",
        "SlotFunctionArn": "HasSlot",
        "TriggerFunctionArn": "HasTrigger",
        "TriggerRuleArn": "HasTrigger",
    }


def test_outputs_name_what_deploy_takes():
    stack = deploy(BOTH)
    outputs = {name: stack.resolve(output["Value"]) for name, output in stack.template["Outputs"].items()}
    assert outputs == {
        "ScheduleGroupName": "pinrec-campaigns",
        "SchedulerRoleArn": f"arn:aws:iam::{ACCOUNT}:role/{STACK_NAME}-SchedulerRole",
        "ScheduleDeadLetterQueueArn": arn("sqs", f"{STACK_NAME}-schedules-dlq"),
        "SlotFunctionArn": arn("lambda", f"function:{STACK_NAME}-slot"),
        "TriggerFunctionArn": arn("lambda", f"function:{STACK_NAME}-trigger"),
        "TriggerRuleArn": RULE_ARN,
    }


# ---- scheduled campaigns -----------------------------------------------------------------------------------------


def test_schedule_group(deployed):
    assert deployed["ScheduleGroup"] == {"Type": "AWS::Scheduler::ScheduleGroup", "Name": "pinrec-campaigns"}
    assert resources(deploy({**SLOT, "ScheduleGroupName": "spring"}))["ScheduleGroup"]["Name"] == "spring"


def test_slot_function_settings(deployed):
    function = deployed["SlotFunction"]
    assert function["Handler"] == "handlers.campaign_slot.handler"
    assert (function["Runtime"], function["Architectures"]) == ("python3.12", ["arm64"])
    assert function["Code"] == {"S3Bucket": "code-bucket", "S3Key": "pinrec/campaign-slot.zip"}
    assert (function["Timeout"], function["MemorySize"], function["EphemeralStorage"]) == (900, 1024, {"Size": 2048})
    assert function["Role"] == f"arn:aws:iam::{ACCOUNT}:role/{STACK_NAME}-SlotFunctionRole"
    assert function["LoggingConfig"] == {"LogGroup": f"/aws/lambda/{STACK_NAME}-slot"}
    assert function["Environment"]["Variables"] == {
        "PINREC_CAMPAIGN": "/var/task/campaign.toml",
        "PINREC_LEDGER_TABLE": "pinrec-send-ledger",
        "PINREC_STATE_MACHINE_ARN": MACHINE,
        "PINREC_UNIT_PREFIX": "s3://pinrec-segments/pinrec-campaigns/units/",
        "PINREC_MAX_CONCURRENCY": 10,
        "PINREC_SUPPRESSION": "none",
    }
    tuned = resources(deploy({**SLOT, "SuppressionTableName": "pinrec-suppression", "MaxConcurrency": 4}))
    variables = tuned["SlotFunction"]["Environment"]["Variables"]
    assert (variables["PINREC_SUPPRESSION"], variables["PINREC_MAX_CONCURRENCY"]) == ("dynamodb:pinrec-suppression", 4)


def test_a_failed_slot_start_is_retried_twice_then_dead_lettered(deployed):
    assert deployed["SlotFunctionInvokeConfig"] == {
        "Type": "AWS::Lambda::EventInvokeConfig",
        "FunctionName": f"{STACK_NAME}-slot",
        "Qualifier": "$LATEST",
        "MaximumRetryAttempts": 2,
        "MaximumEventAgeInSeconds": 21600,
        "DestinationConfig": {"OnFailure": {"Destination": arn("sqs", f"{STACK_NAME}-schedules-dlq")}},
    }
    queue = deployed["ScheduleDeadLetterQueue"]
    assert queue["QueueName"] == f"{STACK_NAME}-schedules-dlq"
    assert queue["SqsManagedSseEnabled"] is True and queue["MessageRetentionPeriod"] == 14 * 86400


def test_scheduler_role_is_trusted_by_this_accounts_schedules_of_the_group_only(deployed):
    (statement,) = deployed["SchedulerRole"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement == {
        "Effect": "Allow",
        "Principal": {"Service": "scheduler.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": ACCOUNT},
            "ArnLike": {"aws:SourceArn": arn("scheduler", "schedule/pinrec-campaigns/*")},
        },
    }


def test_scheduler_role_invokes_exactly_the_slot_function_and_writes_its_dead_letters():
    statements = role_statements(deploy(SLOT), "SchedulerRole")
    function = arn("lambda", f"function:{STACK_NAME}-slot")
    dead_letters = arn("sqs", f"{STACK_NAME}-schedules-dlq")
    assert grants(statements) == {("lambda:InvokeFunction", function), ("sqs:SendMessage", dead_letters)}
    assert not allows(statements, "lambda:InvokeFunction", arn("lambda", f"function:{STACK_NAME}-trigger"))
    assert not allows(statements, "states:StartExecution", MACHINE), "the slot function starts the send"


def test_slot_role_grants(deployed):
    statements = role_statements(deploy(SLOT), "SlotFunctionRole")
    log_group = arn("logs", f"log-group:/aws/lambda/{STACK_NAME}-slot:*")
    assert grants(statements) == {
        ("logs:CreateLogStream", log_group),
        ("logs:PutLogEvents", log_group),
        ("s3:GetObject", "arn:aws:s3:::pinrec-segments/segments/*"),
        ("s3:PutObject", "arn:aws:s3:::pinrec-segments/pinrec-campaigns/units/*"),
        ("dynamodb:UpdateItem", LEDGER),
        ("dynamodb:GetItem", LEDGER),
        ("dynamodb:Query", LEDGER),
        ("states:StartExecution", MACHINE),
        ("sqs:SendMessage", arn("sqs", f"{STACK_NAME}-schedules-dlq")),
    }
    assert not allows(statements, "s3:PutObject", "arn:aws:s3:::pinrec-segments/segments/spring.jsonl")
    assert not allows(statements, "s3:GetObject", "arn:aws:s3:::pinrec-segments/other/x.jsonl")
    assert not allows(statements, "dynamodb:DeleteItem", LEDGER)


# ---- event-triggered campaigns -----------------------------------------------------------------------------------


def test_trigger_function_settings(deployed):
    function = deployed["TriggerFunction"]
    assert function["Handler"] == "handlers.campaign_trigger.handler"
    assert function["Code"] == {"S3Bucket": "code-bucket", "S3Key": "pinrec/campaign-trigger.zip"}
    assert (function["Timeout"], function["MemorySize"]) == (300, 1024)
    assert function["Role"] == f"arn:aws:iam::{ACCOUNT}:role/{STACK_NAME}-TriggerFunctionRole"
    assert function["Environment"]["Variables"] == {
        "PINREC_CAMPAIGN": "/var/task/campaign.toml",
        "PINREC_LEDGER_TABLE": "pinrec-send-ledger",
        "PINREC_SUPPRESSION": "none",
    }


def test_trigger_rule_takes_the_source_on_the_bus_and_invokes_the_function(deployed):
    rule = deployed["TriggerRule"]
    assert rule["EventBusName"] == "default" and rule["State"] == "ENABLED"
    assert rule["EventPattern"] == {"source": ["pinrec.campaigns"]}
    (target,) = rule["Targets"]
    assert target == {
        "Id": "pinrec-campaign-trigger",
        "Arn": arn("lambda", f"function:{STACK_NAME}-trigger"),
        "RetryPolicy": {"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 3600},
        "DeadLetterConfig": {"Arn": arn("sqs", f"{STACK_NAME}-trigger-dlq")},
    }
    custom = resources(deploy({**TRIGGER, "TriggerEventBusName": "shop", "TriggerEventSource": "shop.cart"}))
    assert custom["TriggerRule"]["EventBusName"] == "shop"
    assert custom["TriggerRule"]["EventPattern"] == {"source": ["shop.cart"]}


def test_only_the_rule_of_this_account_may_invoke_the_trigger(deployed):
    assert deployed["TriggerPermission"] == {
        "Type": "AWS::Lambda::Permission",
        "Action": "lambda:InvokeFunction",
        "FunctionName": arn("lambda", f"function:{STACK_NAME}-trigger"),
        "Principal": "events.amazonaws.com",
        "SourceAccount": ACCOUNT,
        "SourceArn": RULE_ARN,
    }


def test_trigger_dead_letter_queue_admits_the_rule_only_over_tls(deployed):
    statements = {s["Sid"]: s for s in deployed["TriggerDeadLetterQueuePolicy"]["PolicyDocument"]["Statement"]}
    queue = arn("sqs", f"{STACK_NAME}-trigger-dlq")
    assert statements["TriggerRuleUndeliverable"] == {
        "Sid": "TriggerRuleUndeliverable",
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": queue,
        "Condition": {"ArnEquals": {"aws:SourceArn": RULE_ARN}},
    }
    deny = statements["DenyInsecureTransport"]
    assert (deny["Effect"], deny["Principal"], deny["Condition"]) == (
        "Deny",
        "*",
        {"Bool": {"aws:SecureTransport": "false"}},
    )


def test_trigger_role_sends_as_the_child_does_on_the_channels_given():
    email = grants(role_statements(deploy(TRIGGER), "TriggerFunctionRole"))
    identity = arn("ses", "identity/shop@example.com")
    assert {("ses:SendEmail", identity), ("ses:GetEmailIdentity", identity), ("ses:GetAccount", "*")} <= email
    assert not any(action.startswith(("sms-voice:", "mobiletargeting:", "personalize:")) for action, _ in email)
    numbers = [arn("sms-voice", "phone-number/phone-1"), arn("sms-voice", "pool/pool-1")]
    everything = {
        **CODE,
        "TriggerCodeKey": "t.zip",
        "SmsOriginationIdentities": ",".join(numbers),
        "SmsConfigurationSet": "texts",
        "PushApplicationId": "app1",
        "RecommendationsArn": arn("personalize", "campaign/picks"),
        "RecommendationsFilterArn": arn("personalize", "filter/in-stock"),
        "CatalogTableName": "pinrec-catalog",
        "SuppressionTableName": "pinrec-suppression",
    }
    statements = role_statements(deploy(everything), "TriggerFunctionRole")
    found = grants(statements)
    assert not any(action.startswith("ses:") for action, _ in found), "no SenderIdentity: no email"
    for number in numbers:
        assert allows(statements, "sms-voice:SendTextMessage", number)
        assert allows(statements, "sms-voice:DescribePhoneNumbers", number)
    assert allows(statements, "sms-voice:SendTextMessage", arn("sms-voice", "opt-out-list/Default"))
    assert allows(statements, "sms-voice:SendTextMessage", arn("sms-voice", "configuration-set/texts"))
    assert not allows(statements, "sms-voice:SendTextMessage", arn("sms-voice", "phone-number/other"))
    assert allows(statements, "mobiletargeting:SendMessages", arn("mobiletargeting", "apps/app1/messages"))
    assert allows(statements, "personalize:GetRecommendations", arn("personalize", "filter/in-stock"))
    assert allows(statements, "dynamodb:BatchGetItem", arn("dynamodb", "table/pinrec-catalog"))
    assert allows(statements, "dynamodb:BatchGetItem", arn("dynamodb", "table/pinrec-suppression"))
    assert not allows(statements, "dynamodb:UpdateItem", arn("dynamodb", "table/pinrec-suppression"))
    wide = {grant for grant in found if "*" in grant[1] and not grant[0].startswith(("logs:", "s3:"))}
    assert wide == set(), "only SES's GetAccount (email) is granted on *"


def test_no_role_may_be_assumed_by_another_service(deployed):
    for name in ("SlotFunctionRole", "TriggerFunctionRole"):
        (statement,) = deployed[name]["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Principal"] == {"Service": "lambda.amazonaws.com"}


# ---- each function's calls, against its role ---------------------------------------------------------------------


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Call]]:
    calls = record_calls(monkeypatch)
    from campaign_tools.campaigns import slot_lambda, trigger_lambda

    for warm in (slot_lambda.warm_clients, trigger_lambda.warm_clients):  # the clients of the moto environment
        warm.cache_clear()
    yield calls
    for warm in (slot_lambda.warm_clients, trigger_lambda.warm_clients):
        warm.cache_clear()


def _resource(service: str, operation: str, params: dict[str, Any]) -> tuple[str, str]:
    """The action IAM checks for a call and the resource it names."""
    if service == "dynamodb":
        return dynamodb_grant(operation, params, REGION, ACCOUNT)
    if service == "s3":
        return f"s3:{operation}", f"arn:aws:s3:::{params['Bucket']}/{params['Key']}"
    if (service, operation) == ("states", "StartExecution"):
        return "states:StartExecution", params["stateMachineArn"]
    if (service, operation) == ("ses", "GetAccount"):
        return "ses:GetAccount", "*"
    if (service, operation) == ("ses", "GetEmailIdentity"):
        return "ses:GetEmailIdentity", arn("ses", f"identity/{params['EmailIdentity']}")
    if (service, operation) == ("ses", "SendEmail"):
        return "ses:SendEmail", arn("ses", f"identity/{params['FromEmailAddress']}")
    pytest.fail(f"the function calls {service}:{operation}: add the resource IAM checks")


def _used(statements: list[dict[str, Any]], needed: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The grants (action, resource pattern) that allow the needed calls."""
    return {
        (action, pattern)
        for action, pattern in grants(statements)
        for wanted, resource in needed
        if action.lower() == wanted.lower() and fnmatch.fnmatchcase(resource, pattern)
    }


def _check(made: list[Call], statements: list[dict[str, Any]], unused: set[str]) -> None:
    needed = {_resource(*call) for call in made}
    refused = {grant for grant in needed if not allows(statements, *grant)}
    assert not refused, f"calls the role does not grant: {refused}"
    granted = {grant for grant in grants(statements) if grant[0].partition(":")[0] not in unused}
    assert _used(statements, needed) == granted, "the role grants exactly what the function calls"


def _environment(stack: Stack, function: str, campaign: Path) -> dict[str, str]:
    variables = resources(stack)[function]["Environment"]["Variables"]
    return {**{name: str(value) for name, value in variables.items()}, "PINREC_CAMPAIGN": str(campaign)}


def test_the_slot_function_makes_only_calls_its_role_grants(moto_aws, recorder, tmp_path, monkeypatch):
    """The handler, on the stack's environment (the campaign file where the package puts it, the rest as deployed),
    starts a due unit on moto; every call must be allowed by SlotFunctionRole on exactly the resource it names."""
    import handlers.campaign_slot
    from tests.campaign_tools.campaigns.slot_campaigns import SLOT as SLOT_INSTANT
    from tests.campaign_tools.campaigns.slot_campaigns import deploy_on_moto, slot_campaign, slot_input

    deployed = deploy_on_moto()
    stack = deploy({**SLOT, "StateMachineArn": deployed.state_machine_arn})
    for name, value in _environment(stack, "SlotFunction", slot_campaign(tmp_path)).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("campaign_tools.campaigns.slot_lambda.CLOCK", lambda: SLOT_INSTANT.timestamp() + 5)
    monkeypatch.setattr("campaign_tools.campaigns.slot_lambda.STAGE_DIR", tmp_path / "units")
    recorder.clear()
    result = handlers.campaign_slot.handler(slot_input())
    made = list(recorder)
    assert result["status"] == "started" and result["execution"]
    assert {operation for _, operation, _ in made} >= {"GetObject", "PutObject", "StartExecution", "UpdateItem"}
    _check(made, role_statements(stack, "SlotFunctionRole"), unused={"logs", "sqs"})


def test_the_trigger_function_makes_only_calls_its_role_grants(moto_aws, recorder, tmp_path, monkeypatch):
    """The handler, on the stack's environment, sends an event's message through SES on moto within the campaign's
    limits, reading its segment from S3; every call must be allowed by TriggerFunctionRole, and the role (email, no
    other channel) grants nothing more."""
    import handlers.campaign_trigger
    from campaign_tools.send.ledgers.dynamodb import create_ledger_table
    from tests.aws_fixtures import verify_ses_identity
    from tests.campaign_tools.campaigns.event_campaigns import email_event_campaign

    file = email_event_campaign(tmp_path)
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="pinrec-segments")
    s3.put_object(Bucket="pinrec-segments", Key="segments/cart.jsonl", Body=(tmp_path / "segment.jsonl").read_bytes())
    file.write_text(
        file.read_text().replace('segment = "segment.jsonl"', 'segment = "s3://pinrec-segments/segments/cart.jsonl"')
    )
    create_ledger_table(boto3.client("dynamodb"), "pinrec-send-ledger")
    verify_ses_identity(boto3.client("sesv2"), "shop@example.com")
    stack = deploy(TRIGGER)
    for name, value in _environment(stack, "TriggerFunction", file).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("campaign_tools.campaigns.trigger_lambda.STAGE_DIR", tmp_path / "units")
    detail = {"endpoint_id": "ep-0", "event_type": "cart.abandoned", "timestamp": "2030-01-01T00:00:00Z"}
    recorder.clear()
    result = handlers.campaign_trigger.handler({"detail-type": "cart", "source": "pinrec.campaigns", "detail": detail})
    made = list(recorder)
    assert (result["status"], result["sent"]) == ("sent", 1)
    assert ("ses", "SendEmail") in {(service, operation) for service, operation, _ in made}
    _check(made, role_statements(stack, "TriggerFunctionRole"), unused={"logs"})
    assert json.dumps(result)  # the handler's answer is JSON
