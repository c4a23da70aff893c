"""`pinrec migrate` as a library call: read the project (a folder, or the Pinpoint API), convert each object kind,
write MIGRATION.md. Nothing is written outside `--out`, and an output folder that already holds files is refused."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

from pydantic.dataclasses import dataclass

from campaign_tools.migrate import campaigns, recommenders, report, segments, templates
from campaign_tools.migrate.campaign_messages import MigratedTemplate
from campaign_tools.migrate.outcome import Outcome
from campaign_tools.migrate.source import NOT_CARRIED, PinpointProject, read_folder
from campaign_tools.segments.definition import parse_now
from campaign_tools.settings import SETTINGS_CONFIG, InvalidSettings, Settings
from transformer.aws import AwsOptions
from transformer.errors import PinrecError

MIGRATION_FILE = "MIGRATION.md"


class InvalidMigration(InvalidSettings):
    heading = "invalid migration"


@dataclass(frozen=True, kw_only=True, config=SETTINGS_CONFIG)
class MigrateSettings(Settings):
    invalid: ClassVar[type[InvalidSettings]] = InvalidMigration
    flags: ClassVar[Mapping[str, str]] = MappingProxyType({"source": "--from", "application_id": "--from-api"})

    source: str | None = None
    """A folder of `aws pinpoint get-*` outputs and endpoint exports."""
    application_id: str | None = None
    """Read the project through the Pinpoint API instead."""
    out: str = "pinrec-project"
    endpoints: tuple[str, ...] = ()
    """More endpoint exports (files or folders), e.g. with --from-api."""
    now: str | None = None
    aws: AwsOptions = field(default_factory=AwsOptions)

    def __post_init__(self) -> None:
        if (self.source is None) == (self.application_id is None):
            raise InvalidMigration(["give --from DIR or --from-api APPLICATION_ID (one of them)"])


@dataclass
class Migration:
    out: Path
    outcomes: list[Outcome]

    def counts(self) -> dict[str, int]:
        return {
            "objects": len(self.outcomes),
            "carried": sum(1 for outcome in self.outcomes if outcome.carried),
            "not_carried": sum(1 for outcome in self.outcomes if outcome.not_carried),
        }


def _fresh(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise PinrecError(f"--out {out} already holds files: migrate into a new folder")
    out.mkdir(parents=True, exist_ok=True)


def _text(value: object) -> str | None:
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) and str(value) else None


def _audience(out: Path, definition: str, version: object, outcome: Outcome) -> campaigns.Audience:
    """The audience `segments.build_audiences` wrote for a definition file, or why it did not."""
    path = segments.audience_path(definition)
    number = version if isinstance(version, int) and not isinstance(version, bool) else None
    if (out / path).is_file():
        return campaigns.Audience(path, version=number)
    why = "; ".join(
        item.removeprefix("its audience: ") for item in outcome.not_carried if item.startswith("its audience")
    )
    return campaigns.Audience(None, why or "it was not built", number)


def read_project(settings: MigrateSettings, client: Any | None = None) -> PinpointProject:
    from campaign_tools.migrate import api
    from campaign_tools.segments.build import expand

    if settings.source is not None:
        if not Path(settings.source).is_dir():
            raise PinrecError(f"--from {settings.source}: not a folder")
        project = read_folder(settings.source)
    else:
        project = api.read_application(settings.application_id or "", settings.aws, client=client)
    project.endpoint_files += expand(list(settings.endpoints))
    return project


def migrate(settings: MigrateSettings, *, client: Any | None = None) -> Migration:
    """Write the pinrec project; `client` is a Pinpoint client for --from-api (made from settings.aws otherwise)."""
    now = parse_now(settings.now)
    project = read_project(settings, client)
    out = Path(settings.out)
    _fresh(out)
    outcomes: list[Outcome] = []
    recommender_folders: dict[str, str] = {}
    for found in project.of("recommender"):
        outcome, folder = recommenders.convert_recommender(found, out, "recommenders")
        outcomes.append(outcome)
        if folder and isinstance(found.body.get("Id"), str):
            recommender_folders[found.body["Id"]] = folder
    template_folders: dict[tuple[str, str], MigratedTemplate] = {}
    for found in project.of("email", "sms", "push"):
        outcome = templates.convert_template(found, out, "templates", recommender_folders)
        outcomes.append(outcome)
        if outcome.carried:
            template_folders[found.kind, found.name] = MigratedTemplate(
                f"templates/{found.kind}/{found.name}",
                _text(found.body.get("Version")),
                _text(found.body.get("RecommenderId")),
            )
    root = Path(settings.source) if settings.source else None
    written = segments.write_definitions(project.of("segment"), out, "segments")
    imports = {segment_id: segments.imported_files(root, segment_id, project.endpoint_files) for segment_id in written}
    held = {path for files in imports.values() for path in files}
    exports = [path for path in project.endpoint_files if path not in held]
    built = segments.build_audiences(written, out, "audiences", exports=exports, imports=imports, now=now)
    outcomes += built
    audiences = {
        segment_id: _audience(out, relative, item.body.get("Version"), outcome)
        for (segment_id, (item, relative, _)), outcome in zip(written.items(), built, strict=True)
    }
    context = campaigns.Context(out, "campaigns", audiences, template_folders, recommender_folders, now)
    taken: set[str] = set()
    for found in project.of("campaign"):
        outcomes.append(campaigns.convert_campaign(found, context, taken))
    for found in project.objects:
        if found.kind in NOT_CARRIED:
            outcomes.append(campaigns.describe_uncarried(found, report.NEVER[found.kind]))
    (out / MIGRATION_FILE).write_text(
        report.render(outcomes, project.unrecognised, project.endpoint_files), encoding="utf-8"
    )
    return Migration(out, outcomes)
