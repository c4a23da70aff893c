"""The unsubscribe signing key: read once per process from where `--unsubscribe-key KIND:TARGET` points, and
cached. Never logged, never printed: errors name the source, never the value.

| source | reads |
|---|---|
| `secretsmanager:SECRET_ID` | Secrets Manager `GetSecretValue` (SecretString) |
| `ssm:NAME` | SSM Parameter Store `GetParameter` with `WithDecryption` (a SecureString) |
| `env:VARIABLE` | an environment variable (tests, outbox previews) |
| `file:PATH` | a local file (tests, outbox previews) |

The value is either one secret (at least 32 characters; its key id is a fingerprint of it) or, for rotation, a JSON
key ring `{"current": "2026-11", "keys": {"2026-05": "...", "2026-11": "..."}}`: new tokens are signed with the
current key, and a token signed with any listed key is accepted. Rotate by adding a key and making it current;
remove the old one once its links no longer need to work.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from campaign_tools.unsubscribe.tokens import KeyRing, SigningKey, fingerprint
from transformer.aws import AwsOptions, client, error_code
from transformer.errors import PinrecError

KINDS = ("secretsmanager", "ssm", "env", "file")
USAGE = "secretsmanager:SECRET_ID, ssm:PARAMETER_NAME, env:VARIABLE or file:PATH"
ClientFactory = Callable[[str], Any]

_cache: dict[str, KeyRing] = {}
_lock = threading.Lock()


class SigningKeyError(PinrecError):
    """The signing key cannot be read, or what was read is not a key (the message never holds the value)."""


def check_key_source(spec: str) -> str:
    kind, _, target = spec.partition(":")
    if kind not in KINDS or not target:
        raise PinrecError(f"--unsubscribe-key must be {USAGE}, got {spec!r}")
    return spec


def is_deployable(spec: str) -> bool:
    """Whether a Lambda can read the key itself (a local variable or file stays on this machine)."""
    return spec.partition(":")[0] in ("secretsmanager", "ssm")


def parse_key_ring(text: str, source: str) -> KeyRing:
    """One secret, or a JSON key ring (see the module)."""
    value = text.strip()
    if not value.startswith("{"):
        secret = value.encode("utf-8")
        return _ring(lambda: SigningKey(fingerprint(secret), secret), source)
    try:
        data = json.loads(value)
    except ValueError:
        raise SigningKeyError(f"the unsubscribe key in {source} starts with '{{' but is not JSON") from None
    keys = data.get("keys") if isinstance(data, dict) else None
    current = data.get("current") if isinstance(data, dict) else None
    if not isinstance(keys, dict) or not keys or not isinstance(current, str) or current not in keys:
        raise SigningKeyError(
            f'the unsubscribe key ring in {source} must be {{"current": ID, "keys": {{ID: SECRET, ...}}}} with the '
            "current id among the keys"
        )
    if not all(isinstance(secret, str) for secret in keys.values()):
        raise SigningKeyError(f"the unsubscribe key ring in {source}: every key must be a string")

    def ring() -> KeyRing:
        signing = {str(key_id): SigningKey(str(key_id), secret.encode("utf-8")) for key_id, secret in keys.items()}
        return KeyRing(signing[current], signing)

    return _ring(ring, source)


def _ring(make: Callable[[], KeyRing | SigningKey], source: str) -> KeyRing:
    try:
        made = make()
    except PinrecError as error:
        raise SigningKeyError(f"the unsubscribe key in {source}: {error}") from None
    return made if isinstance(made, KeyRing) else KeyRing(made)


def _read(spec: str, clients: ClientFactory) -> str:
    kind, _, target = spec.partition(":")
    if kind == "env":
        value = os.environ.get(target)
        if not value:
            raise SigningKeyError(f"the unsubscribe key {spec}: the environment variable {target} is not set")
        return value
    if kind == "file":
        try:
            return Path(target).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise SigningKeyError(f"cannot read the unsubscribe key {spec}: {type(error).__name__}") from None
    from botocore.exceptions import BotoCoreError, ClientError

    call, action = ("GetSecretValue", "secretsmanager:GetSecretValue")
    if kind == "ssm":
        call, action = ("GetParameter", "ssm:GetParameter (and kms:Decrypt for its key)")
    try:
        if kind == "secretsmanager":
            answer = clients("secretsmanager").get_secret_value(SecretId=target)
            value = answer.get("SecretString")
        else:
            answer = clients("ssm").get_parameter(Name=target, WithDecryption=True)
            value = answer.get("Parameter", {}).get("Value")
    except ClientError as error:
        code = error_code(error)
        raise SigningKeyError(f"cannot read the unsubscribe key {spec} ({call}: {code}; grant {action})") from None
    except BotoCoreError as error:
        raise SigningKeyError(f"cannot read the unsubscribe key {spec} ({call}: {type(error).__name__})") from None
    if not isinstance(value, str) or not value:
        raise SigningKeyError(f"the unsubscribe key {spec} holds no text (store the key as a string)")
    return value


def default_clients(aws: AwsOptions | None = None) -> ClientFactory:
    return lambda service: client(service, aws)


def load_key_ring(spec: str, clients: ClientFactory | None = None, *, aws: AwsOptions | None = None) -> KeyRing:
    """The key ring `spec` points to, read on first use in this process and kept (a warm Lambda reads it once)."""
    check_key_source(spec)
    with _lock:
        ring = _cache.get(spec)
        if ring is None:
            ring = parse_key_ring(_read(spec, clients or default_clients(aws)), spec)
            _cache[spec] = ring
        return ring


def forget_keys() -> None:
    """Drop the cached keys (tests; a rotation picked up without a new process)."""
    with _lock:
        _cache.clear()


def key_source_from(environment: Mapping[str, str], name: str) -> str:
    spec = environment.get(name, "")
    if not spec:
        raise SigningKeyError(f"{name} is not set: it names the unsubscribe key ({USAGE})")
    return check_key_source(spec)
