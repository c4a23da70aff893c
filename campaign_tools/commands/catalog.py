"""`pinrec catalog load|get|stats`: load a catalog snapshot into SQLite, S3 or DynamoDB, and look inside one."""

from __future__ import annotations

import argparse
import contextlib
import json
import sqlite3
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from campaign_tools.catalog.records import CatalogLoadError, InvalidRecord, Record, read_csv, read_jsonl
from campaign_tools.catalog.sources import open_source
from campaign_tools.catalog.sqlite_snapshot import write_snapshot
from campaign_tools.catalog.summary import LoadSummary
from campaign_tools.catalog.target import CatalogTarget, resolve_target
from campaign_tools.console import Progress
from transformer import files
from transformer.aws import AwsOptions
from transformer.stores.base import Item
from transformer.stores.sqlite import SqliteItemStore, open_catalog_readonly

LOAD_DESCRIPTION = """\
Load a catalog source as a complete snapshot: items absent from the source are gone afterwards (use --merge
to upsert instead). SOURCE is a local file, s3://BUCKET/KEY, or - for standard input; JSON Lines (one item
object per line) or CSV (a header row, then one item per row), each optionally gzip-compressed (recognised by
content). Everything streams in constant memory.

SQLite: the new catalog is built beside the old one and swapped in atomically (for an s3:// path, built
locally and uploaded whole). DynamoDB: items are written stamped with a load version, and items of older
versions are deleted only after the whole source was written. A malformed record fails the load, naming its
line, before anything is swapped or purged; --skip-invalid skips and reports each such line instead.

CSV cells that are JSON numbers become numbers, true/false become booleans, empty cells leave the field out,
everything else is text; --string-columns keeps the named columns as text."""


def register(commands: argparse._SubParsersAction) -> None:
    catalog = commands.add_parser("catalog", help="load and inspect item catalogs")
    actions = catalog.add_subparsers(title="actions", metavar="ACTION", required=True)

    load = actions.add_parser(
        "load",
        help="load a JSONL or CSV source (file, s3://, or -) into the catalog",
        description=LOAD_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    load.add_argument("source", help="file path, s3://BUCKET/KEY, or - for standard input")
    _add_target_options(load)
    load.add_argument(
        "--format",
        choices=("jsonl", "csv"),
        help="source format (default: from the file name, else JSON Lines when the first line starts with '{')",
    )
    load.add_argument(
        "--string-columns",
        type=lambda value: [name.strip() for name in value.split(",") if name.strip()],
        default=[],
        metavar="COL,...",
        help="CSV columns whose cells stay text even when they look like numbers or booleans",
    )
    load.add_argument("--merge", action="store_true", help="upsert the source's items; keep every other item")
    load.add_argument(
        "--skip-invalid", action="store_true", help="skip malformed records (each reported) instead of failing"
    )
    load.add_argument("--allow-empty", action="store_true", help="accept a source with no items (empties the catalog)")
    load.add_argument(
        "--concurrency", type=int, default=8, metavar="N", help="DynamoDB write requests in flight (default 8)"
    )
    load.set_defaults(run=run_load)

    get = actions.add_parser("get", help="print catalog items by id, one JSON object per line")
    get.add_argument("ids", nargs="+", metavar="ID")
    _add_target_options(get)
    get.set_defaults(run=run_get)

    stats = actions.add_parser("stats", help="print the catalog's size, key, source and load time")
    _add_target_options(stats)
    stats.add_argument(
        "--count",
        action="store_true",
        help="DynamoDB: scan the table to count items exactly, per load version (DescribeTable's count lags ~6 h)",
    )
    stats.set_defaults(run=run_stats)


def _add_target_options(parser: argparse.ArgumentParser) -> None:
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--config", help="pinrec.toml whose [store] to use (default: $PINREC_CONFIG or ./pinrec.toml)")
    target.add_argument("--store", help="the store directly, as sqlite:PATH or dynamodb:TABLE")
    parser.add_argument("--key", help="item id field (default: the config's store.key, else 'id')")
    parser.add_argument(
        "--region", help="AWS region of the store: DynamoDB, or an s3:// SQLite path (default: config's, else SDK's)"
    )
    parser.add_argument(
        "--endpoint-url", help="AWS endpoint of the store, e.g. a local DynamoDB (default: the config's, else SDK's)"
    )


def _target(arguments: argparse.Namespace) -> CatalogTarget:
    return resolve_target(
        arguments.store,
        arguments.config,
        arguments.key,
        region=arguments.region,
        endpoint_url=arguments.endpoint_url,
    )


class _Rejections:
    """Reports each skipped record on stderr as it happens and counts them."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, problem: InvalidRecord) -> None:
        self.count += 1
        print(f"pinrec: rejected {problem}", file=sys.stderr)


def run_load(arguments: argparse.Namespace) -> int:
    target = _target(arguments)
    if arguments.concurrency < 1:
        raise CatalogLoadError("--concurrency must be at least 1")
    rejections = _Rejections() if arguments.skip_invalid else None
    progress = Progress("loading")
    try:
        with open_source(arguments.source, arguments.format) as opened:
            if opened.format == "csv":
                records: Iterable[Record] = read_csv(opened.lines, target.key, rejections, arguments.string_columns)
            else:
                if arguments.string_columns:
                    raise CatalogLoadError("--string-columns applies to CSV sources only")
                records = read_jsonl(opened.lines, target.key, rejections)
            summary = _load_into(target, records, arguments, rejections, progress)
    finally:
        progress.done()
    summary.rejected = rejections.count if rejections is not None else 0
    print(_describe(summary, target))
    return 0


def _load_into(
    target: CatalogTarget,
    records: Iterable[Record],
    arguments: argparse.Namespace,
    rejections: _Rejections | None,
    progress: Progress,
) -> LoadSummary:
    if target.kind == "dynamodb":
        from campaign_tools.catalog.dynamodb_snapshot import DynamoDbLoader, dynamodb_client

        client = dynamodb_client(target.region, target.endpoint_url, arguments.concurrency)
        loader = DynamoDbLoader(client, target.location, target.key, concurrency=arguments.concurrency)
        return loader.load(
            records,
            merge=arguments.merge,
            allow_empty=arguments.allow_empty,
            on_reject=rejections,
            progress=progress,
            on_phase=_announce,
        )
    options: dict[str, Any] = {
        "key": target.key,
        "source": arguments.source,
        "allow_empty": arguments.allow_empty,
        "merge": arguments.merge,
        "progress": progress,
    }
    if not target.in_s3:
        return write_snapshot(records, target.path, **options)
    aws = AwsOptions(region=target.region, endpoint_url=target.endpoint_url)
    with tempfile.TemporaryDirectory(prefix="pinrec-load-") as directory:
        local = Path(directory) / "catalog.db"
        with _as_load_error():
            files.download_object(target.location, local, aws=aws)
        summary = write_snapshot(records, local, **options)
        with _as_load_error("; the old one still serves"):
            files.upload_object(local, target.location, aws=aws)
    return summary


@contextlib.contextmanager
def _as_load_error(consequence: str = "") -> Iterator[None]:
    try:
        yield
    except files.SourceError as error:
        raise CatalogLoadError(f"{error}{consequence}") from None


def _announce(message: str) -> None:
    """A phase of a long load, shown on a terminal only (like the progress line)."""
    if sys.stderr.isatty():
        print(f"\n{message}", file=sys.stderr, flush=True)


def _describe(summary: LoadSummary, target: CatalogTarget) -> str:
    rate = summary.records / summary.seconds if summary.seconds > 0 else 0.0
    lines = [
        f"{target.describe()}: loaded {summary.loaded:,} items in {summary.seconds:.2f}s ({rate:,.0f} records/s): "
        f"{summary.added:,} added, {summary.replaced:,} replaced, {summary.purged:,} purged, "
        f"{summary.rejected:,} rejected; it now holds {summary.total:,} items"
    ]
    if summary.duplicates:
        examples = ", ".join(summary.duplicate_examples)
        lines.append(
            f"  {summary.duplicates:,} duplicate ids in the source; the last record of each won (e.g. {examples})"
        )
    return "\n".join(lines)


@contextlib.contextmanager
def _local_sqlite(target: CatalogTarget) -> Iterator[Path]:
    """The SQLite catalog file to read: the path itself, or a temporary copy of the S3 object."""
    if not target.in_s3:
        yield target.path
        return
    with tempfile.TemporaryDirectory(prefix="pinrec-catalog-") as directory:
        local = Path(directory) / "catalog.db"
        aws = AwsOptions(region=target.region, endpoint_url=target.endpoint_url)
        with _as_load_error():
            found = files.download_object(target.location, local, aws=aws)
        if not found:
            raise CatalogLoadError(f"{target.location} does not exist (create it with 'pinrec catalog load')")
        yield local


def _fetch(target: CatalogTarget, ids: list[str]) -> dict[str, Item]:
    if target.kind == "dynamodb":
        from transformer.stores.dynamodb import DynamoDbItemStore

        store: Any = DynamoDbItemStore(
            target.location, target.key, region=target.region, endpoint_url=target.endpoint_url
        )
        try:
            return store.get_many(ids)
        finally:
            store.close()
    with _local_sqlite(target) as path:
        store = SqliteItemStore(path)
        try:
            return store.get_many(ids)
        finally:
            store.close()


def run_get(arguments: argparse.Namespace) -> int:
    target = _target(arguments)
    items = _fetch(target, list(dict.fromkeys(arguments.ids)))
    missing = [item_id for item_id in arguments.ids if item_id not in items]
    for item_id in arguments.ids:
        if item_id in items:
            print(json.dumps(items[item_id], ensure_ascii=False))
    for item_id in missing:
        print(f"pinrec: not in the catalog: {item_id}", file=sys.stderr)
    return 1 if missing else 0


def run_stats(arguments: argparse.Namespace) -> int:
    target = _target(arguments)
    if target.kind == "dynamodb":
        _dynamodb_stats(target, exact=arguments.count)
        return 0
    with _local_sqlite(target) as path:
        connection = open_catalog_readonly(path)
        try:
            meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
            count = connection.execute("SELECT count(*) FROM items").fetchone()[0]
        except sqlite3.Error as error:
            raise CatalogLoadError(f"cannot read catalog {target.location}: {error}") from None
        finally:
            connection.close()
        size = path.stat().st_size
    print(f"catalog    {target.location}")
    print(f"items      {count:,}")
    print(f"size       {size:,} bytes")
    print(f"key field  {meta.get('key_field', '?')}")
    print(f"source     {meta.get('source', '?')}")
    print(f"loaded at  {meta.get('loaded_at', '?')}")
    return 0


def _dynamodb_stats(target: CatalogTarget, *, exact: bool) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    from campaign_tools.catalog.dynamodb_snapshot import dynamodb_client
    from transformer.stores.dynamodb import LOAD_VERSION_ATTRIBUTE

    client = dynamodb_client(target.region, target.endpoint_url)
    try:
        table = client.describe_table(TableName=target.location)["Table"]
        versions: Counter[str] = Counter()
        if exact:
            pages = client.get_paginator("scan").paginate(
                TableName=target.location,
                ProjectionExpression="#v",
                ExpressionAttributeNames={"#v": LOAD_VERSION_ATTRIBUTE},
            )
            for page in pages:
                versions.update(item.get(LOAD_VERSION_ATTRIBUTE, {}).get("S", "(none)") for item in page["Items"])
    except ClientError as error:
        raise CatalogLoadError(
            f"DynamoDB table {target.location}: {error.response.get('Error', {}).get('Code', 'error')}"
        ) from None
    except BotoCoreError as error:
        raise CatalogLoadError(f"DynamoDB table {target.location}: {error}") from None
    key = ", ".join(f"{element['AttributeName']} ({element['KeyType']})" for element in table["KeySchema"])
    print(f"table      {target.location}")
    if exact:
        print(f"items      {sum(versions.values()):,}")
        for version, count in sorted(versions.items()):
            print(f"  load {version}: {count:,}")
    else:
        print(f"items      ~{table.get('ItemCount', 0):,} (DynamoDB's estimate; --count for an exact scan)")
    print(f"size       ~{table.get('TableSizeBytes', 0):,} bytes")
    print(f"key        {key}")
    print(f"status     {table.get('TableStatus', '?')}")
