"""`pinrec catalog load|get|stats`: load a catalog snapshot and look inside one."""

from __future__ import annotations

import argparse
import contextlib
import json
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from campaign_tools.catalog.records import CatalogLoadError, read_jsonl
from campaign_tools.catalog.sqlite_snapshot import LoadSummary, write_snapshot
from campaign_tools.catalog.target import CatalogTarget, resolve_target
from campaign_tools.console import Progress
from transformer.stores.sqlite import SqliteItemStore, open_catalog_readonly


def register(commands: argparse._SubParsersAction) -> None:
    catalog = commands.add_parser("catalog", help="load and inspect item catalogs")
    actions = catalog.add_subparsers(title="actions", metavar="ACTION", required=True)

    load = actions.add_parser(
        "load",
        help="replace the catalog with the items of a JSON Lines file",
        description="Load a JSON Lines file (one item object per line) as a complete snapshot: items absent "
        "from the file are gone afterwards. The new catalog is built aside and swapped in atomically; a "
        "malformed line fails the load, naming the line, and leaves the previous catalog serving.",
    )
    load.add_argument("source", help="JSON Lines file, or - for standard input")
    _add_target_options(load)
    load.add_argument("--allow-empty", action="store_true", help="accept a source with no items")
    load.set_defaults(run=run_load)

    get = actions.add_parser("get", help="print catalog items by id, one JSON object per line")
    get.add_argument("ids", nargs="+", metavar="ID")
    _add_target_options(get)
    get.set_defaults(run=run_get)

    stats = actions.add_parser("stats", help="print the catalog's size, source and load time")
    _add_target_options(stats)
    stats.set_defaults(run=run_stats)


def _add_target_options(parser: argparse.ArgumentParser) -> None:
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--config", help="pinrec.toml whose [store] to use (default: $PINREC_CONFIG or ./pinrec.toml)")
    target.add_argument("--store", help="the store directly, as sqlite:PATH")
    parser.add_argument("--key", help="item id field (default: the config's store.key, else 'id')")


@contextlib.contextmanager
def _open_source(source: str) -> Iterator[TextIO]:
    if source == "-":
        yield sys.stdin
        return
    try:
        handle = open(source, encoding="utf-8")  # noqa: SIM115 - closed below, after the caller reads it
    except FileNotFoundError:
        raise CatalogLoadError(f"source {source} not found") from None
    except OSError as error:
        raise CatalogLoadError(f"cannot read source {source}: {error.strerror}") from None
    with handle:
        yield handle


def run_load(arguments: argparse.Namespace) -> int:
    target = resolve_target(arguments.store, arguments.config, arguments.key)
    progress = Progress("loading")
    with _open_source(arguments.source) as lines:
        try:
            summary = write_snapshot(
                read_jsonl(lines, target.key),
                target.path,
                key=target.key,
                source=arguments.source,
                allow_empty=arguments.allow_empty,
                progress=progress,
            )
        except UnicodeDecodeError as error:
            raise CatalogLoadError(f"source {arguments.source} is not UTF-8 text ({error.reason})") from None
        finally:
            progress.done()
    print(_describe(summary, target))
    return 0


def _describe(summary: LoadSummary, target: CatalogTarget) -> str:
    lines = [
        f"catalog {target.path}: loaded {summary.loaded:,} items in {summary.seconds:.2f}s "
        f"({summary.added:,} added, {summary.replaced:,} replaced, {summary.purged:,} purged)"
    ]
    if summary.duplicates:
        examples = ", ".join(summary.duplicate_examples)
        lines.append(
            f"  {summary.duplicates:,} duplicate ids in the source; the last record of each won (e.g. {examples})"
        )
    return "\n".join(lines)


def run_get(arguments: argparse.Namespace) -> int:
    target = resolve_target(arguments.store, arguments.config, arguments.key)
    store = SqliteItemStore(target.path)
    try:
        items = store.get_many(list(dict.fromkeys(arguments.ids)))
    finally:
        store.close()
    missing = [item_id for item_id in arguments.ids if item_id not in items]
    for item_id in arguments.ids:
        if item_id in items:
            print(json.dumps(items[item_id], ensure_ascii=False))
    for item_id in missing:
        print(f"pinrec: not in the catalog: {item_id}", file=sys.stderr)
    return 1 if missing else 0


def run_stats(arguments: argparse.Namespace) -> int:
    target = resolve_target(arguments.store, arguments.config, arguments.key)
    connection = open_catalog_readonly(Path(target.path))
    try:
        meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
        count = connection.execute("SELECT count(*) FROM items").fetchone()[0]
    except sqlite3.Error as error:
        raise CatalogLoadError(f"cannot read catalog {target.path}: {error}") from None
    finally:
        connection.close()
    print(f"catalog    {target.path}")
    print(f"items      {count:,}")
    print(f"size       {target.path.stat().st_size:,} bytes")
    print(f"key field  {meta.get('key_field', '?')}")
    print(f"source     {meta.get('source', '?')}")
    print(f"loaded at  {meta.get('loaded_at', '?')}")
    return 0
