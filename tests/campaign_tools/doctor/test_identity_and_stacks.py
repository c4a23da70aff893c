"""Credentials and region (sts on moto), and the deployed stacks with their outputs (CloudFormation on moto)."""

from __future__ import annotations

import json
from typing import Any

from campaign_tools.doctor import identity, stacks
from campaign_tools.doctor.base import Status
from tests.aws_fixtures import ACCOUNT
from tests.campaign_tools.doctor.conftest import only

EVENTS_OUTPUTS = {
    "ConfigurationSetName": "pinrec-events",
    "SmsConfigurationSetName": "pinrec-events",
    "QueueUrl": "https://sqs.eu-west-1.amazonaws.com/123456789012/pinrec-events-events",
    "DeadLetterQueueUrl": "https://sqs.eu-west-1.amazonaws.com/123456789012/pinrec-events-dead-letters",
    "SuppressionTableName": "pinrec-suppression",
    "UnsubscribeUrl": "https://abc.lambda-url.eu-west-1.on.aws/",
}


def deploy_stack(clients: Any, name: str, outputs: dict[str, str]) -> None:
    """A stack with these outputs (one SNS topic: the outputs are what the doctor reads)."""
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    clients("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(template))


def test_credentials_and_region_ok(make_context, run_check):
    context = make_context()
    context.account = None
    finding = only(run_check(identity.CHECK, context), Status.OK)
    assert context.account == ACCOUNT
    assert f"account {ACCOUNT}" in finding.detail and "region eu-west-1" in finding.detail


def test_missing_credentials_fail_with_the_fix(make_context, run_check, monkeypatch):
    from botocore.exceptions import NoCredentialsError

    context = make_context()

    def no_credentials(**_: Any) -> Any:
        raise NoCredentialsError()

    context.clients("sts").meta.events.register("before-call.sts.GetCallerIdentity", no_credentials)
    finding = only(run_check(identity.CHECK, context), Status.FAILURE)
    assert finding.fix == "configure credentials: aws configure, AWS_PROFILE (or --profile), or an instance role"


def test_expired_credentials_name_the_call(make_context, run_check):
    from tests.campaign_tools.doctor.conftest import answer

    context = make_context()
    answer(context.clients("sts"), "GetCallerIdentity", "AccessDenied")
    finding = only(run_check(identity.CHECK, context), Status.FAILURE)
    assert finding.detail == "sts:GetCallerIdentity was denied (AccessDenied)"
    assert finding.fix == "grant the caller valid, unexpired credentials"


def test_stacks_with_their_outputs_are_ok_and_feed_the_context(clients, make_context, run_check):
    deploy_stack(clients, "pinrec-events", EVENTS_OUTPUTS)
    deploy_stack(clients, "pinrec-send", {"StateMachineArn": "arn:aws:states:x", "LedgerTableName": "ledger"})
    context = make_context(stacks=("pinrec-events", "pinrec-send"))
    findings = run_check(stacks.CHECK, context)
    assert [f.status for f in findings] == [Status.OK, Status.OK]
    assert "events stack, CREATE_COMPLETE: ConfigurationSetName=pinrec-events" in findings[0].detail
    assert context.queue_url == EVENTS_OUTPUTS["QueueUrl"]
    assert context.ledger_table == "ledger"
    assert context.suppression_spec == "dynamodb:pinrec-suppression"


def test_a_missing_stack_fails_with_how_to_deploy_it(make_context, run_check):
    context = make_context(stacks=("pinrec-events",))
    finding = only(run_check(stacks.CHECK, context), Status.FAILURE)
    assert finding.detail == "no such stack in this account and region"
    assert finding.fix == (
        "deploy it: see README 'Deploy to AWS' (infra/events.yaml), or pass the name you used with --stack"
    )
    assert context.stacks == {"pinrec-events": None}


def test_a_stack_missing_an_output_fails(clients, make_context, run_check):
    deploy_stack(clients, "pinrec-events", {k: v for k, v in EVENTS_OUTPUTS.items() if k != "SuppressionTableName"})
    finding = only(run_check(stacks.CHECK, make_context(stacks=("pinrec-events",))), Status.FAILURE)
    assert finding.detail == "events stack without the output(s) SuppressionTableName"
    assert finding.fix == "deploy the current infra/events.yaml to this stack"


def test_a_stack_of_something_else_is_a_warning(clients, make_context, run_check):
    deploy_stack(clients, "pinrec", {"Other": "x"})
    finding = only(run_check(stacks.CHECK, make_context(stacks=("pinrec",))), Status.WARNING)
    assert finding.fix == "name pinrec's stacks with --stack (those deployed from infra/*.yaml)"
