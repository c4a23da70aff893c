"""What one treatment of a Pinpoint campaign sends on each channel: its `TemplateConfiguration` (the migrated
template folders) and `MessageConfiguration` (sender fields, and inline message content, which becomes a built
template folder beside the campaign, written as migrate writes templates) -> campaign.toml channel tables.

Email `FromAddress` -> `from_address`; SMS `OriginationNumber` (else `SenderId`) -> `origination_identity`,
`MessageType` -> `message_type`; push `application_id` is the campaign's `ApplicationId` (End User Messaging push
keeps Pinpoint's application). What has no equivalent is listed with its reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from campaign_tools.migrate.outcome import Outcome
from campaign_tools.migrate.source import Found

TEMPLATE_KEYS = {"EmailTemplate": "email", "SMSTemplate": "sms", "PushTemplate": "push"}
NO_TEMPLATE_CHANNEL = {
    "VoiceTemplate": "pinrec has no voice channel",
    "InAppTemplate": "in-app messages are shown by the Pinpoint SDK; no replacement service renders them",
}
PUSH_PLATFORMS = ("APNSMessage", "GCMMessage", "ADMMessage", "BaiduMessage")
NO_MESSAGE_CHANNEL = {
    "CustomMessage": "custom channel messages went to a Lambda function or webhook; pinrec sends through SES and "
    "End User Messaging only",
    "InAppMessage": "in-app messages are shown by the Pinpoint SDK; no replacement service renders them",
    **{
        platform: "per-platform push messages: pinrec's push sends one message to every platform (DefaultMessage)"
        for platform in PUSH_PLATFORMS
    },
}
SMS_TYPES = frozenset({"TRANSACTIONAL", "PROMOTIONAL"})


@dataclass(frozen=True)
class MigratedTemplate:
    folder: str
    """The built folder, relative to the project."""
    version: str | None
    recommender_id: str | None


@dataclass
class Treatment:
    """What one treatment sends: channel -> its campaign.toml table; the recommenders its templates name."""

    tables: dict[str, dict[str, Any]]
    recommenders: list[str]


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


class MessageConverter:
    """Channel tables of the treatments of one campaign, inline templates written under `inline_folder`."""

    def __init__(
        self,
        out: Path,
        inline_folder: str,
        templates: Mapping[tuple[str, str], MigratedTemplate],
        application_id: str | None,
        outcome: Outcome,
    ) -> None:
        self.out = out
        self.inline_folder = inline_folder
        self.templates = templates
        self.application_id = application_id
        self.outcome = outcome

    def treatment(self, body: Mapping[str, Any], where: str, name: str) -> Treatment:
        found = Treatment({}, [])
        templates = _mapping(body.get("TemplateConfiguration"))
        messages = _mapping(body.get("MessageConfiguration"))
        for key, reason in NO_TEMPLATE_CHANNEL.items():
            if templates.get(key):
                self.outcome.not_carried.append(f"{where}TemplateConfiguration.{key}: {reason}")
        for key in sorted(set(templates) - set(TEMPLATE_KEYS) - set(NO_TEMPLATE_CHANNEL)):
            self.outcome.not_carried.append(f"{where}TemplateConfiguration.{key}: not a template kind pinrec knows")
        for key, reason in NO_MESSAGE_CHANNEL.items():
            if messages.get(key):
                self.outcome.not_carried.append(f"{where}MessageConfiguration.{key}: {reason}")
        known = {*NO_MESSAGE_CHANNEL, "EmailMessage", "SMSMessage", "DefaultMessage"}
        for key in sorted(set(messages) - known):
            self.outcome.not_carried.append(f"{where}MessageConfiguration.{key}: not a message kind pinrec knows")
        for key, channel in TEMPLATE_KEYS.items():
            table = self._from_template(_mapping(templates.get(key)), f"{where}TemplateConfiguration.{key}", channel)
            if table is not None and (recommender := table.pop("_recommender", None)):
                found.recommenders.append(recommender)
            table = self._with_message(channel, table, messages, where, name)
            if table is not None:
                found.tables[channel] = table
        return found

    def _from_template(self, reference: Mapping[str, Any], where: str, channel: str) -> dict[str, Any] | None:
        name = reference.get("Name")
        if not reference:
            return None
        if not isinstance(name, str):
            self.outcome.not_carried.append(f"{where}: it names no template")
            return None
        migrated = self.templates.get((channel, name))
        if migrated is None:
            self.outcome.not_carried.append(
                f"{where}: template {name} was not migrated (not in the export, or see its entry): no {channel} "
                "message from it"
            )
            return None
        version = reference.get("Version")
        if version is not None and migrated.version is not None and str(version) != migrated.version:
            self.outcome.notes.append(
                f"{where}: the campaign used version {version}; `{migrated.folder}` is the exported version "
                f"{migrated.version}"
            )
        table: dict[str, Any] = {"built": migrated.folder}
        if migrated.recommender_id:
            table["_recommender"] = migrated.recommender_id
        return table

    def _with_message(
        self, channel: str, table: dict[str, Any] | None, messages: Mapping[str, Any], where: str, name: str
    ) -> dict[str, Any] | None:
        """The table with the MessageConfiguration's sender fields; an inline message becomes a template."""
        key = {"email": "EmailMessage", "sms": "SMSMessage", "push": "DefaultMessage"}[channel]
        message = _mapping(messages.get(key))
        if not message:
            return self._push_app(channel, table)
        place = f"{where}MessageConfiguration.{key}"
        senders, content, rest = self._split(channel, message, place)
        if content:
            if table is None:
                folder = self._inline(channel, content, place, name)
                table = {"built": folder} if folder else None
            else:
                self.outcome.not_carried.append(
                    f"{place}: {', '.join(content)} beside a template: the template is used, the inline content not"
                )
        if table is None:
            if senders or rest:
                self.outcome.not_carried.append(f"{place}: no {channel} template or content to send them with")
            return None
        return self._push_app(channel, {**table, **senders})

    def _push_app(self, channel: str, table: dict[str, Any] | None) -> dict[str, Any] | None:
        if table is not None and channel == "push" and self.application_id:
            return {**table, "application_id": self.application_id}
        return table

    def _split(
        self, channel: str, message: Mapping[str, Any], place: str
    ) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
        senders: dict[str, Any] = {}
        content: dict[str, Any] = {}
        rest: list[str] = []
        if channel == "email":
            parts = {"Title": "Subject", "HtmlBody": "HtmlPart", "Body": "TextPart"}
            content = {parts[key]: message[key] for key in parts if isinstance(message.get(key), str)}
            if isinstance(message.get("FromAddress"), str):
                senders["from_address"] = message["FromAddress"]
            rest = sorted(set(message) - {*parts, "FromAddress"})
        elif channel == "sms":
            if isinstance(message.get("Body"), str):
                content = {"Body": message["Body"]}
            number, sender_id = message.get("OriginationNumber"), message.get("SenderId")
            if isinstance(number, str) and number:
                senders["origination_identity"] = number
                if isinstance(sender_id, str) and sender_id:
                    self.outcome.not_carried.append(
                        f"{place}.SenderId {sender_id}: one origination identity per send; OriginationNumber is used"
                    )
            elif isinstance(sender_id, str) and sender_id:
                senders["origination_identity"] = sender_id
            message_type = message.get("MessageType")
            if isinstance(message_type, str) and message_type.upper() in SMS_TYPES:
                senders["message_type"] = message_type.upper()
            rest = sorted(set(message) - {"Body", "OriginationNumber", "SenderId", "MessageType"})
        else:
            kept = {"Title": "Title", "Body": "Body", "Url": "Url", "Action": "Action"}
            default = {kept[key]: message[key] for key in kept if message.get(key) is not None}
            content = {"Default": default} if default.keys() - {"Action"} else {}
            rest = sorted(set(message) - set(kept))
        for key in rest:
            self.outcome.not_carried.append(f"{place}.{key}: campaign.toml's {channel} table has no such setting")
        return senders, content, rest

    def _inline(self, channel: str, content: Mapping[str, Any], place: str, name: str) -> str | None:
        from campaign_tools.migrate.templates import convert_template

        found = Found(channel, {"TemplateName": name, **content}, place)
        converted = convert_template(found, self.out, self.inline_folder, {})
        self.outcome.not_carried += [f"{place}: {item}" for item in converted.not_carried]
        self.outcome.notes += [f"{place}: {item}" for item in converted.notes]
        if not converted.carried:
            return None
        folder = f"{self.inline_folder}/{channel}/{name}"
        self.outcome.became.append(f"`{folder}/`: a built template of its inline {channel} message")
        return folder
