"""Pinpoint recommender configurations -> a `pinrec.toml` (the attribute mapping: each `Recommendations.<Name>`
with its display name) and `send.json` (the recommendations source a send uses: the Personalize campaign, the id
type, the items per message) per configuration.

What pinrec cannot know: which catalog field the configuration's transformer Lambda put into each attribute. Each
attribute reads the catalog field of its own name (`field = "<Name>"`), said in MIGRATION.md to check.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from campaign_tools.migrate.outcome import Outcome
from campaign_tools.migrate.source import Found
from transformer.errors import PinrecError

FOLDER_NAME = re.compile(r"[^A-Za-z0-9_-]+")
ITEM_ID_ATTRIBUTE = "ItemId"


def folder_name(found: Found) -> str:
    return FOLDER_NAME.sub("-", found.name).strip("-") or "recommender"


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def config_text(body: Mapping[str, Any], attributes: Mapping[str, str]) -> str:
    lines = [
        f"# Migrated from Pinpoint recommender configuration {body.get('Id', '?')} ({body.get('Name', 'unnamed')}).",
        "# The catalog: load it with `pinrec catalog load ITEMS.jsonl --config pinrec.toml`.",
        "[store]",
        'kind = "sqlite"',
        'path = "catalog.db"',
        "",
    ]
    for name, display in attributes.items():
        lines += [f"[attributes.{name}]", f"field = {_toml_string(name)}"]
        if display:
            lines.append(f"display_name = {_toml_string(display)}")
        lines.append("")
    return "\n".join(lines)


def convert_recommender(found: Found, out: Path, folder: str) -> tuple[Outcome, str | None]:
    """Write the configuration's folder; the outcome, and the folder (relative to `out`) when written."""
    from transformer.config import load_config

    body = found.body
    outcome = Outcome("recommender configuration", f"{found.name} ({body.get('Id', 'no Id')})", found.origin)
    given: Mapping[str, Any] = body["Attributes"] if isinstance(body.get("Attributes"), Mapping) else {}
    attributes: dict[str, str] = {}
    for key, display in given.items():
        name = str(key).removeprefix("Recommendations.")
        attributes[name] = display if isinstance(display, str) else ""
    if not attributes:
        display = body.get("RecommendationsDisplayName")
        attributes[ITEM_ID_ATTRIBUTE] = display if isinstance(display, str) else ""
        outcome.notes.append(
            f"it has no Attributes (no transformer Lambda): templates read RecommendationItems; pinrec.toml declares "
            f"one attribute, {ITEM_ID_ATTRIBUTE}, the item id (field `{ITEM_ID_ATTRIBUTE}`: set it to your catalog's key)"
        )
    relative = f"{folder}/{folder_name(found)}"
    target = out / relative
    target.mkdir(parents=True, exist_ok=True)
    (target / "pinrec.toml").write_text(config_text(body, attributes), encoding="utf-8")
    try:
        load_config(target / "pinrec.toml")
    except PinrecError as error:
        outcome.not_carried.append(f"the attribute mapping is not a valid pinrec.toml: {error}")
    provider = body.get("RecommendationProviderUri")
    id_type = "user" if body.get("RecommendationProviderIdType") == "PINPOINT_USER_ID" else "endpoint"
    per_message = body.get("RecommendationsPerMessage")
    per_message = per_message if isinstance(per_message, int) and 1 <= per_message <= 5 else 5
    send = {
        "recommendations": f"personalize:{provider}" if isinstance(provider, str) and provider else None,
        "id_type": id_type,
        "per_message": per_message,
    }
    (target / "send.json").write_text(json.dumps(send, indent=2) + "\n", encoding="utf-8")
    outcome.became.append(
        f"`{relative}/pinrec.toml`: the attribute mapping ({', '.join(attributes)}), each attribute reading the "
        "catalog field of its name: check it against what your transformer Lambda returned"
    )
    if send["recommendations"]:
        outcome.became.append(
            f"`{relative}/send.json`: `pinrec send --recommendations {send['recommendations']} --id-type {id_type} "
            f"--per-message {per_message}`"
        )
    else:
        outcome.not_carried.append("RecommendationProviderUri: missing, so no recommendations source was written")
    if body.get("RecommendationTransformerUri"):
        outcome.not_carried.append(
            f"RecommendationTransformerUri ({body['RecommendationTransformerUri']}): pinrec's transformer core runs in "
            "the send; deploy pinrec's transformer Lambda only if something else still calls one"
        )
    if body.get("RecommendationProviderRoleArn"):
        outcome.not_carried.append(
            "RecommendationProviderRoleArn: the role Pinpoint assumed; a send calls Personalize with its own "
            "credentials (personalize:GetRecommendations on the campaign)"
        )
    return outcome, relative
