"""A cold start (importing `handlers.transformer`, as Lambda does) imports only the configured store: boto3 stays out
of a SQLite container.

Powertools imports the bare `botocore` package root (for its user-agent hook); that is small and accepted.
What must not load is boto3 or botocore's client machinery.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.store_fixtures import aws, create_table  # noqa: F401
from transformer.collector import YOUNG_COLLECTION_THRESHOLD

PROBE = """
import gc, json, sys
import handlers.transformer
print(json.dumps({
    "boto3": "boto3" in sys.modules,
    "botocore.client": "botocore.client" in sys.modules,
    "store": type(handlers.transformer.transformer.store).__name__,
    "young_threshold": gc.get_threshold()[0],
    "frozen": gc.get_freeze_count() > 1000,
}))
"""
GC = {"young_threshold": YOUNG_COLLECTION_THRESHOLD, "frozen": True}
"""The cold start's objects frozen out of collections, the youngest generation collected less often."""


def cold_start(config: Path, **environment: str) -> dict[str, Any]:
    env = {**os.environ, "PINREC_CONFIG": str(config), **environment}
    result = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_sqlite_cold_start_never_imports_boto3(make_catalog: Any, tmp_path: Path) -> None:
    catalog = make_catalog([{"id": "a", "name": "A"}])
    config = tmp_path / "pinrec.toml"
    config.write_text(f'[store]\nkind = "sqlite"\npath = "{catalog}"\n[attributes.Name]\nfield = "name"\n')
    assert cold_start(config) == {"boto3": False, "botocore.client": False, "store": "SqliteItemStore", **GC}


def test_a_dynamodb_cold_start_opens_the_dynamodb_store(aws: str, tmp_path: Path) -> None:  # noqa: F811
    table = create_table(aws)
    config = tmp_path / "pinrec.toml"
    config.write_text(
        f'[store]\nkind = "dynamodb"\ntable = "{table}"\nendpoint_url = "{aws}"\n[attributes.Name]\nfield = "name"\n'
    )
    assert cold_start(config, AWS_ENDPOINT_URL=aws) == {
        "boto3": True,
        "botocore.client": True,
        "store": "DynamoDbItemStore",
        **GC,
    }
