"""SMS opt-outs: the two-way messaging payload End User Messaging SMS publishes to SNS when a recipient replies
(`originationNumber`: the recipient, `messageKeyword`, `messageBody`, `inboundMessageId`,
`previousPublishedMessageId`: the message replied to). A reply whose keyword is an opt-out keyword is an `opt_out`
event of that number, attributed to the message it answers; any other reply is no delivery event.

The payload carries no timestamp: the event happened when the transport published it (SNS `Timestamp`, EventBridge
`time`), else when it is ingested. Its id comes from `inboundMessageId` alone, so a replay is a duplicate whatever
its time.
"""

from __future__ import annotations

from collections.abc import Mapping

from campaign_tools.channels.addresses import sms as sms_addresses
from campaign_tools.events.model import DeliveryEvent, EventKind
from campaign_tools.events.sources.base import Envelope, NotAnEvent, Unreadable, event_id, identifier

NAME = "sms-inbound"
OPT_OUT_KEYWORDS = frozenset(
    {"ARRET", "CANCEL", "END", "OPT-OUT", "OPTOUT", "QUIT", "REMOVE", "REVOKE", "STOP", "STOPALL", "TD", "UNSUBSCRIBE"}
)
"""End User Messaging's default opt-out keywords and the carriers' common ones; compared upper-case."""


class SmsInboundSource:
    name = NAME

    def accepts(self, record: Mapping[str, object]) -> bool:
        return "inboundMessageId" in record and "originationNumber" in record

    def read(self, record: Mapping[str, object], envelope: Envelope) -> list[DeliveryEvent]:
        inbound_id = identifier(record.get("inboundMessageId"))
        if inbound_id is None:
            raise Unreadable("sms-inbound: inboundMessageId is missing")
        number = identifier(record.get("originationNumber"))
        if number is None:
            raise Unreadable("sms-inbound: originationNumber is not a phone number")
        keyword = _keyword(record)
        if keyword not in OPT_OUT_KEYWORDS:
            raise NotAnEvent("sms-inbound: a reply without an opt-out keyword")
        occurred_at = envelope.published_at if envelope.published_at is not None else envelope.ingested_at
        return [
            DeliveryEvent(
                event_id(NAME, inbound_id),
                sms_addresses.NAME,
                EventKind.OPT_OUT,
                occurred_at,
                identifier(record.get("previousPublishedMessageId")),
                recipient=number,
                detail=keyword,
            )
        ]


def _keyword(record: Mapping[str, object]) -> str:
    keyword = record.get("messageKeyword")
    if isinstance(keyword, str) and keyword.strip().upper() in OPT_OUT_KEYWORDS:
        return keyword.strip().upper()
    body = record.get("messageBody")
    words = body.split(maxsplit=1) if isinstance(body, str) else []
    return words[0].upper().strip(".!") if words else ""


SOURCE = SmsInboundSource()
