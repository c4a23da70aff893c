"""`pinrec catalog load|get|stats`: parse the options, call campaign_tools.catalog, print the result."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from campaign_tools.catalog.inspect import catalog_stats, get_items
from campaign_tools.catalog.load import CatalogLoadSettings, load_catalog
from campaign_tools.catalog.target import CatalogTarget, resolve_target
from campaign_tools.commands.options import add_aws_options, aws_options
from campaign_tools.console import Progress, print_json
from transformer.stores.base import MAX_SHRINK_SHARE, InvalidRecord, LoadSummary
from transformer.stores.registry import store_option_forms

LOAD_DESCRIPTION = """\
Load a catalog source as a complete snapshot: items absent from the source are gone afterwards (use --merge
to upsert instead). SOURCE is a local file, s3://BUCKET/KEY, or - for standard input; JSON Lines (one item
object per line) or CSV (a header row, then one item per row), each optionally gzip-compressed (recognised by
content). Everything streams in constant memory.

SQLite: the new catalog is built beside the old one and swapped in atomically (for an s3:// path, built
locally and uploaded whole). DynamoDB: items are written stamped with a load version, and items of older
versions are deleted only after the whole source was written. A malformed record fails the load, naming its
file and line, before anything is swapped or purged; --skip-invalid skips and reports each such line instead.
A snapshot that would remove more than 10 % of the catalog's items is refused (nothing is removed) unless
--allow-shrink is given: a broken export, or a source most of whose lines were skipped, never wipes a catalog.

CSV cells that are JSON numbers become numbers, true/false become booleans, empty cells leave the field out,
everything else is text; --string-columns keeps the named columns as text."""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
        "--source-format",
        choices=("jsonl", "csv"),
        help="SOURCE's format (default: from the file name, else JSON Lines when the first line starts with '{')",
    )
    # The flag's earlier name: kept working for existing scripts, no longer shown.
    load.add_argument("--format", dest="source_format", choices=("jsonl", "csv"), help=argparse.SUPPRESS)
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
        "--allow-shrink",
        action="store_true",
        help=f"accept a snapshot that removes more than {MAX_SHRINK_SHARE:.0%} of the catalog's items",
    )
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
    target.add_argument("--store", help=f"the store directly, as {store_option_forms()}")
    parser.add_argument("--key", help="item id field (default: the config's store.key, else 'id')")
    add_aws_options(parser, dry_run=False)


def _target(arguments: argparse.Namespace) -> CatalogTarget:
    return resolve_target(arguments.store, arguments.config, arguments.key, aws_options(arguments))


def _report_rejection(problem: InvalidRecord) -> None:
    print(f"pinrec: rejected {problem}", file=sys.stderr)


def _announce(message: str) -> None:
    """A phase of a long load, shown on a terminal only (like the progress line)."""
    if sys.stderr.isatty():
        print(f"\n{message}", file=sys.stderr, flush=True)


def run_load(arguments: argparse.Namespace) -> int:
    settings = CatalogLoadSettings(
        source=arguments.source,
        target=_target(arguments),
        format=arguments.source_format,
        string_columns=tuple(arguments.string_columns),
        merge=arguments.merge,
        skip_invalid=arguments.skip_invalid,
        allow_empty=arguments.allow_empty,
        allow_shrink=arguments.allow_shrink,
        concurrency=arguments.concurrency,
    )
    progress = Progress("loading")
    try:
        summary = load_catalog(settings, on_reject=_report_rejection, progress=progress, on_phase=_announce)
    finally:
        progress.done()
    if arguments.output == "json":
        print_json({"store": _store_figures(settings.target), **summary.to_dict()})
    else:
        print(_describe(summary, settings.target))
    return 0


def _store_figures(target: CatalogTarget) -> dict[str, Any]:
    return {"kind": target.store.kind, "location": target.store.location}


def _describe(summary: LoadSummary, target: CatalogTarget) -> str:
    lines = [
        f"{target.describe()}: loaded {summary.loaded:,} items in {summary.seconds:.2f}s "
        f"({summary.records_per_second:,.0f} records/s): "
        f"{summary.added:,} added, {summary.replaced:,} replaced, {summary.purged:,} purged, "
        f"{summary.rejected:,} rejected; it now holds {summary.total:,} items"
    ]
    if summary.duplicates:
        examples = ", ".join(summary.duplicate_examples)
        lines.append(
            f"  {summary.duplicates:,} duplicate ids in the source; the last record of each won (e.g. {examples})"
        )
    return "\n".join(lines)


def run_get(arguments: argparse.Namespace) -> int:
    lookup = get_items(_target(arguments), arguments.ids)
    if arguments.output == "json":
        print_json({"items": lookup.found, "missing": lookup.missing, "damaged": lookup.damaged})
    else:
        for item in lookup.found:
            print_json(item, indent=None)
        for item_id in lookup.missing:
            print(f"pinrec: not in the catalog: {item_id}", file=sys.stderr)
        for item_id, problem in lookup.damaged.items():
            print(f"pinrec: damaged in the catalog: {item_id}: {problem}", file=sys.stderr)
    return 1 if lookup.missing or lookup.damaged else 0


def run_stats(arguments: argparse.Namespace) -> int:
    stats = catalog_stats(_target(arguments), exact=arguments.count)
    if arguments.output == "json":
        print_json(dict(stats.figures))
    else:
        print(stats.text())
    return 0
