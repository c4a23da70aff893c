"""One AWS session per command: region and credentials resolved once, clients made lazily, every call translated.

Reads always go to AWS (a dry run needs the current state to know what it would change); writes go through
`write`, which in a dry run only records the request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from campaign_tools.aws.errors import AwsError, translate
from transformer import aws
from transformer.aws import AwsOptions

# The IAM service prefix of each boto3 client, so a call is named as the IAM action that permits it.
_IAM_PREFIX = {"pinpoint": "mobiletargeting"}
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")


@dataclass(frozen=True)
class Request:
    """One AWS API call: the boto3 client, the API operation name and the exact keyword arguments."""

    service: str
    operation: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def action(self) -> str:
        return f"{_IAM_PREFIX.get(self.service, self.service)}:{self.operation}"

    def to_dict(self) -> dict[str, Any]:
        return {"call": self.action, "parameters": dict(self.params)}


def error_code(error: Exception) -> str | None:
    response = getattr(error, "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None


class AwsSession:
    """Region, account and clients for one command run, plus the writes it sent or (dry run) would send."""

    def __init__(
        self,
        *,
        region: str | None = None,
        profile: str | None = None,
        endpoint_url: str | None = None,
        dry_run: bool = False,
    ) -> None:
        self.dry_run = dry_run
        self.requested_writes: list[Request] = []
        self._region = region
        self._profile = profile
        self._endpoint_url = endpoint_url
        self._boto_session: Any = None
        self._clients: dict[str, Any] = {}
        self._caller: dict[str, str] | None = None

    def _session(self) -> Any:
        if self._boto_session is None:
            from botocore.exceptions import ProfileNotFound

            try:
                self._boto_session = aws.new_session(AwsOptions(region=self._region, profile=self._profile))
            except ProfileNotFound:
                raise AwsError(f"AWS profile {self._profile!r} not found in the AWS config files") from None
        return self._boto_session

    @property
    def region(self) -> str:
        region = self._region or self._session().region_name
        if not region:
            raise AwsError("no AWS region: pass --region or set AWS_REGION (or a region in the profile)")
        if not _REGION.fullmatch(region):
            raise AwsError(f"{region!r} is not an AWS region name (e.g. us-east-1)")
        return region

    def client(self, service: str) -> Any:
        if service not in self._clients:
            options = AwsOptions(region=self.region, profile=self._profile, endpoint_url=self._endpoint_url)
            self._clients[service] = aws.client(service, options, aws.ClientTuning(attempts=6), session=self._session())
        return self._clients[service]

    @property
    def account_id(self) -> str:
        """The caller's account (STS GetCallerIdentity): where the role, permission and recommender live."""
        return self._identity()["Account"]

    @property
    def partition(self) -> str:
        """The caller's partition (aws, aws-cn, aws-us-gov), from the caller ARN."""
        return self._identity()["Arn"].split(":")[1]

    def _identity(self) -> dict[str, str]:
        if self._caller is None:
            self._caller = self.read(Request("sts", "GetCallerIdentity"))
        return self._caller

    def read(self, request: Request, *, absent: Callable[[Exception], bool] | None = None) -> Any:
        """Send a read-only call; return None when `absent(error)` says the error means "does not exist"."""
        try:
            return self._send(request)
        except Exception as error:
            if absent is not None and absent(error):
                return None
            raise

    def write(self, request: Request) -> Any:
        """Send a call that changes AWS state; in a dry run, record it and return None."""
        self.requested_writes.append(request)
        if self.dry_run:
            return None
        return self._send(request)

    def _send(self, request: Request) -> Any:
        from botocore import exceptions, xform_name

        client = self.client(request.service)
        try:
            return getattr(client, xform_name(request.operation))(**request.params)
        except (exceptions.ClientError, exceptions.BotoCoreError) as error:
            raise _TranslatedError(error, translate(error, request.action, self._region_or_none())) from None

    def _region_or_none(self) -> str | None:
        try:
            return self.region
        except AwsError:
            return None


class _TranslatedError(AwsError):
    """An AwsError that still carries the botocore error, so callers can test its code (e.g. NoSuchEntity)."""

    def __init__(self, original: Exception, translated: AwsError) -> None:
        super().__init__(str(translated))
        self.original = original
        self.response = getattr(original, "response", None)


def compact_json(document: Mapping[str, Any]) -> str:
    """A policy document as sent to AWS: compact JSON with sorted keys, so equal documents are equal strings."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"))
