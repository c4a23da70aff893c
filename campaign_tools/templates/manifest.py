"""`templates/<name>/template.toml`: what a template is, which channels it has and which attributes it uses."""

from __future__ import annotations

import importlib.util
import os
import re
import tomllib
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from campaign_tools.channels import registry as channel_registry
from campaign_tools.channels.base import Channel, Part, Settings
from campaign_tools.templates.errors import TemplateError
from transformer.config import KnownKeys, PinrecConfig, describe_problems
from transformer.limits import ATTRIBUTE_NAME_PATTERN, MAX_ATTRIBUTES, MAX_ITEMS_PER_MESSAGE, MIN_ITEMS_PER_MESSAGE

MANIFEST_FILE = "template.toml"
TEMPLATES_DIR_NAME = "templates"
SHIPPED_TEMPLATES_PACKAGE = "pinrec_templates"
TEMPLATE_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
ASSUMED_MAX_LENGTH = 100
"""Longest value assumed for a variable with no declared max_length: Pinpoint's endpoint attribute value limit."""


def _known_channel(name: str) -> str:
    if name not in channel_registry.names():
        raise ValueError(f"unknown channel {name!r}: use {', '.join(channel_registry.names())}")
    return name


ChannelName = Annotated[str, AfterValidator(_known_channel)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AttributeUse(_Section):
    description: str = ""
    max_length: int | None = Field(None, ge=1, description="longest value; the config's max_length wins")


class Links(_Section):
    owned_domains: tuple[str, ...] = Field((), description="hosts whose links must carry UTM parameters")
    utm_source: str = "pinpoint"
    utm_campaign: str | None = Field(None, description="default: the template name")
    unsubscribe: Literal["url", "pinrec", "ses"] = Field(
        "url",
        description="url: the link and List-Unsubscribe are unsubscribe_url; pinrec: pinrec's signed one-click "
        "endpoint; ses: SES subscription management (contact_list, topic). Not url: the link follows the send's mode",
    )
    unsubscribe_url: str | None = Field(None, description="preference-centre link; may hold Handlebars variables")
    unsubscribe_tag: str = Field("optout", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    contact_list: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]{1,64}$", description="SES contact list (ses)")
    topic: str | None = Field(
        None, pattern=r"^[A-Za-z0-9_-]{1,64}$", description="the list's topic unsubscribed from (ses, pinrec)"
    )
    track_recommendations: str | None = Field(
        None,
        pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$",
        description="the recommendation attribute holding each item's link (e.g. Url): an email send adds item-level "
        "click tracking to those links (campaign_tools.engagement.links); unset: links render unchanged",
    )

    @model_validator(mode="after")
    def _mode_needs(self) -> Self:
        problems = []
        if self.unsubscribe == "ses" and not self.contact_list:
            problems.append('unsubscribe = "ses" needs contact_list (the SES contact list the emails belong to)')
        if self.contact_list and self.unsubscribe != "ses":
            problems.append('contact_list goes with unsubscribe = "ses"')
        if self.topic and self.unsubscribe == "url":
            problems.append('topic goes with unsubscribe = "ses" or "pinrec"')
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def sending(self) -> dict[str, Any]:
        """What a send needs of the links (template.json's `links`): the unsubscribe URL, and the mode with its
        list and topic only when the mode is not `url`, so a `url` template's build is what it always was."""
        found: dict[str, Any] = {"unsubscribe_url": self.unsubscribe_url}
        if self.unsubscribe != "url":
            found |= {"unsubscribe": self.unsubscribe, "contact_list": self.contact_list, "topic": self.topic}
        if self.track_recommendations:
            found["track_recommendations"] = self.track_recommendations
        return found


class Manifest(_Section):
    name: str
    description: str = Field(min_length=1, max_length=500)
    lang: str = Field("en", pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
    channels: tuple[ChannelName, ...] = Field(min_length=1)
    items_per_message: int = Field(
        MAX_ITEMS_PER_MESSAGE,
        ge=MIN_ITEMS_PER_MESSAGE,
        le=MAX_ITEMS_PER_MESSAGE,
        description="the recommender's RecommendationsPerMessage",
    )
    attributes: dict[str, AttributeUse] = Field(min_length=1, max_length=MAX_ATTRIBUTES)
    default_substitutions: dict[str, str] = Field(default_factory=dict)
    sample_event: str | None = Field(None, description="event file, relative to the template folder")
    links: Links = Links()
    channel_settings: dict[str, Settings] = Field(default_factory=dict, exclude=True)
    """Each channel's own table of template.toml (`[sms]`, `[push]`), validated by the channel's model."""

    @field_validator("name")
    @classmethod
    def _name_rule(cls, value: str) -> str:
        if not TEMPLATE_NAME_PATTERN.fullmatch(value):
            raise ValueError("name must be 1-128 characters: a letter or digit, then letters, digits, '_' or '-'")
        return value

    @field_validator("channels")
    @classmethod
    def _unique_channels(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError("channels must not repeat")
        return value

    @field_validator("attributes")
    @classmethod
    def _attribute_names(cls, value: dict[str, AttributeUse]) -> dict[str, AttributeUse]:
        for name in value:
            if not ATTRIBUTE_NAME_PATTERN.fullmatch(name):
                raise ValueError(f"attribute name {name!r} must be 1-50 letters, digits, '_' or '-'")
        return value

    @model_validator(mode="after")
    def _campaign_default(self) -> Self:
        if self.links.utm_campaign is None:
            object.__setattr__(self, "links", self.links.model_copy(update={"utm_campaign": self.name}))
        return self

    def settings_for(self, channel: Channel) -> Settings | None:
        """The channel's table of template.toml, or its defaults."""
        return self.channel_settings.get(channel.name) or channel.default_template_settings()

    @property
    def channel_objects(self) -> tuple[Channel, ...]:
        """The template's channels, in the registry's order (the order requests are built and published in)."""
        return tuple(channel for channel in channel_registry.CHANNELS if channel.name in self.channels)


@dataclass(frozen=True)
class TemplateSource:
    """A template folder: its manifest and the source file of each part it has."""

    directory: Path
    manifest: Manifest
    files: dict[Part, Path]
    """The source file of each part the template has, in the channels' part order."""

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def manifest_path(self) -> Path:
        return self.directory / MANIFEST_FILE

    @property
    def sample_event_path(self) -> Path | None:
        return self.directory / self.manifest.sample_event if self.manifest.sample_event else None

    def has(self, part: Part) -> bool:
        return part in self.files


@dataclass(frozen=True)
class RecommenderAttributes:
    """The recommendation attributes a template may print, with the longest value each can take."""

    names: tuple[str, ...]
    max_lengths: dict[str, int | None]
    source: str

    def max_length(self, name: str) -> int:
        return self.max_lengths.get(name) or ASSUMED_MAX_LENGTH


def recommender_attributes(manifest: Manifest, config: PinrecConfig | None = None) -> RecommenderAttributes:
    """The manifest's attributes, checked against (and sized by) the recommender's configuration when given."""
    if config is None:
        lengths = {name: use.max_length for name, use in manifest.attributes.items()}
        return RecommenderAttributes(tuple(manifest.attributes), lengths, f"{manifest.name}/{MANIFEST_FILE}")
    missing = [name for name in manifest.attributes if name not in config.attributes]
    if missing:
        raise TemplateError(
            f"template {manifest.name} uses attributes the recommender configuration does not declare: "
            f"{', '.join(missing)} (declared: {', '.join(config.attributes)})"
        )
    lengths = {
        name: config.attributes[name].max_length or manifest.attributes[name].max_length for name in manifest.attributes
    }
    return RecommenderAttributes(tuple(manifest.attributes), lengths, "the recommender configuration")


def builtin_templates_dir() -> Path:
    """The templates shipped with pinrec: the top-level templates/ folder of the source tree, which pyproject.toml
    installs as the `pinrec_templates` package (the folder itself in an editable install, a copy in a wheel's)."""
    spec = importlib.util.find_spec(SHIPPED_TEMPLATES_PACKAGE)
    locations = (spec.submodule_search_locations or []) if spec is not None else []
    # An editable install's namespace path also holds the install's import-hook placeholder, which is no folder.
    found = next((Path(location) for location in locations if Path(location).is_dir()), None)
    if found is None:
        raise TemplateError(f"pinrec's shipped templates are not installed (no {SHIPPED_TEMPLATES_PACKAGE} package)")
    return found


def template_search_dirs(templates_dir: str | Path | None = None) -> list[Path]:
    """Where template names are looked up, in order: ./templates (or --templates-dir), then the shipped templates.
    Run from a pinrec checkout, ./templates is the shipped folder itself, and it is searched once."""
    first = Path(templates_dir) if templates_dir is not None else Path.cwd() / TEMPLATES_DIR_NAME
    shipped = builtin_templates_dir()
    return [first] if first.resolve() == shipped.resolve() else [first, shipped]


def find_template(name: str, templates_dir: str | Path | None = None) -> Path:
    """A folder path holding template.toml, else NAME under ./templates (or --templates-dir), else built in."""
    direct = Path(name)
    if (direct / MANIFEST_FILE).is_file():
        return direct
    searched = template_search_dirs(templates_dir)
    for folder in searched:
        if (folder / name / MANIFEST_FILE).is_file():
            return folder / name
    places = ", ".join(str(folder) for folder in searched)
    raise TemplateError(f"template {name!r} not found (looked for {name}/{MANIFEST_FILE} in {places})")


def list_templates(templates_dir: str | Path | None = None) -> list[Path]:
    seen: dict[str, Path] = {}
    for folder in template_search_dirs(templates_dir):
        if folder.is_dir():
            for manifest in sorted(folder.glob(f"*/{MANIFEST_FILE}")):
                seen.setdefault(manifest.parent.name, manifest.parent)
    return list(seen.values())


def _manifest_keys(location: tuple[str | int, ...]) -> Collection[str]:
    """The keys each table of template.toml takes (the channels' own tables are described by their models)."""
    match location:
        case ():
            tables = [channel.name for channel in channel_registry.CHANNELS if channel.template_settings is not None]
            return [name for name in Manifest.model_fields if name != "channel_settings"] + tables
        case ("links",):
            return list(Links.model_fields)
        case ("attributes", _):
            return list(AttributeUse.model_fields)
    return ()


def _table_keys(model: type[Settings]) -> KnownKeys:
    return lambda location: list(model.model_fields) if not location else ()


def parse_manifest(data: dict[str, Any], where: str) -> Manifest:
    """Validate template.toml: the manifest's own keys and each channel's table, every problem reported at once
    (a misspelt key with the key it was probably meant to be)."""
    problems: list[str] = []
    channel_settings: dict[str, Settings] = {}
    rest = dict(data)
    for channel in channel_registry.CHANNELS:
        model = channel.template_settings
        if model is None or channel.name not in rest:
            continue
        try:
            channel_settings[channel.name] = model.model_validate(rest.pop(channel.name))
        except ValidationError as error:
            problems += describe_problems(error, _table_keys(model), f"{channel.name}.")
    try:
        manifest = Manifest.model_validate({**rest, "channel_settings": channel_settings})
    except ValidationError as error:
        problems = describe_problems(error, _manifest_keys) + problems
    if problems:
        raise TemplateError(f"invalid {where}:\n" + "\n".join(problems))
    return manifest


def refuse_links(directory: Path) -> None:
    """Refuse a template folder holding a symbolic link: the jinja2 loader and the sample event would follow it
    out of the folder, and a build publishes what it reads."""
    for folder, subfolders, names in os.walk(directory):
        for name in sorted(subfolders + names):
            path = Path(folder) / name
            if path.is_symlink():
                raise TemplateError(
                    f"{path}: a template folder may not hold symbolic links (copy the file into {directory} instead)"
                )


def _inside(directory: Path, relative: str) -> bool:
    return (directory / relative).resolve().is_relative_to(directory.resolve())


def load_template(name: str, templates_dir: str | Path | None = None) -> TemplateSource:
    directory = find_template(name, templates_dir)
    refuse_links(directory)
    manifest_path = directory / MANIFEST_FILE
    try:
        data = tomllib.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise TemplateError(f"cannot read {manifest_path}: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise TemplateError(f"{manifest_path} is not valid TOML: {error}") from None
    manifest = parse_manifest(data, str(manifest_path))
    files: dict[Part, Path] = {}
    for channel in manifest.channel_objects:
        for part in channel.parts:
            found = next((directory / file for file in part.sources if (directory / file).is_file()), None)
            if found is not None:
                files[part] = found
            elif not part.optional:
                raise TemplateError(
                    f"template {manifest.name} has channel {channel.name} but no {' or '.join(part.sources)} in "
                    f"{directory}"
                )
    if manifest.sample_event and not _inside(directory, manifest.sample_event):
        raise TemplateError(f"{manifest_path}: sample_event {manifest.sample_event} is outside {directory}")
    if manifest.sample_event and not (directory / manifest.sample_event).is_file():
        raise TemplateError(f"{manifest_path}: sample_event {manifest.sample_event} not found in {directory}")
    return TemplateSource(directory, manifest, files)
