"""`[store] kind = "profile-items"`: the catalog is the item fields an Amazon Connect Customer Profiles recommender
returns with each recommendation (GetProfileRecommendations' `CatalogItem`), so a send from
`--recommendations customer-profiles:...` needs no catalog of its own.

The send supplies the items (`ProfileItemsReader.supply`, from `campaign_tools.send.profile_items`); each is read as
a catalog item document by the field mapping below (`fields` renames). With a `[store.catalog]` table, that catalog
is read first and the profile item fields fill only the ids it lacks. Outside a send (the Lambda Pinpoint calls,
`pinrec config check` without `--items`) nothing is supplied: the reader holds the catalog's items, or none.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import Field, field_validator, model_validator

from transformer.aws import AwsOptions
from transformer.errors import PinrecError
from transformer.stores.base import (
    CatalogLoadError,
    CatalogStats,
    DamagedDocument,
    ItemStore,
    LoadOptions,
    LoadSummary,
    Precomputed,
    Record,
    StoreConfig,
    Stored,
)

KIND = "profile-items"
ATTRIBUTES = "Attributes"
ATTRIBUTE_PREFIX = f"{ATTRIBUTES}."
DEFAULT_FIELDS: dict[str, str] = {
    "Name": "name",
    "Code": "code",
    "Type": "type",
    "Category": "category",
    "Description": "description",
    "AdditionalInformation": "additional_information",
    "Link": "url",
    "ImageLink": "image_url",
    "Price": "price",
    "CreatedAt": "created_at",
    "UpdatedAt": "updated_at",
    ATTRIBUTES: "attributes",
}
"""CatalogItem field -> document field; `Id` goes to the store's `key`. Values are copied as the service returned
them (Price is text, e.g. "89.00"); CreatedAt and UpdatedAt as ISO 8601 text; Attributes as an object."""


class ProfileItemsStoreConfig(StoreConfig):
    kind: Literal["profile-items"]
    key: str = Field(default="id", min_length=1, description="the document field holding CatalogItem.Id")
    fields: dict[str, str] = Field(
        default_factory=dict,
        description="CatalogItem field (or Attributes.NAME) -> document field, over the default mapping",
    )
    catalog: StoreConfig | None = None
    """A catalog read first; the profile item fields fill only the ids it lacks."""

    @field_validator("catalog", mode="before")
    @classmethod
    def _catalog_of_its_kind(cls, value: object) -> StoreConfig | None:
        from transformer.stores.registry import store_config

        if value is None:
            return None
        if isinstance(value, Mapping) and value.get("kind") == KIND:
            raise ValueError("the catalog read before the profile items must be a catalog (sqlite or dynamodb)")
        return store_config(value)

    @field_validator("fields")
    @classmethod
    def _known_fields(cls, fields: dict[str, str]) -> dict[str, str]:
        for source, target in fields.items():
            if source not in DEFAULT_FIELDS and not (
                source.startswith(ATTRIBUTE_PREFIX) and len(source) > len(ATTRIBUTE_PREFIX)
            ):
                raise ValueError(
                    f"{source!r} is not a CatalogItem field: expected one of {', '.join(DEFAULT_FIELDS)} or "
                    "Attributes.NAME (Id is the store's key)"
                )
            if not target:
                raise ValueError(f"{source}: the document field name must not be empty")
        return fields

    @model_validator(mode="after")
    def _distinct_targets(self) -> Self:
        if self.catalog is not None and self.key != self.catalog.key:
            raise ValueError(
                f"key {self.key!r} must be the catalog's key ({self.catalog.key!r}): the profile items fill the "
                "catalog's documents"
            )
        targets = [self.key, *self.mapping().values()]
        repeated = sorted({target for target in targets if targets.count(target) > 1})
        if repeated:
            raise ValueError(f"fields: more than one CatalogItem field (or the key) maps to {', '.join(repeated)}")
        return self

    def lambda_problem(self) -> str | None:
        if self.catalog is not None:
            return None
        return (
            '[store] kind = "profile-items" has no catalog in the transformer Lambda: profile items exist only in a'
            " pinrec send with customer-profiles recommendations. Give the Lambda a catalog: a sqlite or dynamodb"
            " [store], or [store.catalog]"
        )

    def mapping(self) -> dict[str, str]:
        """CatalogItem field (or Attributes.NAME) -> document field, defaults and `fields` together."""
        return {**DEFAULT_FIELDS, **self.fields}

    @classmethod
    def from_location(cls, location: str, key: str) -> Self:
        raise PinrecError("profile items are not a catalog --store can name: set [store] kind in pinrec.toml")

    @property
    def location(self) -> str:
        return self.catalog.location if self.catalog is not None else "customer-profiles"

    def describe(self) -> str:
        profile = "the item fields Customer Profiles returns"
        return profile if self.catalog is None else f"{self.catalog.describe()}, then {profile}"

    def resolved(self, base_dir: Path) -> Self:
        if self.catalog is None:
            return self
        return self.model_copy(update={"catalog": self.catalog.resolved(base_dir)})

    def bundled_file(self) -> str | None:
        return self.catalog.bundled_file() if self.catalog is not None else None

    def open_store(self, aws: AwsOptions | None = None) -> ProfileItemsReader:
        catalog = self.catalog.open_store(aws) if self.catalog is not None else None
        return ProfileItemsReader(self.key, self.mapping(), catalog)

    def load(self, records: Iterable[Record], options: LoadOptions) -> LoadSummary:
        if self.catalog is None:
            raise CatalogLoadError(
                "[store] kind = 'profile-items' has no catalog to load: its items are the fields Customer Profiles "
                "returns with each recommendation (a [store.catalog] table names a catalog read first)"
            )
        return self.catalog.load(records, options)

    def stats(self, aws: AwsOptions | None = None, *, exact: bool = False) -> CatalogStats:
        if self.catalog is not None:
            return self.catalog.stats(aws, exact=exact)
        return CatalogStats(
            {"kind": KIND, "location": self.location, "items": None},
            [f"catalog    {self.describe()} (supplied during a send; nothing is stored)"],
        )


def item_document(raw: object, key: str, mapping: Mapping[str, str]) -> Stored:
    """A CatalogItem (any JSON value) as a catalog item document; values are kept as they are, so the attributes'
    own rules decide (a field that is an object has no value: `no_value`, never a failure)."""
    if not isinstance(raw, Mapping):
        return DamagedDocument(f"the catalog item is a {type(raw).__name__}, not an object")
    document: dict[str, Any] = {key: raw.get("Id")}
    attributes = raw.get(ATTRIBUTES)
    for source, target in mapping.items():
        if source.startswith(ATTRIBUTE_PREFIX):
            name = source.removeprefix(ATTRIBUTE_PREFIX)
            if isinstance(attributes, Mapping) and name in attributes:
                document[target] = attributes[name]
        elif source in raw:
            value = raw[source]
            document[target] = value.isoformat() if isinstance(value, datetime.datetime) else value
    return document


class ProfileItemsReader:
    """The items supplied by the send (CatalogItem objects by item id), after the catalog when there is one."""

    def __init__(self, key: str, mapping: Mapping[str, str], catalog: ItemStore | None = None) -> None:
        self.key = key
        self.mapping = dict(mapping)
        self.catalog = catalog
        self._items: Mapping[str, object] = {}
        self._lock = threading.Lock()

    def supply(self, items: Mapping[str, object]) -> None:
        """The CatalogItems to serve, by item id: a mapping the caller may keep adding to (the recommendation
        source's own), read at each lookup."""
        with self._lock:
            self._items = items

    def _profile(self, ids: Collection[str], found: Mapping[str, object]) -> dict[str, Stored]:
        items = self._items
        return {
            item_id: item_document(items[item_id], self.key, self.mapping)
            for item_id in ids
            if item_id not in found and item_id in items
        }

    def get_many(self, ids: Collection[str], *, deadline: float | None = None) -> dict[str, Stored]:
        found = self.catalog.get_many(ids, deadline=deadline) if self.catalog is not None else {}
        return {**found, **self._profile(ids, found)}

    def get_precomputed(
        self, ids: Collection[str], fingerprint: str, *, deadline: float | None = None
    ) -> dict[str, Stored | Precomputed]:
        found: dict[str, Stored | Precomputed] = {}
        if self.catalog is not None:
            precomputed = getattr(self.catalog, "get_precomputed", None)
            if precomputed is not None:
                found = precomputed(ids, fingerprint, deadline=deadline)
            else:
                found = dict(self.catalog.get_many(ids, deadline=deadline))
        return {**found, **self._profile(ids, found)}

    def sample_ids(self, count: int) -> list[str]:
        sample = self.catalog.sample_ids(count) if self.catalog is not None else []
        supplied = [item_id for item_id in list(self._items)[: max(count - len(sample), 0)] if item_id not in sample]
        if not sample and not supplied and self.catalog is None:
            raise PinrecError(
                "the profile-items store holds the item fields Customer Profiles returns during a send, and none was "
                "returned yet (pinrec config check --items FILE checks a file of items)"
            )
        return [*sample, *supplied]

    def close(self) -> None:
        if self.catalog is not None:
            self.catalog.close()
