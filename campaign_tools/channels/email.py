"""Email: a subject, an HTML part and a text part; sent with Amazon SES v2 `SendEmail`, or written as an `.eml`."""

from __future__ import annotations

import email.policy
import hashlib
import html
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage as MimeMessage
from email.utils import parseaddr
from typing import Any

from campaign_tools.channels.base import (
    Channel,
    ClientFactory,
    ComposeError,
    ComposeInput,
    Delivered,
    Deliverer,
    DeliveryError,
    Message,
    OutboxFile,
    Part,
    PinpointTemplateType,
    PreviewOutput,
    Sender,
    SenderCheck,
    SendOption,
    Settings,
)
from transformer.aws import error_code
from transformer.errors import PinrecError

NAME = "email"
SUBJECT = Part("email-subject", NAME, ("email-subject.jinja",), "email-subject.txt")
HTML = Part("email-html", NAME, ("email.mjml.jinja", "email.html.jinja"), "email.html", single_line=False, markup=True)
TEXT = Part(
    "email-text", NAME, ("email-text.jinja",), "email.txt", optional=True, single_line=False, derived_from=HTML.key
)

DEFAULT_FROM = "pinrec-outbox@example.invalid"
"""The From of outbox messages when no --from is given: a reserved domain, so no such message can be mailed."""
CAMPAIGN_TAG = "pinrec-campaign"
THROTTLING_CODES = frozenset(
    {"TooManyRequestsException", "LimitExceededException", "Throttling", "ThrottlingException"}
)
FATAL_CODES = frozenset(
    {"AccountSuspendedException", "SendingPausedException", "AccessDeniedException", "UnrecognizedClientException"}
)
NEEDS_FROM = "--deliver for email needs --from ADDRESS (a verified SES identity)"
QUOTA_UNREADABLE = "cannot read the SES quota{why}: pass --rate or grant ses:GetAccount"
EML_POLICY = email.policy.SMTP.clone(max_line_length=998)
"""RFC 5322's line limit: a long List-Unsubscribe URL stays one `<url>` instead of being folded into encoded words."""


@dataclass(frozen=True, slots=True)
class EmailMessage:
    to: str
    subject: str
    html: str
    text: str | None
    unsubscribe_url: str
    """Sent as List-Unsubscribe with one-click List-Unsubscribe-Post (RFC 8058); bulk senders must offer it."""
    headers: tuple[tuple[str, str], ...] = ()
    """Further headers, in order; List-Unsubscribe and List-Unsubscribe-Post are added from `unsubscribe_url`."""

    def all_headers(self) -> tuple[tuple[str, str], ...]:
        return (
            *self.headers,
            ("List-Unsubscribe", f"<{self.unsubscribe_url}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        )


class EmailSettings(Settings):
    from_address: str | None = None
    """A verified SES identity; the outbox uses DEFAULT_FROM without one."""
    configuration_set: str | None = None


def email_mime(message: EmailMessage, settings: EmailSettings) -> bytes:
    """The message as RFC 5322 bytes: multipart/alternative text + HTML, List-Unsubscribe headers."""
    mime = MimeMessage(policy=EML_POLICY)
    mime["From"] = settings.from_address or DEFAULT_FROM
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


def _content(data: str) -> dict[str, str]:
    return {"Data": data, "Charset": "UTF-8"}


def ses_request(message: EmailMessage, settings: EmailSettings, campaign_id: str) -> dict[str, Any]:
    """The exact SendEmail request for one message."""
    body: dict[str, Any] = {"Html": _content(message.html)}
    if message.text:
        body["Text"] = _content(message.text)
    request: dict[str, Any] = {
        "FromEmailAddress": settings.from_address,
        "Destination": {"ToAddresses": [message.to]},
        "Content": {
            "Simple": {
                "Subject": _content(message.subject),
                "Body": body,
                "Headers": [{"Name": name, "Value": value} for name, value in message.all_headers()],
            }
        },
        "EmailTags": [{"Name": CAMPAIGN_TAG, "Value": campaign_id}],
    }
    if settings.configuration_set:
        request["ConfigurationSetName"] = settings.configuration_set
    return request


def _email(message: Message) -> EmailMessage:
    if not isinstance(message, EmailMessage):
        raise DeliveryError("wrong_message_type", detail=type(message).__name__)
    return message


class SesDeliverer:
    """SES v2 has no idempotency token: a crash after SendEmail and before the ledger records it leaves the
    message `pending` (in doubt), which a later run resends only with --retry-pending (at-most-once by default)."""

    idempotent = False

    def __init__(self, client: Any, settings: EmailSettings) -> None:
        self.client = client
        self.settings = settings

    def describe(self) -> str:
        return f"SES SendEmail from {self.settings.from_address}"

    def deliver(self, campaign_id: str, endpoint_id: str, message: Message) -> Delivered:
        from botocore.exceptions import BotoCoreError, ClientError

        request = ses_request(_email(message), self.settings, campaign_id)
        try:
            response = self.client.send_email(**request)
        except ClientError as error:
            code = error_code(error)
            raise DeliveryError(f"ses_{code}", throttled=code in THROTTLING_CODES, fatal=code in FATAL_CODES) from None
        except BotoCoreError as error:
            raise DeliveryError(f"ses_{type(error).__name__}") from None
        return Delivered(str(response["MessageId"]))


def ses_account(client: Any) -> dict[str, Any] | str:
    """SES GetAccount's answer, or the error code when it cannot be read."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        account: dict[str, Any] = client.get_account()
    except (ClientError, BotoCoreError) as error:
        return error_code(error)
    return account


def ses_max_send_rate(client: Any) -> float | None:
    """The account's SES send rate (messages per second) from GetAccount, or None when it cannot be read."""
    account = ses_account(client)
    rate = account.get("SendQuota", {}).get("MaxSendRate") if isinstance(account, dict) else None
    return float(rate) if isinstance(rate, int | float) and rate > 0 else None


def account_findings(account: Mapping[str, Any]) -> SenderCheck:
    """Sending paused, the 24-hour quota used up (problems); the sandbox and the quota left (notes)."""
    problems, notes = [], []
    if account.get("SendingEnabled") is False:
        problems.append("SES sending is paused for this account and region (GetAccount SendingEnabled false)")
    quota = account.get("SendQuota", {})
    most, sent = quota.get("Max24HourSend"), quota.get("SentLast24Hours", 0)
    if isinstance(most, int | float) and most >= 0:
        if most - sent <= 0:
            problems.append(f"the SES 24-hour quota is used up ({sent:,.0f} of {most:,.0f} sent)")
        else:
            notes.append(f"SES quota: {most - sent:,.0f} of {most:,.0f} messages left in 24 hours")
    if account.get("ProductionAccessEnabled") is False:
        notes.append("the SES account is in the sandbox: it delivers only to verified addresses")
    return SenderCheck(tuple(problems), tuple(notes))


def identity_problem(client: Any, from_address: str) -> str | None:
    """Why --from cannot send: neither the address nor its domain is an SES identity verified for sending."""
    from botocore.exceptions import BotoCoreError, ClientError

    address = parseaddr(from_address)[1] or from_address
    domain = address.rpartition("@")[2]
    unverified = []
    for identity in dict.fromkeys((address, domain)):
        try:
            found = client.get_email_identity(EmailIdentity=identity)
        except ClientError as error:
            if error_code(error) == "NotFoundException":
                continue
            code = error_code(error)
            return f"cannot check the SES identity of --from (GetEmailIdentity: {code}; grant ses:GetEmailIdentity)"
        except BotoCoreError as error:
            return f"cannot check the SES identity of --from: {error}"
        if found.get("VerifiedForSendingStatus"):
            return None
        unverified.append(f"{identity} (VerificationStatus {found.get('VerificationStatus', 'unknown')})")
    if unverified:
        return f"--from {address}: the SES identity {' and '.join(unverified)} is not verified for sending yet"
    return (
        f"--from {address}: neither the address nor the domain {domain} is an SES identity in this account and "
        "region: verify one first"
    )


class EmailSender(Sender):
    def __init__(self, settings: EmailSettings) -> None:
        self.settings = settings

    def outbox_file(self, message: Message, campaign_id: str, endpoint_id: str) -> OutboxFile:
        resolved = self.settings.model_copy(update={"from_address": self.settings.from_address or DEFAULT_FROM})
        return OutboxFile("eml", email_mime(_email(message), resolved))

    def provider(self, clients: ClientFactory) -> Deliverer:
        if not self.settings.from_address or self.settings.from_address == DEFAULT_FROM:
            raise PinrecError(NEEDS_FROM)
        return SesDeliverer(clients("sesv2"), self.settings)


def _address(endpoint: Mapping[str, Any]) -> str:
    value = endpoint.get("Address")
    if not isinstance(value, str) or not value.strip():
        raise ComposeError("no_address")
    return value


class EmailChannel(Channel):
    name = NAME
    title = "email"
    endpoint_types = frozenset({"EMAIL"})
    parts = (SUBJECT, HTML, TEXT)
    pinpoint = PinpointTemplateType("EMAIL", "EmailTemplateRequest", "EmailTemplateResponse", "email_template")
    template_character_limit = 600_000
    sender_settings = EmailSettings
    send_options = (
        SendOption("--from", "from_address", "email From address (a verified SES identity)"),
        SendOption("--configuration-set", "configuration_set", "SES or SMS configuration set"),
    )
    summary_label = "email size"

    def check_sendable(self, template: str, links: Mapping[str, Any]) -> None:
        if not links.get("unsubscribe_url"):
            raise PinrecError(
                f"template {template} sets no links.unsubscribe_url: email campaigns need a List-Unsubscribe link"
            )

    def template_request(self, parts: Mapping[Part, str], settings: Settings | None) -> dict[str, Any]:
        return {"Subject": parts[SUBJECT], "HtmlPart": parts[HTML], "TextPart": parts[TEXT]}

    def compose(self, given: ComposeInput) -> EmailMessage:
        address = _address(given.endpoint)
        return EmailMessage(
            to=address,
            subject=given.render(SUBJECT).strip(),
            html=given.render(HTML),
            text=given.render(TEXT) or None,
            unsubscribe_url=given.render_text(str(given.links.get("unsubscribe_url") or ""), "links.unsubscribe_url"),
        )

    def sender(self, settings: Settings, composer: object, template: Settings | None) -> EmailSender:
        assert isinstance(settings, EmailSettings)
        return EmailSender(settings)

    def default_rate(self, clients: ClientFactory) -> tuple[float, str]:
        rate = ses_max_send_rate(clients("sesv2"))
        if rate is None:
            raise PinrecError(QUOTA_UNREADABLE.format(why=""))
        return rate, f"{rate:g}/s (SES MaxSendRate)"

    def preflight(self, settings: Settings, clients: ClientFactory, *, rate: float | None) -> SenderCheck:
        """GetAccount (sending enabled, quota; without --rate it must answer: its MaxSendRate is the pace) and
        GetEmailIdentity (--from, or its domain, verified for sending)."""
        assert isinstance(settings, EmailSettings)
        if not settings.from_address or settings.from_address == DEFAULT_FROM:
            return SenderCheck((NEEDS_FROM,))
        client = clients("sesv2")
        account = ses_account(client)
        if isinstance(account, dict):
            found = account_findings(account)
        elif rate is None:
            found = SenderCheck((QUOTA_UNREADABLE.format(why=f" (GetAccount: {account})"),))
        else:
            note = f"SES account not checked (GetAccount: {account}): grant ses:GetAccount to check sending is enabled"
            found = SenderCheck(notes=(note,))
        identity = identity_problem(client, settings.from_address)
        return SenderCheck(found.problems + ((identity,) if identity else ()), found.notes)

    def preview(self, rendered: Mapping[Part, str], folder: str, endpoint_id: str) -> PreviewOutput:
        esc = html.escape
        files = {part.built_file: rendered[part] for part in self.parts if part in rendered}
        blocks = []
        if HTML in rendered:
            blocks.append(
                f"<div><h3>Email: {esc(rendered.get(SUBJECT, ''))}</h3>"
                f'<iframe sandbox="" title="Email for {esc(endpoint_id)}" '
                f'src="{esc(folder)}/{HTML.built_file}"></iframe></div>'
            )
        if TEXT in rendered:
            blocks.append(f"<div><h3>Email text part</h3><pre>{esc(rendered[TEXT])}</pre></div>")
        size = f"{len(rendered[HTML].encode('utf-8')) / 1024:.1f} KB" if HTML in rendered else None
        return PreviewOutput(files, tuple(blocks), size)


CHANNEL = EmailChannel()
