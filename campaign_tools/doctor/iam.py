"""IAM: `iam:SimulatePrincipalPolicy` for the exact actions each principal will call on the exact resources
(`permissions.NEEDS`): the caller, and the roles the stacks deployed (their logical ids in `context.ROLES`, found with
cloudformation DescribeStackResource). A resource the setup does not name is not simulated, and says so."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from campaign_tools.doctor.base import Check, Finding, Findings
from campaign_tools.doctor.context import ROLES, DoctorContext
from campaign_tools.doctor.permissions import NEEDS

found = Findings("iam")
WHO = {"caller": "the caller", "send": "the send child's role", "events": "the events function's role",
       "transformer": "the transformer's role"}  # fmt: skip


def resources(context: DoctorContext, account: str, region: str) -> dict[str, tuple[str, ...]]:
    """Each resource kind's ARNs in this setup (none: not named by the campaign, the configuration or a stack)."""

    def arn(service: str, name: str | None, prefix: str = "") -> tuple[str, ...]:
        return (f"arn:aws:{service}:{region}:{account}:{prefix}{name}",) if name else ()

    spec = context.recommendations or ""
    kind, _, target = spec.partition(":")
    stack = context.stack_of("send")
    recommendations = target.partition("@")[0] if kind.startswith("personalize") else None
    if context.campaign is None and stack is not None:
        recommendations = stack.parameters.get("RecommendationsArn") or None
    suppression = context.suppression_spec or ""
    catalog = context.catalog_table
    queue = context.queue_url
    return {
        "identity": tuple(a for domain in context.sender_domains for a in arn("ses", domain, "identity/")),
        "configuration_set": tuple(
            a for name in context.configuration_sets for a in arn("ses", name, "configuration-set/")
        ),
        "ledger": arn("dynamodb", context.ledger_table, "table/"),
        "suppression": arn("dynamodb", suppression.partition(":")[2], "table/")
        if suppression.startswith("dynamodb:")
        else (),
        "catalog": arn("dynamodb", catalog[0] if catalog else None, "table/"),
        "queue": arn("sqs", queue.rstrip("/").rpartition("/")[2] if queue else None),
        "recommendations": (recommendations,) if recommendations else (),
        "any": ("*",),
    }


def principal_of_caller(arn: str | None) -> str | None:
    """The IAM principal behind the caller's ARN: an assumed role's role (path `/` assumed), a user as it is."""
    if not arn or arn.endswith(":root"):
        return None
    head, _, resource = arn.partition(":assumed-role/")
    if resource:
        account = head.split(":")[4]
        return f"arn:aws:iam::{account}:role/{resource.partition('/')[0]}"
    return arn if ":iam::" in arn else None


def _role_arn(context: DoctorContext, kind: str, account: str) -> str | None:
    stack = context.stack_of(kind)
    if stack is None:
        return None
    answer = context.clients("cloudformation").describe_stack_resource(StackName=stack.name,
                                                                      LogicalResourceId=ROLES[kind])  # fmt: skip
    name = answer["StackResourceDetail"]["PhysicalResourceId"]
    return name if name.startswith("arn:") else f"arn:aws:iam::{account}:role/{name}"


def simulate(iam: Any, principal: str, actions: list[str], resource: str) -> list[tuple[str, str]]:
    """(action, decision) for each action on the resource, every page."""
    request: dict[str, Any] = {"PolicySourceArn": principal, "ActionNames": actions, "ResourceArns": [resource]}
    decisions = []
    while True:
        page = iam.simulate_principal_policy(**request)
        decisions += [(r["EvalActionName"], r["EvalDecision"]) for r in page.get("EvaluationResults", [])]
        if not page.get("IsTruncated"):
            return decisions
        request["Marker"] = page["Marker"]


def _judge(who: str, principal: str, check: Callable[[str, list[str], str], list[tuple[str, str]]],
           arns: dict[str, tuple[str, ...]]) -> Finding:  # fmt: skip
    denied, unnamed, allowed = [], [], 0
    for need in (need for need in NEEDS if need.who == who):
        named = arns.get(need.resource, ())
        if not named:
            unnamed.append(need.resource)
        for resource in named:
            for action, decision in check(principal, list(need.actions), resource):
                if decision == "allowed":
                    allowed += 1
                else:
                    denied.append(f"{action} on {resource} ({decision})")
    title = f"IAM {WHO[who]} {principal}"
    note = f"; not simulated (not named here): {', '.join(sorted(set(unnamed)))}" if unnamed else ""
    if denied:
        return found.failure(title, f"{len(denied)} call(s) denied: " + "; ".join(denied) + note,
                             f"grant {WHO[who]} " + "; ".join(denied).replace(" (implicitDeny)", "")
                             + (" (and remove the explicit deny)" if "explicitDeny" in " ".join(denied) else ""))  # fmt: skip
    if not allowed:
        return found.skipped(title, "nothing to simulate: no resource of its calls is named" + note)
    return found.ok(title, f"{allowed} call(s) allowed{note}")


def run(context: DoctorContext) -> list[Finding]:
    from botocore.exceptions import ClientError

    account = context.account
    if account is None:
        return [found.skipped("IAM", "the caller's account is unknown (see the identity check)")]
    region = context.clients("sts").meta.region_name
    arns = resources(context, account, region)
    iam = context.clients("iam")

    def check(principal: str, actions: list[str], resource: str) -> list[tuple[str, str]]:
        return simulate(iam, principal, actions, resource)

    findings = []
    for who, name in WHO.items():
        try:
            principal = principal_of_caller(context.caller_arn) if who == "caller" else _role_arn(context, who, account)
        except ClientError as error:
            findings.append(found.aws_error(f"IAM {name}", "cloudformation:DescribeStackResource", error,
                                            "cloudformation:DescribeStackResource"))  # fmt: skip
            continue
        if principal is None:
            reason = "the root user is not simulated" if who == "caller" else f"no {who} stack found"
            findings.append(found.skipped(f"IAM {name}", reason))
            continue
        try:
            findings.append(_judge(who, principal, check, arns))
        except ClientError as error:
            findings.append(found.aws_error(f"IAM {name}", "iam:SimulatePrincipalPolicy", error,
                                            "iam:SimulatePrincipalPolicy (and iam:GetContextKeysForPrincipalPolicy)"))  # fmt: skip
    return findings


CHECK = Check("iam", "the exact actions each principal calls, simulated (iam:SimulatePrincipalPolicy)", run)
