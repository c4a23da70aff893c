"""`pinrec package`: the transformer's (or the send child's) Lambda deployment zip, reproducible byte for byte."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from campaign_tools.commands.options import print_json
from campaign_tools.packaging import dependencies
from campaign_tools.packaging.bundle import bundle_entries, config_entries, send_bundle_entries
from campaign_tools.packaging.reproducible_zip import PackageError, ZipSummary, write_zip
from transformer.config import config_path_from_environment, load_config

DEFAULT_OUT = Path("build/pinrec-lambda.zip")
DEFAULT_SEND_OUT = Path("build/pinrec-send.zip")
FUNCTIONS = ("transformer", "send")
LAMBDA_UNZIPPED_LIMIT = 262_144_000  # 250 MB, code and layers together
LAMBDA_DIRECT_UPLOAD_LIMIT = 52_428_800  # 50 MB zipped, when not uploaded through S3


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "package",
        help="build the transformer's Lambda deployment zip (reproducible) and report its size",
        description="Installs the runtime dependencies for Lambda's platform with pip (wheels only, manylinux, "
        "the chosen architecture and Python), adds the handlers and transformer packages and the config file (as "
        "pinrec.toml, plus a local SQLite catalog the config names by a relative path), and writes a zip with sorted "
        "entries, fixed timestamps and permissions: the same inputs always give the same bytes. boto3 is not bundled "
        "unless --include-boto3 (the Lambda runtime provides it).",
    )
    parser.add_argument("--config", help="pinrec.toml to deploy (default: $PINREC_CONFIG or ./pinrec.toml)")
    parser.add_argument(
        "--function",
        choices=FUNCTIONS,
        default="transformer",
        help="transformer: the recommender transformer Lambda (default). send: the `pinrec send --on-aws` child "
        "(infra/send-statemachine.yaml) -- the transformer plus campaign_tools' code, the renderer's libraries and "
        "the template pre-built here (in template/, PINREC_TEMPLATE_DIR); needs --template",
    )
    parser.add_argument("--template", help="send: template name (./templates/NAME, built in) or folder to pre-build")
    parser.add_argument("--templates-dir", help="send: folder holding templates (default ./templates)")
    parser.add_argument(
        "--out", type=Path, help=f"zip to write (default {DEFAULT_OUT}, or {DEFAULT_SEND_OUT} with --function send)"
    )
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
    if arguments.function == "send":
        summary = _package_send(config_path, arguments)
    else:
        if arguments.template or arguments.templates_dir:
            raise PackageError("--template and --templates-dir go with --function send")
        summary = _package_transformer(config_path, arguments, arguments.out or DEFAULT_OUT)
    _report(summary, arguments.output)
    return 0


def _package_transformer(config_path: Path, arguments: argparse.Namespace, out: Path) -> ZipSummary:
    if arguments.deps_dir is not None:
        return write_zip(bundle_entries(config_path, arguments.deps_dir), out)
    config_entries(config_path)  # validated before the slow pip step
    with tempfile.TemporaryDirectory(prefix="pinrec-package-") as staging:
        deps_dir = Path(staging)
        _install(deps_dir, arguments, dependencies.TRANSFORMER_DISTRIBUTIONS)
        return write_zip(bundle_entries(config_path, deps_dir), out)


def _package_send(config_path: Path, arguments: argparse.Namespace) -> ZipSummary:
    """Pre-build the template here (full authoring pipeline), then zip it with the code and the send dependencies."""
    if not arguments.template:
        raise PackageError("--function send needs --template NAME (the template the function sends)")
    from campaign_tools.templates.build import build_template, write_build
    from campaign_tools.templates.manifest import load_template

    config_entries(config_path)
    source = load_template(arguments.template, arguments.templates_dir)
    built = build_template(source, load_config(config_path))
    out = arguments.out or DEFAULT_SEND_OUT
    with tempfile.TemporaryDirectory(prefix="pinrec-package-send-") as staging:
        built_dir = Path(staging) / "template"
        write_build(built, built_dir)
        print(f"pre-built template {built.name} ({', '.join(source.manifest.channels)})", file=sys.stderr)
        if arguments.deps_dir is not None:
            deps_dir = arguments.deps_dir
        else:
            deps_dir = Path(staging) / "deps"
            _install(deps_dir, arguments, dependencies.SEND_DISTRIBUTIONS)
        return write_zip(send_bundle_entries(config_path, deps_dir, built_dir), out)


def _install(deps_dir: Path, arguments: argparse.Namespace, distributions: frozenset[str]) -> None:
    requirements = dependencies.runtime_requirements(include_boto3=arguments.include_boto3, distributions=distributions)
    print(
        f"installing {len(requirements)} runtime dependencies for linux/{arguments.arch}, "
        f"Python {arguments.python} with pip...",
        file=sys.stderr,
    )
    dependencies.install(
        deps_dir, requirements, arch=arguments.arch, python=arguments.python, constraint=arguments.constraint
    )


def _report(summary: ZipSummary, output: str) -> None:
    if summary.unzipped_bytes > LAMBDA_UNZIPPED_LIMIT:
        raise PackageError(
            f"{summary.path} unzips to {summary.unzipped_bytes:,} bytes, over Lambda's 250 MB limit; "
            "load the catalog into DynamoDB or S3 instead of bundling it"
        )
    if output == "json":
        print_json(summary.to_dict())
    else:
        print(describe(summary))


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
