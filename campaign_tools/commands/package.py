"""`pinrec package`: the transformer's Lambda deployment zip, reproducible byte for byte."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from campaign_tools.commands.aws_options import print_json
from campaign_tools.packaging import dependencies
from campaign_tools.packaging.bundle import bundle_entries
from campaign_tools.packaging.reproducible_zip import PackageError, ZipSummary, write_zip
from transformer.config import config_path_from_environment

DEFAULT_OUT = Path("build/pinrec-lambda.zip")
LAMBDA_UNZIPPED_LIMIT = 262_144_000  # 250 MB, code and layers together
LAMBDA_DIRECT_UPLOAD_LIMIT = 52_428_800  # 50 MB zipped, when not uploaded through S3


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "package",
        help="build the transformer's Lambda deployment zip (reproducible) and report its size",
        description="Installs the runtime dependencies for Lambda's platform with pip (wheels only, manylinux, "
        "the chosen architecture and Python), adds the transformer package and the config file (as pinrec.toml, "
        "plus a local SQLite catalog the config names by a relative path), and writes a zip with sorted entries, "
        "fixed timestamps and permissions: the same inputs always give the same bytes. boto3 is not bundled "
        "unless --include-boto3 (the Lambda runtime provides it).",
    )
    parser.add_argument("--config", help="pinrec.toml to deploy (default: $PINREC_CONFIG or ./pinrec.toml)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"zip to write (default {DEFAULT_OUT})")
    parser.add_argument("--arch", choices=tuple(dependencies.ARCHITECTURES), default="arm64", help="default arm64")
    parser.add_argument("--python", choices=dependencies.PYTHON_VERSIONS, default="3.12", help="default 3.12")
    parser.add_argument("--include-boto3", action="store_true", help="bundle boto3/botocore instead of the runtime's")
    parser.add_argument("--constraint", type=Path, help="pip constraints file pinning dependency versions")
    parser.add_argument(
        "--deps-dir",
        type=Path,
        help="use dependencies already installed in this folder (pip --target) instead of running pip",
    )
    parser.add_argument("--output", choices=("text", "json"), default="text", help="output format (default: text)")
    parser.set_defaults(run=run)


def run(arguments: argparse.Namespace) -> int:
    config_path = Path(arguments.config) if arguments.config else config_path_from_environment()
    if arguments.deps_dir is not None:
        summary = write_zip(bundle_entries(config_path, arguments.deps_dir), arguments.out)
    else:
        requirements = dependencies.runtime_requirements(include_boto3=arguments.include_boto3)
        print(
            f"installing {len(requirements)} runtime dependencies for linux/{arguments.arch}, "
            f"Python {arguments.python} with pip...",
            file=sys.stderr,
        )
        with tempfile.TemporaryDirectory(prefix="pinrec-package-") as staging:
            deps_dir = Path(staging)
            entries = bundle_entries_checked_first(config_path, deps_dir, arguments, requirements)
            summary = write_zip(entries, arguments.out)
    if summary.unzipped_bytes > LAMBDA_UNZIPPED_LIMIT:
        raise PackageError(
            f"{summary.path} unzips to {summary.unzipped_bytes:,} bytes, over Lambda's 250 MB limit; "
            "load the catalog into DynamoDB or S3 instead of bundling it"
        )
    if arguments.output == "json":
        print_json(summary.to_dict())
    else:
        print(describe(summary))
    return 0


def bundle_entries_checked_first(
    config_path: Path, deps_dir: Path, arguments: argparse.Namespace, requirements: list[str]
) -> list:
    """Validate the config before the slow pip step, then install and collect everything."""
    from campaign_tools.packaging.bundle import config_entries

    config_entries(config_path)
    dependencies.install(
        deps_dir, requirements, arch=arguments.arch, python=arguments.python, constraint=arguments.constraint
    )
    return bundle_entries(config_path, deps_dir)


def describe(summary: ZipSummary) -> str:
    lines = [
        f"wrote {summary.path}: {summary.zipped_bytes:,} bytes ({summary.zipped_bytes / 1048576:.1f} MiB) zipped, "
        f"{summary.unzipped_bytes:,} bytes ({summary.unzipped_bytes / 1048576:.1f} MiB) unzipped, "
        f"{summary.files:,} files",
        f"CodeSha256 {summary.code_sha256} (compare with the deployed function's CodeSha256)",
    ]
    if summary.zipped_bytes > LAMBDA_DIRECT_UPLOAD_LIMIT:
        lines.append("over 50 MB zipped: deploy through S3 (sam deploy / aws cloudformation package do)")
    return "\n".join(lines)
