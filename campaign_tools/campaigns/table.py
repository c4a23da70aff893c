"""The base of every table of campaign.toml, and how a location in one is named in errors."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

HIDDEN_LOCATIONS = frozenset({"channels"})
"""Model fields the file does not spell: a channel's table is written `[email]`, not `[channels.email]`."""


class Table(BaseModel):
    """A table of campaign.toml: no unknown key, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def upper(value: object) -> object:
    """Pinpoint's enum values in any case: `inclusive` is INCLUSIVE."""
    return value.upper() if isinstance(value, str) else value


def toml_path(location: tuple[int | str, ...]) -> str:
    """`treatments[1].email.template` for pydantic's ("treatments", 1, "channels", "email", "template")."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part not in HIDDEN_LOCATIONS and not part.startswith("function-"):
            path += f".{part}" if path else part
    return path or "(top level)"
