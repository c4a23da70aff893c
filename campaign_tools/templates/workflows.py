"""The `pinrec templates` workflows: one settings object and one function per action, which the commands call.

- list: `find_templates(ListSettings) -> list[TemplateSource]`
- build: `build(BuildSettings) -> BuildResult`
- lint: `lint(LintSettings) -> LintReport`
- preview: `preview(PreviewSettings) -> PreviewReport`
- publish: `publish(PublishSettings, AwsSession) -> PublishResult`

The build, lint, preview and publish modules are imported when a workflow runs: they load mjml, css-inline and the
renderer, which `templates list` never needs.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass as plain_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ClassVar

from pydantic import Field, field_validator
from pydantic.dataclasses import dataclass

from campaign_tools.aws.session import AwsSession
from campaign_tools.aws.validation import RecommenderId
from campaign_tools.settings import SETTINGS_CONFIG, Settings
from campaign_tools.templates.errors import TemplateError
from campaign_tools.templates.manifest import TemplateSource, list_templates, load_template
from transformer.config import CONFIG_ENV_VAR, DEFAULT_CONFIG_FILE, PinrecConfig, load_config

if TYPE_CHECKING:
    from campaign_tools.templates.build import BuiltTemplate
    from campaign_tools.templates.lint import Finding, LintReport
    from campaign_tools.templates.preview import PreviewReport
    from campaign_tools.templates.publish import PublishResult

DEFAULT_BUILD_DIR = Path("build") / "templates"
DEFAULT_PREVIEW_DIR = Path("build") / "preview"

TemplateName = Annotated[str, Field(min_length=1)]


@dataclass(frozen=True, kw_only=True, config=SETTINGS_CONFIG)
class ListSettings(Settings):
    templates_dir: Path | None = None
    """Folder of template folders (default ./templates); the shipped templates are always listed too."""


@dataclass(frozen=True, kw_only=True, config=SETTINGS_CONFIG)
class TemplateSettings(Settings):
    """What every workflow on one template takes: the template, where to look for it, and the recommender
    configuration its attributes and max lengths are checked against."""

    flags: ClassVar[Mapping[str, str]] = {"name": "NAME"}

    name: TemplateName
    """A folder holding template.toml, a folder under `templates_dir` (default ./templates), or a shipped one."""
    templates_dir: Path | None = None
    config: Path | None = None

    def source(self) -> TemplateSource:
        return load_template(self.name, self.templates_dir)

    def recommender_config(self) -> PinrecConfig | None:
        return load_config(self.config) if self.config is not None else None


@dataclass(frozen=True, kw_only=True, config=SETTINGS_CONFIG)
class BuildSettings(TemplateSettings):
    out: Path | None = None
    """Default: build/templates/<template name>."""
    recommender_id: RecommenderId | None = None
    """Put into the request JSON, as publish will."""


@dataclass(frozen=True, kw_only=True, config=SETTINGS_CONFIG)
class LintSettings(TemplateSettings):
    pass


def default_preview_config() -> Path | None:
    """$PINREC_CONFIG, else ./pinrec.toml when it exists, else none (the event's own Recommendations are used)."""
    from_environment = os.environ.get(CONFIG_ENV_VAR)
    if from_environment:
        return Path(from_environment)
    local = Path(DEFAULT_CONFIG_FILE)
    return local if local.is_file() else None


@dataclass(frozen=True, kw_only=True, config=SETTINGS_CONFIG)
class PreviewSettings(TemplateSettings):
    """`config` is the transformer configuration: when not given, resolved by `default_preview_config`."""

    event: Path | None = None
    """A Pinpoint transformer event (default: the template's sample_event)."""
    out: Path | None = None
    """Default: build/preview/<template name>."""

    @field_validator("config")
    @classmethod
    def _resolve_config(cls, value: Path | None) -> Path | None:
        return value if value is not None else default_preview_config()


@dataclass(frozen=True, kw_only=True, config=SETTINGS_CONFIG)
class PublishSettings(TemplateSettings):
    recommender_id: RecommenderId
    activate: bool = False
    """Make the new versions the active ones (otherwise an update leaves the active version alone)."""
    dry_run: bool = False
    """Read and diff, record the write requests, send none."""
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None

    def open_session(self) -> AwsSession:
        return AwsSession(
            region=self.region, profile=self.profile, endpoint_url=self.endpoint_url, dry_run=self.dry_run
        )


@plain_dataclass(frozen=True)
class BuildResult:
    built: BuiltTemplate
    out: Path
    written: dict[Path, int]
    """Each file written, with its size in bytes."""


class LintRefused(TemplateError):
    """Publishing stopped before any AWS call: the template has lint errors (in `findings`)."""

    def __init__(self, template: str, findings: Sequence[Finding]) -> None:
        self.findings = list(findings)
        super().__init__(f"template {template} has {len(self.findings)} lint error(s): not publishing")


def find_templates(settings: ListSettings) -> list[TemplateSource]:
    return [load_template(str(folder)) for folder in list_templates(settings.templates_dir)]


def build(settings: BuildSettings) -> BuildResult:
    from campaign_tools.templates.build import build_template, write_build

    source = settings.source()
    built = build_template(source, settings.recommender_config())
    out = settings.out if settings.out is not None else DEFAULT_BUILD_DIR / source.name
    written = write_build(built, out, settings.recommender_id)
    return BuildResult(built, out, {path: path.stat().st_size for path in written})


def lint(settings: LintSettings) -> LintReport:
    from campaign_tools.templates.lint import lint_template

    return lint_template(settings.source(), settings.recommender_config())


def preview(settings: PreviewSettings) -> PreviewReport:
    from campaign_tools.templates.preview import preview_from_files

    source = settings.source()
    event = settings.event if settings.event is not None else source.sample_event_path
    if event is None:
        raise TemplateError(f"template {source.name} has no sample_event: pass --event FILE")
    out = settings.out if settings.out is not None else DEFAULT_PREVIEW_DIR / source.name
    return preview_from_files(source, event, settings.config, out)


def publish(settings: PublishSettings, session: AwsSession, *, say: Callable[[str], None] = print) -> PublishResult:
    """Lint (refusing on errors), build, then publish every channel through `session`; `say` gets the diff and
    plan line by line as they are known."""
    from campaign_tools.templates.lint import lint_template
    from campaign_tools.templates.publish import publish_template

    if settings.dry_run and not session.dry_run:
        raise TemplateError("a dry run needs a dry-run session (AwsSession(dry_run=True)); nothing was published")
    started = time.perf_counter()
    source = settings.source()
    report = lint_template(source, settings.recommender_config())
    if report.errors or report.built is None:
        raise LintRefused(source.name, report.errors)
    result = publish_template(report.built, session, settings.recommender_id, activate=settings.activate, say=say)
    result.seconds = time.perf_counter() - started
    return result
