"""How an email offers unsubscribing: the mode a send uses, and each message's links in that mode.

| mode | List-Unsubscribe / -Post headers | the template's link (`{{UnsubscribeUrl}}`) | SES SendEmail |
|---|---|---|---|
| `url` (the default) | the template's `links.unsubscribe_url`, rendered per endpoint | that URL | as before |
| `pinrec` | `https://<endpoint>/u/<token>`, one-click | the same URL | as before |
| `ses` | none of pinrec's: SES adds its own | `{{amazonSESUnsubscribeUrl}}`, which SES replaces | `ListManagementOptions` |

The mode is the template's (`[links] unsubscribe` in template.toml) unless the send chooses another
(`--unsubscribe-mode`). A template whose mode is `pinrec` or `ses` prints its link through the reserved variable
`UnsubscribeUrl`, which the composer fills for each endpoint, so the same built template serves every mode, the
outbox and real sends alike; a `url` template writes `links.unsubscribe_url` into its HTML as it always did.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from campaign_tools.unsubscribe.keys import ClientFactory, load_key_ring
from campaign_tools.unsubscribe.tokens import Claims, KeyRing, issue
from transformer.aws import AwsOptions
from transformer.errors import PinrecError


class Mode(StrEnum):
    URL = "url"
    PINREC = "pinrec"
    SES = "ses"


MODES = tuple(mode.value for mode in Mode)
LINK_VARIABLE = "UnsubscribeUrl"
"""The reserved variable a `pinrec` or `ses` template prints its unsubscribe link with; the composer fills it."""
SES_UNSUBSCRIBE_URL = "{{amazonSESUnsubscribeUrl}}"
"""SES's placeholder, replaced by SES with its own unsubscribe link when the send carries ListManagementOptions."""
PREVIEW_UNSUBSCRIBE_URL = "https://unsubscribe.invalid/preview"
"""What `{{UnsubscribeUrl}}` shows in template builds, lint and previews, where no send has made the real link."""
TOKEN_ROUTE = "u"  # noqa: S105 - a path segment, not a secret
"""The path segment before the token: `https://<endpoint>/u/<token>`."""
NAME_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""Contact list and topic names pinrec accepts (SES's names are letters, digits, '_' and '-')."""
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
SECONDS_PER_DAY = 86_400


def check_name(value: str, what: str) -> str:
    if not NAME_PATTERN.fullmatch(value):
        raise PinrecError(f"{what} {value!r}: use 1-64 letters, digits, '_' or '-'")
    return value


def check_endpoint(url: str) -> str:
    """The unsubscribe endpoint's base URL: https (http only on loopback, for tests), a host, an optional path, no
    query or fragment; returned without a trailing slash."""
    parts = urlsplit(url)
    secure = parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)
    plain = re.fullmatch(r"[A-Za-z0-9\-._~:/\[\]@%]+", url) is not None
    if not secure or not parts.hostname or parts.query or parts.fragment or not plain or "@" in parts.netloc:
        raise PinrecError(
            f"--unsubscribe-endpoint {url!r}: give the function URL, https://HOST[/PATH] (no query or fragment)"
        )
    return url.rstrip("/")


def token_url(endpoint: str, token: str) -> str:
    return f"{endpoint}/{TOKEN_ROUTE}/{token}"


@dataclass(frozen=True)
class ListManagement:
    """SES subscription management: the contact list (and topic) a message belongs to."""

    contact_list: str
    topic: str | None = None

    def request(self) -> dict[str, str]:
        """SendEmail's `ListManagementOptions`."""
        options = {"ContactListName": self.contact_list}
        if self.topic:
            options["TopicName"] = self.topic
        return options


@dataclass(frozen=True)
class UnsubscribeLink:
    """One message's unsubscribe: what its headers carry and what its template's link prints."""

    header_url: str
    """List-Unsubscribe's URL; empty when SES adds its own headers (`ses` mode)."""
    body_url: str
    """What `{{UnsubscribeUrl}}` prints."""
    list_management: ListManagement | None = None


@dataclass(frozen=True)
class UnsubscribeRequest:
    """What a send asks for (from its settings); a field left None is the template's."""

    campaign_id: str
    mode: str | None = None
    contact_list: str | None = None
    topic: str | None = None
    endpoint: str | None = None
    """The function URL the `pinrec` mode's links point to."""
    key: str | None = None
    """Where the signing key is (`keys.USAGE`): only its location travels, never the key."""
    aws: AwsOptions | None = None


class UnsubscribePlan:
    """A campaign's unsubscribe, resolved: `link` makes each message's."""

    def __init__(
        self,
        mode: Mode,
        *,
        campaign_id: str = "",
        template_url: str | None = None,
        list_management: ListManagement | None = None,
        endpoint: str | None = None,
        keys: KeyRing | None = None,
        topic: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.mode = mode
        self.campaign_id = campaign_id
        self.template_url = template_url
        self.list_management = list_management
        self.endpoint = endpoint
        self.keys = keys
        self.topic = topic
        self.clock = clock

    def __repr__(self) -> str:
        return f"UnsubscribePlan(mode={self.mode.value!r}, topic={self.topic!r})"

    @property
    def topic_of_send(self) -> str | None:
        """The list or topic this send's unsubscribes are scoped to (None: everything on the channel)."""
        return self.list_management.topic if self.list_management else self.topic

    def link(self, endpoint_id: str, address: str, render_url: Callable[[str, str], str]) -> UnsubscribeLink:
        """The message's unsubscribe; `address` is the recipient as checked, `render_url` renders the template's URL."""
        if self.mode is Mode.SES:
            return UnsubscribeLink("", SES_UNSUBSCRIBE_URL, self.list_management)
        if self.mode is Mode.PINREC:
            assert self.keys is not None and self.endpoint is not None
            day = int(self.clock() // SECONDS_PER_DAY)
            token = issue(Claims(self.campaign_id, endpoint_id, address, self.topic, day), self.keys.current)
            url = token_url(self.endpoint, token)
            return UnsubscribeLink(url, url)
        url = render_url(self.template_url or "", "links.unsubscribe_url")
        return UnsubscribeLink(url, url)


def template_mode(links: Mapping[str, Any]) -> Mode:
    return Mode(links.get("unsubscribe") or Mode.URL)


def plan_unsubscribe(
    template: str,
    links: Mapping[str, Any],
    request: UnsubscribeRequest | None,
    *,
    clients: ClientFactory | None = None,
    clock: Callable[[], float] = time.time,
) -> UnsubscribePlan:
    """The mode the send uses and what it needs, checked; PinrecError naming every problem at once. The `pinrec`
    mode's signing key is read here (once per process), so a key that cannot be read stops the send before its
    first message."""
    asked = request or UnsubscribeRequest(campaign_id="")
    written = template_mode(links)
    mode = Mode(asked.mode) if asked.mode else written
    contact_list = asked.contact_list or links.get("contact_list")
    topic = asked.topic or links.get("topic")
    problems = []
    if mode is not written and written is Mode.URL:
        problems.append(
            f"template {template} writes links.unsubscribe_url into its unsubscribe link (links.unsubscribe = "
            f'"url"), so --unsubscribe-mode {mode.value} would leave that link pointing elsewhere: set links.unsubscribe '
            'to "pinrec" or "ses" in its template.toml, and its link follows the mode each send chooses'
        )
    list_management = None
    if mode is Mode.SES:
        if contact_list:
            list_management = ListManagement(str(contact_list), str(topic) if topic else None)
        else:
            problems.append(
                f"--unsubscribe-mode ses needs --contact-list NAME (or links.contact_list in template {template})"
            )
    keys = None
    if mode is Mode.PINREC:
        if not asked.endpoint:
            problems.append("--unsubscribe-mode pinrec needs --unsubscribe-endpoint (the unsubscribe function URL)")
        if not asked.key:
            problems.append("--unsubscribe-mode pinrec needs --unsubscribe-key (where the signing key is)")
        elif not problems:
            try:
                keys = load_key_ring(asked.key, clients, aws=asked.aws)
            except PinrecError as error:
                problems.append(str(error))
    if problems:
        raise PinrecError("; ".join(problems))
    return UnsubscribePlan(
        mode,
        campaign_id=asked.campaign_id,
        template_url=links.get("unsubscribe_url"),
        list_management=list_management,
        endpoint=check_endpoint(asked.endpoint) if mode is Mode.PINREC and asked.endpoint else None,
        keys=keys,
        topic=str(topic) if topic else None,
        clock=clock,
    )
