"""The Lambda resource-policy statement that lets Pinpoint invoke the transformer, kept exactly as documented.

Regional service principal `pinpoint.<region>.amazonaws.com`, `AWS:SourceArn` limited to this account's
recommenders (one id, or `recommenders/*`) and `AWS:SourceAccount` against the confused deputy. The statement id
is derived from the scope, so re-running finds its own statement: identical means nothing to do, different
means remove and add again (Lambda has no update for a statement).
"""

from __future__ import annotations

import json
from dataclasses import field
from typing import Any, ClassVar

from pydantic.dataclasses import dataclass

from campaign_tools.aws.errors import AwsError, ValidationFailed
from campaign_tools.aws.outcome import UNCHANGED, Outcome
from campaign_tools.aws.session import AwsSession, Request, error_code
from campaign_tools.aws.validation import STATEMENT_ID, FunctionRef, RecommenderId, Region, require_in_region
from campaign_tools.settings import SETTINGS_CONFIG, InvalidSettings, Settings

STATEMENT_PREFIX = "pinrec-pinpoint-"
ALL_RECOMMENDERS = "all-recommenders"


def statement_id(recommender_id: str | None) -> str:
    sid = f"{STATEMENT_PREFIX}{f'recommender-{recommender_id}' if recommender_id else ALL_RECOMMENDERS}"
    if not STATEMENT_ID.fullmatch(sid):  # guarded by check_recommender_id; kept as an invariant
        raise ValidationFailed([f"statement id {sid!r} must match [a-zA-Z0-9-_]{{1,100}}"])
    return sid


def recommender_source_arn(region: str, account: str, recommender_id: str | None, partition: str = "aws") -> str:
    return f"arn:{partition}:mobiletargeting:{region}:{account}:recommenders/{recommender_id or '*'}"


@dataclass(frozen=True, config=SETTINGS_CONFIG)
class PermissionSpec(Settings):
    """The statement `pinrec permissions grant|revoke` declares (its settings); checked when it is made."""

    invalid: ClassVar[type[InvalidSettings]] = ValidationFailed

    function: FunctionRef
    recommender_id: RecommenderId | None = None
    region: Region = field(default=None, kw_only=True)


def add_permission_request(spec: PermissionSpec, region: str, account: str, partition: str = "aws") -> Request:
    return Request(
        "lambda",
        "AddPermission",
        {
            "FunctionName": spec.function,
            "StatementId": statement_id(spec.recommender_id),
            "Action": "lambda:InvokeFunction",
            "Principal": f"pinpoint.{region}.amazonaws.com",
            "SourceArn": recommender_source_arn(region, account, spec.recommender_id, partition),
            "SourceAccount": account,
        },
    )


def _no_policy(error: Exception) -> bool:
    """GetPolicy answers ResourceNotFoundException both for "no policy yet" and for a missing function."""
    return error_code(error) == "ResourceNotFoundException" and "function not found" not in str(error).lower()


def read_policy(session: AwsSession, function: str) -> dict[str, Any] | None:
    """The function's resource policy, decoded from the JSON string GetPolicy returns; None if it has none."""
    response = session.read(Request("lambda", "GetPolicy", {"FunctionName": function}), absent=_no_policy)
    if response is None or not response.get("Policy"):
        return None
    policy: dict[str, Any] = json.loads(response["Policy"])
    return policy


def _statements(policy: dict[str, Any] | None) -> list[dict[str, Any]]:
    if policy is None:
        return []
    statements = policy.get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return sorted(value) if isinstance(value, list) else [value]


def statement_terms(statement: dict[str, Any]) -> dict[str, Any]:
    """The parts of a statement that decide who may invoke: effect, action, principal and conditions."""
    principal = statement.get("Principal", {})
    service = principal.get("Service") if isinstance(principal, dict) else principal
    conditions = statement.get("Condition", {})
    return {
        "Effect": statement.get("Effect"),
        "Action": _as_list(statement.get("Action")),
        "Principal": _as_list(service),
        "SourceArn": _as_list(conditions.get("ArnLike", {}).get("AWS:SourceArn")),
        "SourceAccount": _as_list(conditions.get("StringEquals", {}).get("AWS:SourceAccount")),
    }


def _request_terms(request: Request) -> dict[str, Any]:
    params = request.params
    return {
        "Effect": "Allow",
        "Action": [params["Action"]],
        "Principal": [params["Principal"]],
        "SourceArn": [params["SourceArn"]],
        "SourceAccount": [params["SourceAccount"]],
    }


def ensure_permission(session: AwsSession, spec: PermissionSpec) -> Outcome:
    """Add the invoke statement; leave an identical one alone; replace a differing one."""
    require_in_region(spec.function, session.region)
    wanted = add_permission_request(spec, session.region, session.account_id, session.partition)
    sid = wanted.params["StatementId"]
    existing = next((s for s in _statements(read_policy(session, spec.function)) if s.get("Sid") == sid), None)
    details = {"statement_id": sid, "source_arn": wanted.params["SourceArn"], "principal": wanted.params["Principal"]}
    if existing is not None and statement_terms(existing) == _request_terms(wanted):
        return Outcome("permission", UNCHANGED, spec.function, (), details)
    changes = []
    if existing is not None:
        session.write(Request("lambda", "RemovePermission", {"FunctionName": spec.function, "StatementId": sid}))
        changes.append(f"removed statement {sid} (it differed from the declared one)")
    try:
        session.write(wanted)
    except AwsError as error:
        if error_code(error) == "ResourceConflictException":
            raise AwsError(
                f"lambda:AddPermission: statement {sid} was added by someone else meanwhile, or the function is "
                "being updated; re-run to converge"
            ) from None
        raise
    changes.append(f"statement {sid}: {wanted.params['Principal']} may invoke it for {wanted.params['SourceArn']}")
    return Outcome(
        "permission", "replaced" if existing is not None else "added", spec.function, tuple(changes), details
    )


def revoke_permission(session: AwsSession, spec: PermissionSpec) -> Outcome:
    """Remove pinrec's statement for this scope, if present."""
    require_in_region(spec.function, session.region)
    sid = statement_id(spec.recommender_id)
    present = any(s.get("Sid") == sid for s in _statements(read_policy(session, spec.function)))
    if not present:
        return Outcome("permission", UNCHANGED, spec.function, (f"no statement {sid}",), {"statement_id": sid})
    session.write(Request("lambda", "RemovePermission", {"FunctionName": spec.function, "StatementId": sid}))
    return Outcome("permission", "deleted", spec.function, (f"removed statement {sid}",), {"statement_id": sid})


def describe_policy(policy: dict[str, Any] | None) -> str:
    """A resource policy as readable text: one block per statement."""
    statements = _statements(policy)
    if not statements:
        return "no resource policy: nothing may invoke this function through a resource-based permission"
    blocks = []
    for statement in statements:
        terms = statement_terms(statement)
        lines = [f"statement {statement.get('Sid', '(no id)')}"]
        lines.append(f"  effect     {terms['Effect']}")
        lines.append(f"  action     {', '.join(terms['Action']) or '-'}")
        lines.append(f"  principal  {', '.join(str(p) for p in terms['Principal']) or '-'}")
        for operator, values in sorted(statement.get("Condition", {}).items()):
            for key, value in sorted(values.items()):
                lines.append(f"  condition  {operator} {key} = {', '.join(_as_list(value))}")
        if statement.get("Sid", "").startswith(STATEMENT_PREFIX):
            lines.append("  (managed by pinrec)")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
