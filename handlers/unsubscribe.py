"""AWS Lambda entry point of the one-click unsubscribe function URL (`handlers.unsubscribe.handler`): parses the
function URL request, answers it with `campaign_tools.unsubscribe.endpoint`, returns the function URL response.

Event and response: the function URL payload format 2.0 (`rawPath`, `requestContext.http.method`, `headers` with
lower-case names, `body` with `isBase64Encoded`; the answer `statusCode`, `headers`, `body`), as the Lambda developer
guide documents it (https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-payloads).

Environment: `PINREC_UNSUBSCRIBE_KEY` (where the signing key is: `secretsmanager:SECRET_ID` or `ssm:NAME`),
`PINREC_SUPPRESSION` (the suppression list, `KIND:TARGET`, e.g. the DynamoDB table) and, optional, `PINREC_LEDGER`
(the send ledger, e.g. `dynamodb:TABLE`: each unsubscribe is also recorded there as a delivery event of its campaign,
for `pinrec send report`). All are read, and the key fetched, once per warm process. When either cannot be used the answer is a 503 and the log says why (never an
address, never the key).
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import threading
from collections.abc import Mapping
from typing import Any

from campaign_tools.send.ledgers.registry import open_ledger
from campaign_tools.suppression.registry import open_suppression
from campaign_tools.unsubscribe.endpoint import HTML, Request, Response, UnsubscribeEndpoint
from campaign_tools.unsubscribe.keys import key_source_from, load_key_ring
from transformer.aws import client
from transformer.errors import PinrecError

KEY_ENV = "PINREC_UNSUBSCRIBE_KEY"
SUPPRESSION_ENV = "PINREC_SUPPRESSION"
LEDGER_ENV = "PINREC_LEDGER"
MAX_BODY_BYTES = 16_384
"""A one-click POST body is `List-Unsubscribe=One-Click`; anything far larger is not read."""
UNAVAILABLE = Response(
    503, "<!doctype html><title>Try again later</title><p>Please try again in a few minutes.</p>", HTML
)
LOG = logging.getLogger("pinrec.unsubscribe")

_endpoint: UnsubscribeEndpoint | None = None
_lock = threading.Lock()


def endpoint(environment: Mapping[str, str]) -> UnsubscribeEndpoint:
    """The endpoint of this process, made on first use (the key read once, the suppression list opened once)."""
    global _endpoint  # noqa: PLW0603 - one endpoint per warm Lambda process
    with _lock:
        if _endpoint is None:
            spec = environment.get(SUPPRESSION_ENV, "")
            if not spec:
                raise PinrecError(f"{SUPPRESSION_ENV} is not set: it names the suppression list (KIND:TARGET)")
            clients: dict[str, Any] = {}

            def make(service: str) -> Any:
                if service not in clients:
                    clients[service] = client(service)
                return clients[service]

            keys = load_key_ring(key_source_from(environment, KEY_ENV), make)
            ledger_spec = environment.get(LEDGER_ENV, "")
            ledger = open_ledger(ledger_spec, make, durable=False) if ledger_spec else None
            _endpoint = UnsubscribeEndpoint(keys, open_suppression(spec, make), ledger=ledger)
        return _endpoint


def request_from_event(event: Mapping[str, Any]) -> Request:
    """The HTTP request a function URL event describes (a body that is not valid base64 is taken as empty)."""
    http = event.get("requestContext", {}).get("http", {})
    body_text = event.get("body") or ""
    body = b""
    if isinstance(body_text, str) and len(body_text) <= 2 * MAX_BODY_BYTES:
        try:
            body = base64.b64decode(body_text, validate=True) if event.get("isBase64Encoded") else body_text.encode()
        except (binascii.Error, ValueError):
            body = b""
    headers = event.get("headers") or {}
    return Request(
        method=str(http.get("method") or ""),
        path=str(event.get("rawPath") or http.get("path") or "/"),
        body=body[:MAX_BODY_BYTES],
        headers={str(name).lower(): str(value) for name, value in headers.items()},
    )


def result(response: Response) -> dict[str, Any]:
    return {
        "statusCode": response.status,
        "headers": response.all_headers(),
        "body": response.body,
        "isBase64Encoded": False,
    }


def handler(event: Mapping[str, Any], context: object = None) -> dict[str, Any]:
    request = request_from_event(event)
    try:
        return result(endpoint(os.environ).handle(request))
    except PinrecError as error:
        LOG.error("unsubscribe unavailable: %s", error)
        return result(UNAVAILABLE)


def reset() -> None:
    """Forget this process's endpoint (tests: a new environment)."""
    global _endpoint  # noqa: PLW0603
    with _lock:
        if _endpoint is not None and _endpoint.ledger is not None:
            _endpoint.ledger.close()
        _endpoint = None
