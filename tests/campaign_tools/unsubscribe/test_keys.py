"""The signing key: from Secrets Manager and SSM Parameter Store (moto's server), an environment variable or a file;
one secret or a JSON key ring; read once per process; never in an error message."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from campaign_tools.unsubscribe.keys import (
    SigningKeyError,
    check_key_source,
    forget_keys,
    is_deployable,
    load_key_ring,
)
from campaign_tools.unsubscribe.tokens import fingerprint

SECRET = "s3cr3t-" + "x" * 40


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    forget_keys()
    yield
    forget_keys()


def test_a_secrets_manager_secret_is_read_once_per_process(moto_aws: str) -> None:
    secrets = boto3.client("secretsmanager")
    secrets.create_secret(Name="pinrec/unsubscribe", SecretString=SECRET)
    ring = load_key_ring("secretsmanager:pinrec/unsubscribe")
    assert ring.current.secret == SECRET.encode() and ring.current.key_id == fingerprint(SECRET.encode())
    secrets.delete_secret(SecretId="pinrec/unsubscribe", ForceDeleteWithoutRecovery=True)
    assert load_key_ring("secretsmanager:pinrec/unsubscribe") is ring, "cached: no second GetSecretValue"


def test_an_ssm_secure_string_is_read_with_decryption(moto_aws: str) -> None:
    ring_text = json.dumps({"current": "2026-11", "keys": {"2026-05": "a" * 32, "2026-11": "b" * 32}})
    boto3.client("ssm").put_parameter(Name="/pinrec/unsubscribe-key", Value=ring_text, Type="SecureString")
    ring = load_key_ring("ssm:/pinrec/unsubscribe-key")
    assert ring.current.key_id == "2026-11" and sorted(ring.keys) == ["2026-05", "2026-11"]


def test_a_missing_secret_names_the_call_and_the_permission_never_a_value(moto_aws: str) -> None:
    with pytest.raises(SigningKeyError, match=r"GetSecretValue: ResourceNotFoundException; grant secretsmanager"):
        load_key_ring("secretsmanager:nope")
    with pytest.raises(SigningKeyError, match=r"GetParameter: ParameterNotFound"):
        load_key_ring("ssm:/nope")


def test_local_sources_for_tests_and_previews(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINREC_TEST_KEY", SECRET)
    assert load_key_ring("env:PINREC_TEST_KEY").current.secret == SECRET.encode()
    (tmp_path / "key").write_text(SECRET + "\n", encoding="utf-8")
    assert load_key_ring(f"file:{tmp_path / 'key'}").current.secret == SECRET.encode()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("short", "at least 32"),
        ('{"current": "a", "keys": {}}', "key ring"),
        ('{"current": "a", "keys": {"b": "' + "x" * 32 + '"}}', "current id among the keys"),
        ("{not json", "not JSON"),
    ],
)
def test_what_is_not_a_key_is_refused_without_showing_it(
    value: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PINREC_TEST_KEY", value)
    with pytest.raises(SigningKeyError, match=message) as raised:
        load_key_ring("env:PINREC_TEST_KEY")
    assert "x" * 32 not in str(raised.value) and "short" not in str(raised.value)


def test_unset_and_unreadable_local_sources(tmp_path: Path) -> None:
    with pytest.raises(SigningKeyError, match="PINREC_NO_SUCH_KEY is not set"):
        load_key_ring("env:PINREC_NO_SUCH_KEY")
    with pytest.raises(SigningKeyError, match="cannot read"):
        load_key_ring(f"file:{tmp_path / 'missing'}")


def test_key_sources_are_checked_and_only_aws_ones_deploy() -> None:
    for good in ("secretsmanager:arn:aws:secretsmanager:eu-west-1:1:secret:x", "ssm:/a/b", "env:X", "file:k"):
        assert check_key_source(good) == good
    for bad in ("vault:x", "ssm:", "plain"):
        with pytest.raises(Exception, match="--unsubscribe-key must be"):
            check_key_source(bad)
    assert is_deployable("ssm:/a") and is_deployable("secretsmanager:x")
    assert not is_deployable("env:X") and not is_deployable("file:k")
