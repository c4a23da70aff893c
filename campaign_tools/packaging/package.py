"""`pinrec package` as a library call: a Lambda deployment zip from validated settings, reproducible byte for byte.

The transformer's zip holds the `handlers` and `transformer` packages, the configuration and its bundled catalog,
and the transformer's runtime dependencies installed for Lambda's platform; the send child's zip adds
`campaign_tools`, the renderer's dependencies and the template pre-built here; the unsubscribe function's zip holds
its handler, the suppression and unsubscribe packages and no configuration (its one dependency, boto3, is the
runtime's); the delivery events function's zip holds its handler, the events, suppression and ledger packages and no
configuration either. The campaign functions' zips (`campaign-slot`, `campaign-trigger`) are the send child's code and
dependencies with the campaign file, its configuration and every template it sends pre-built
(`packaging.campaign_bundle`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

from campaign_tools.packaging import dependencies
from campaign_tools.packaging.bundle import (
    SEND_PACKAGES,
    bundle_entries,
    config_entries,
    events_bundle_entries,
    send_bundle_entries,
    unsubscribe_bundle_entries,
)
from campaign_tools.packaging.reproducible_zip import PackageError, ZipSummary, write_zip
from campaign_tools.settings import InvalidSettings, SettingsModel
from transformer.config import config_path_from_environment, load_config

DEFAULT_OUT = Path("build/pinrec-lambda.zip")
DEFAULT_SEND_OUT = Path("build/pinrec-send.zip")
DEFAULT_UNSUBSCRIBE_OUT = Path("build/pinrec-unsubscribe.zip")
DEFAULT_EVENTS_OUT = Path("build/pinrec-events.zip")
DEFAULT_CAMPAIGN_SLOT_OUT = Path("build/pinrec-campaign-slot.zip")
DEFAULT_CAMPAIGN_TRIGGER_OUT = Path("build/pinrec-campaign-trigger.zip")
LAMBDA_UNZIPPED_LIMIT = 262_144_000  # 250 MB, code and layers together
LAMBDA_DIRECT_UPLOAD_LIMIT = 52_428_800  # 50 MB zipped, when not uploaded through S3

Function = Literal["transformer", "send", "unsubscribe", "events", "campaign-slot", "campaign-trigger"]
NO_CONFIG: tuple[Function, ...] = ("unsubscribe", "events")
"""Functions that read no pinrec.toml."""
CAMPAIGN_FUNCTIONS: tuple[Function, ...] = ("campaign-slot", "campaign-trigger")
"""Functions that carry one campaign (--campaign) and the templates it sends."""


class InvalidPackageSettings(InvalidSettings, PackageError):
    heading = "invalid package settings"


class PackageSettings(SettingsModel):
    """Which function's zip to build from what, for which platform."""

    invalid: ClassVar[type[InvalidSettings]] = InvalidPackageSettings
    flags: ClassVar[Mapping[str, str]] = {"python": "--python", "function": "--function", "campaign": "--campaign"}

    function: Function = "transformer"
    config: Path | None = None
    """pinrec.toml to deploy; None: $PINREC_CONFIG or ./pinrec.toml."""
    template: str | None = None
    """send: the template to pre-build (./templates/NAME, shipped, or a folder)."""
    templates_dir: str | None = None
    campaign: Path | None = None
    """campaign-slot, campaign-trigger: the campaign.toml the function sends."""
    out: Path | None = None
    """None: build/pinrec-lambda.zip (transformer) or build/pinrec-send.zip (send)."""
    arch: Literal["arm64", "x86_64"] = "arm64"
    python: Literal["3.12", "3.13"] = "3.12"
    include_boto3: bool = False
    constraint: Path | None = None
    deps_dir: Path | None = None
    """Dependencies already installed here (pip --target) instead of running pip."""

    def _campaign_problems(self) -> list[str]:
        if not self.campaign:
            return [f"--function {self.function} needs --campaign FILE (the campaign the function sends)"]
        if self.template:
            return ["--template goes with --function send: a campaign function takes its templates from --campaign"]
        return []

    def problems(self) -> list[str]:
        if self.function in CAMPAIGN_FUNCTIONS:
            return self._campaign_problems()
        if self.campaign:
            return ["--campaign goes with --function campaign-slot or campaign-trigger"]
        if self.function == "send" and not self.template:
            return ["--function send needs --template NAME (the template the function sends)"]
        if self.function != "send" and (self.template or self.templates_dir):
            return ["--template and --templates-dir go with --function send"]
        if self.function in NO_CONFIG and self.config is not None:
            return [
                f"--config does not go with --function {self.function}: the {self.function} function reads no "
                "pinrec.toml"
            ]
        return []

    @property
    def config_path(self) -> Path:
        return self.config or config_path_from_environment()

    @property
    def out_path(self) -> Path:
        defaults = {
            "send": DEFAULT_SEND_OUT,
            "unsubscribe": DEFAULT_UNSUBSCRIBE_OUT,
            "events": DEFAULT_EVENTS_OUT,
            "campaign-slot": DEFAULT_CAMPAIGN_SLOT_OUT,
            "campaign-trigger": DEFAULT_CAMPAIGN_TRIGGER_OUT,
        }
        return self.out or defaults.get(self.function, DEFAULT_OUT)


@dataclass(frozen=True)
class PackageResult:
    summary: ZipSummary

    @property
    def direct_upload(self) -> bool:
        """Small enough to upload to Lambda directly (otherwise through S3)."""
        return self.summary.zipped_bytes <= LAMBDA_DIRECT_UPLOAD_LIMIT


def build_package(settings: PackageSettings, *, say: Callable[[str], None] = lambda _: None) -> PackageResult:
    """Validate the configuration first (before the slow pip step), then build the zip the settings describe."""
    if settings.function in NO_CONFIG:
        summary = _package_without_config(settings, say)
    elif settings.function in CAMPAIGN_FUNCTIONS:
        summary = _package_campaign(settings, say)
    else:
        config_entries(settings.config_path)
        summary = _package_send(settings, say) if settings.function == "send" else _package_transformer(settings, say)
    if summary.unzipped_bytes > LAMBDA_UNZIPPED_LIMIT:
        raise PackageError(
            f"{summary.path} unzips to {summary.unzipped_bytes:,} bytes, over Lambda's 250 MB limit; "
            "load the catalog into DynamoDB or S3 instead of bundling it"
        )
    return PackageResult(summary)


def _package_transformer(settings: PackageSettings, say: Callable[[str], None]) -> ZipSummary:
    if settings.deps_dir is not None:
        return write_zip(bundle_entries(settings.config_path, settings.deps_dir), settings.out_path)
    with tempfile.TemporaryDirectory(prefix="pinrec-package-") as staging:
        deps_dir = Path(staging)
        _install(deps_dir, settings, dependencies.TRANSFORMER_DISTRIBUTIONS, say)
        return write_zip(bundle_entries(settings.config_path, deps_dir), settings.out_path)


def _package_without_config(settings: PackageSettings, say: Callable[[str], None]) -> ZipSummary:
    """The unsubscribe or events function: its packages and dependencies, no configuration."""
    entries, distributions = {
        "unsubscribe": (unsubscribe_bundle_entries, dependencies.UNSUBSCRIBE_DISTRIBUTIONS),
        "events": (events_bundle_entries, dependencies.EVENTS_DISTRIBUTIONS),
    }[settings.function]
    if settings.deps_dir is not None:
        return write_zip(entries(settings.deps_dir), settings.out_path)
    with tempfile.TemporaryDirectory(prefix=f"pinrec-package-{settings.function}-") as staging:
        deps_dir = Path(staging)
        _install(deps_dir, settings, distributions, say)
        return write_zip(entries(deps_dir), settings.out_path)


def _package_send(settings: PackageSettings, say: Callable[[str], None]) -> ZipSummary:
    """Pre-build the template here (full authoring pipeline), then zip it with the code and the send dependencies."""
    from campaign_tools.templates.build import build_template, write_build
    from campaign_tools.templates.manifest import load_template

    assert settings.template is not None
    source = load_template(settings.template, settings.templates_dir)
    built = build_template(source, load_config(settings.config_path))
    with tempfile.TemporaryDirectory(prefix="pinrec-package-send-") as staging:
        built_dir = Path(staging) / "template"
        write_build(built, built_dir)
        say(f"pre-built template {built.name} ({', '.join(source.manifest.channels)})")
        if settings.deps_dir is not None:
            deps_dir = settings.deps_dir
        else:
            deps_dir = Path(staging) / "deps"
            _install(deps_dir, settings, dependencies.SEND_DISTRIBUTIONS, say)
        return write_zip(send_bundle_entries(settings.config_path, deps_dir, built_dir), settings.out_path)


def _package_campaign(settings: PackageSettings, say: Callable[[str], None]) -> ZipSummary:
    """The campaign, its configuration and its templates (pre-built here), with the send child's code."""
    from campaign_tools.packaging.campaign_bundle import bundle_campaign

    assert settings.campaign is not None
    with tempfile.TemporaryDirectory(prefix=f"pinrec-package-{settings.function}-") as staging:
        bundle = bundle_campaign(settings.campaign, settings.config, settings.templates_dir, Path(staging), say)
        if settings.deps_dir is not None:
            deps_dir = settings.deps_dir
        else:
            deps_dir = Path(staging) / "deps"
            _install(deps_dir, settings, dependencies.SEND_DISTRIBUTIONS, say)
        entries = [*bundle_entries(bundle.config, deps_dir, SEND_PACKAGES), *bundle.entries()]
        return write_zip(entries, settings.out_path)


def _install(
    deps_dir: Path, settings: PackageSettings, distributions: frozenset[str], say: Callable[[str], None]
) -> None:
    requirements = dependencies.runtime_requirements(include_boto3=settings.include_boto3, distributions=distributions)
    if not requirements:
        say("no runtime dependencies to install (the Lambda runtime provides boto3)")
        return
    say(
        f"installing {len(requirements)} runtime dependencies for linux/{settings.arch}, "
        f"Python {settings.python} with pip..."
    )
    dependencies.install(
        deps_dir, requirements, arch=settings.arch, python=settings.python, constraint=settings.constraint
    )
