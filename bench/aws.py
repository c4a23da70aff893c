"""moto's server on loopback, with fake credentials, for the DynamoDB and S3 measurements."""

from __future__ import annotations

import logging
import os
from typing import Any

REGION = "us-east-1"


def start_moto() -> tuple[Any, str]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }.items():
        os.environ[name] = value
    os.environ.pop("AWS_PROFILE", None)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def client(service: str, endpoint: str) -> Any:
    import boto3

    return boto3.session.Session().client(service, region_name=REGION, endpoint_url=endpoint)


def create_table(endpoint: str, name: str) -> None:
    client("dynamodb", endpoint).create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
