"""IAM: every (action, resource) of permissions.NEEDS the setup names is simulated for its principal. moto has no
SimulatePrincipalPolicy, so the test answers it from the request (a policy that allows all but the denied pairs);
the roles come from a stack on moto, as DescribeStackResource finds them."""

from __future__ import annotations

import json
from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any

from campaign_tools.doctor import iam
from campaign_tools.doctor.base import Status
from campaign_tools.doctor.context import Stack
from campaign_tools.doctor.permissions import NEEDS
from tests.aws_fixtures import ACCOUNT
from tests.campaign_tools.doctor.conftest import campaign, statuses

LEDGER = f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/pinrec-send-ledger"


def simulated(client: Any, denied: Iterable[tuple[str, str, str]] = ()) -> list[tuple[str, tuple[str, ...], str]]:
    """SimulatePrincipalPolicy answers from its request: `denied` (principal, action, resource) are implicitDeny."""
    refused = set(denied)
    asked: list[tuple[str, tuple[str, ...], str]] = []

    def respond(params: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]]:
        body = params["body"]
        principal, resource = body["PolicySourceArn"], body["ResourceArns.member.1"]
        actions = tuple(v for k, v in sorted(body.items()) if k.startswith("ActionNames.member."))
        asked.append((principal, actions, resource))
        results = [{"EvalActionName": a, "EvalResourceName": resource,
                    "EvalDecision": "implicitDeny" if (principal, a, resource) in refused else "allowed"}
                   for a in actions]  # fmt: skip
        return SimpleNamespace(status_code=200), {"EvaluationResults": results, "IsTruncated": False}

    client.meta.events.register("before-call.iam.SimulatePrincipalPolicy", respond)
    return asked


def events_stack(clients: Any) -> Stack:
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
             "Action": "sts:AssumeRole"}]}  # fmt: skip
    template = {"Resources": {"EventsRole": {"Type": "AWS::IAM::Role", "Properties": {
        "RoleName": "pinrec-events-role", "AssumeRolePolicyDocument": trust}}},
        "Outputs": {"QueueUrl": {"Value": "https://sqs.eu-west-1.amazonaws.com/123456789012/pinrec-events-events"}}}  # fmt: skip
    clients("cloudformation").create_stack(StackName="pinrec-events", TemplateBody=json.dumps(template),
                                           Capabilities=["CAPABILITY_NAMED_IAM"])  # fmt: skip
    outputs = {"QueueUrl": "https://sqs.eu-west-1.amazonaws.com/123456789012/pinrec-events-events",
               "SuppressionTableName": "pinrec-suppression"}  # fmt: skip
    return Stack("pinrec-events", "CREATE_COMPLETE", outputs, {})


def test_every_named_call_of_each_principal_is_simulated_and_allowed(clients, make_context, run_check):
    asked = simulated(clients("iam"))
    context = make_context(campaign=campaign(), found_stacks={"pinrec-events": events_stack(clients)})
    findings = run_check(iam.CHECK, context)
    assert statuses(findings) == ["ok", "skipped", "ok", "skipped"], findings
    caller, events_role = f"arn:aws:iam::{ACCOUNT}:role/deployer", f"arn:aws:iam::{ACCOUNT}:role/pinrec-events-role"
    assert findings[0].title == f"IAM the caller {caller}"
    assert findings[0].detail == "13 call(s) allowed; not simulated (not named here): catalog"
    assert findings[2].title == f"IAM the events function's role {events_role}"
    events_calls = {(action, resource) for principal, actions, resource in asked if principal == events_role
                    for action in actions}  # fmt: skip
    expected = {action for need in NEEDS if need.who == "events" for action in need.actions}
    assert {action for action, _ in events_calls} == expected
    assert ("sqs:ReceiveMessage", f"arn:aws:sqs:eu-west-1:{ACCOUNT}:pinrec-events-events") in events_calls


def test_a_denied_call_fails_naming_the_grant(clients, make_context, run_check):
    events_role = f"arn:aws:iam::{ACCOUNT}:role/pinrec-events-role"
    simulated(clients("iam"), denied=[(events_role, "dynamodb:Query", LEDGER)])
    context = make_context(campaign=campaign(), found_stacks={"pinrec-events": events_stack(clients)})
    finding = next(f for f in run_check(iam.CHECK, context) if "events" in f.title)
    assert finding.status is Status.FAILURE
    assert finding.fix == f"grant the events function's role dynamodb:Query on {LEDGER}"


def test_simulation_denied_to_the_caller_names_the_action(clients, make_context, run_check):
    from tests.campaign_tools.doctor.conftest import answer

    answer(clients("iam"), "SimulatePrincipalPolicy", "AccessDenied")
    finding = run_check(iam.CHECK, make_context(campaign=campaign()))[0]
    assert finding.status is Status.FAILURE
    assert finding.fix == "grant the caller iam:SimulatePrincipalPolicy (and iam:GetContextKeysForPrincipalPolicy)"


def test_an_assumed_role_is_simulated_as_its_role():
    assert iam.principal_of_caller("arn:aws:sts::111122223333:assumed-role/ops/alice") == (
        "arn:aws:iam::111122223333:role/ops"
    )
    assert iam.principal_of_caller("arn:aws:iam::111122223333:user/ci") == "arn:aws:iam::111122223333:user/ci"
    assert iam.principal_of_caller("arn:aws:iam::111122223333:root") is None
