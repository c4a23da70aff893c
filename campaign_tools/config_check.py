"""`pinrec config check`: how each configured attribute resolves over real items, and why it does not.

An attribute either has the item's own value (a field, or what its template renders), falls back to its `default`,
or is unknown — and an item with an unknown attribute is unknown to the transformer, so an endpoint recommended only
such items is left out (`transformer_too_few_items`). A typo such as `{{ item.idd }}` makes every item unknown and
the campaign sends nothing: this check names the attribute and the reason before anything is sent. It reads the
catalog (every item, or a random sample), or an items file; the send's preflight and dry run run the same check on a
sample plus the items their first batch is recommended.

Reasons never quote an item's values (`transformer.attributes.Unrenderable`), only field and template names.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import Field

from campaign_tools.catalog.target import sdk_errors
from campaign_tools.settings import InvalidSettings, SettingsModel
from transformer.attributes import AttributeRenderer, Unrenderable
from transformer.aws import AwsOptions
from transformer.config import OFFERS_FROM_STORE, AttributeConfig, PinrecConfig, load_config
from transformer.stores.base import DamagedDocument, Item, ItemStore, Stored

MOSTLY = 0.5
"""An attribute unknown for more than this share of the items checked is worth a warning."""
READ_CHUNK = 500
"""Ids read from the store per lookup."""
REASONS_SHOWN = 3


@dataclass
class AttributeCoverage:
    """How one attribute resolved over the items checked."""

    name: str
    source: str
    """Where its value comes from: `field 'name'` or `template`."""
    has_default: bool
    with_value: int = 0
    """Items with their own value."""
    from_default: int = 0
    """Items without one, given the attribute's default."""
    unknown: int = 0
    """Items without one and no default: unknown to the transformer."""
    reasons: Counter[str] = field(default_factory=Counter)
    """Why items had no value of their own, by reason."""

    @property
    def checked(self) -> int:
        return self.with_value + self.from_default + self.unknown

    def count(self, renderer: AttributeRenderer, item: Item) -> bool:
        """Count `item`; False when the attribute is unknown for it."""
        try:
            renderer.value_of(item)
        except Unrenderable as why:
            self.reasons[str(why)] += 1
            if self.has_default:
                self.from_default += 1
                return True
            self.unknown += 1
            return False
        self.with_value += 1
        return True

    def why(self) -> str:
        """The commonest reasons, with their counts."""
        return ", ".join(f"{reason} ({count:,})" for reason, count in self.reasons.most_common(REASONS_SHOWN))

    def problem(self) -> str | None:
        """Set when the attribute resolves for none of the items: every endpoint would be left out."""
        if self.checked == 0 or self.unknown < self.checked:
            return None
        return (
            f"attribute {self.name} has no value for any of the {self.checked:,} items checked ({self.why()}) and no "
            "default: every item is unknown, so every endpoint would be left out (transformer_too_few_items)"
        )

    def warning(self) -> str | None:
        if self.checked == 0 or self.problem() is not None:
            return None
        if self.unknown > MOSTLY * self.checked:
            return (
                f"attribute {self.name} has no value for {self.unknown:,} of {self.checked:,} items ({self.why()}) and "
                "no default: endpoints recommended those items are left out"
            )
        if self.with_value == 0:
            return (
                f"attribute {self.name} has its own value for none of the {self.checked:,} items ({self.why()}): "
                "every message shows its default"
            )
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "has_default": self.has_default,
            "with_value": self.with_value,
            "from_default": self.from_default,
            "unknown": self.unknown,
            "reasons": dict(self.reasons.most_common()),
        }


@dataclass
class ConfigCheck:
    """Every attribute's coverage over the items checked; `problems` refuse a send, `warnings` only say."""

    checked: str
    """What was read, e.g. `all 22 items of catalog /data/catalog.db`."""
    attributes: list[AttributeCoverage]
    items: int = 0
    usable: int = 0
    """Items every attribute resolves for: those the transformer can send."""
    damaged: int = 0
    """Catalog rows whose stored document cannot be read as an item (unknown to the transformer too)."""

    def problems(self) -> list[str]:
        if self.items == 0:
            return [f"no items to check the attributes against ({self.checked})"]
        return [found for coverage in self.attributes if (found := coverage.problem()) is not None]

    def warnings(self) -> list[str]:
        found = [warning for coverage in self.attributes if (warning := coverage.warning()) is not None]
        if self.damaged:
            found.append(f"{self.damaged:,} catalog rows are damaged (their documents cannot be read as items)")
        return found

    def unknown_attributes(self) -> list[AttributeCoverage]:
        """The attributes that leave items unknown, the worst first."""
        return sorted((coverage for coverage in self.attributes if coverage.unknown), key=lambda c: -c.unknown)

    def lines(self) -> list[str]:
        width = max([len("attribute"), *(len(coverage.name) for coverage in self.attributes)])
        lines = [
            f"checked {self.checked}",
            f"  {'attribute':<{width}}  {'source':<20} {'value':>7} {'default':>7} {'unknown':>7}  why not",
        ]
        for coverage in self.attributes:
            lines.append(
                f"  {coverage.name:<{width}}  {coverage.source:<20} {coverage.with_value:>7,} "
                f"{coverage.from_default:>7,} {coverage.unknown:>7,}  {coverage.why() or '-'}"
            )
        lines.append(f"  usable items: {self.usable:,} of {self.items:,} (every attribute resolves)")
        lines += [f"error: {problem}" for problem in self.problems()]
        lines += [f"warning: {warning}" for warning in self.warnings()]
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "items": self.items,
            "usable": self.usable,
            "damaged": self.damaged,
            "attributes": [coverage.to_dict() for coverage in self.attributes],
            "problems": self.problems(),
            "warnings": self.warnings(),
        }


def check_items(attributes: Mapping[str, AttributeConfig], items: Iterable[Stored], checked: str) -> ConfigCheck:
    """Each attribute's coverage over `items` (the pure part of the check)."""
    renderers = [AttributeRenderer(name, spec) for name, spec in attributes.items()]
    coverages = [
        AttributeCoverage(name, f"field {spec.field!r}" if spec.field else "template", spec.default is not None)
        for name, spec in attributes.items()
    ]
    result = ConfigCheck(checked, coverages)
    for item in items:
        result.items += 1
        if isinstance(item, DamagedDocument):
            result.damaged += 1
            continue
        resolved = [coverage.count(renderer, item) for coverage, renderer in zip(coverages, renderers, strict=True)]
        result.usable += all(resolved)
    return result


class InvalidConfigCheckSettings(InvalidSettings):
    heading = "invalid config check settings"


class ConfigCheckSettings(SettingsModel):
    """What `pinrec config check` reads: the configuration, and the catalog (all of it, or a sample) or a file."""

    invalid: ClassVar[type[InvalidSettings]] = InvalidConfigCheckSettings

    config: str | None = None
    """pinrec.toml; None: $PINREC_CONFIG or ./pinrec.toml."""
    sample: int | None = Field(None, ge=1)
    """Check a random sample of this many catalog items instead of every item."""
    items: str | None = None
    """Check the items of this JSON Lines or CSV file (local, s3://, or -) instead of the catalog."""
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None

    def problems(self) -> list[str]:
        return ["--sample and --items are alternatives: give one"] if self.sample and self.items else []

    def aws(self) -> AwsOptions:
        return AwsOptions(region=self.region, profile=self.profile, endpoint_url=self.endpoint_url)


def items_of_store(store: ItemStore, ids: list[str]) -> Iterator[Stored]:
    """The items with these ids, read in chunks; ids the store no longer holds are left out."""
    for start in range(0, len(ids), READ_CHUNK):
        found = store.get_many(ids[start : start + READ_CHUNK])
        yield from found.values()


def items_of_file(source: str, key: str, aws: AwsOptions | None = None) -> Iterator[Item]:
    """The items of a catalog source file, typed as `pinrec catalog load` would store them."""
    # The catalog readers (and orjson) stay off the send Lambda, which runs the rest of this module.
    from campaign_tools.catalog.records import read_csv, read_jsonl
    from campaign_tools.catalog.sources import open_source

    with open_source(source, aws=aws) as opened:
        records = read_csv(opened.lines, key) if opened.format == "csv" else read_jsonl(opened.lines, key)
        for record in records:
            yield record.item


def config_check(settings: ConfigCheckSettings) -> ConfigCheck:
    """Load the configuration and check its attributes over the catalog, a sample of it, or an items file.

    In offers mode with an offers file, the attributes map offers: the offers file is what is checked."""
    config = load_config(settings.config)
    aws = settings.aws()
    items_file = settings.items or _offers_file(config)
    with sdk_errors():
        if items_file is not None:
            key = "id" if settings.items is None else config.store.key
            return check_items(config.attributes, items_of_file(items_file, key, aws), f"the items of {items_file}")
        with config.store.reading(aws) as store:
            ids = store.sample_ids(settings.sample or sys.maxsize)
            what = f"a sample of {len(ids):,} items" if settings.sample else f"all {len(ids):,} items"
            return check_items(config.attributes, items_of_store(store, ids), f"{what} of {config.store.describe()}")


def _offers_file(config: PinrecConfig) -> str | None:
    offers = config.offers
    return offers.catalog if offers is not None and offers.catalog != OFFERS_FROM_STORE else None
