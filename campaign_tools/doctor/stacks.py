"""The deployed stacks (cloudformation DescribeStacks): each named stack exists, is in a complete state, and has the
outputs pinrec reads. The stacks read here are what later checks derive their names from."""

from __future__ import annotations

from campaign_tools.doctor.base import Check, Finding, Findings
from campaign_tools.doctor.context import DoctorContext, Stack

found = Findings("stacks")

EXPECTED_OUTPUTS = {
    "transformer": ("FunctionArn", "CatalogTableName"),
    "send": ("StateMachineArn", "LedgerTableName"),
    "events": ("ConfigurationSetName", "QueueUrl", "DeadLetterQueueUrl", "SuppressionTableName", "UnsubscribeUrl"),
}
TEMPLATES = {"pinrec": "infra/template.yaml", "pinrec-send": "infra/send-statemachine.yaml",
             "pinrec-events": "infra/events.yaml"}  # fmt: skip
GOOD = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE")
"""Complete states; UPDATE_ROLLBACK_COMPLETE works but means the last update failed (a warning)."""


def deploy_hint(name: str) -> str:
    template = TEMPLATES.get(name, "its template in infra/")
    return f"deploy it: see README 'Deploy to AWS' ({template}), or pass the name you used with --stack"


def read_stack(context: DoctorContext, name: str) -> Stack | Finding:
    from botocore.exceptions import ClientError

    try:
        stacks = context.clients("cloudformation").describe_stacks(StackName=name)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            return found.failure(f"stack {name}", "no such stack in this account and region", deploy_hint(name))
        return found.aws_error(f"stack {name}", "cloudformation:DescribeStacks", error, "cloudformation:DescribeStacks")
    stack = stacks[0]
    return Stack(
        name=name,
        status=str(stack.get("StackStatus", "")),
        outputs={o["OutputKey"]: str(o.get("OutputValue", "")) for o in stack.get("Outputs", [])},
        parameters={p["ParameterKey"]: str(p.get("ParameterValue", "")) for p in stack.get("Parameters", [])},
    )


def judge(stack: Stack) -> Finding:
    title = f"stack {stack.name}"
    if stack.status not in GOOD and stack.status != "UPDATE_ROLLBACK_COMPLETE":
        return found.failure(title, f"status {stack.status}",
                             "look at the stack's events in the CloudFormation console, fix the cause and deploy again")  # fmt: skip
    missing = [key for key in EXPECTED_OUTPUTS.get(stack.kind, ()) if not stack.outputs.get(key)]
    if stack.kind == "other":
        return found.warning(title, f"status {stack.status}, but none of pinrec's outputs",
                             "name pinrec's stacks with --stack (those deployed from infra/*.yaml)")  # fmt: skip
    if missing:
        return found.failure(title, f"{stack.kind} stack without the output(s) {', '.join(missing)}",
                             f"deploy the current {TEMPLATES.get(stack.name, 'template')} to this stack")  # fmt: skip
    if stack.status == "UPDATE_ROLLBACK_COMPLETE":
        return found.warning(title, "the last update was rolled back: the stack runs its previous version",
                             "look at the stack's events, fix the cause and deploy again")  # fmt: skip
    outputs = ", ".join(f"{key}={stack.outputs[key]}" for key in EXPECTED_OUTPUTS[stack.kind])
    return found.ok(title, f"{stack.kind} stack, {stack.status}: {outputs}")


def run(context: DoctorContext) -> list[Finding]:
    findings = []
    for name in context.settings.stacks:
        read = read_stack(context, name)
        if isinstance(read, Finding):
            context.stacks[name] = None
            findings.append(read)
        else:
            context.stacks[name] = read
            findings.append(judge(read))
    return findings


CHECK = Check("stacks", "the deployed stacks and their outputs (cloudformation:DescribeStacks)", run)
