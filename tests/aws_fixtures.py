"""Fixtures for the AWS setup tests: one moto server on loopback for IAM, STS and Lambda (reset per test), and
sessions pointed at it. Pinpoint and Personalize calls are stubbed with botocore's Stubber (moto lacks them)."""

from __future__ import annotations

import io
import json
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto.server import ThreadedMotoServer

from campaign_tools.aws.session import AwsSession

REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's account for any credentials
CAMPAIGN_ARN = f"arn:aws:personalize:{REGION}:{ACCOUNT}:campaign/outdoor-gear"
SOLUTION_ARN = f"arn:aws:personalize:{REGION}:{ACCOUNT}:solution/outdoor-gear"
FILTER_ARN = f"arn:aws:personalize:{REGION}:{ACCOUNT}:filter/in-stock"
FUNCTION_NAME = "pinrec-transformer"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{FUNCTION_NAME}"


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def reset_moto(endpoint: str) -> None:
    """Drop every resource the shared moto server holds, as a new server would start."""
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:  # loopback only
        assert response.status == 200


@pytest.fixture(scope="module")
def moto_module_endpoint(moto_endpoint: str) -> str:
    """The shared moto server, in a clean state for this test module."""
    reset_moto(moto_endpoint)
    return moto_endpoint


def dynamodb_client(endpoint_url: str | None = None) -> Any:
    """A DynamoDB client in us-east-1 with fake credentials: on moto's server at `endpoint_url` (None: AWS's own
    endpoint, for a Stubber)."""
    return boto3.client(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url=endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def table_for_test(request: pytest.FixtureRequest, prefix: str) -> str:
    """A table name of this test's own: `prefix` and the test's name, its parameters included."""
    return f"{prefix}-{request.node.name.replace('[', '-').replace(']', '')}"[:200]


@pytest.fixture
def moto_aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A clean moto state, with boto3 pointed at it through the environment (us-east-1, fake credentials)."""
    reset_moto(moto_endpoint)
    for name, value in {
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    return moto_endpoint


@pytest.fixture
def aws_endpoint(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path) -> str:
    """A clean moto state and an environment that cannot reach real credentials or config."""
    reset_moto(moto_endpoint)
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    return moto_endpoint


@pytest.fixture
def make_session(aws_endpoint: str) -> Callable[..., AwsSession]:
    def make(*, dry_run: bool = False, region: str = REGION) -> AwsSession:
        return AwsSession(region=region, endpoint_url=aws_endpoint, dry_run=dry_run)

    return make


def stub(session: AwsSession, service: str) -> Stubber:
    """An activated Stubber on the session's client for `service`; the test asserts it is drained."""
    stubber = Stubber(session.client(service))
    stubber.activate()
    return stubber


@pytest.fixture
def transformer_function(make_session: Callable[..., AwsSession]) -> str:
    """A real function in moto (create_function needs no Docker; only invoke would)."""
    session = make_session()
    iam = session.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    role = iam.create_role(RoleName="transformer-execution", AssumeRolePolicyDocument=json.dumps(trust))
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handlers/transformer.py", "def lambda_handler(event, context):\n    return {}\n")
    session.client("lambda").create_function(
        FunctionName=FUNCTION_NAME,
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="handlers.transformer.lambda_handler",
        Code={"ZipFile": code.getvalue()},
        Architectures=["arm64"],
    )
    return FUNCTION_NAME


def policy_statements(session: AwsSession, function: str) -> list[dict[str, Any]]:
    return json.loads(session.client("lambda").get_policy(FunctionName=function)["Policy"])["Statement"]


def verify_ses_identity(ses: Any, identity: str) -> None:
    """`identity` in moto's SES (sesv2 client `ses`), verified for sending as SES marks it once its check passes:
    moto creates identities unverified for sending and has no call that verifies them."""
    from moto.ses.models import ses_backends

    ses.create_email_identity(EmailIdentity=identity)
    ses_backends[ACCOUNT][ses.meta.region_name].email_identities[identity].verified_for_sending_status = True


def answer_get_account(ses: Any, answer: dict[str, Any] | str) -> None:
    """SES GetAccount on the sesv2 client `ses` answers `answer` (a response, or an error code), since moto has no
    GetAccount; every other call of the client still reaches moto."""
    from types import SimpleNamespace

    def respond(**_: Any) -> tuple[Any, dict[str, Any]]:
        if isinstance(answer, str):
            return SimpleNamespace(status_code=403), {"Error": {"Code": answer, "Message": "denied"}}
        return SimpleNamespace(status_code=200), answer

    ses.meta.events.register("before-call.sesv2.GetAccount", respond)
