"""The one way pinrec makes AWS clients, and the one reading of AWS errors every retry loop shares.

boto3 and botocore are imported inside the functions only: importing this module costs nothing at cold start, so
a SQLite transformer never loads the SDK.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

USER_AGENT = "pinrec"

THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
    }
)
"""Error codes with which an AWS service asks the caller to slow down."""

TRANSIENT_CODES = frozenset(
    {
        "InternalFailure",
        "InternalServerError",
        "LimitExceededException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
    }
)
"""Error codes of failures on the service's side that the same request may not meet again."""

RETRYABLE_CODES = THROTTLING_CODES | TRANSIENT_CODES


@dataclass(frozen=True, slots=True)
class AwsOptions:
    """Where and as whom to call AWS: None leaves the choice to the SDK (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL)."""

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None


@dataclass(frozen=True, slots=True)
class ClientTuning:
    """How one kind of caller talks to AWS: attempts made by the SDK itself, timeouts and connection pool."""

    attempts: int = 3
    """Total attempts per request, the first included; 1 when the caller retries on its own terms."""
    connect_timeout: float | None = None
    read_timeout: float | None = None
    max_pool_connections: int | None = None
    tcp_keepalive: bool = False


def new_session(options: AwsOptions | None = None) -> Any:
    """A boto3 session for `options` (a new one: sessions are not safe to share between threads)."""
    import boto3

    options = options or AwsOptions()
    return boto3.session.Session(profile_name=options.profile, region_name=options.region)


def client(
    service: str, options: AwsOptions | None = None, tuning: ClientTuning | None = None, *, session: Any = None
) -> Any:
    """A boto3 client of `service`, with the standard retry mode and pinrec's user agent.

    `session`: a boto3 session to make it from (one made for `options` when None)."""
    from botocore.config import Config

    options = options or AwsOptions()
    tuning = tuning or ClientTuning()
    settings: dict[str, Any] = {
        "retries": {"mode": "standard", "total_max_attempts": tuning.attempts},
        "user_agent_extra": USER_AGENT,
    }
    if tuning.connect_timeout is not None:
        settings["connect_timeout"] = tuning.connect_timeout
    if tuning.read_timeout is not None:
        settings["read_timeout"] = tuning.read_timeout
    if tuning.max_pool_connections is not None:
        settings["max_pool_connections"] = tuning.max_pool_connections
    if tuning.tcp_keepalive:
        settings["tcp_keepalive"] = True
    made_from = session if session is not None else new_session(options)
    return made_from.client(
        service, region_name=options.region, endpoint_url=options.endpoint_url, config=Config(**settings)
    )


def error_code(error: BaseException) -> str:
    """The AWS error code of a ClientError, else the exception's type name (a connection failure, say)."""
    response = getattr(error, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return str(code) if code else type(error).__name__


def http_status(error: BaseException) -> int:
    response = getattr(error, "response", None)
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode") if isinstance(response, dict) else None
    return status if isinstance(status, int) else 0


def is_throttling(error: BaseException) -> bool:
    return error_code(error) in THROTTLING_CODES or http_status(error) == 429


def is_retryable(error: BaseException) -> bool:
    """True for throttling, a service-side failure (a retryable code or an HTTP 5xx) or a connection failure."""
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    if isinstance(error, ClientError):
        return error_code(error) in RETRYABLE_CODES or http_status(error) == 429 or http_status(error) >= 500
    return isinstance(error, ConnectionError | HTTPClientError)
