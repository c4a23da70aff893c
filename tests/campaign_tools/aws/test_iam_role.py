"""The Pinpoint -> Personalize role against moto's IAM: documents field by field, convergence, idempotency."""

from __future__ import annotations

import json

import pytest

from campaign_tools.aws.errors import AwsError, ValidationFailed
from campaign_tools.aws.iam_role import MANAGED_TAG, POLICY_NAME, RoleSpec, ensure_role
from tests.aws_fixtures import ACCOUNT, CAMPAIGN_ARN, FILTER_ARN, REGION, SOLUTION_ARN, stub

SPEC = RoleSpec(name="pinrec-personalize", campaign_arn=CAMPAIGN_ARN, solution_arn=SOLUTION_ARN)


def _role(session, name="pinrec-personalize"):
    return session.client("iam").get_role(RoleName=name)["Role"]


def _policy(session, name="pinrec-personalize", policy=POLICY_NAME):
    return session.client("iam").get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]


def test_creates_role_with_documented_trust_conditions(make_session):
    session = make_session()
    outcome = ensure_role(session, SPEC)

    assert outcome.status == "created"
    assert outcome.details["role_arn"] == f"arn:aws:iam::{ACCOUNT}:role/pinrec-personalize"
    role = _role(session)
    assert MANAGED_TAG in role["Tags"]
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "pinpoint.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Condition"] == {
        "StringEquals": {"AWS:SourceAccount": ACCOUNT},
        "ArnLike": {"AWS:SourceArn": f"arn:aws:mobiletargeting:{REGION}:{ACCOUNT}:apps/*"},
    }


def test_policy_allows_exactly_the_three_reads_on_exactly_the_given_resources(make_session):
    session = make_session()
    ensure_role(session, RoleSpec("pinrec-personalize", CAMPAIGN_ARN, SOLUTION_ARN, (FILTER_ARN,)))

    assert session.client("iam").list_role_policies(RoleName="pinrec-personalize")["PolicyNames"] == [POLICY_NAME]
    document = _policy(session)
    by_action = {statement["Action"]: statement for statement in document["Statement"]}
    assert set(by_action) == {
        "personalize:DescribeCampaign",
        "personalize:DescribeSolution",
        "personalize:GetRecommendations",
    }
    assert all(statement["Effect"] == "Allow" for statement in document["Statement"])
    assert by_action["personalize:DescribeCampaign"]["Resource"] == CAMPAIGN_ARN
    assert by_action["personalize:DescribeSolution"]["Resource"] == SOLUTION_ARN
    assert by_action["personalize:GetRecommendations"]["Resource"] == [CAMPAIGN_ARN, FILTER_ARN]
    assert "*" not in json.dumps(document)


def test_second_run_changes_nothing(make_session):
    ensure_role(make_session(), SPEC)
    session = make_session()

    outcome = ensure_role(session, SPEC)

    assert outcome.status == "unchanged"
    assert outcome.changes == ()
    assert session.requested_writes == []


def test_rerun_converges_drifted_trust_policy_and_policy_and_removes_stale_pinrec_policies(make_session):
    session = make_session()
    ensure_role(session, SPEC)
    iam = session.client("iam")
    open_trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "pinpoint.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    iam.update_assume_role_policy(RoleName="pinrec-personalize", PolicyDocument=json.dumps(open_trust))
    wide = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "personalize:*", "Resource": "*"}]}
    iam.put_role_policy(RoleName="pinrec-personalize", PolicyName=POLICY_NAME, PolicyDocument=json.dumps(wide))
    iam.put_role_policy(RoleName="pinrec-personalize", PolicyName="pinrec-old-access", PolicyDocument=json.dumps(wide))
    iam.put_role_policy(RoleName="pinrec-personalize", PolicyName="team-audit", PolicyDocument=json.dumps(wide))

    outcome = ensure_role(make_session(), SPEC)

    assert outcome.status == "updated"
    assert any("trust policy" in change for change in outcome.changes)
    assert "deleted stale inline policy pinrec-old-access" in outcome.changes
    role = _role(session)
    assert "Condition" in role["AssumeRolePolicyDocument"]["Statement"][0]
    assert "*" not in json.dumps(_policy(session))
    names = iam.list_role_policies(RoleName="pinrec-personalize")["PolicyNames"]
    assert sorted(names) == [POLICY_NAME, "team-audit"], "only pinrec-* policies are pinrec's to delete"
    assert ensure_role(make_session(), SPEC).status == "unchanged"


def test_changing_the_campaign_rewrites_the_policy(make_session):
    ensure_role(make_session(), SPEC)
    other = f"arn:aws:personalize:{REGION}:{ACCOUNT}:campaign/other"
    session = make_session()

    outcome = ensure_role(session, RoleSpec("pinrec-personalize", other, SOLUTION_ARN))

    assert outcome.status == "updated"
    assert [r.operation for r in session.requested_writes] == ["PutRolePolicy"]
    resources = json.dumps(_policy(session))
    assert other in resources
    assert CAMPAIGN_ARN not in resources


def test_dry_run_reads_but_writes_nothing(make_session):
    session = make_session(dry_run=True)

    outcome = ensure_role(session, SPEC)

    assert outcome.status == "created"
    assert [r.action for r in session.requested_writes] == ["iam:CreateRole", "iam:PutRolePolicy"]
    create = session.requested_writes[0].params
    assert json.loads(create["AssumeRolePolicyDocument"])["Statement"][0]["Principal"] == {
        "Service": "pinpoint.amazonaws.com"
    }
    roles = make_session().client("iam").list_roles()["Roles"]
    assert [r["RoleName"] for r in roles] == []


def test_refuses_a_role_pinrec_did_not_create_unless_adopted(make_session):
    session = make_session()
    trust = {"Version": "2012-10-17", "Statement": []}
    session.client("iam").create_role(RoleName="pinrec-personalize", AssumeRolePolicyDocument=json.dumps(trust))

    with pytest.raises(AwsError, match=r"not created by pinrec.*--adopt"):
        ensure_role(session, SPEC)

    outcome = ensure_role(make_session(), SPEC, adopt=True)
    assert outcome.status == "updated"
    assert "adopted: tagged managed-by=pinrec" in outcome.changes
    assert ensure_role(make_session(), SPEC).status == "unchanged"


def test_solution_is_looked_up_from_the_campaign_when_not_given(make_session):
    session = make_session()
    personalize = stub(session, "personalize")
    personalize.add_response(
        "describe_campaign",
        {"campaign": {"campaignArn": CAMPAIGN_ARN, "solutionVersionArn": f"{SOLUTION_ARN}/3f2a9c1e"}},
        {"campaignArn": CAMPAIGN_ARN},
    )

    outcome = ensure_role(session, RoleSpec("pinrec-personalize", CAMPAIGN_ARN))

    personalize.assert_no_pending_responses()
    assert outcome.details["solution_arn"] == SOLUTION_ARN
    solution_statement = next(s for s in _policy(session)["Statement"] if s["Action"] == "personalize:DescribeSolution")
    assert solution_statement["Resource"] == SOLUTION_ARN


def test_invalid_spec_is_refused_before_any_call():
    with pytest.raises(ValidationFailed) as raised:
        RoleSpec("bad name!", "arn:aws:personalize:eu-west-1:123456789012:solution/x", None, ("nope",))

    assert len(raised.value.violations) == 3
