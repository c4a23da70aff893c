"""`--outbox DIR`: every message written as a file, exactly as it would be delivered.

Email becomes an RFC 5322 `.eml` (multipart/alternative text + HTML, List-Unsubscribe headers); SMS and push become
the JSON request the SMS or push adapter would send. Files are `DIR/<campaign>/<endpoint>.<ext>` with both ids
percent-encoded, written to a temporary file and renamed into place: re-delivering after a crash overwrites the
same file, so an endpoint never has two messages (the outbox is idempotent).

Files are not fsynced (that halves the throughput): the outbox survives the process being killed at any point;
after a power cut, files written in the last seconds may be missing although the ledger says sent.
"""

from __future__ import annotations

import email.policy
import hashlib
import json
import os
import tempfile
from email.message import EmailMessage as MimeMessage
from pathlib import Path
from urllib.parse import quote

from campaign_tools.send.delivery import Delivered, DeliveryError
from campaign_tools.send.delivery_push import PushSettings, push_request
from campaign_tools.send.delivery_ses import EmailSettings
from campaign_tools.send.delivery_sms import SmsSettings, sms_request
from campaign_tools.send.messages import EmailMessage, Message, PushMessage, SmsMessage

MAX_NAME_LENGTH = 200
DEFAULT_FROM = "pinrec-outbox@example.invalid"
EML_POLICY = email.policy.SMTP.clone(max_line_length=998)
"""RFC 5322's line limit: a long List-Unsubscribe URL stays one `<url>` instead of being folded into encoded words."""


def file_name(identifier: str) -> str:
    """A file name that only `identifier` maps to: percent-encoded, dots encoded too; long ones end in a hash."""
    name = quote(identifier, safe="").replace(".", "%2E")
    if len(name) > MAX_NAME_LENGTH:
        digest = hashlib.sha256(identifier.encode("utf-8")).hexdigest()
        name = f"{name[: MAX_NAME_LENGTH - 65]}~{digest}"
    return name


def email_mime(message: EmailMessage, settings: EmailSettings) -> bytes:
    mime = MimeMessage(policy=EML_POLICY)
    mime["From"] = settings.from_address
    mime["To"] = message.to
    mime["Subject"] = message.subject
    for name, value in message.all_headers():
        mime[name] = value
    if message.text:
        mime.set_content(message.text, subtype="plain", charset="utf-8")
        mime.add_alternative(message.html, subtype="html", charset="utf-8")
    else:
        mime.set_content(message.html, subtype="html", charset="utf-8")
    for part in mime.iter_parts():
        del part["MIME-Version"]
    if mime.is_multipart():
        # A boundary from the content, not random: re-delivering the same message writes the same bytes.
        digest = hashlib.sha256(repr((message, settings)).encode("utf-8", "surrogatepass")).hexdigest()
        mime.set_boundary(f"=_pinrec_{digest[:32]}")
    return mime.as_bytes()


def write_atomically(path: Path, data: bytes) -> None:
    if not path.parent.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class OutboxDeliverer:
    idempotent = True

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        email: EmailSettings | None = None,
        sms: SmsSettings | None = None,
        push: PushSettings | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.email = email or EmailSettings(DEFAULT_FROM)
        self.sms = sms
        self.push = push

    def describe(self) -> str:
        return f"outbox {self.directory}"

    def path_for(self, campaign_id: str, endpoint_id: str, message: Message) -> Path:
        extension = "eml" if isinstance(message, EmailMessage) else "json"
        return self.directory / file_name(campaign_id) / f"{file_name(endpoint_id)}.{extension}"

    def render(self, campaign_id: str, endpoint_id: str, message: Message) -> bytes:
        if isinstance(message, EmailMessage):
            return email_mime(message, self.email)
        if isinstance(message, SmsMessage):
            if self.sms is None:
                raise DeliveryError("sms_not_configured")
            request = sms_request(message, self.sms, campaign_id, endpoint_id)
            return _json({"SendTextMessage": request})
        if isinstance(message, PushMessage):
            settings = self.push or PushSettings("OUTBOX")
            return _json({"SendMessages": push_request(message, settings, campaign_id, endpoint_id)})
        raise DeliveryError("wrong_message_type", detail=type(message).__name__)

    def deliver(self, campaign_id: str, endpoint_id: str, message: Message) -> Delivered:
        path = self.path_for(campaign_id, endpoint_id, message)
        data = self.render(campaign_id, endpoint_id, message)
        try:
            write_atomically(path, data)
        except OSError as error:
            raise DeliveryError("outbox_write_failed", detail=error.strerror or "") from None
        return Delivered(str(path.relative_to(self.directory)))


def _json(value: object) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")
