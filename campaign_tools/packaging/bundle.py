"""What goes into the Lambda zips, with pinrec's own code selected by Python package.

The transformer's zip: the `handlers` and `transformer` packages, their runtime dependencies, the config file (as
`pinrec.toml` at the root, where PINREC_CONFIG=/var/task/pinrec.toml finds it) and a local SQLite catalog the config
names by a relative path. The send child's zip adds the `campaign_tools` package and the pre-built template. The
unsubscribe function's zip holds only `handlers`, `transformer` (its AWS client and errors),
`campaign_tools.channels.addresses` (each channel's address spelling, not the channels), `campaign_tools.suppression`
and `campaign_tools.unsubscribe`: no configuration, template or renderer. The delivery events function's zip holds
`handlers`, `transformer`, `campaign_tools.channels.addresses`, `.events`, `.suppression`, `.send.ledgers` (and
`send/pacing.py`), no more. Folders that are not packages (campaign_tools/demo_data, the template sources in the
top-level templates/) never ship.
"""

from __future__ import annotations

import tomllib
from pathlib import Path, PurePosixPath

from campaign_tools.packaging.python_packages import package_dir, package_entries
from campaign_tools.packaging.reproducible_zip import PackageError, ZipEntry, tree_entries
from transformer.config import load_config
from transformer.stores.registry import store_config

CONFIG_ARCNAME = "pinrec.toml"
TRANSFORMER_PACKAGES = ("handlers", "transformer")
SEND_PACKAGES = ("handlers", "transformer", "campaign_tools")
"""The send child composes and delivers too (campaign_tools.send, .templates.prebuilt, .rendering)."""
# pip --target also writes console scripts to bin/; the Lambda never runs them.
DEPENDENCY_DIRECTORIES_SKIPPED = ("bin",)
CHANNEL_ADDRESSES = "campaign_tools.channels.addresses"
"""Each channel's lean address module (the suppression lists' spelling of addresses), without the rest of the
channels: the unsubscribe and events functions run on the standard library (and the runtime's boto3)."""
UNSUBSCRIBE_PACKAGES = (
    "handlers",
    "transformer",
    CHANNEL_ADDRESSES,
    "campaign_tools.events",
    "campaign_tools.suppression",
    "campaign_tools.send.ledgers",
    "campaign_tools.unsubscribe",
)
"""The one-click unsubscribe function (handlers/unsubscribe.py) and what it imports: the suppression lists, and the
ledgers and event model it records unsubscribes with (`PINREC_LEDGER`); nothing reads a pinrec.toml."""
EVENTS_PACKAGES = (
    "handlers",
    "transformer",
    CHANNEL_ADDRESSES,
    "campaign_tools.events",
    "campaign_tools.suppression",
    "campaign_tools.send.ledgers",
)
EVENTS_MODULES = ("campaign_tools/send/pacing.py",)
"""The delivery events function (handlers/events.py) and what it imports: the ingest core, the sources, the ledgers
(the DynamoDB one backs off with send.pacing) and the suppression lists; no configuration, template or renderer."""
OWN_PACKAGES = SEND_PACKAGES
"""Always taken from this source, never from the dependency folder, where a stale copy could shadow them."""


def dependency_entries(deps_dir: Path) -> list[ZipEntry]:
    if not deps_dir.is_dir():
        raise PackageError(f"dependency directory {deps_dir} does not exist")
    return tree_entries(deps_dir, skip_top=(*DEPENDENCY_DIRECTORIES_SKIPPED, *OWN_PACKAGES))


def config_entries(config_path: Path) -> list[ZipEntry]:
    """The config file, validated, and the SQLite catalog it names when that lives next to it."""
    load_config(config_path)  # the same validation the Lambda runs at cold start, before anything is built
    # The [store] as written (relative paths unresolved): the file its backend reads locally, if any, is bundled.
    store = store_config(tomllib.loads(config_path.read_text(encoding="utf-8")).get("store", {}))
    entries = [ZipEntry(CONFIG_ARCNAME, config_path)]
    local_file = store.bundled_file()
    if local_file is None:
        return entries
    raw = PurePosixPath(local_file)
    if raw.is_absolute():
        raise PackageError(
            f"{config_path}: store.path {raw} is absolute, so the deployed function would look for it outside "
            "the package; use a path relative to the config file (bundled) or an s3:// path"
        )
    if ".." in raw.parts:
        raise PackageError(
            f"{config_path}: store.path {raw} leaves the config's folder; put the catalog next to the config or "
            "below it so it can be bundled, or use an s3:// path"
        )
    catalog = config_path.parent / raw
    if not catalog.is_file():
        raise PackageError(f"{config_path}: store.path {catalog} does not exist; run 'pinrec catalog load' first")
    return [*entries, ZipEntry(raw.as_posix(), catalog)]


def bundle_entries(
    config_path: Path, deps_dir: Path, packages: tuple[str, ...] = TRANSFORMER_PACKAGES
) -> list[ZipEntry]:
    return [*config_entries(config_path), *package_entries(packages), *dependency_entries(deps_dir)]


def unsubscribe_bundle_entries(deps_dir: Path) -> list[ZipEntry]:
    """The unsubscribe function's zip: its packages, the one module of campaign_tools.send the ledgers use, and
    their dependencies; no configuration."""
    root = package_dir("campaign_tools").parent
    modules = [ZipEntry(module, root / module) for module in EVENTS_MODULES]
    return [*package_entries(UNSUBSCRIBE_PACKAGES), *modules, *dependency_entries(deps_dir)]


TEMPLATE_ARCNAME = "template"
"""The pre-built template's folder in the send zip; infra/send-statemachine.yaml sets PINREC_TEMPLATE_DIR to it."""


def events_bundle_entries(deps_dir: Path) -> list[ZipEntry]:
    """The events function's zip: its packages, the one module of campaign_tools.send the ledgers use, and their
    dependencies; no configuration."""
    root = package_dir("campaign_tools").parent
    modules = [ZipEntry(module, root / module) for module in EVENTS_MODULES]
    return [*package_entries(EVENTS_PACKAGES), *modules, *dependency_entries(deps_dir)]


def send_bundle_entries(config_path: Path, deps_dir: Path, built_dir: Path) -> list[ZipEntry]:
    """The send child's zip: the transformer zip's contents plus campaign_tools' code and the pre-built template."""
    template = tree_entries(built_dir, prefix=f"{TEMPLATE_ARCNAME}/")
    return [*bundle_entries(config_path, deps_dir, SEND_PACKAGES), *template]
