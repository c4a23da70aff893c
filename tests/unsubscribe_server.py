"""A real HTTP server on 127.0.0.1 in front of the real `handlers.unsubscribe.handler`, the way a Lambda function
URL fronts it: each request becomes a function URL event (payload format 2.0: `version`, `rawPath`,
`rawQueryString`, lower-case `headers`, `requestContext.http`, `body` base64-encoded unless it is text, with
`isBase64Encoded`), and the handler's `statusCode`, `headers` and `body` become the HTTP response.

Event shape as documented in the Lambda developer guide, "Invoking Lambda function URLs", request and response
payloads: https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-payloads
"""

from __future__ import annotations

import base64
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import handlers.unsubscribe

TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")
"""Bodies of these content types reach the function as they are; others base64-encoded, as function URLs do."""


def function_url_event(method: str, target: str, headers: dict[str, str], body: bytes, host: str) -> dict[str, Any]:
    parts = urlsplit(target)
    content_type = headers.get("content-type", "")
    as_text = not body or content_type.startswith(TEXT_TYPES)
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": parts.path,
        "rawQueryString": parts.query,
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "loopbackurlid",
            "domainName": host,
            "domainPrefix": "loopbackurlid",
            "http": {
                "method": method,
                "path": parts.path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": not as_text,
    }
    if body:
        event["body"] = body.decode("utf-8", errors="replace") if as_text else base64.b64encode(body).decode()
    return event


class FunctionUrlHandler(BaseHTTPRequestHandler):
    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]},{value}" if key in headers else value
        event = function_url_event(self.command, self.path, headers, body, self.headers.get("Host", ""))
        answer = handlers.unsubscribe.handler(event, None)
        payload = answer.get("body", "")
        data = base64.b64decode(payload) if answer.get("isBase64Encoded") else str(payload).encode("utf-8")
        self.send_response(int(answer["statusCode"]))
        for name, value in (answer.get("headers") or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:
        return  # quiet: request lines would print tokens


@contextmanager
def function_url_server() -> Iterator[str]:
    """The server's base URL (http://127.0.0.1:PORT) while the block runs."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), FunctionUrlHandler)
    thread = threading.Thread(target=server.serve_forever, name="function-url", daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
