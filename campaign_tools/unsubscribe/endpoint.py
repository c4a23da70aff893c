"""The unsubscribe endpoint's request handling, without HTTP or AWS: a request in, a response out.

- `POST /u/<token>`: the RFC 8058 one-click unsubscribe (a mail client posts `List-Unsubscribe=One-Click`), and what
  the confirmation page's button posts. A valid token suppresses its address (reason `unsubscribe`, the token's
  topic, source `one-click`) and answers 200 with a short plain-text body. Posting again changes nothing and
  answers the same.
- `GET /u/<token>`: a confirmation page whose button POSTs. A GET never unsubscribes: mail scanners and link
  previews fetch every URL of a message, and RFC 8058 requires the action to be a POST.
- A token that is not valid, whatever is wrong with it, gets one generic 403 page (no detail: no oracle), and
  nothing is written. Other paths 404, other methods 405.

When the endpoint has a send ledger, each unsubscribe is also recorded there as a delivery event of the message
the token came in (`subscription`, subtype `unsubscribed`, detail `one-click`, the token's topic), attributed by the
token's campaign and endpoint, so `pinrec send report` counts it under `unsubscribed` as it counts SES's own. Its
event id is the token's campaign, endpoint and topic: posting again is a duplicate, the first time is kept. The
suppression is written first and is what the answer reports; a ledger that cannot be written costs the report one
unsubscribe (logged, without the address), never the unsubscribe itself.

Nothing here logs or returns an address.
"""

from __future__ import annotations

import html
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from campaign_tools.channels.addresses import email as email_addresses
from campaign_tools.events.model import DeliveryEvent, EventKind
from campaign_tools.events.sources.base import event_id
from campaign_tools.send.ledgers.base import Ledger
from campaign_tools.suppression.base import Reason, Suppression, SuppressionList
from campaign_tools.unsubscribe.links import TOKEN_ROUTE
from campaign_tools.unsubscribe.tokens import Claims, InvalidToken, KeyRing, verify

SOURCE = "one-click"
CHANNEL = "email"
_TOKEN_PATH = re.compile(rf"(?:.*/)?{TOKEN_ROUTE}/([^/]+)/?")
"""`/u/<token>`, also below a path prefix (a custom domain in front of the function URL)."""
HTML = "text/html; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
COMMON_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}
PAGE_SECURITY = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
}


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    """Lower-cased names."""


@dataclass(frozen=True)
class Response:
    status: int
    body: str
    content_type: str = TEXT
    headers: Mapping[str, str] = field(default_factory=dict)

    def all_headers(self) -> dict[str, str]:
        return {"Content-Type": self.content_type, **COMMON_HEADERS, **self.headers}


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#1f2933}"
        "button{font-size:1rem;padding:.6rem 1.2rem;border-radius:.3rem;border:1px solid #1f2933;"
        "background:#1f2933;color:#fff;cursor:pointer}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


CONFIRM_PAGE = _page(
    "Unsubscribe",
    "<p>Press the button to stop receiving these emails.</p>"
    '<form method="post" action=""><input type="hidden" name="List-Unsubscribe" value="One-Click">'
    '<button type="submit">Unsubscribe</button></form>',
)
INVALID_PAGE = _page("This link does not work", "<p>This unsubscribe link is not valid. Use the link in the email.</p>")
NOT_FOUND_PAGE = _page("Not found", "<p>There is nothing here.</p>")
DONE_TEXT = "You are unsubscribed.\n"
UNSUBSCRIBED = "unsubscribed"
"""The subtype of the subscription event an unsubscribe is recorded as (SES's, which the report counts)."""
LOG = logging.getLogger("pinrec.unsubscribe")


def unsubscribe_event(claims: Claims, now: float) -> DeliveryEvent:
    """The delivery event a one-click unsubscribe is recorded as, attributed by the token's campaign and endpoint;
    no address (the ledger keeps none)."""
    return DeliveryEvent(
        event_id(SOURCE, claims.campaign_id, claims.endpoint_id, claims.topic or ""),
        email_addresses.NAME,
        EventKind.SUBSCRIPTION,
        now,
        None,
        claims.campaign_id,
        claims.endpoint_id,
        subtype=UNSUBSCRIBED,
        detail=SOURCE,
        topic=claims.topic,
    )


class UnsubscribeEndpoint:
    """Answers unsubscribe requests with `keys` (to verify tokens) and `suppression` (where unsubscribes go); with a
    `ledger`, each unsubscribe is also recorded as a delivery event of its campaign (for the report)."""

    def __init__(
        self,
        keys: KeyRing,
        suppression: SuppressionList,
        *,
        ledger: Ledger | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.keys = keys
        self.suppression = suppression
        self.ledger = ledger
        self.clock = clock

    def handle(self, request: Request) -> Response:
        match = _TOKEN_PATH.fullmatch(request.path)
        if match is None:
            return Response(404, NOT_FOUND_PAGE, HTML, PAGE_SECURITY)
        method = request.method.upper()
        if method not in ("GET", "POST"):
            return Response(405, "", TEXT, {"Allow": "GET, POST"})
        try:
            claims = verify(match.group(1), self.keys)
        except InvalidToken:
            return Response(403, INVALID_PAGE, HTML, PAGE_SECURITY)
        if method == "GET":
            return Response(200, CONFIRM_PAGE, HTML, PAGE_SECURITY)
        self.unsubscribe(claims)
        return Response(200, DONE_TEXT)

    def unsubscribe(self, claims: Claims) -> None:
        """Suppress the token's address (for its topic only, when it has one); idempotent."""
        now = self.clock()
        entry = Suppression(CHANNEL, claims.address, Reason.UNSUBSCRIBE, now, SOURCE, claims.topic)
        self.suppression.add([entry])
        if self.ledger is None:
            return
        try:
            recorded = self.ledger.record_events([unsubscribe_event(claims, now)], now)
        except Exception as error:  # the unsubscribe stands; only the report misses it
            LOG.warning("unsubscribe suppressed; recording its event failed (%s)", type(error).__name__)
            return
        if recorded.unknown:
            LOG.info("unsubscribe suppressed; its campaign's ledger has no row for its endpoint")
