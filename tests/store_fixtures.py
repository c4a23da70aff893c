"""AWS on loopback for store and loader tests: fake credentials and fresh tables on the session's one moto server
(`moto_endpoint` in tests/aws_fixtures.py)."""

from __future__ import annotations

import secrets
from typing import Any

import boto3
import pytest

REGION = "us-east-1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, moto_endpoint: str) -> str:
    """Fake credentials and region in the environment; returns the loopback endpoint URL."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return moto_endpoint


def client(service: str, endpoint: str) -> Any:
    return boto3.session.Session().client(service, region_name=REGION, endpoint_url=endpoint)


def create_table(endpoint: str, key: str = "id") -> str:
    name = f"catalog-{secrets.token_hex(4)}"
    client("dynamodb", endpoint).create_table(
        TableName=name,
        KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def create_bucket(endpoint: str) -> str:
    name = f"catalogs-{secrets.token_hex(4)}"
    client("s3", endpoint).create_bucket(Bucket=name)
    return name
