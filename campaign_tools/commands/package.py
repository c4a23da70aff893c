"""`pinrec package`: the transformer's (or the send child's) Lambda deployment zip, reproducible byte for byte."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from campaign_tools.commands.options import add_output_option
from campaign_tools.console import print_json
from campaign_tools.packaging import dependencies
from campaign_tools.packaging.package import (
    DEFAULT_EVENTS_OUT,
    DEFAULT_OUT,
    DEFAULT_SEND_OUT,
    DEFAULT_UNSUBSCRIBE_OUT,
    PackageResult,
    PackageSettings,
    build_package,
)

FUNCTIONS = ("transformer", "send", "unsubscribe", "events", "campaign-slot", "campaign-trigger")


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
        "the template pre-built here (in template/, PINREC_TEMPLATE_DIR); needs --template. unsubscribe: the "
        "one-click unsubscribe function URL (handlers.unsubscribe.handler) -- its handler, the suppression and "
        "unsubscribe packages, no configuration. events: the delivery events function (handlers.events.handler) -- "
        "its handler, the events, suppression and ledger packages, no configuration. campaign-slot / campaign-trigger: "
        "the functions of infra/campaigns.yaml (handlers.campaign_slot / campaign_trigger) -- the send child's code "
        "with the campaign file (--campaign, as campaign.toml), its configuration and every template it sends, "
        "pre-built here under templates/",
    )
    parser.add_argument("--campaign", type=Path, help="campaign-slot, campaign-trigger: the campaign.toml it sends")
    parser.add_argument("--template", help="send: template name (./templates/NAME, built in) or folder to pre-build")
    parser.add_argument(
        "--templates-dir", help="send, campaign-*: folder holding templates by name (default ./templates)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        help=f"zip to write (default {DEFAULT_OUT}, {DEFAULT_SEND_OUT} with --function send, "
        f"{DEFAULT_UNSUBSCRIBE_OUT} with --function unsubscribe, {DEFAULT_EVENTS_OUT} with --function events)",
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
    add_output_option(parser)
    parser.set_defaults(run=run)


def run(arguments: argparse.Namespace) -> int:
    settings = PackageSettings(
        function=arguments.function,
        config=arguments.config,
        template=arguments.template,
        templates_dir=arguments.templates_dir,
        campaign=arguments.campaign,
        out=arguments.out,
        arch=arguments.arch,
        python=arguments.python,
        include_boto3=arguments.include_boto3,
        constraint=arguments.constraint,
        deps_dir=arguments.deps_dir,
    )
    result = build_package(settings, say=lambda line: print(line, file=sys.stderr))
    if arguments.output == "json":
        print_json(result.summary.to_dict())
    else:
        print(describe(result))
    return 0


def describe(result: PackageResult) -> str:
    summary = result.summary
    lines = [
        f"wrote {summary.path}: {summary.zipped_bytes:,} bytes ({summary.zipped_bytes / 1048576:.1f} MiB) zipped, "
        f"{summary.unzipped_bytes:,} bytes ({summary.unzipped_bytes / 1048576:.1f} MiB) unzipped, "
        f"{summary.files:,} files",
        f"CodeSha256 {summary.code_sha256} (compare with the deployed function's CodeSha256)",
    ]
    if not result.direct_upload:
        lines.append("over 50 MB zipped: deploy through S3 (sam deploy / aws cloudformation package do)")
    return "\n".join(lines)
