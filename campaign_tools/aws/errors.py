"""AWS failures as one-line messages that name the call that failed and what to do about it."""

from __future__ import annotations

from typing import ClassVar

from campaign_tools.settings import InvalidSettings
from transformer.errors import PinrecError

_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthorizationError",
    "Forbidden",
    "ForbiddenException",
}
_BAD_CREDENTIALS = {"InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch"}
_EXPIRED = {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"}
_THROTTLED = {"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded"}
_NOT_FOUND = {"ResourceNotFoundException", "NoSuchEntity", "NotFoundException"}
_REJECTED = {
    "BadRequestException",
    "ValidationException",
    "ValidationError",
    "InvalidParameterValueException",
    "MalformedPolicyDocument",
    "InvalidInput",
}
# Calls whose caller also needs iam:PassRole on the role named in the request.
_PASSES_ROLE = {"mobiletargeting:CreateRecommenderConfiguration", "mobiletargeting:UpdateRecommenderConfiguration"}


class AwsError(PinrecError):
    """An AWS call failed; the message names the call (as its IAM action) and the likely fix."""


class ValidationFailed(InvalidSettings):
    """Input broke one or more rules; nothing was sent to AWS. The message lists every violation."""

    heading: ClassVar[str] = "invalid input, nothing was sent to AWS"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _fix(action: str, code: str, region: str | None) -> str:
    """What went wrong and what to do, without the AWS message."""
    if code in _DENIED:
        also = " and iam:PassRole on the role it names" if action in _PASSES_ROLE else ""
        return f"{action} was denied: grant the caller {action}{also}"
    where = f" in {region}" if region else ""
    by_kind = (
        (_BAD_CREDENTIALS, "failed: the AWS credentials are not valid; check --profile or AWS_ACCESS_KEY_ID"),
        (_EXPIRED, "failed: the AWS credentials have expired; refresh them (e.g. aws sso login)"),
        (_THROTTLED, "was throttled by AWS; wait a minute and re-run (every step is idempotent)"),
        (_NOT_FOUND, f"found nothing{where}; check the name or ARN and --region"),
        ({"ResourceConflictException"}, "conflicted with another change in progress; re-run in a moment"),
        (_REJECTED, "rejected the request"),
    )
    for codes, explanation in by_kind:
        if code in codes:
            return f"{action} {explanation}"
    return f"{action} failed with {code or 'an unknown error'}"


def describe_client_error(action: str, code: str, message: str, region: str | None) -> str:
    """The message for an AWS error response `code` to the call `action` (e.g. `iam:CreateRole`)."""
    said = f" (AWS: {_one_line(message)})" if message else ""
    return f"{_fix(action, code, region)}{said}"


def translate(error: Exception, action: str, region: str | None) -> AwsError:
    """Turn a botocore exception raised by `action` into an AwsError with a one-line message."""
    from botocore import exceptions

    if isinstance(error, exceptions.ClientError):
        details = error.response.get("Error", {})
        return AwsError(describe_client_error(action, details.get("Code", ""), details.get("Message", ""), region))
    if isinstance(error, exceptions.NoCredentialsError):
        return AwsError(
            f"{action} needs AWS credentials: none found; run 'aws configure', set AWS_PROFILE or pass --profile"
        )
    if isinstance(error, exceptions.NoRegionError):
        return AwsError(f"{action} needs a region: pass --region or set AWS_REGION")
    if isinstance(error, exceptions.EndpointConnectionError):
        return AwsError(
            f"{action} could not reach AWS at {error.kwargs.get('endpoint_url')}; check --region and network"
        )
    if isinstance(error, exceptions.BotoCoreError):
        return AwsError(f"{action} failed: {_one_line(str(error))}")
    raise error
