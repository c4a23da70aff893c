"""infra/campaigns.yaml: cfn-lint clean (informational checks too), and each resource field by field as deployed with
given parameters: the schedule group, the role Scheduler assumes (trusted only by this account's schedules of the
group; StartExecution on exactly the given state machine; the dead-letter queue), and the trigger rule with its
permission and dead-letter queue only when a trigger function is given."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint_file
from cfnlint.decode.cfn_yaml import load as load_template

from campaign_tools.campaigns.aws import DEFAULT_GROUP
from tests.infra.cfn_policy import Stack, allows, grants, role_statements

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "infra" / "campaigns.yaml"
LINT = ManualArgs(include_checks=["I"], regions=["us-east-1", "eu-west-1", "ap-south-1"])
REGION = "eu-west-1"
ACCOUNT = "123456789012"
STACK_NAME = "pinrec-campaigns"
MACHINE = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:pinrec-send"
FUNCTION = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:pinrec-campaign-trigger"
BASE = {"StateMachineArn": MACHINE}
TRIGGER = {**BASE, "TriggerFunctionArn": FUNCTION}
RULE_ARN = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{STACK_NAME}-TriggerRule"


def _queue(suffix: str) -> Any:
    def value(stack: Stack, attribute: str) -> str:
        name = f"{stack.name}-{suffix}"
        url = f"https://sqs.{stack.region}.amazonaws.com/{stack.account}/{name}"
        return {"": url, "Arn": f"arn:aws:sqs:{stack.region}:{stack.account}:{name}"}[attribute]

    return value


def deploy(parameters: dict[str, Any] | None = None) -> Stack:
    physical = {
        "ScheduleGroup": lambda stack, _: stack.parameter("ScheduleGroupName"),
        "ScheduleDeadLetterQueue": _queue("schedules-dlq"),
        "TriggerDeadLetterQueue": _queue("trigger-dlq"),
        "TriggerRule": lambda *_: RULE_ARN,
        "SchedulerRole": lambda stack, _: f"arn:aws:iam::{stack.account}:role/{stack.name}-SchedulerRole",
    }
    return Stack(load_template(str(TEMPLATE)), parameters or BASE, REGION, ACCOUNT, STACK_NAME, physical)


def resources(stack: Stack) -> dict[str, dict[str, Any]]:
    deployed = {}
    for name, resource in stack.template["Resources"].items():
        if "Condition" in resource and not stack.condition(resource["Condition"]):
            continue
        deployed[name] = {"Type": resource["Type"], **stack.resolve(resource.get("Properties", {}))}
    return deployed


@pytest.fixture(scope="module")
def deployed() -> dict[str, dict[str, Any]]:
    return resources(deploy(TRIGGER))


def test_cfn_lint_finds_nothing_including_informational_checks():
    findings = lint_file(TEMPLATE, config=LINT)
    assert [f"{f.rule.id} line {f.linenumber}: {f.message}" for f in findings] == []


def test_make_lint_runs_cfn_lint_on_the_template():
    lint_lines = [line for line in (ROOT / "Makefile").read_text().splitlines() if "cfn-lint" in line]
    assert any("infra/campaigns.yaml" in line.split() for line in lint_lines), lint_lines


def test_only_the_state_machine_is_required_and_the_group_is_the_clis_default():
    parameters = load_template(str(TEMPLATE))["Parameters"]
    assert {name for name, spec in parameters.items() if "Default" not in spec} == {"StateMachineArn"}
    assert parameters["ScheduleGroupName"]["Default"] == DEFAULT_GROUP


def test_schedule_group(deployed):
    assert deployed["ScheduleGroup"] == {"Type": "AWS::Scheduler::ScheduleGroup", "Name": "pinrec-campaigns"}
    assert resources(deploy({**BASE, "ScheduleGroupName": "spring"}))["ScheduleGroup"]["Name"] == "spring"


def test_scheduler_role_is_trusted_by_this_accounts_schedules_of_the_group_only(deployed):
    (statement,) = deployed["SchedulerRole"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement == {
        "Effect": "Allow",
        "Principal": {"Service": "scheduler.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": ACCOUNT},
            "ArnLike": {"aws:SourceArn": f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/pinrec-campaigns/*"},
        },
    }


def test_scheduler_role_starts_exactly_the_state_machine_and_writes_its_dead_letters():
    stack = deploy(TRIGGER)
    statements = role_statements(stack, "SchedulerRole")
    dead_letters = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{STACK_NAME}-schedules-dlq"
    assert grants(statements) == {("states:StartExecution", MACHINE), ("sqs:SendMessage", dead_letters)}
    assert allows(statements, "states:StartExecution", MACHINE)
    assert not allows(statements, "states:StartExecution", MACHINE + "-other")
    assert not allows(statements, "states:StopExecution", MACHINE)
    assert not allows(statements, "lambda:InvokeFunction", FUNCTION)


def test_schedule_dead_letter_queue(deployed):
    queue = deployed["ScheduleDeadLetterQueue"]
    assert queue["QueueName"] == f"{STACK_NAME}-schedules-dlq"
    assert queue["SqsManagedSseEnabled"] is True and queue["MessageRetentionPeriod"] == 14 * 86400


def test_without_a_trigger_function_there_is_no_rule():
    names = set(resources(deploy(BASE)))
    assert names == {"ScheduleGroup", "ScheduleDeadLetterQueue", "SchedulerRole"}
    assert "TriggerRuleArn" not in {
        name for name, output in deploy(BASE).template["Outputs"].items() if "Condition" not in output
    }


def test_trigger_rule_takes_the_source_on_the_bus_and_invokes_the_function(deployed):
    rule = deployed["TriggerRule"]
    assert rule["EventBusName"] == "default" and rule["State"] == "ENABLED"
    assert rule["EventPattern"] == {"source": ["pinrec.campaigns"]}
    (target,) = rule["Targets"]
    assert target == {
        "Id": "pinrec-campaign-trigger",
        "Arn": FUNCTION,
        "RetryPolicy": {"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 3600},
        "DeadLetterConfig": {"Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{STACK_NAME}-trigger-dlq"},
    }
    custom = resources(deploy({**TRIGGER, "TriggerEventBusName": "shop", "TriggerEventSource": "shop.cart"}))
    assert custom["TriggerRule"]["EventBusName"] == "shop"
    assert custom["TriggerRule"]["EventPattern"] == {"source": ["shop.cart"]}


def test_only_the_rule_of_this_account_may_invoke_the_function(deployed):
    permission = deployed["TriggerPermission"]
    assert permission == {
        "Type": "AWS::Lambda::Permission",
        "Action": "lambda:InvokeFunction",
        "FunctionName": FUNCTION,
        "Principal": "events.amazonaws.com",
        "SourceAccount": ACCOUNT,
        "SourceArn": RULE_ARN,
    }


def test_trigger_dead_letter_queue_admits_the_rule_only_over_tls(deployed):
    statements = {s["Sid"]: s for s in deployed["TriggerDeadLetterQueuePolicy"]["PolicyDocument"]["Statement"]}
    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{STACK_NAME}-trigger-dlq"
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


def test_outputs_name_what_deploy_takes():
    outputs = deploy(TRIGGER).template["Outputs"]
    assert set(outputs) == {"ScheduleGroupName", "SchedulerRoleArn", "ScheduleDeadLetterQueueArn", "TriggerRuleArn"}
    assert outputs["TriggerRuleArn"]["Condition"] == "HasTrigger"
