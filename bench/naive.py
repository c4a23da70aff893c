"""The naive baseline, as the public samples do it: for every endpoint and every item, one store lookup,
decode the item, then render each attribute. No de-duplication, no batching, no cache."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping
from typing import Any

from transformer.attributes import AttributeRenderer, Unrenderable
from transformer.config import PinrecConfig

Lookup = Callable[[str], Mapping[str, Any] | None]


def sqlite_lookup(path: str) -> Lookup:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    def lookup(item_id: str) -> Mapping[str, Any] | None:
        row = connection.execute("SELECT doc FROM items WHERE id = ?", (item_id,)).fetchone()
        return None if row is None else json.loads(row[0])

    return lookup


def dynamodb_lookup(client: Any, table: str, key: str = "id") -> Lookup:
    from boto3.dynamodb.types import TypeDeserializer

    from transformer.stores.dynamodb import RESERVED_ATTRIBUTES, plain

    deserialize = TypeDeserializer().deserialize

    def lookup(item_id: str) -> Mapping[str, Any] | None:
        item = client.get_item(TableName=table, Key={key: {"S": item_id}}).get("Item")
        if item is None:
            return None
        return {name: plain(deserialize(value)) for name, value in item.items() if name not in RESERVED_ATTRIBUTES}

    return lookup


class NaiveTransformer:
    def __init__(self, config: PinrecConfig, lookup: Lookup) -> None:
        self._renderers = [AttributeRenderer(name, spec) for name, spec in config.attributes.items()]
        self._lookup = lookup

    def handle(self, event: Mapping[str, Any]) -> dict[str, Any]:
        response: dict[str, Any] = {}
        for endpoint_id, endpoint in event["Endpoints"].items():
            recommendations: dict[str, list[str]] = {renderer.name: [] for renderer in self._renderers}
            for item_id in endpoint["RecommendationItems"]:
                item = self._lookup(item_id)
                if item is None:
                    continue
                try:
                    values = [(renderer.name, renderer.render(item)) for renderer in self._renderers]
                except Unrenderable:
                    continue
                for name, value in values:
                    recommendations[name].append(value)
            if any(recommendations.values()):
                response[endpoint_id] = {**endpoint, "Recommendations": recommendations}
        return response
