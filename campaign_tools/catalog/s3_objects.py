"""Fetching and publishing SQLite catalog files held in S3 (`[store] path = "s3://bucket/key"`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from campaign_tools.catalog.records import CatalogLoadError


def _client(region: str | None, endpoint_url: str | None) -> Any:
    import boto3

    return boto3.session.Session().client("s3", region_name=region, endpoint_url=endpoint_url)


def _split(url: str) -> tuple[str, str]:
    bucket, _, key = url.removeprefix("s3://").partition("/")
    if not bucket or not key:
        raise CatalogLoadError(f"{url!r}: expected s3://BUCKET/KEY")
    return bucket, key


def _code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code") or type(error).__name__)


def download_if_present(url: str, destination: Path, *, region: str | None, endpoint_url: str | None) -> bool:
    """Copy the object to `destination`; False when there is no such object yet."""
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, key = _split(url)
    try:
        _client(region, endpoint_url).download_file(bucket, key, str(destination))
    except ClientError as error:
        if _code(error) in ("404", "NoSuchKey", "NotFound"):
            return False
        raise CatalogLoadError(f"cannot read {url}: {_code(error)}") from None
    except BotoCoreError as error:
        raise CatalogLoadError(f"cannot read {url}: {error}") from None
    return True


def publish(path: Path, url: str, *, region: str | None, endpoint_url: str | None) -> None:
    """Upload a finished catalog; S3 replaces the object whole, so readers see the old file or the new one."""
    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, key = _split(url)
    try:
        _client(region, endpoint_url).upload_file(str(path), bucket, key)
    except (ClientError, BotoCoreError, S3UploadFailedError) as error:
        raise CatalogLoadError(
            f"cannot publish the catalog to {url}: {_code(error)}; the old one still serves"
        ) from None
