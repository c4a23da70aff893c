"""The `.eml` bytes of an email written directly, byte for byte what the `email` package's generator writes for
the structure `channels.email.email_mime` builds, when every header value is plain enough that the package would
write it unchanged (no folding, quoting or encoded words). Otherwise it answers None and the package builds it.

Building the message with `email.message.EmailMessage` parses each header through the header registry, moves the
content into sub-parts and flattens it through the generator: milliseconds per message. The bodies are encoded by the
package's own function (`email.contentmanager._encode_text`: the same 7bit / 8bit / quoted-printable / base64
choice and encoding); only the assembling is done here. tests/campaign_tools/channels/test_email_mime.py compares
both ways over random messages.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from email.contentmanager import _encode_text  # type: ignore[attr-defined]
from email.policy import Policy

CRLF = "\r\n"
_PLAIN_VALUE = re.compile(r"[!-~]+( [!-~]+)*")
"""Printable ASCII, single spaces between words: what an unstructured header keeps as it is."""
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9_+-]+(\.[A-Za-z0-9_+-]+)*@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*")


def _header(name: str, value: str, policy: Policy) -> str | None:
    """The header's line; None when the package might fold, quote or encode it."""
    if len(name) + 2 + len(value) > (policy.max_line_length or 0) or not _PLAIN_VALUE.fullmatch(value) or "=?" in value:
        return None
    return f"{name}: {value}{CRLF}"


def _part(text: str, subtype: str, policy: Policy) -> tuple[str, str] | None:
    """(Content-Type and Content-Transfer-Encoding lines, the body as written) of one text part."""
    cte, payload = _encode_text(text, "utf-8", None, policy)
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
