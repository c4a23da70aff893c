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


def test_aws_modules_import_boto3_only_when_a_client_is_made():
    import subprocess
    import sys

    modules = [
        "campaign_tools.aws.session",
        "campaign_tools.aws.iam_role",
        "campaign_tools.aws.lambda_permission",
        "campaign_tools.aws.recommender",
        "campaign_tools.aws.setup",
        "campaign_tools.commands.setup",
        "campaign_tools.commands.permissions",
        "campaign_tools.commands.recommender",
        "campaign_tools.commands.role",
        "campaign_tools.commands.package",
        "campaign_tools.commands.templates",
        "campaign_tools.templates.workflows",
        "campaign_tools.templates.publish",
    ]
    script = (
        "import sys\n"
        f"for module in {modules!r}: __import__(module)\n"
        "print(sorted(n for n in sys.modules if n.split('.')[0] in ('boto3', 'botocore')))"
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60)
    assert completed.stdout.strip() == "[]"
