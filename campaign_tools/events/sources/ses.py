"""SES event publishing records (a configuration set's event destination: EventBridge's `detail`, SNS's `Message`,
or the bare record), and the older identity notifications (`notificationType` instead of `eventType`).

Per the SES developer guide ("Contents of event data that Amazon SES publishes"): `eventType` is one of Send,
Delivery, Bounce, Complaint, Reject, Open, Click, Rendering Failure, DeliveryDelay, Subscription; `mail` carries
`messageId`, `timestamp`, `destination` and `tags` (each tag a list of values: the correlation tags a send set, see
`campaign_tools.events.tags`); the object named after the event type carries its details and its own `timestamp`.

One event per recipient: a bounce per `bouncedRecipients` entry, a complaint per `complainedRecipients` entry, a
delivery per `delivery.recipients`, a delay per `delayedRecipients`; the others per `mail.destination`. A
subscription record gives one event per topic whose preference it changed (and one, without a topic, when it
changed `unsubscribeAll`).
"""

from __future__ import annotations

from collections.abc import Mapping

from campaign_tools.channels.addresses import email as email_addresses
from campaign_tools.events.model import DeliveryEvent, EventKind
from campaign_tools.events.sources.base import (
    Envelope,
    NotAnEvent,
    Unreadable,
    event_id,
    identifier,
    iso_time,
    mapping,
    text,
)
from campaign_tools.events.tags import correlation

NAME = "ses"
KINDS = {
    "Send": EventKind.SEND,
    "Delivery": EventKind.DELIVERY,
    "Bounce": EventKind.BOUNCE,
    "Complaint": EventKind.COMPLAINT,
    "Reject": EventKind.REJECT,
    "Rendering Failure": EventKind.RENDERING_FAILURE,
    "RenderingFailure": EventKind.RENDERING_FAILURE,
    "DeliveryDelay": EventKind.DELIVERY_DELAY,
    "Open": EventKind.OPEN,
    "Click": EventKind.CLICK,
    "Subscription": EventKind.SUBSCRIPTION,
}
DETAIL_OBJECT = {
    EventKind.SEND: "send",
    EventKind.DELIVERY: "delivery",
    EventKind.BOUNCE: "bounce",
    EventKind.COMPLAINT: "complaint",
    EventKind.REJECT: "reject",
    EventKind.RENDERING_FAILURE: "failure",
    EventKind.DELIVERY_DELAY: "deliveryDelay",
    EventKind.OPEN: "open",
    EventKind.CLICK: "click",
    EventKind.SUBSCRIPTION: "subscription",
}
RECIPIENTS = {
    EventKind.BOUNCE: ("bouncedRecipients", "emailAddress"),
    EventKind.COMPLAINT: ("complainedRecipients", "emailAddress"),
    EventKind.DELIVERY_DELAY: ("delayedRecipients", "emailAddress"),
    EventKind.DELIVERY: ("recipients", None),
}
DETAIL_FIELD = {
    EventKind.COMPLAINT: "complaintFeedbackType",
    EventKind.REJECT: "reason",
    EventKind.RENDERING_FAILURE: "errorMessage",
    EventKind.DELIVERY_DELAY: "delayType",
}
BOUNCE_TYPES = {"permanent": "Permanent", "transient": "Transient", "undetermined": "Undetermined"}
OPT_OUT, OPT_IN = "optout", "optin"


class SesSource:
    name = NAME

    def accepts(self, record: Mapping[str, object]) -> bool:
        return "mail" in record and ("eventType" in record or "notificationType" in record)

    def read(self, record: Mapping[str, object], envelope: Envelope) -> list[DeliveryEvent]:
        type_name = record.get("eventType", record.get("notificationType"))
        if not isinstance(type_name, str):
            raise Unreadable("ses: eventType is not a string")
        kind = KINDS.get(type_name)
        if kind is None:
            raise NotAnEvent("ses: an event type pinrec does not record")
        mail = mapping(record.get("mail"))
        if mail is None:
            raise Unreadable("ses: mail is not an object")
        message_id = identifier(mail.get("messageId"))
        if message_id is None:
            raise Unreadable("ses: mail.messageId is missing")
        detail_object = record.get(DETAIL_OBJECT[kind])
        details = mapping(detail_object) or {}
        if detail_object is not None and mapping(detail_object) is None:
            raise Unreadable(f"ses: {DETAIL_OBJECT[kind]} is not an object")
        own_time = details.get("timestamp")
        occurred_at = (
            iso_time(own_time, f"ses: {DETAIL_OBJECT[kind]}.timestamp")
            if own_time is not None
            else iso_time(mail.get("timestamp"), "ses: mail.timestamp")
        )
        tags = mapping(mail.get("tags"))
        found = correlation(tags) if tags is not None else None
        campaign_id, endpoint_id = found if found else (None, None)
        identity = (type_name if kind is not EventKind.RENDERING_FAILURE else "Rendering Failure", message_id)
        stamp = own_time if isinstance(own_time, str) else mail.get("timestamp")

        def event(recipient: str | None, distinct: str, **particulars: str | None) -> DeliveryEvent:
            return DeliveryEvent(
                event_id(NAME, *identity, stamp, recipient, distinct),
                email_addresses.NAME,
                kind,
                occurred_at,
                message_id,
                campaign_id,
                endpoint_id,
                recipient,
                **particulars,
            )

        recipients = _recipients(kind, details, mail)
        if kind is EventKind.SUBSCRIPTION:
            contact_list = text(details.get("contactList"))
            return [
                event(recipient, f"{topic or ''}\x1f{subtype}", subtype=subtype, topic=topic, detail=contact_list)
                for recipient in recipients
                for topic, subtype in _subscription_changes(details)
            ]
        subtype, detail, link = _particulars(kind, details)
        return [event(recipient, link or "", subtype=subtype, detail=detail, link=link) for recipient in recipients]


def _particulars(kind: EventKind, details: Mapping[str, object]) -> tuple[str | None, str | None, str | None]:
    """(subtype, detail, link) of one event kind."""
    if kind is EventKind.BOUNCE:
        bounce_type = details.get("bounceType")
        subtype = BOUNCE_TYPES.get(bounce_type.lower()) if isinstance(bounce_type, str) else None
        if subtype is None:
            raise Unreadable("ses: bounce.bounceType is not Permanent, Transient or Undetermined")
        return subtype, text(details.get("bounceSubType")), None
    if kind is EventKind.CLICK:
        link = text(details.get("link"), 2048)
        if link is None:
            raise Unreadable("ses: click.link is missing")
        return None, None, link
    field = DETAIL_FIELD.get(kind)
    return None, text(details.get(field)) if field else None, None


def _recipients(kind: EventKind, details: Mapping[str, object], mail: Mapping[str, object]) -> list[str | None]:
    """The recipients the event is about: the event object's list when it has one, else the message's
    destination; a list holding anything but addresses makes the record unreadable (it cannot be told whom a
    bounce is about)."""
    field, key = RECIPIENTS.get(kind, (None, None))
    listed = details.get(field) if field else None
    where = f"{DETAIL_OBJECT[kind]}.{field}"
    if listed is None or listed == []:
        listed, key, where = mail.get("destination"), None, "mail.destination"
    if listed is None:
        return [None]
    if not isinstance(listed, list):
        raise Unreadable(f"ses: {where} is not a list")
    found: list[str | None] = []
    for entry in listed:
        holder = mapping(entry)
        value = entry if key is None else holder.get(key) if holder is not None else None
        address = identifier(value)
        if address is None:
            raise Unreadable(f"ses: {where} holds an entry that is not an address")
        found.append(address)
    return list(dict.fromkeys(found)) or [None]


def _preferences(value: object, where: str) -> tuple[bool | None, dict[str, str]]:
    preferences = mapping(value)
    if preferences is None:
        if value is None:
            return None, {}
        raise Unreadable(f"ses: subscription.{where} is not an object")
    every = preferences.get("unsubscribeAll")
    statuses: dict[str, str] = {}
    listed = preferences.get("topicSubscriptionStatus", [])
    if not isinstance(listed, list):
        raise Unreadable(f"ses: subscription.{where}.topicSubscriptionStatus is not a list")
    for entry in listed:
        item = mapping(entry) or {}
        topic, status = text(item.get("topicName")), item.get("subscriptionStatus")
        if topic is None or not isinstance(status, str) or status.replace("_", "").lower() not in (OPT_OUT, OPT_IN):
            raise Unreadable(f"ses: subscription.{where} holds a topic status that is not OptIn or OptOut")
        statuses[topic] = status.replace("_", "").lower()
    return every if isinstance(every, bool) else None, statuses


def _subscription_changes(details: Mapping[str, object]) -> list[tuple[str | None, str]]:
    """(topic, unsubscribed|subscribed) for each preference the change made: unsubscribeAll as topic None."""
    new_all, new = _preferences(details.get("newTopicPreferences"), "newTopicPreferences")
    old_all, old = _preferences(details.get("oldTopicPreferences"), "oldTopicPreferences")
    if new_all is None and not new:
        raise Unreadable("ses: subscription.newTopicPreferences is missing")
    changes: list[tuple[str | None, str]] = []
    if new_all is not None and new_all != old_all:
        changes.append((None, "unsubscribed" if new_all else "subscribed"))
    for topic, status in sorted(new.items()):
        if old.get(topic) != status:
            changes.append((topic, "unsubscribed" if status == OPT_OUT else "subscribed"))
    if not changes:
        raise NotAnEvent("ses: a subscription record that changes no preference")
    return changes


SOURCE = SesSource()
