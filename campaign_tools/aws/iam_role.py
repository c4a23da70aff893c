"""The IAM role Pinpoint assumes to read recommendations from Amazon Personalize, converged to a declared state.

Trust: only pinpoint.amazonaws.com, only on behalf of this account's Pinpoint projects in this region
(AWS:SourceAccount and AWS:SourceArn apps/*, against the confused deputy). Permissions: one inline policy allowing
the three Personalize reads on exactly the given campaign, solution and filters. Re-running converges: the trust
policy is rewritten if it drifted, the policy is put if it differs, and stale inline policies pinrec manages
(named `pinrec-*`) are deleted. A role pinrec did not create is left alone unless adopted explicitly.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from pydantic.dataclasses import dataclass

from campaign_tools.aws.errors import AwsError, ValidationFailed
from campaign_tools.aws.outcome import UNCHANGED, Outcome
from campaign_tools.aws.session import AwsSession, Request, compact_json, error_code
from campaign_tools.aws.validation import PERSONALIZE_SOLUTION_ARN, CampaignArn, FilterArn, RoleName, SolutionArn
from campaign_tools.settings import SETTINGS_CONFIG, InvalidSettings, Settings

POLICY_NAME = "pinrec-personalize-access"
MANAGED_POLICY_PREFIX = "pinrec-"
MANAGED_TAG = {"Key": "managed-by", "Value": "pinrec"}
DEFAULT_DESCRIPTION = "Lets Amazon Pinpoint read recommendations from Amazon Personalize (managed by pinrec)"


@dataclass(frozen=True, config=SETTINGS_CONFIG)
class RoleSpec(Settings):
    """The role `pinrec role create` declares (its settings); every rule is checked when it is made."""

    invalid: ClassVar[type[InvalidSettings]] = ValidationFailed
    flags: ClassVar[Mapping[str, str]] = {"filter_arns": "--filter-arn"}

    name: RoleName
    campaign_arn: CampaignArn
    solution_arn: SolutionArn | None = None
    filter_arns: tuple[FilterArn, ...] = ()
    description: str = DEFAULT_DESCRIPTION


def role_arn(account: str, name: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account}:role/{name}"


def trust_policy(account: str, region: str, partition: str = "aws") -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PinpointProjectsOfThisAccount",
                "Effect": "Allow",
                "Principal": {"Service": "pinpoint.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"AWS:SourceAccount": account},
                    "ArnLike": {"AWS:SourceArn": f"arn:{partition}:mobiletargeting:{region}:{account}:apps/*"},
                },
            }
        ],
    }


def personalize_policy(campaign_arn: str, solution_arn: str, filter_arns: tuple[str, ...] = ()) -> dict[str, Any]:
    """Read access scoped per action to exactly the resources that action is checked against."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "DescribeCampaign",
            "Effect": "Allow",
            "Action": "personalize:DescribeCampaign",
            "Resource": campaign_arn,
        },
        {
            "Sid": "DescribeSolution",
            "Effect": "Allow",
            "Action": "personalize:DescribeSolution",
            "Resource": solution_arn,
        },
        {
            "Sid": "GetRecommendations",
            "Effect": "Allow",
            "Action": "personalize:GetRecommendations",
            "Resource": [campaign_arn, *sorted(set(filter_arns))],
        },
    ]
    return {"Version": "2012-10-17", "Statement": statements}


def solution_of_campaign(session: AwsSession, campaign_arn: str) -> str:
    """The solution a campaign was deployed from, via personalize:DescribeCampaign (solution version ARN minus
    its version segment)."""
    response = session.read(Request("personalize", "DescribeCampaign", {"campaignArn": campaign_arn}))
    version_arn: str = response["campaign"]["solutionVersionArn"]
    solution_arn = version_arn.rsplit("/", 1)[0]
    if not PERSONALIZE_SOLUTION_ARN.fullmatch(solution_arn):
        raise AwsError(
            f"campaign {campaign_arn} names an unexpected solution version {version_arn}; pass --solution-arn"
        )
    return solution_arn


def canonical(document: Any) -> Any:
    """A policy document in a form where equal policies compare equal: a lone Action/Resource string becomes a
    one-element list, lists of strings are sorted, keys are compared without order."""
    if isinstance(document, dict):
        result = {}
        for key, value in document.items():
            as_list = key in {"Action", "NotAction", "Resource", "NotResource"} and isinstance(value, str)
            result[key] = canonical([value] if as_list else value)
        return result
    if isinstance(document, list):
        items = [canonical(item) for item in document]
        return sorted(items) if all(isinstance(item, str) for item in items) else items
    return document


def _decoded(document: Any) -> Any:
    """IAM returns policy documents decoded by boto3; a stub or older SDK may hand back the JSON string."""
    if isinstance(document, str):
        from urllib.parse import unquote

        return json.loads(unquote(document))
    return document


def _inline_policy_names(session: AwsSession, name: str) -> Iterator[str]:
    params: dict[str, Any] = {"RoleName": name}
    while True:
        page = session.read(Request("iam", "ListRolePolicies", params))
        yield from page.get("PolicyNames", [])
        if not page.get("IsTruncated"):
            return
        params = {"RoleName": name, "Marker": page["Marker"]}


def _is_missing(error: Exception) -> bool:
    return error_code(error) == "NoSuchEntity"


def ensure_role(session: AwsSession, spec: RoleSpec, *, adopt: bool = False) -> Outcome:
    """Create the role, or converge an existing one; returns what changed and the role ARN."""
    account, region = session.account_id, session.region
    partition = session.partition
    solution_arn = spec.solution_arn or solution_of_campaign(session, spec.campaign_arn)
    trust = trust_policy(account, region, partition)
    policy = personalize_policy(spec.campaign_arn, solution_arn, spec.filter_arns)
    current = session.read(Request("iam", "GetRole", {"RoleName": spec.name}), absent=_is_missing)
    if current is None:
        created = session.write(
            Request(
                "iam",
                "CreateRole",
                {
                    "RoleName": spec.name,
                    "AssumeRolePolicyDocument": compact_json(trust),
                    "Description": spec.description,
                    "Tags": [MANAGED_TAG],
                },
            )
        )
        _put_policy(session, spec.name, policy)
        arn = created["Role"]["Arn"] if created else role_arn(account, spec.name, partition)
        created_with = (
            f"trust: pinpoint.amazonaws.com for account {account}'s projects in {region}",
            f"inline policy {POLICY_NAME}: Personalize reads on exactly the campaign, solution and filters",
        )
        return Outcome("role", "created", spec.name, created_with, _details(arn, solution_arn))

    role = current["Role"]
    changes: list[str] = []
    if MANAGED_TAG not in role.get("Tags", []):
        if not adopt:
            raise AwsError(
                f"role {spec.name} exists but was not created by pinrec (no tag managed-by=pinrec); "
                "choose another --role-name, or pass --adopt to converge it to pinrec's trust and policy"
            )
        session.write(Request("iam", "TagRole", {"RoleName": spec.name, "Tags": [MANAGED_TAG]}))
        changes.append("adopted: tagged managed-by=pinrec")
    if canonical(_decoded(role.get("AssumeRolePolicyDocument"))) != canonical(trust):
        session.write(
            Request("iam", "UpdateAssumeRolePolicy", {"RoleName": spec.name, "PolicyDocument": compact_json(trust)})
        )
        changes.append("trust policy rewritten (it differed)")
    if role.get("Description", "") != spec.description:
        session.write(Request("iam", "UpdateRole", {"RoleName": spec.name, "Description": spec.description}))
        changes.append("description updated")
    inline = list(_inline_policy_names(session, spec.name))
    for stale in sorted(name for name in inline if name.startswith(MANAGED_POLICY_PREFIX) and name != POLICY_NAME):
        session.write(Request("iam", "DeleteRolePolicy", {"RoleName": spec.name, "PolicyName": stale}))
        changes.append(f"deleted stale inline policy {stale}")
    if POLICY_NAME in inline:
        existing = session.read(Request("iam", "GetRolePolicy", {"RoleName": spec.name, "PolicyName": POLICY_NAME}))
        if canonical(_decoded(existing["PolicyDocument"])) != canonical(policy):
            _put_policy(session, spec.name, policy)
            changes.append(f"inline policy {POLICY_NAME} rewritten (it differed)")
    else:
        _put_policy(session, spec.name, policy)
        changes.append(f"put inline policy {POLICY_NAME}")
    status = "updated" if changes else UNCHANGED
    return Outcome("role", status, spec.name, tuple(changes), _details(role["Arn"], solution_arn))


def _put_policy(session: AwsSession, name: str, policy: dict[str, Any]) -> None:
    session.write(
        Request(
            "iam",
            "PutRolePolicy",
            {"RoleName": name, "PolicyName": POLICY_NAME, "PolicyDocument": compact_json(policy)},
        )
    )


def _details(arn: str, solution_arn: str) -> dict[str, Any]:
    return {"role_arn": arn, "solution_arn": solution_arn}
