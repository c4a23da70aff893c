"""Email: a subject, an HTML part and a text part; sent with Amazon SES v2 `SendEmail`, or written as an `.eml`.

Every EmailMessage is checked when it is made, whoever composes it: the recipient with email-validator (syntax
only, no DNS; SES takes no SMTPUTF8, so the local part must be ASCII) and sent in the validator's ASCII form; the
subject folded onto one line; every further header refused when it could break the header block; the unsubscribe
URL refused unless it is an http(s) URL of RFC 3986 characters only.

Unsubscribing (`campaign_tools.unsubscribe.links`): in the `url` and `pinrec` modes a message carries
List-Unsubscribe (its `unsubscribe_url`) and `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058). In the
`ses` mode it carries `list_management` instead: SendEmail gets `ListManagementOptions`, and SES adds its own
List-Unsubscribe headers and replaces `{{amazonSESUnsubscribeUrl}}` in the body with its link. pinrec then writes
no List-Unsubscribe of its own, in the request or the `.eml`: SES's subscription management guide says it adds
these headers itself (and replaces a sender's), and two disagreeing List-Unsubscribe headers would be worse than
one (https://docs.aws.amazon.com/ses/latest/dg/sending-email-subscription-management.html).
"""

from __future__ import annotations

import email.policy
import email.utils
import functools
import hashlib
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from email.message import EmailMessage as MimeMessage
from email.utils import parseaddr
from typing import Any
from urllib.parse import urlsplit

from campaign_tools.channels.addresses import email as email_addresses
from campaign_tools.channels.base import (
    ADDRESS_CACHE_SIZE,
    INVALID_ADDRESS,
    NO_ADDRESS,
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
from campaign_tools.channels.email_mime import plain_email_mime
from campaign_tools.events.tags import message_tags
from campaign_tools.unsubscribe.links import LINK_VARIABLE, ListManagement, Mode, UnsubscribePlan, template_mode
from transformer.aws import error_code
from transformer.errors import PinrecError

NAME = email_addresses.NAME
SUBJECT = Part("email-subject", NAME, ("email-subject.jinja",), "email-subject.txt")
HTML = Part("email-html", NAME, ("email.mjml.jinja", "email.html.jinja"), "email.html", single_line=False, markup=True)
TEXT = Part(
    "email-text", NAME, ("email-text.jinja",), "email.txt", optional=True, single_line=False, derived_from=HTML.key
)

DEFAULT_FROM = "pinrec-outbox@example.invalid"
"""The From of outbox messages when no --from is given: a reserved domain, so no such message can be mailed."""
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
MESSAGE_ID_DOMAIN = "pinrec.invalid"
"""The Message-ID's domain when the From address has none."""
INVALID_HEADER = "invalid_header"
INVALID_UNSUBSCRIBE_URL = "invalid_unsubscribe_url"
RESERVED_HEADERS = frozenset(
    {
        "from", "to", "cc", "bcc", "reply-to", "sender", "subject", "date", "message-id", "mime-version",
        "content-type", "content-transfer-encoding", "list-unsubscribe", "list-unsubscribe-post", "return-path",
    }
)  # fmt: skip
"""Headers pinrec writes itself (or that would add recipients): a composer's further headers cannot set them."""
_CONTROL_RUNS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
"""Control characters (CR, LF, tab and NUL among them) and Unicode's line and paragraph separators."""
_HEADER_NAME = re.compile(r"[!-9;-~]+")
"""RFC 5322 field names: printable ASCII but the colon."""
_URL = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
"""RFC 3986's characters: unreserved, reserved and percent-encodings."""
_URL_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]+)?([/?#]|$)")


@functools.lru_cache(maxsize=ADDRESS_CACHE_SIZE)
def check_address(address: str) -> str:
    """The recipient as SES is given it (the validator's ASCII form: the domain in IDNA, the local part as written),
    or ComposeError(INVALID_ADDRESS): one addr-spec only, no display name, quoting, IP literal or special-use
    domain, no DNS lookup."""
    from email_validator import EmailNotValidError, validate_email

    try:
        valid = validate_email(address, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        raise ComposeError(INVALID_ADDRESS) from None
    if not valid.ascii_email:
        raise ComposeError(INVALID_ADDRESS)
    return valid.ascii_email


def one_line(value: str) -> str:
    """A header value on one line: each run of control characters (CR and LF among them) becomes one space."""
    return _CONTROL_RUNS.sub(" ", value).strip()


def check_header(name: str, value: str) -> None:
    """ComposeError(INVALID_HEADER) for a further header that could break or take over the header block."""
    if not _HEADER_NAME.fullmatch(name) or name.lower() in RESERVED_HEADERS or _CONTROL_RUNS.search(value):
        raise ComposeError(INVALID_HEADER)


def check_unsubscribe_url(url: str) -> None:
    """ComposeError(INVALID_UNSUBSCRIBE_URL) unless `url` is an http(s) URL with a host, of RFC 3986 characters."""
    if not _URL.fullmatch(url):
        raise ComposeError(INVALID_UNSUBSCRIBE_URL)
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ComposeError(INVALID_UNSUBSCRIBE_URL)


@dataclass(frozen=True, slots=True)
class EmailMessage:
    """One email, checked when made (see the module): `to` becomes the validated address, `subject` one line."""

    to: str
    subject: str
    html: str
    text: str | None
    unsubscribe_url: str
    """Sent as List-Unsubscribe with one-click List-Unsubscribe-Post (RFC 8058); bulk senders must offer it."""
    headers: tuple[tuple[str, str], ...] = ()
    """Further headers, in order; List-Unsubscribe and List-Unsubscribe-Post are added from `unsubscribe_url`."""
    list_management: ListManagement | None = field(default=None, repr=False)
    """SES subscription management (the `ses` mode): SES adds the List-Unsubscribe headers, `unsubscribe_url` is not
    used (left empty). Not in the repr, so messages without it keep the `.eml` digest they always had."""

    def __post_init__(self) -> None:
        # The dataclass is frozen: the checked values replace the given ones through object.__setattr__.
        object.__setattr__(self, "to", check_address(self.to))
        object.__setattr__(self, "subject", one_line(self.subject))
        for name, value in self.headers:
            check_header(name, value)
        if self.list_management is None:
            check_unsubscribe_url(self.unsubscribe_url)

    def all_headers(self) -> tuple[tuple[str, str], ...]:
        if self.list_management is not None:
            return self.headers
        return (
            *self.headers,
            ("List-Unsubscribe", f"<{self.unsubscribe_url}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        )


class EmailSettings(Settings):
    from_address: str | None = None
    """A verified SES identity; the outbox uses DEFAULT_FROM without one."""
    configuration_set: str | None = None


def email_mime(message: EmailMessage, settings: EmailSettings, identity: tuple[str, str], created: float) -> bytes:
    """The message as RFC 5322 bytes: multipart/alternative text + HTML, List-Unsubscribe headers.

    Nothing in them is random, so the same message gives the same bytes: `Date` is `created` (when the message was
    first written), and `Message-ID` and the MIME boundary are a hash of the (campaign, endpoint) `identity`, the
    message and the settings."""
    from_address = settings.from_address or DEFAULT_FROM
    # The digest covers the message, so a changed message gets a new Message-ID.
    listed = (message.list_management,) if message.list_management is not None else ()
    seed = _tuple_repr((identity, message, settings, *listed)).encode("utf-8", "surrogatepass")
    digest = hashlib.sha256(seed).hexdigest()
    domain = email.utils.parseaddr(from_address)[1].rpartition("@")[2] or MESSAGE_ID_DOMAIN
    date = email.utils.format_datetime(datetime.fromtimestamp(int(created), UTC))
    headers = (
        ("From", from_address),
        ("To", message.to),
        ("Subject", message.subject),
        ("Date", date),
        ("Message-ID", f"<{digest[:32]}@{domain}>"),
        *message.all_headers(),
    )
    written = plain_email_mime(headers, message.html, message.text, f"=_pinrec_{digest[:32]}", EML_POLICY)
    if written is not None:
        return written
    mime = MimeMessage(policy=EML_POLICY)
    for name, value in headers:
        mime[name] = value
    if message.text:
        mime.set_content(message.text, subtype="plain", charset="utf-8")
        mime.add_alternative(message.html, subtype="html", charset="utf-8")
    else:
        mime.set_content(message.html, subtype="html", charset="utf-8")
    for part in mime.iter_parts():
        del part["MIME-Version"]
    if mime.is_multipart():
        mime.set_boundary(f"=_pinrec_{digest[:32]}")
    return mime.as_bytes()


_REPR_KEPT = bytes(range(0x20, 0x7F)) + b"\t\n\r"
"""ASCII that `repr` writes as it is or as `\\t`, `\\n`, `\\r`."""


def str_repr(text: str) -> str:
    """`repr(text)`, in a few C passes for printable ASCII text (most messages) instead of `repr`'s character walk."""
    if not text.isascii() or text.encode("ascii").translate(None, _REPR_KEPT):
        return repr(text)
    quote = '"' if "'" in text and '"' not in text else "'"
    body = text.replace("\\", "\\\\")
    if quote == "'":
        body = body.replace("'", "\\'")
    body = body.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return f"{quote}{body}{quote}"


_SHOWN_FIELDS = tuple(item.name for item in fields(EmailMessage) if item.repr)


def message_repr(message: EmailMessage) -> str:
    """`repr(message)` (the dataclass's), its text fields through `str_repr`."""
    shown = (f"{name}={_value_repr(getattr(message, name))}" for name in _SHOWN_FIELDS)
    return f"{type(message).__qualname__}({', '.join(shown)})"


def _value_repr(value: object) -> str:
    return str_repr(value) if type(value) is str else repr(value)


def _tuple_repr(values: tuple[Any, ...]) -> str:
    """`repr(values)` (two or more), an EmailMessage among them through `message_repr`: the Message-ID's digest."""
    shown = (message_repr(value) if type(value) is EmailMessage else repr(value) for value in values)
    return f"({', '.join(shown)})"


def _content(data: str) -> dict[str, str]:
    return {"Data": data, "Charset": "UTF-8"}


def ses_request(message: EmailMessage, settings: EmailSettings, campaign_id: str, endpoint_id: str) -> dict[str, Any]:
    """The exact SendEmail request for one message; its tags name the campaign and endpoint, so that its delivery
    events correlate even when its message id never reached the ledger (`campaign_tools.events.tags`)."""
    body: dict[str, Any] = {"Html": _content(message.html)}
    if message.text:
        body["Text"] = _content(message.text)
    simple: dict[str, Any] = {"Subject": _content(message.subject), "Body": body}
    headers = [{"Name": name, "Value": value} for name, value in message.all_headers()]
    if headers:
        simple["Headers"] = headers
    request: dict[str, Any] = {
        "FromEmailAddress": settings.from_address,
        "Destination": {"ToAddresses": [message.to]},
        "Content": {"Simple": simple},
    }
    tags = message_tags(campaign_id, endpoint_id)
    if tags:
        request["EmailTags"] = [{"Name": name, "Value": value} for name, value in tags.items()]
    if settings.configuration_set:
        request["ConfigurationSetName"] = settings.configuration_set
    if message.list_management is not None:
        request["ListManagementOptions"] = message.list_management.request()
    return request


def _email(message: Message) -> EmailMessage:
    if not isinstance(message, EmailMessage):
        raise DeliveryError("wrong_message_type", detail=type(message).__name__)
    return message


class SesDeliverer:
    """SES v2 has no idempotency token: a crash after SendEmail and before the ledger records it leaves the
    message `pending` (in doubt), which its delivery events settle (`campaign_tools.send.reconcile`)."""

    idempotent = False

    def __init__(self, client: Any, settings: EmailSettings) -> None:
        self.client = client
        self.settings = settings

    def describe(self) -> str:
        return f"SES SendEmail from {self.settings.from_address}"

    def deliver(self, campaign_id: str, endpoint_id: str, message: Message) -> Delivered:
        from botocore.exceptions import BotoCoreError, ClientError

        request = ses_request(_email(message), self.settings, campaign_id, endpoint_id)
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


def contact_list_problem(client: Any, wanted: ListManagement) -> str | None:
    """Why SES cannot manage this send's subscriptions: its contact list, or the topic in it, does not exist."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        found = client.get_contact_list(ContactListName=wanted.contact_list)
    except ClientError as error:
        code = error_code(error)
        if code == "NotFoundException":
            return (
                f"the SES contact list {wanted.contact_list} does not exist in this account and region: create it "
                "(sesv2 CreateContactList, with its topics) or choose another with --contact-list"
            )
        return f"cannot check the SES contact list (GetContactList: {code}; grant ses:GetContactList)"
    except BotoCoreError as error:
        return f"cannot check the SES contact list: {error}"
    topics = [topic.get("TopicName") for topic in found.get("Topics") or []]
    if wanted.topic and wanted.topic not in topics:
        listed = ", ".join(str(topic) for topic in topics) or "none"
        return f"the SES contact list {wanted.contact_list} has no topic {wanted.topic} (its topics: {listed})"
    return None


class EmailSender(Sender):
    def __init__(self, settings: EmailSettings) -> None:
        self.settings = settings

    def outbox_file(self, message: Message, campaign_id: str, endpoint_id: str, created: float) -> OutboxFile:
        resolved = self.settings.model_copy(update={"from_address": self.settings.from_address or DEFAULT_FROM})
        return OutboxFile("eml", email_mime(_email(message), resolved, (campaign_id, endpoint_id), created))

    def provider(self, clients: ClientFactory) -> Deliverer:
        if not self.settings.from_address or self.settings.from_address == DEFAULT_FROM:
            raise PinrecError(NEEDS_FROM)
        return SesDeliverer(clients("sesv2"), self.settings)


def _address(endpoint: Mapping[str, Any]) -> str:
    value = endpoint.get("Address")
    if not isinstance(value, str) or not value.strip():
        raise ComposeError(NO_ADDRESS)
    return value


class EmailChannel(Channel):
    name = NAME
    addresses = email_addresses.ADDRESSES
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
    unsubscribes = True

    def check_sendable(self, template: str, links: Mapping[str, Any]) -> None:
        """In the `url` mode (`links.unsubscribe`, the mode the send uses), links.unsubscribe_url is the link: it must
        be there and begin with its scheme and host. The other modes make their own link."""
        if template_mode(links) is not Mode.URL:
            return
        url = links.get("unsubscribe_url")
        if not url:
            raise PinrecError(
                f"template {template} sets no links.unsubscribe_url: email campaigns need a List-Unsubscribe link"
            )
        if not _URL_ORIGIN.match(str(url)):
            raise PinrecError(
                f"template {template}: links.unsubscribe_url must begin with https:// (or http://) and its host, "
                "written out: values substituted into it are percent-encoded, so they cannot supply them"
            )

    def check_address(self, address: str) -> str:
        return check_address(address)

    def template_request(self, parts: Mapping[Part, str], settings: Settings | None) -> dict[str, Any]:
        return {"Subject": parts[SUBJECT], "HtmlPart": parts[HTML], "TextPart": parts[TEXT]}

    def compose(self, given: ComposeInput) -> EmailMessage:
        address = _address(given.endpoint)
        if given.unsubscribe is None:
            return EmailMessage(
                to=address,
                subject=given.render(SUBJECT).strip(),
                html=given.render(HTML),
                text=given.render(TEXT) or None,
                unsubscribe_url=given.render_url(
                    str(given.links.get("unsubscribe_url") or ""), "links.unsubscribe_url"
                ),
            )
        to = check_address(address)
        link = given.unsubscribe(to)
        variables = {LINK_VARIABLE: link.body_url}
        return EmailMessage(
            to=to,
            subject=given.render(SUBJECT, variables).strip(),
            html=given.render(HTML, variables),
            text=given.render(TEXT, variables) or None,
            unsubscribe_url=link.header_url,
            list_management=link.list_management,
        )

    def sender(self, settings: Settings, composer: object, template: Settings | None) -> EmailSender:
        assert isinstance(settings, EmailSettings)
        return EmailSender(settings)

    def default_rate(self, clients: ClientFactory) -> tuple[float, str]:
        rate = ses_max_send_rate(clients("sesv2"))
        if rate is None:
            raise PinrecError(QUOTA_UNREADABLE.format(why=""))
        return rate, f"{rate:g}/s (SES MaxSendRate)"

    def preflight(
        self, settings: Settings, clients: ClientFactory, *, rate: float | None, composer: object = None
    ) -> SenderCheck:
        """GetAccount (sending enabled, quota; without --rate it must answer: its MaxSendRate is the pace),
        GetEmailIdentity (--from, or its domain, verified for sending) and, when SES manages the send's
        subscriptions (the `ses` unsubscribe mode), GetContactList (the list exists, with the topic)."""
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
        plan = getattr(composer, "unsubscribe", None)
        listed = plan.list_management if isinstance(plan, UnsubscribePlan) else None
        contact_list = contact_list_problem(client, listed) if listed is not None else None
        problems = [problem for problem in (identity, contact_list) if problem]
        return SenderCheck(found.problems + tuple(problems), found.notes)

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
