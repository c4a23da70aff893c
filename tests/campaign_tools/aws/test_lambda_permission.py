"""The Pinpoint invoke permission against a real function in moto: statement shape, idempotency, replacement."""

from __future__ import annotations

import pytest

from campaign_tools.aws.errors import AwsError, ValidationFailed
from campaign_tools.aws.lambda_permission import (
    PermissionSpec,
    describe_policy,
    ensure_permission,
    read_policy,
    revoke_permission,
    statement_id,
)
from campaign_tools.aws.validation import STATEMENT_ID
from tests.aws_fixtures import ACCOUNT, FUNCTION_ARN, REGION, policy_statements, stub


def test_grant_adds_the_documented_statement(make_session, transformer_function):
    session = make_session()

    outcome = ensure_permission(session, PermissionSpec(transformer_function))

    assert outcome.status == "added"
    (statement,) = policy_statements(session, transformer_function)
    assert statement["Sid"] == "pinrec-pinpoint-all-recommenders"
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "lambda:InvokeFunction"
    assert statement["Principal"] == {"Service": f"pinpoint.{REGION}.amazonaws.com"}
    assert statement["Condition"] == {
        "ArnLike": {"AWS:SourceArn": f"arn:aws:mobiletargeting:{REGION}:{ACCOUNT}:recommenders/*"},
        "StringEquals": {"AWS:SourceAccount": ACCOUNT},
    }


def test_grant_scoped_to_one_recommender_by_function_arn(make_session, transformer_function):
    session = make_session()

    ensure_permission(session, PermissionSpec(FUNCTION_ARN, recommender_id="a1b2c3"))

    (statement,) = policy_statements(session, transformer_function)
    assert statement["Sid"] == "pinrec-pinpoint-recommender-a1b2c3"
    assert statement["Condition"]["ArnLike"] == {
        "AWS:SourceArn": f"arn:aws:mobiletargeting:{REGION}:{ACCOUNT}:recommenders/a1b2c3"
    }


def test_second_grant_is_a_no_op(make_session, transformer_function):
    ensure_permission(make_session(), PermissionSpec(transformer_function))
    session = make_session()

    outcome = ensure_permission(session, PermissionSpec(transformer_function))

    assert outcome.status == "unchanged"
    assert session.requested_writes == []
    assert len(policy_statements(session, transformer_function)) == 1


def test_a_differing_statement_with_our_id_is_replaced(make_session, transformer_function):
    session = make_session()
    session.client("lambda").add_permission(
        FunctionName=transformer_function,
        StatementId="pinrec-pinpoint-all-recommenders",
        Action="lambda:InvokeFunction",
        Principal="pinpoint.amazonaws.com",  # the global principal: the classic mistake
        SourceArn=f"arn:aws:mobiletargeting:{REGION}:{ACCOUNT}:*",
    )

    outcome = ensure_permission(make_session(), PermissionSpec(transformer_function))

    assert outcome.status == "replaced"
    (statement,) = policy_statements(session, transformer_function)
    assert statement["Principal"] == {"Service": f"pinpoint.{REGION}.amazonaws.com"}
    assert statement["Condition"]["StringEquals"] == {"AWS:SourceAccount": ACCOUNT}
    assert ensure_permission(make_session(), PermissionSpec(transformer_function)).status == "unchanged"


def test_other_statements_are_left_alone(make_session, transformer_function):
    session = make_session()
    session.client("lambda").add_permission(
        FunctionName=transformer_function,
        StatementId="someone-else",
        Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com",
    )

    ensure_permission(session, PermissionSpec(transformer_function))
    revoke_permission(make_session(), PermissionSpec(transformer_function))

    assert [s["Sid"] for s in policy_statements(session, transformer_function)] == ["someone-else"]


def test_revoke_without_statement_is_unchanged(make_session, transformer_function):
    outcome = revoke_permission(make_session(), PermissionSpec(transformer_function))
    assert outcome.status == "unchanged"


def test_dry_run_records_add_permission_without_sending(make_session, transformer_function):
    session = make_session(dry_run=True)

    outcome = ensure_permission(session, PermissionSpec(transformer_function))

    assert outcome.status == "added"
    (request,) = session.requested_writes
    assert request.action == "lambda:AddPermission"
    assert request.params == {
        "FunctionName": transformer_function,
        "StatementId": "pinrec-pinpoint-all-recommenders",
        "Action": "lambda:InvokeFunction",
        "Principal": f"pinpoint.{REGION}.amazonaws.com",
        "SourceArn": f"arn:aws:mobiletargeting:{REGION}:{ACCOUNT}:recommenders/*",
        "SourceAccount": ACCOUNT,
    }
    assert read_policy(make_session(), transformer_function) is None


def test_missing_function_is_a_one_line_error(make_session, transformer_function):
    with pytest.raises(AwsError) as raised:
        ensure_permission(make_session(), PermissionSpec("no-such-function"))
    message = str(raised.value)
    assert message.startswith("lambda:GetPolicy found nothing in eu-west-1")
    assert "\n" not in message


def test_function_in_another_region_is_refused(make_session):
    arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:pinrec"
    with pytest.raises(ValidationFailed, match="in us-east-1 but the region is eu-west-1"):
        ensure_permission(make_session(), PermissionSpec(arn))


def test_statement_ids_are_valid_and_deterministic():
    assert STATEMENT_ID.fullmatch(statement_id(None))
    assert STATEMENT_ID.fullmatch(statement_id("x" * 64))
    assert statement_id("abc") == statement_id("abc") != statement_id("abd")


def test_show_prints_the_policy_readably(make_session, transformer_function):
    session = make_session()
    ensure_permission(session, PermissionSpec(transformer_function))

    text = describe_policy(read_policy(session, transformer_function))

    assert text.splitlines() == [
        "statement pinrec-pinpoint-all-recommenders",
        "  effect     Allow",
        "  action     lambda:InvokeFunction",
        f"  principal  pinpoint.{REGION}.amazonaws.com",
        f"  condition  ArnLike AWS:SourceArn = arn:aws:mobiletargeting:{REGION}:{ACCOUNT}:recommenders/*",
        f"  condition  StringEquals AWS:SourceAccount = {ACCOUNT}",
        "  (managed by pinrec)",
    ]
    assert describe_policy(None).startswith("no resource policy")


def test_concurrent_add_is_reported_as_a_conflict_to_rerun(make_session):
    session = make_session()
    lambda_stub = stub(session, "lambda")
    lambda_stub.add_client_error(
        "get_policy", "ResourceNotFoundException", "The resource you requested does not exist."
    )
    lambda_stub.add_client_error(
        "add_permission", "ResourceConflictException", "The statement id provided already exists"
    )

    with pytest.raises(AwsError) as raised:
        ensure_permission(session, PermissionSpec("pinrec-transformer"))

    assert str(raised.value) == (
        "lambda:AddPermission: statement pinrec-pinpoint-all-recommenders was added by someone else meanwhile, "
        "or the function is being updated; re-run to converge"
    )
    lambda_stub.assert_no_pending_responses()
