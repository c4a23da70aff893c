"""Reading attributes out of an HTML tag, for the rules that check the email's markup."""

from __future__ import annotations

import re


def attribute(tag: str, name: str) -> str | None:
    found = re.search(rf"""\b{name}\s*=\s*["']([^"']*)["']""", tag)
    return found.group(1) if found else None
