"""The enrichment core: Pinpoint endpoints in, endpoints with `Recommendations` out. Pure; no I/O, no AWS."""

from __future__ import annotations

import traceback
from collections import Counter, deque
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import chain, repeat, starmap
from pathlib import PurePath
from typing import Any, Literal, NamedTuple

from transformer.attributes import ItemValues
from transformer.errors import InvalidEventError
from transformer.items import ItemReason

RECOMMENDATION_ITEMS = "RecommendationItems"
RECOMMENDATIONS = "Recommendations"
_INVALID_ID = ItemReason.INVALID_ID  # an enum member read per item costs ~0.4 us in Python 3.11; a global does not

Choose = Callable[[str, Mapping[str, Any]], "dict[str, Any] | LeftOut"]
"""A per-endpoint strategy: the endpoint's `Recommendations` object, or why the endpoint is left out."""

Resolve = Callable[[Collection[str]], Mapping[str, ItemValues | ItemReason]]
"""Maps unique item ids to their attribute values, or to why an id has none."""


class LeftOut(StrEnum):
    """Why an endpoint is left out of the response (and so is not sent a message)."""

    NOT_OBJECT = "not_object"
    NO_ITEMS = "no_items"
    TOO_FEW_ITEMS = "too_few_items"
    NO_OFFER = "no_offer"
    """Offers mode: no offer is eligible for the endpoint (never a placeholder offer)."""
    NO_USER_ID = "no_user_id"
    """Offers mode, Personalize ranking by user id: the endpoint has no `User.UserId`."""
    RANKING_FAILED = "ranking_failed"
    """Offers mode: the endpoint's Personalize ranking failed (the rest of the batch still goes out)."""
    FAILED = "failed"
    """Handling the endpoint raised (a bug): the endpoint is left out, logged by error type and line, never values."""


@dataclass(frozen=True, slots=True)
class Policy:
    attribute_names: Sequence[str]
    min_items: int = 1
    missing: Literal["drop", "fill"] = "drop"
    fill_values: ItemValues | None = None

    def __post_init__(self) -> None:
        if self.missing == "fill" and self.fill_values is None:
            raise ValueError("the 'fill' policy needs a default value for every attribute")


@dataclass(slots=True)
class Enrichment:
    response: dict[str, Any]
    endpoints_in: int
    left_out: dict[str, LeftOut] = field(default_factory=dict)
    """Endpoint id -> why it is not in the response."""
    items_requested: int = 0
    items_resolved: int = 0
    items_missing: int = 0
    items_filled: int = 0
    unique_ids: int = 0
    items_missing_by_reason: dict[ItemReason, int] = field(default_factory=dict)
    """Unknown items by reason (plain dicts: a Counter costs a warm batch more to make than it saves)."""
    failures: dict[str, int] = field(default_factory=dict)
    """What raised for endpoints left out as `failed`: the error's type and line (see `failure_of`), never values."""

    def left_out_counts(self) -> Counter[LeftOut]:
        return Counter(self.left_out.values())

    def fail(self, endpoint_id: str, error: Exception) -> None:
        """The guard around one endpoint's handling: leave it out (`failed`) and note what raised."""
        self.response.pop(endpoint_id, None)
        self.left_out[endpoint_id] = LeftOut.FAILED
        where = failure_of(error)
        self.failures[where] = self.failures.get(where, 0) + 1


def failure_of(error: BaseException) -> str:
    """An error as the log may show it: its type and where it was raised (and, when that is outside pinrec, the
    last pinrec line on the way). Never its message: it may hold values from the event or the catalog."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return type(error).__name__
    where = f"{PurePath(frames[-1].filename).name}:{frames[-1].lineno}"
    ours = [frame for frame in frames if PurePath(frame.filename).parent.name in _PINREC_PACKAGES]
    if ours and ours[-1] is not frames[-1]:
        return f"{type(error).__name__} at {PurePath(ours[-1].filename).name}:{ours[-1].lineno} (raised in {where})"
    return f"{type(error).__name__} at {where}"


_PINREC_PACKAGES = frozenset({"transformer", "offers", "stores", "handlers"})


def endpoints_of(event: object) -> Mapping[str, Any]:
    """The `Endpoints` map of an invocation event; anything else about the event is optional."""
    if not isinstance(event, Mapping):
        raise InvalidEventError(f"event must be a JSON object, got {type(event).__name__}")
    endpoints = event.get("Endpoints")
    if not isinstance(endpoints, Mapping):
        kind = "missing" if endpoints is None else f"a {type(endpoints).__name__}"
        raise InvalidEventError(f"event 'Endpoints' must be a JSON object, got {kind}")
    return endpoints


def _item_ids(endpoint: object) -> list[object] | None:
    if not isinstance(endpoint, Mapping):
        return None
    items = endpoint.get(RECOMMENDATION_ITEMS)
    return items if isinstance(items, list) and items else None


def collect_item_ids(endpoints: Mapping[str, Any]) -> list[str]:
    """Every distinct string item id of the batch, in first-seen order (the resolver decides which are item ids)."""
    lists = []
    for endpoint in endpoints.values():
        if type(endpoint) is dict:
            items = endpoint.get(RECOMMENDATION_ITEMS)
            if type(items) is list:
                lists.append(items)
                continue
        try:
            items = _item_ids(endpoint)
            if items:
                lists.append(list(items))
        except Exception:  # noqa: S112 - the endpoint raises again in `enrich`'s guard, which leaves it out
            continue
    try:
        unique = dict.fromkeys(chain.from_iterable(lists))  # in C; an unhashable id raises TypeError
    except TypeError:
        unique = {item_id: None for items in lists for item_id in items if isinstance(item_id, str)}
    if set(map(type, unique)) - _STR:
        return [item_id for item_id in unique if isinstance(item_id, str)]
    return list(unique)


_STR = {str}


def enrich(endpoints: Mapping[str, Any], resolve: Resolve, policy: Policy) -> Enrichment:
    """Add `Recommendations` to every endpoint that has enough resolvable items; leave the others out.

    Every returned endpoint equals its input except for `Recommendations`, which holds one list of strings per
    attribute, aligned with `RecommendationItems` order (unknown items dropped or filled per the policy).
    """
    batch = _well_formed(endpoints)
    ids = collect_item_ids(endpoints) if batch is None else batch.unique_ids
    values = resolve(ids) if ids else {}
    if batch is not None:
        known = _all_known(endpoints, batch, values, policy)
        if known is not None:
            return known
    return _each_endpoint(endpoints, values, policy, len(ids))


class _WellFormed(NamedTuple):
    bodies: list[dict[str, Any]]
    id_lists: list[list[str]]
    unique_ids: list[str]
    """In first-seen order, as `collect_item_ids` gives them."""


def _well_formed(endpoints: Mapping[str, Any]) -> _WellFormed | None:
    """Every endpoint and its `RecommendationItems`, when every endpoint is an object whose items are a non-empty
    list of strings (the common case); None otherwise. All in C: no Python-level loop over the endpoints."""
    bodies = list(endpoints.values())
    if not bodies or set(map(type, bodies)) != _DICT:
        return None
    id_lists: list[Any] = list(map(dict.get, bodies, repeat(RECOMMENDATION_ITEMS)))
    if set(map(type, id_lists)) != _LIST or not min(map(len, id_lists)):
        return None
    try:
        unique = list(dict.fromkeys(chain.from_iterable(id_lists)))
    except TypeError:  # an unhashable id
        return None
    if set(map(type, unique)) != _STR:
        return None
    return _WellFormed(bodies, id_lists, unique)


def _all_known(
    endpoints: Mapping[str, Any],
    batch: _WellFormed,
    values: Mapping[str, ItemValues | ItemReason],
    policy: Policy,
) -> Enrichment | None:
    """The batch's enrichment when every item of a well-formed batch resolved and every endpoint has enough items,
    in whole-batch passes that run in C; None otherwise (then `_each_endpoint` counts and handles the unknown).
    Gives what `_each_endpoint` gives for such a batch (tests/transformer/test_enrich_paths.py)."""
    bodies, id_lists, unique_ids = batch
    if min(map(len, id_lists)) < policy.min_items:
        return None
    row_lists: list[list[Any]] = list(map(list, map(map, repeat(values.get), id_lists)))
    if set(map(type, chain.from_iterable(row_lists))) != _TUPLE:
        return None
    names = policy.attribute_names
    if set(map(len, chain.from_iterable(row_lists))) != {len(names)}:  # as zip(strict=True) checks
        return None
    # Per endpoint: dict(zip(names, map(list, zip(*rows)))), the transposition `_each_endpoint` does, unrolled
    # into maps so that no bytecode runs per endpoint (a hot batch: 157 µs in the loop, 103 µs in these passes;
    # bench/RESULTS.md, "Issue 16, third round").
    recommendations: Iterator[dict[str, list[str]]] = map(
        dict, map(zip, repeat(names), map(map, repeat(list), starmap(zip, row_lists)))
    )
    copies = list(map(dict.copy, bodies))
    deque(map(dict.__setitem__, copies, repeat(RECOMMENDATIONS), recommendations), maxlen=0)
    requested = sum(map(len, id_lists))
    return Enrichment(
        response=dict(zip(endpoints, copies, strict=True)),
        endpoints_in=len(bodies),
        items_requested=requested,
        items_resolved=requested,
        unique_ids=len(unique_ids),
    )


_DICT = {dict}
_LIST = {list}


def _each_endpoint(
    endpoints: Mapping[str, Any], values: Mapping[str, ItemValues | ItemReason], policy: Policy, unique_ids: int
) -> Enrichment:
    """`enrich` one endpoint at a time, whatever each holds: every way an endpoint can be left out or an item be
    unknown is decided and counted here."""
    result = Enrichment(response={}, endpoints_in=len(endpoints), unique_ids=unique_ids)
    names = policy.attribute_names
    fill = policy.fill_values if policy.missing == "fill" else None
    missing = result.items_missing_by_reason
    get = values.get
    response = result.response
    left_out = result.left_out
    min_items = policy.min_items
    for endpoint_id, endpoint in endpoints.items():
        try:  # the guard: whatever one endpoint's handling raises leaves that endpoint out, not the batch
            if type(endpoint) is dict:
                item_ids = endpoint.get(RECOMMENDATION_ITEMS)
                if type(item_ids) is not list or not item_ids:
                    item_ids = _item_ids(endpoint)
            elif isinstance(endpoint, Mapping):
                item_ids = _item_ids(endpoint)
            else:
                left_out[endpoint_id] = LeftOut.NOT_OBJECT
                continue
            if item_ids is None:
                left_out[endpoint_id] = LeftOut.NO_ITEMS
                continue
            try:
                rows: list[Any] = list(map(get, item_ids))  # in C; ids that are not strings are not in `values`
            except TypeError:  # an unhashable id
                rows = [get(item_id) if isinstance(item_id, str) else None for item_id in item_ids]
            requested = len(rows)
            if set(map(type, rows)) - _TUPLE:  # some item is unknown: count it, drop or fill it
                rows, resolved = _known_rows(rows, missing, fill)
            else:
                resolved = requested
            result.items_requested += requested
            result.items_resolved += resolved
            result.items_missing += requested - resolved
            if resolved < min_items:
                left_out[endpoint_id] = LeftOut.TOO_FEW_ITEMS
                continue
            result.items_filled += len(rows) - resolved
            # Transpose item rows into one list per attribute (zip runs in C: this loop is the hot path of a warm
            # batch).
            recommendations = dict(zip(names, map(list, zip(*rows, strict=True)), strict=True))
            response[endpoint_id] = {**endpoint, RECOMMENDATIONS: recommendations}
        except Exception as error:
            result.fail(endpoint_id, error)
    return result


_TUPLE = {tuple}


def _known_rows(
    rows: list[Any], missing: dict[ItemReason, int], fill: ItemValues | None
) -> tuple[list[ItemValues], int]:
    """An endpoint's rows with each unknown item (a reason, or None: not a string) counted by reason and dropped or
    filled; and how many items resolved."""
    known: list[ItemValues] = []
    resolved = 0
    for row in rows:
        if type(row) is tuple:
            resolved += 1
            known.append(row)
        else:
            reason: ItemReason = row or _INVALID_ID
            missing[reason] = missing.get(reason, 0) + 1
            if fill is not None:
                known.append(fill)
    return known, resolved


def enrich_each(endpoints: Mapping[str, Any], choose: Choose) -> Enrichment:
    """Add the `Recommendations` that `choose` gives each endpoint; leave out those it gives a reason for.

    The strategy form of `enrich`: the same contract (input endpoint unchanged plus `Recommendations`,
    non-object endpoints left out), with the per-endpoint decision delegated (offers mode uses it). `enrich` keeps
    its own inlined loop: routing it through here costs ~5% of a warm batch (bench/RESULTS.md, "Tried and rejected").
    """
    result = Enrichment(response={}, endpoints_in=len(endpoints))
    for endpoint_id, endpoint in endpoints.items():
        try:  # the same guard as `enrich`'s
            if not isinstance(endpoint, Mapping):
                result.left_out[endpoint_id] = LeftOut.NOT_OBJECT
                continue
            outcome = choose(endpoint_id, endpoint)
            if isinstance(outcome, LeftOut):
                result.left_out[endpoint_id] = outcome
                continue
            result.response[endpoint_id] = {**endpoint, RECOMMENDATIONS: outcome}
        except Exception as error:
            result.fail(endpoint_id, error)
    return result
