"""AWS error responses become one line naming the call and the fix."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoRegionError

from campaign_tools.aws.errors import describe_client_error, translate
from campaign_tools.aws.validation import check_function, check_role_arn


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("AccessDenied", "iam:PutRolePolicy was denied: grant the caller iam:PutRolePolicy (AWS: nope)"),
        ("AccessDeniedException", "iam:PutRolePolicy was denied: grant the caller iam:PutRolePolicy (AWS: nope)"),
        ("InvalidClientTokenId", "iam:PutRolePolicy failed: the AWS credentials are not valid; check --profile"),
        ("ExpiredToken", "iam:PutRolePolicy failed: the AWS credentials have expired; refresh them"),
        ("Throttling", "iam:PutRolePolicy was throttled by AWS; wait a minute and re-run"),
        ("NoSuchEntity", "iam:PutRolePolicy found nothing in eu-west-1; check the name or ARN and --region"),
        ("MalformedPolicyDocument", "iam:PutRolePolicy rejected the request (AWS: nope)"),
        ("SomethingNew", "iam:PutRolePolicy failed with SomethingNew (AWS: nope)"),
    ],
)
def test_client_error_messages(code, expected):
    message = describe_client_error("iam:PutRolePolicy", code, "nope", "eu-west-1")
    assert message.startswith(expected)
    assert "\n" not in message


def test_multi_line_aws_messages_become_one_line():
    error = ClientError({"Error": {"Code": "ValidationError", "Message": "line one\n  line two"}}, "CreateRole")
    assert (
        str(translate(error, "iam:CreateRole", None)) == "iam:CreateRole rejected the request (AWS: line one line two)"
    )


def test_connection_and_region_errors():
    unreachable = EndpointConnectionError(endpoint_url="https://iam.example")
    assert str(translate(unreachable, "iam:GetRole", None)) == (
        "iam:GetRole could not reach AWS at https://iam.example; check --region and network"
    )
    assert "pass --region" in str(translate(NoRegionError(), "iam:GetRole", None))


def test_shapes_with_paths_and_qualifiers_are_accepted():
    assert check_role_arn("arn:aws:iam::123456789012:role/service-role/pinrec") == []
    assert check_function("arn:aws:lambda:eu-west-1:123456789012:function:pinrec:live", "eu-west-1") == []
    assert check_function("arn:aws-cn:lambda:cn-north-1:123456789012:function:pinrec", "cn-north-1") == []
    assert check_function("x" * 65) != []
