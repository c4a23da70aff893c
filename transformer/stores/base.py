"""What every catalog backend provides, and the types its reader and writer share.

A backend is one module of this package holding its `[store]` model (a `StoreConfig` subclass), its reader (an
`ItemStore`: what the transformer uses), its writer (`StoreConfig.load`: what `pinrec catalog load` uses) and its
stats. `transformer.stores.registry` maps each `kind` to its module.
"""

from __future__ import annotations

import contextlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Self

from pydantic import BaseModel, ConfigDict

from transformer.aws import AwsOptions
from transformer.errors import PinrecError

if TYPE_CHECKING:
    from transformer.config import AttributeConfig

Item = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class DamagedDocument:
    """What a reader returns for an id whose stored document cannot be read as an item: it is not JSON, or its JSON
    is not an object. The caller counts that item unknown; one damaged row never fails a lookup."""

    problem: str
    """Why, without the document's content."""


@dataclass(frozen=True, slots=True)
class Precomputed:
    """An item's attribute values as its load computed them (`transformer.precompute`), for the configuration
    whose fingerprint the reader was asked for; None: an attribute has neither value nor default (`no_value`)."""

    values: tuple[str, ...] | None


Stored = Item | DamagedDocument
"""A reader's answer for an id the catalog holds."""


def decode_document(raw: object) -> Stored:
    """A stored JSON document (text or UTF-8 bytes) as an item, or why it is not one."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        if not isinstance(text, str):
            return DamagedDocument(f"the document is {type(raw).__name__}, not JSON text")
        document = json.loads(text)
    except UnicodeDecodeError:
        return DamagedDocument("the document is not UTF-8")
    except RecursionError:
        return DamagedDocument("the document is nested too deeply")
    except ValueError:
        return DamagedDocument("the document is not valid JSON")
    if not isinstance(document, dict):
        return DamagedDocument(f"the document is a JSON {type(document).__name__}, not an object")
    return document


class ItemStore(Protocol):
    """The reader: what the transformer resolves item ids with."""

    def get_many(self, ids: Collection[str], *, deadline: float | None = None) -> dict[str, Stored]:
        """Fetch the items with these ids (unique). Unknown ids, and ids the store cannot hold (a string UTF-8
        cannot encode), are absent from the result; an id whose document is damaged maps to a DamagedDocument.

        `deadline` is a `time.monotonic()` instant the lookup must finish by; a store that cannot answer
        in time raises `CatalogUnavailableError`.
        """
        ...

    def sample_ids(self, count: int) -> list[str]:
        """Up to `count` item ids spread over the catalog (every id when it holds fewer), for checking the
        configuration against real items (`pinrec config check`, the send's preflight)."""
        ...

    def close(self) -> None: ...


class PrecomputedReader(Protocol):
    """A reader that also serves the attribute values a load stored (`transformer.precompute`); the resolver uses
    it when the store has it, `ItemStore.get_many` otherwise."""

    def get_precomputed(
        self, ids: Collection[str], fingerprint: str, *, deadline: float | None = None
    ) -> dict[str, Stored | Precomputed]:
        """`get_many`, except that an item whose load stored attribute values for `fingerprint` (the running
        configuration's, `transformer.precompute.attributes_fingerprint`) maps to those values. Any other item,
        and every item of a catalog loaded for another configuration or none, maps to its document."""
        ...


class CatalogLoadError(PinrecError):
    """A catalog source cannot be loaded; nothing was changed."""


SKIP_HINT = "(use --skip-invalid to skip such lines)"

MAX_SHRINK_SHARE = 0.10
"""The largest share of a catalog's items a snapshot load removes unless told to (`--allow-shrink`): more is far
likelier a broken export, or a source most of whose lines were skipped as invalid, than a real catalog change."""


class InvalidRecord(CatalogLoadError):
    """One record of the source is malformed: the message names the source (once known), the line and the reason."""

    def __init__(self, line: int, reason: str, source: str | None = None, *, hint: bool = False) -> None:
        self.line = line
        self.reason = reason
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(f"{where}line {line}: {reason}" + (f" {SKIP_HINT}" if hint else ""))

    def named(self, source: str, *, hint: bool = False) -> InvalidRecord:
        """This problem naming `source` (unless it names one already) and, for a load it fails, how to skip it."""
        return InvalidRecord(self.line, self.reason, self.source or source, hint=hint)


class ShrinkRefused(CatalogLoadError):
    """A snapshot would remove more of the catalog than `MAX_SHRINK_SHARE`; nothing was removed."""


def check_shrink(current: int, removed: int, *, allow_shrink: bool) -> None:
    """Refuse a snapshot removing more than MAX_SHRINK_SHARE of the `current` items (an empty catalog never shrinks)."""
    if allow_shrink or current == 0 or removed / current <= MAX_SHRINK_SHARE:
        return
    raise ShrinkRefused(
        f"the source would remove {removed:,} of the catalog's {current:,} items ({removed / current:.0%}), more than "
        f"the {MAX_SHRINK_SHARE:.0%} a load removes unless told to; no item was removed "
        "(check the source, or pass --allow-shrink if the catalog really shrinks)"
    )


def nesting_depth(value: Any) -> int:
    """How deeply objects and lists nest in `value` (a scalar: 0, `{"a": 1}`: 1), level by level, without recursion."""
    depth = 0
    level = [value] if type(value) is dict or type(value) is list else []
    while level:
        depth += 1
        level = [
            child
            for container in level
            for child in (container.values() if type(container) is dict else container)
            if type(child) is dict or type(child) is list
        ]
    return depth


Reject = Callable[[InvalidRecord], None]
"""Called with each malformed record when the load skips them instead of failing."""

Progress = Callable[[int], None]
"""Called now and then with the number of records processed so far."""


@dataclass(frozen=True, slots=True)
class Record:
    """One item of a catalog source, as a writer stores it."""

    line: int
    item_id: str
    item: dict[str, Any]
    text: str
    """The item as JSON, ready to store."""


@dataclass(slots=True)
class LoadSummary:
    """What a catalog load did, whichever store it wrote to."""

    records: int = 0
    """Records read from the source and accepted (duplicates included, rejected lines excluded)."""
    loaded: int = 0
    """Distinct items written by this load."""
    added: int = 0
    replaced: int = 0
    purged: int = 0
    rejected: int = 0
    total: int = 0
    """Items in the catalog after the load."""
    duplicates: int = 0
    duplicate_examples: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "records_per_second": self.records_per_second}


@dataclass(frozen=True, slots=True)
class LoadOptions:
    """How a writer loads: snapshot or merge, and the callbacks of a long load."""

    source: str = ""
    """The source's name, recorded by stores that keep it (a SQLite catalog's meta table)."""
    merge: bool = False
    """Upsert the records and keep every other item; otherwise the catalog ends holding exactly the records."""
    allow_empty: bool = False
    """Accept a source with no items (otherwise refused, so a broken export cannot empty the catalog)."""
    allow_shrink: bool = False
    """Accept a snapshot that removes more than MAX_SHRINK_SHARE of the catalog's items (see `check_shrink`)."""
    concurrency: int = 8
    """Write requests in flight, for stores written over the network."""
    aws: AwsOptions = field(default_factory=AwsOptions)
    """Where and as whom to call AWS, for stores in AWS; the store's own settings fill what is None here."""
    on_reject: Reject | None = None
    """Called with each malformed record, which is then skipped; None: the first one fails the load."""
    progress: Progress | None = None
    on_phase: Callable[[str], None] | None = None
    """Told when a long load enters a new phase (a DynamoDB purge), for a terminal to show."""
    attributes: Mapping[str, AttributeConfig] | None = None
    """The configuration's `[attributes.*]` tables: store each item's values for them (`transformer.precompute`)."""


@dataclass(frozen=True, slots=True)
class CatalogStats:
    """What `pinrec catalog stats` shows: the figures (machine-readable) and the text lines of the same figures."""

    figures: Mapping[str, Any]
    lines: Sequence[str]

    def text(self) -> str:
        return "\n".join(self.lines)


class StoreConfig(BaseModel, ABC):
    """A `[store]` table, validated by its backend's subclass; a configured backend: reader, writer and stats.

    A subclass declares `kind: Literal["<kind>"]`, `key` (the item id field, default "id") and its own keys.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str

    if TYPE_CHECKING:  # each backend declares `key` among its own keys, so its errors keep the table's order
        key: str

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "key" not in cls.model_fields:
            raise TypeError(f"{cls.__name__} must declare `key`, the item field holding the item id")

    @classmethod
    @abstractmethod
    def from_location(cls, location: str, key: str) -> Self:
        """The store that `--store KIND:LOCATION` names (raises pydantic's ValidationError when invalid)."""

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the catalog is, as `--store KIND:LOCATION` names it: a path, a URL, a table name."""

    def lambda_problem(self) -> str | None:
        """Why the transformer Lambda could never serve items from this store (it fails the cold start), or None."""
        return None

    def describe(self) -> str:
        """The catalog as a load summary names it."""
        return f"catalog {self.location}"

    def resolved(self, base_dir: Path) -> Self:
        """This store with relative paths resolved against `base_dir` (the configuration file's folder)."""
        return self

    def bundled_file(self) -> str | None:
        """The local file (as written in the configuration) a deployment must ship with the function, if any."""
        return None

    @abstractmethod
    def open_store(self, aws: AwsOptions | None = None) -> ItemStore:
        """The reader that serves the transformer; `aws` overrides the store's own AWS settings."""

    def reading(self, aws: AwsOptions | None = None) -> contextlib.AbstractContextManager[ItemStore]:
        """A reader for one inspection (`pinrec catalog get`), closed on exit."""
        return _closing(self.open_store(aws))

    @abstractmethod
    def load(self, records: Iterable[Record], options: LoadOptions) -> LoadSummary:
        """Write `records` as a snapshot (or, with `options.merge`, an upsert); the first invalid record raises
        InvalidRecord unless `options.on_reject` takes it. A failed load leaves the previous catalog serving."""

    @abstractmethod
    def stats(self, aws: AwsOptions | None = None, *, exact: bool = False) -> CatalogStats:
        """Size, key, source and load time; `exact`: count items exactly where counting is slow (a scan)."""


@contextlib.contextmanager
def _closing(store: ItemStore) -> Iterator[ItemStore]:
    try:
        yield store
    finally:
        store.close()
