"""The `pinrec.toml` configuration: its schema, its rules, and loading it with errors that name key and rule."""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from transformer.attributes import compile_template
from transformer.errors import ConfigError
from transformer.limits import (
    ATTRIBUTE_NAME_PATTERN,
    DISPLAY_NAME_PATTERN,
    MAX_ATTRIBUTES,
    MAX_ITEMS_PER_MESSAGE,
    MIN_ATTRIBUTES,
    MIN_ITEMS_PER_MESSAGE,
)
from transformer.stores.base import StoreConfig
from transformer.stores.registry import BACKENDS, store_config

CONFIG_ENV_VAR = "PINREC_CONFIG"
DEFAULT_CONFIG_FILE = "pinrec.toml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CacheConfig(_Section):
    ttl_seconds: float = Field(default=300, ge=0, description="per-container cache lifetime; 0 disables the cache")
    max_items: int = Field(default=50_000, ge=0, description="cache size bound in items; 0 disables the cache")

    @property
    def enabled(self) -> bool:
        return self.ttl_seconds > 0 and self.max_items > 0


class RecommendationsConfig(_Section):
    min_items: int = Field(default=1, ge=MIN_ITEMS_PER_MESSAGE, le=MAX_ITEMS_PER_MESSAGE)
    missing: Literal["drop", "fill"] = "drop"


class AttributeConfig(_Section):
    field: str | None = Field(None, min_length=1)
    template: str | None = Field(None, min_length=1)
    default: str | None = None
    max_length: int | None = Field(None, ge=1)
    display_name: str | None = None

    @model_validator(mode="after")
    def _exactly_one_source(self) -> Self:
        if (self.field is None) == (self.template is None):
            raise ValueError("set exactly one of 'field' or 'template'")
        return self

    @field_validator("display_name")
    @classmethod
    def _display_name_rule(cls, value: str | None) -> str | None:
        if value is not None and not DISPLAY_NAME_PATTERN.fullmatch(value):
            raise ValueError("display_name must be 1-25 letters, digits, spaces, '_' or '-'")
        return value

    @field_validator("template")
    @classmethod
    def _template_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            compile_template(value)  # TemplateSyntaxProblem, a ValueError: "line N: what is wrong"
        return value


OFFERS_FROM_STORE = "store"
PERSONALIZE_CAMPAIGN_ARN = re.compile(
    r"arn:aws[a-z-]*:personalize:[a-z0-9-]+:\d{12}:campaign/[A-Za-z0-9][A-Za-z0-9_-]*"
)
AWS_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
_PERSONALIZE_ONLY = (
    "campaign_arn",
    "id_type",
    "region",
    "endpoint_url",
    "max_attempts",
    "concurrency",
    "timeout_seconds",
)


class OffersConfig(_Section):
    """`[offers]`: choose the best offer per endpoint; the `[attributes.*]` tables then map the offer's fields."""

    catalog: str = Field(min_length=1, description="JSON Lines offers file (relative to the config), or 'store'")
    scoring: Literal["rank", "personalize"] = "rank"
    exploration: float = Field(0.0, ge=0, le=1, allow_inf_nan=False)
    per_endpoint: int = Field(1, ge=MIN_ITEMS_PER_MESSAGE, le=MAX_ITEMS_PER_MESSAGE)
    score_attribute: str | None = None
    campaign_arn: str | None = None
    id_type: Literal["endpoint", "user"] = "endpoint"
    region: str | None = None
    endpoint_url: str | None = None
    max_attempts: int = Field(3, ge=1, le=10, description="GetPersonalizedRanking attempts per endpoint")
    concurrency: int = Field(10, ge=1, le=50, description="GetPersonalizedRanking calls in flight at once")
    timeout_seconds: float = Field(2.0, gt=0, le=14, allow_inf_nan=False, description="per call")

    @field_validator("score_attribute")
    @classmethod
    def _score_attribute_name(cls, value: str | None) -> str | None:
        if value is not None and not ATTRIBUTE_NAME_PATTERN.fullmatch(value):
            raise ValueError(f"attribute name {value!r} must be 1-50 letters, digits, '_' or '-'")
        return value

    @field_validator("campaign_arn")
    @classmethod
    def _campaign_arn_shape(cls, value: str | None) -> str | None:
        if value is not None and not PERSONALIZE_CAMPAIGN_ARN.fullmatch(value):
            raise ValueError(
                "must be a Personalize campaign ARN (arn:aws:personalize:<region>:<account>:campaign/<name>)"
            )
        return value

    @field_validator("region")
    @classmethod
    def _region_shape(cls, value: str | None) -> str | None:
        if value is not None and not AWS_REGION.fullmatch(value):
            raise ValueError("must be an AWS region name such as 'us-east-1'")
        return value

    @field_validator("endpoint_url")
    @classmethod
    def _endpoint_url_shape(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @model_validator(mode="after")
    def _scoring_settings(self) -> Self:
        if self.scoring == "personalize":
            if self.campaign_arn is None:
                raise ValueError("scoring = 'personalize' needs campaign_arn (the Personalize campaign ARN)")
            if self.catalog == OFFERS_FROM_STORE:
                raise ValueError(
                    "scoring = 'personalize' ranks every offer, which the item store cannot list: "
                    "set catalog to a JSON Lines offers file"
                )
        else:
            stray = [key for key in _PERSONALIZE_ONLY if key in self.model_fields_set]
            if stray:
                raise ValueError(f"{', '.join(stray)} only apply with scoring = 'personalize'")
        return self


class PinrecConfig(_Section):
    store: StoreConfig
    """Validated by the model of its `kind`'s backend (transformer.stores.registry)."""
    cache: CacheConfig = CacheConfig()
    recommendations: RecommendationsConfig = RecommendationsConfig()
    attributes: dict[str, AttributeConfig]
    offers: OffersConfig | None = None

    @field_validator("store", mode="before")
    @classmethod
    def _store_of_its_kind(cls, value: object) -> StoreConfig:
        return store_config(value)

    @field_validator("attributes")
    @classmethod
    def _attribute_rules(cls, attributes: dict[str, AttributeConfig]) -> dict[str, AttributeConfig]:
        if not MIN_ATTRIBUTES <= len(attributes) <= MAX_ATTRIBUTES:
            raise ValueError(
                f"Pinpoint accepts {MIN_ATTRIBUTES} to {MAX_ATTRIBUTES} recommendation attributes, "
                f"found {len(attributes)}"
            )
        for name in attributes:
            if not ATTRIBUTE_NAME_PATTERN.fullmatch(name):
                raise ValueError(f"attribute name {name!r} must be 1-50 letters, digits, '_' or '-'")
        return attributes

    @model_validator(mode="after")
    def _fill_needs_defaults(self) -> Self:
        if self.recommendations.missing == "fill":
            lacking = [name for name, spec in self.attributes.items() if spec.default is None]
            if lacking:
                raise ValueError(
                    "recommendations.missing = 'fill' needs a 'default' on every attribute; "
                    f"missing on: {', '.join(lacking)}"
                )
        return self

    @model_validator(mode="after")
    def _offers_attribute_rules(self) -> Self:
        if self.offers is None:
            return self
        if "recommendations" in self.model_fields_set:
            raise ValueError(
                "[recommendations] does not apply with [offers]: offers are chosen or the endpoint is left out "
                "(set offers.per_endpoint for how many)"
            )
        score = self.offers.score_attribute
        if score is not None:
            if score in self.attributes:
                raise ValueError(f"offers.score_attribute {score!r} is also an [attributes] table; pick another name")
            if len(self.attributes) + 1 > MAX_ATTRIBUTES:
                raise ValueError(
                    f"Pinpoint accepts at most {MAX_ATTRIBUTES} recommendation attributes: {len(self.attributes)} "
                    "[attributes] tables plus offers.score_attribute make "
                    f"{len(self.attributes) + 1}"
                )
        return self

    def display_name(self, attribute: str) -> str:
        """The display name Pinpoint shows for an attribute: configured, else the name cut to 25 characters."""
        if self.offers is not None and attribute == self.offers.score_attribute:
            return attribute[:25]
        spec = self.attributes[attribute]
        return spec.display_name or attribute[:25]

    def recommendation_attributes(self) -> list[str]:
        """Every `Recommendations.<Name>` the transformer returns: the attribute tables, then any offer score."""
        names = list(self.attributes)
        if self.offers is not None and self.offers.score_attribute is not None:
            names.append(self.offers.score_attribute)
        return names


KnownKeys = Callable[[tuple[str | int, ...]], Collection[str]]
"""The keys the table at a location accepts (for "did you mean")."""


def describe_problems(error: ValidationError, known_keys: KnownKeys, prefix: str = "") -> list[str]:
    """One `  key.path: message` line per problem; an unknown key is `unknown key`, with the closest known key."""
    lines = []
    for problem in error.errors():
        location = tuple(part for part in problem["loc"] if part != "function-after")
        key = prefix + ".".join(str(part) for part in location) or "(top level)"
        if problem["type"] == "extra_forbidden" and location:
            message = unknown_key(str(location[-1]), known_keys(location[:-1]))
        else:
            message = problem["msg"].removeprefix("Value error, ")
        lines.append(f"  {key}: {message}")
    return lines


def unknown_key(key: str, known: Collection[str]) -> str:
    """`unknown key (did you mean 'template'?)`, or the keys the table takes when none is close."""
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    if close:
        return f"unknown key (did you mean {close[0]!r}?)"
    return f"unknown key (expected one of: {', '.join(known)})" if known else "unknown key"


_SECTIONS: dict[str, type[BaseModel]] = {
    "cache": CacheConfig,
    "recommendations": RecommendationsConfig,
    "offers": OffersConfig,
}


def _keys(model: type[BaseModel]) -> list[str]:
    return list(model.model_fields)


def _config_keys(data: Mapping[str, Any]) -> KnownKeys:
    """The keys each table of a pinrec.toml takes; `[store]`'s are its kind's."""

    def known(location: tuple[str | int, ...]) -> Collection[str]:
        match location:
            case ():
                return _keys(PinrecConfig)
            case ("store",):
                store = data.get("store")
                kind = store.get("kind") if isinstance(store, Mapping) else None
                return _keys(BACKENDS[kind].model()) if isinstance(kind, str) and kind in BACKENDS else ["kind"]
            case ("attributes", _):
                return _keys(AttributeConfig)
            case (str(section),) if section in _SECTIONS:
                return _keys(_SECTIONS[section])
        return ()

    return known


_STAND_IN_STORE = {"kind": "sqlite", "path": "stand-in"}


def _rules_across_sections(data: Mapping[str, Any], error: ValidationError) -> list[str]:
    """The rules between sections, which pydantic checks only once every section is valid, checked on the valid
    sections and attribute tables alone: so every problem of the file is reported at once."""
    locations = [problem["loc"] for problem in error.errors() if problem["loc"]]
    if not locations or ("attributes",) in locations:
        return []
    failed = {location[0] for location in locations}
    valid = {key: value for key, value in data.items() if key in PinrecConfig.model_fields and key not in failed}
    if "store" in failed:
        valid["store"] = _STAND_IN_STORE
    if "attributes" in failed and isinstance(data.get("attributes"), Mapping):
        broken = {location[1] for location in locations if location[0] == "attributes"}
        valid["attributes"] = {name: table for name, table in data["attributes"].items() if name not in broken}
    try:
        PinrecConfig.model_validate(valid)
    except ValidationError as again:
        whole = [problem for problem in again.errors() if not problem["loc"]]
        return [f"  (top level): {problem['msg'].removeprefix('Value error, ')}" for problem in whole]
    return []


def parse_config(data: Mapping[str, Any], *, base_dir: Path, source: str = "configuration") -> PinrecConfig:
    """Validate a decoded TOML mapping, every problem reported at once; relative store paths resolve against
    `base_dir`."""
    try:
        config = PinrecConfig.model_validate(data)
    except ValidationError as error:
        problems = describe_problems(error, _config_keys(data)) + _rules_across_sections(data, error)
        raise ConfigError(f"invalid {source}:\n" + "\n".join(problems)) from None
    config = config.model_copy(update={"store": config.store.resolved(base_dir)})
    return _resolve_offers_catalog(config, base_dir)


def _resolve_offers_catalog(config: PinrecConfig, base_dir: Path) -> PinrecConfig:
    offers = config.offers
    if offers is None or offers.catalog == OFFERS_FROM_STORE or Path(offers.catalog).is_absolute():
        return config
    resolved = offers.model_copy(update={"catalog": str(base_dir / offers.catalog)})
    return config.model_copy(update={"offers": resolved})


def config_path_from_environment() -> Path:
    return Path(os.environ.get(CONFIG_ENV_VAR) or DEFAULT_CONFIG_FILE)


def load_config(path: str | os.PathLike[str] | None = None) -> PinrecConfig:
    """Read and validate a `pinrec.toml`; with no path, use $PINREC_CONFIG or ./pinrec.toml."""
    config_path = Path(path) if path is not None else config_path_from_environment()
    try:
        raw = config_path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"configuration file {config_path} not found (set {CONFIG_ENV_VAR} or pass --config)"
        ) from None
    except OSError as error:
        raise ConfigError(f"cannot read configuration file {config_path}: {error.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"invalid configuration {config_path}: not valid TOML: {error}") from None
    return parse_config(data, base_dir=config_path.resolve().parent, source=f"configuration {config_path}")
