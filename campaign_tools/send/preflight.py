"""A send's preflight: what `pinrec send` checks before its first message. Every failing check is reported at once,
in one `PreflightError`; nothing is sent and nothing is written to the ledger. The checks:

- the parts: the configuration loads, the template builds and declares only configured attributes, the catalog
  opens, the recommendation source opens (`parts.assemble`);
- the segment is readable: its first batch of endpoints is read (the first rows; standard input is not read twice);
- the recommendations are readable: that batch is looked up (a source that fails for every endpoint of it stops the
  send);
- the attributes resolve: `pinrec config check` on a sample of the catalog plus the items the first batch is
  recommended; an attribute that resolves for none of them, an empty catalog, or a first batch whose recommended
  ids are all missing from the catalog would leave every endpoint out, so each stops the send;
- the ledger can be used (its kind's check: the SQLite file's folder is writable; the DynamoDB table exists with
  the ledger's key) -- not for a dry run, which uses no ledger;
- delivering can work (`--deliver` and `--on-aws` only): the channel's own check (SES account and From identity,
  the SES contact list and topic when SES manages unsubscribes, SMS origination identity, push application);
- the suppression list (`send.suppression.choose`) can be read, and how fresh its copy of the channel's provider
  list is (`pinrec suppression sync`; a warning when never synced or older than --suppression-max-age); a warning
  when a delivering send consults no list; `--on-aws`: a list the children can read (DynamoDB);
- the unsubscribe mode has what it needs (in the parts: the composer reads the signing key of the `pinrec` mode;
  `--on-aws`: a key the children can read, in Secrets Manager or SSM).

The `--on-aws` children do not run it: the CLI runs it once before starting the execution.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from campaign_tools.channels.base import ClientFactory
from campaign_tools.config_check import ConfigCheck, check_items
from campaign_tools.send.batch import BATCH_SIZE, SKIP_REASONS_FROM_LOOKUP
from campaign_tools.send.ledgers import registry as ledger_registry
from campaign_tools.send.parts import PreflightError, SendParts, assemble
from campaign_tools.send.profile_items import without_catalog
from campaign_tools.send.recommendations.base import Lookup, RecommendationSource
from campaign_tools.send.segments import SegmentEndpoint, SegmentStats, read_segment
from campaign_tools.send.settings import SendSettings
from campaign_tools.send.suppression import choose
from campaign_tools.suppression.registry import open_suppression
from campaign_tools.suppression.sync import freshness
from campaign_tools.unsubscribe.keys import is_deployable
from transformer.config import OFFERS_FROM_STORE
from transformer.errors import PinrecError
from transformer.files import STDIN, is_s3_url

CATALOG_SAMPLE = 200
"""Catalog items the attributes are checked against, besides those the first batch is recommended."""
SEGMENT_ROWS_READ = 1_000
"""Rows read at most to find the first batch of endpoints of the channel."""


@dataclass
class Preflight:
    """What the checks found besides problems: notes worth showing, and the attributes' coverage."""

    notes: list[str] = field(default_factory=list)
    attributes: ConfigCheck | None = None


class _EnoughRows(Exception):
    """The first rows were read without finding a batch of the channel's endpoints."""


def _first_batch(
    settings: SendSettings, clients: ClientFactory, problems: list[str], preflight: Preflight
) -> list[SegmentEndpoint]:
    segment = settings.segment
    if segment is None or segment == STDIN:
        return []
    stats = SegmentStats()

    def stop_after_enough_rows(endpoint_id: str, reason: object) -> None:
        if stats.rows >= SEGMENT_ROWS_READ:
            raise _EnoughRows

    endpoints: Iterator[SegmentEndpoint] = read_segment(
        segment,
        settings.channel_object,
        stats,
        segment_format=settings.segment_format,
        list_separator=settings.csv_list_separator,
        s3_client=clients("s3") if is_s3_url(segment) else None,
        on_skip=stop_after_enough_rows,
    )
    batch: list[SegmentEndpoint] = []
    try:
        for endpoint in endpoints:
            batch.append(endpoint)
            if len(batch) == BATCH_SIZE or stats.rows >= SEGMENT_ROWS_READ:
                break
    except _EnoughRows:
        pass
    except PinrecError as error:
        problems.append(f"--segment {segment}: {error}")
        return batch
    finally:
        close = getattr(endpoints, "close", None)  # a generator: closing it closes the file
        if callable(close):
            close()
    if not batch and stats.rows:
        skipped = ", ".join(f"{reason} {count}" for reason, count in stats.skipped.most_common())
        preflight.notes.append(
            f"warning: no {settings.channel} endpoint to send to among the first {stats.rows:,} rows of the segment"
            + (f" (skipped: {skipped})" if skipped else "")
            + (f" ({stats.malformed:,} malformed)" if stats.malformed else "")
        )
    return batch


def _lookup(
    source: RecommendationSource, batch: list[SegmentEndpoint], problems: list[str], preflight: Preflight, spec: str
) -> Lookup | None:
    if not batch:
        return None
    try:
        lookup = source.lookup(batch)
    except PinrecError as error:
        problems.append(f"--recommendations {spec}: {error}")
        return None
    if lookup.items:
        return lookup
    reasons = Counter(lookup.missing.values())
    listed = ", ".join(f"{reason} {count}" for reason, count in reasons.most_common())
    if any(reason not in SKIP_REASONS_FROM_LOOKUP for reason in reasons):
        problems.append(
            f"--recommendations {spec}: the lookup failed for every one of the first {len(batch)} endpoints ({listed})"
        )
    else:
        preflight.notes.append(
            f"none of the first {len(batch)} endpoints has recommendations ({listed}): check --recommendations and "
            "--id-type"
        )
    return lookup


def _attributes(parts: SendParts, lookup: Lookup | None, batch: int, problems: list[str], preflight: Preflight) -> None:
    config = parts.config
    if config.offers is not None and config.offers.catalog != OFFERS_FROM_STORE:
        return  # offers from a file: each offer's attributes were checked when the file loaded
    store = parts.transformer.store
    catalog = config.store.describe()
    recommended = list(dict.fromkeys(item for items in (lookup.items.values() if lookup else ()) for item in items))
    if not recommended and without_catalog(config):
        return  # the items are those the recommender returns: none yet, so nothing to check them on
    sample: list[str] | None = None
    try:
        sample = store.sample_ids(CATALOG_SAMPLE)
    except PinrecError as error:  # a reader may lack the right to scan (dynamodb:Scan) yet read items by id
        preflight.notes.append(f"warning: {catalog} cannot be sampled ({error}): attributes checked on fewer items")
    try:
        items = store.get_many(list(dict.fromkeys([*recommended, *(sample or [])])))
    except PinrecError as error:
        problems.append(f"{catalog}: cannot be read ({error})")
        return
    if sample is not None and not items:
        problems.append(
            f"{catalog} holds no items: every endpoint would be left out (load it with pinrec catalog load)"
        )
        return
    if recommended and not any(item_id in items for item_id in recommended):
        problems.append(
            f"none of the {len(recommended)} item ids recommended to the first {batch} endpoints is in {catalog}: "
            "check --recommendations and the configuration's [store]"
        )
    if not items:
        return
    check = check_items(config.attributes, items.values(), f"{len(items):,} items of {catalog}")
    preflight.attributes = check
    problems += check.problems()
    preflight.notes += [f"warning: {warning}" for warning in check.warnings()]


def _suppression(settings: SendSettings, clients: ClientFactory, found: Preflight, on_aws: bool) -> list[str]:
    choice = choose(settings.suppression)
    if choice.spec is None:
        if settings.suppression is None and (settings.deliver or on_aws):
            found.notes.append(
                f"warning: no suppression list ({choice.why}): bounced, complained, unsubscribed and opted-out "
                "recipients are not skipped (--suppression KIND:TARGET names one)"
            )
        return []
    named = f"suppression list {choice.describe()}"
    if on_aws and not choice.spec.startswith("dynamodb:"):
        return [
            f"{named}: the --on-aws children read the suppression list themselves, so it must be in DynamoDB "
            "(--suppression dynamodb:TABLE), or --suppression none"
        ]
    try:
        listed = open_suppression(choice.spec, clients, read_only=True)
        try:
            times = listed.sync_times()
        finally:
            listed.close()
    except PinrecError as error:
        return [f"{named}: {error}"]
    note = freshness(settings.channel, times, settings.suppression_max_age * 3600)
    if note is not None:
        found.notes.append(note if note.startswith("warning: ") else f"suppression: {note}")
    return []


def _on_aws(settings: SendSettings, problems: list[str]) -> None:
    kind, _, target = settings.recommendations.partition(":")
    if kind == "file" and not is_s3_url(target):
        problems.append(
            f"--recommendations {settings.recommendations}: the --on-aws children read it themselves, so it must be "
            "in S3 (file:s3://BUCKET/KEY)"
        )
    key = settings.unsubscribe_key
    if key and not is_deployable(key):
        problems.append(
            f"--unsubscribe-key {key}: the --on-aws children read the signing key themselves, so it must be in "
            "Secrets Manager or SSM (secretsmanager:SECRET_ID or ssm:NAME)"
        )


def preflight(
    settings: SendSettings, clients: ClientFactory, parts: SendParts | None = None, *, on_aws: bool = False
) -> tuple[SendParts, Preflight]:
    """Check the send before its first message and return its parts; PreflightError lists every problem.

    `on_aws`: the campaign runs in `--on-aws` children, which deliver and read their inputs from S3."""
    problems: list[str] = []
    found = Preflight()
    if parts is None:
        parts, problems = assemble(settings, clients)
    batch = _first_batch(settings, clients, problems, found)
    if parts is not None:
        lookup = _lookup(parts.recommendations, batch, problems, found, settings.recommendations)
        _attributes(parts, lookup, len(batch), problems, found)
    if not settings.dry_run:
        problems += ledger_registry.check_ledger(settings.ledger, clients)
    if settings.deliver or on_aws:
        composer = parts.composer if parts is not None else None
        sender = settings.channel_object.preflight(settings.sender, clients, rate=settings.rate, composer=composer)
        problems += sender.problems
        found.notes += sender.notes
    problems += _suppression(settings, clients, found, on_aws)
    if on_aws:
        _on_aws(settings, problems)
    if problems or parts is None:
        raise PreflightError(settings.campaign_id, problems)
    return parts, found
