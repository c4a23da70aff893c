"""The `.eml` bytes of an email written directly, byte for byte what the `email` package's generator writes for
the structure `channels.email.email_mime` builds, when every header value is plain enough that the package would
write it unchanged (no folding, quoting or encoded words). Otherwise it answers None and the package builds it.

Building the message with `email.message.EmailMessage` parses each header through the header registry, moves the
content into sub-parts and flattens it through the generator: milliseconds per message. The bodies are encoded by the
package's own choice and functions (`email.contentmanager._encode_text`'s 7bit / 8bit / quoted-printable / base64
choice, `quoprimime.body_encode`, whose quoting table is applied in one regular expression pass); only the
assembling is done here. tests/campaign_tools/channels/test_email_mime.py compares
both ways over random messages.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Sequence
from email import quoprimime
from email.contentmanager import _encode_base64  # type: ignore[attr-defined]
from email.policy import Policy
from typing import Any

_BODY_MAP: list[str] = quoprimime._QUOPRI_BODY_ENCODE_MAP  # type: ignore[attr-defined]

CRLF = "\r\n"
_PLAIN_VALUE = re.compile(r"[!-~]+( [!-~]+)*")
"""Printable ASCII, single spaces between words: what an unstructured header keeps as it is."""
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9_+-]+(\.[A-Za-z0-9_+-]+)*@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*")


def _header(name: str, value: str, policy: Policy) -> str | None:
    """The header's line; None when the package might fold, quote or encode it."""
    if len(name) + 2 + len(value) > (policy.max_line_length or 0) or not _PLAIN_VALUE.fullmatch(value) or "=?" in value:
        return None
    return f"{name}: {value}{CRLF}"


class _Latin1(str):
    """Text `quoprimime.body_encode` quotes with one regular expression pass instead of its per-character
    `translate` table (the same table: the same output, several times faster on a 28 KB body)."""

    __slots__ = ()

    def translate(self, table: Any) -> str:
        # "=" first (HTML is full of them), then the rare others: their "=XX" is not quoted again.
        escaped = self.replace("=", "=3D")
        if not escaped.encode("latin-1").translate(None, _KEPT_BYTES):
            return escaped  # nothing else to quote: most bodies (a C pass instead of the expression's scan)
        return _UNSAFE.sub(_quoted, escaped)


_QUOTED = list(_BODY_MAP)
_UNSAFE = re.compile("[" + "".join(re.escape(chr(o)) for o in range(256) if _QUOTED[o] not in (chr(o), "=3D")) + "]")
_KEPT_BYTES = bytes(o for o in range(256) if _QUOTED[o] in (chr(o), "=3D"))
"""Characters (as Latin-1 bytes) `_UNSAFE` leaves as they are."""


def _quoted(match: re.Match[str]) -> str:
    return _QUOTED[ord(match.group())]


def _encode_text(string: str, policy: Policy) -> tuple[str, str]:
    """`email.contentmanager._encode_text(string, "utf-8", None, policy)`, quoting through `_Latin1`."""
    lines = string.encode("utf-8").splitlines()
    linesep = policy.linesep.encode("ascii")
    max_length = policy.max_line_length or 0
    if max((len(line) for line in lines), default=0) <= max_length:
        try:
            return "7bit", (b"\n".join(lines) + b"\n").decode("ascii")
        except UnicodeDecodeError:
            pass
        if policy.cte_type == "8bit":
            return "8bit", (b"\n".join(lines) + b"\n").decode("ascii", "surrogateescape")
    sniff = linesep.join(lines[:10]) + linesep
    sniff_qp = quoprimime.body_encode(_Latin1(sniff.decode("latin-1")), max_length)
    if len(sniff_qp) > len(binascii.b2a_base64(sniff)):
        return "base64", _encode_base64(linesep.join(lines) + linesep, max_length)
    if len(lines) <= 10:
        return "quoted-printable", sniff_qp
    return "quoted-printable", quoprimime.body_encode(
        _Latin1((b"\n".join(lines) + b"\n").decode("latin-1")), max_length
    )


def _part(text: str, subtype: str, policy: Policy) -> tuple[str, str] | None:
    """(Content-Type and Content-Transfer-Encoding lines, the body as written) of one text part."""
    cte, payload = _encode_text(text, policy)
    if "\r" in payload:
        return None
    heading = f'Content-Type: text/{subtype}; charset="utf-8"{CRLF}Content-Transfer-Encoding: {cte}{CRLF}'
    return heading, payload.replace("\n", CRLF)


def plain_email_mime(
    headers: Sequence[tuple[str, str]],
    html: str,
    text: str | None,
    boundary: str,
    policy: Policy,
) -> bytes | None:
    """The message's bytes (headers in order, then the content), or None when the package must build them.

    `headers` are (From, To, Subject, Date, Message-ID, then the message's own); From and To must be plain addresses.
    """
    lines = []
    for index, (name, value) in enumerate(headers):
        if index < 2 and not _PLAIN_ADDRESS.fullmatch(value):
            return None
        line = _header(name, value, policy)
        if line is None:
            return None
        lines.append(line)
    head = "".join(lines)
    html_part = _part(html, "html", policy)
    if html_part is None:
        return None
    if not text:
        written = f"{head}{html_part[0]}MIME-Version: 1.0{CRLF}{CRLF}{html_part[1]}"
        return written.encode("ascii", "surrogateescape")
    text_part = _part(text, "plain", policy)
    if text_part is None:
        return None
    delimiter = f"--{boundary}"
    written = (
        f'{head}MIME-Version: 1.0{CRLF}Content-Type: multipart/alternative; boundary="{boundary}"{CRLF}{CRLF}'
        f"{delimiter}{CRLF}{text_part[0]}{CRLF}{text_part[1]}"
        f"{CRLF}{delimiter}{CRLF}{html_part[0]}{CRLF}{html_part[1]}"
        f"{CRLF}{delimiter}--{CRLF}"
    )
    return written.encode("ascii", "surrogateescape")
