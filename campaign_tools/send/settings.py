"""What a send is asked to do: one validated object, built by `pinrec send` from its options and by the send Lambda
from its execution input, through this one schema. Every problem is reported at once, naming the option."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SerializeAsAny,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from campaign_tools.channels import registry as channel_registry
from campaign_tools.channels.base import Channel, Settings
from campaign_tools.send.ledgers import registry as ledger_registry
from campaign_tools.send.ledgers.base import DEFAULT_LEASE_SECONDS
from campaign_tools.send.recommendations import registry as source_registry
from campaign_tools.send.recommendations.base import IdType, SourceOptions
from transformer.aws import AwsOptions
from transformer.errors import PinrecError
from transformer.limits import MAX_ITEMS_PER_MESSAGE, MIN_ITEMS_PER_MESSAGE

CAMPAIGN_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
DEFAULT_LEDGER = "sqlite:pinrec-send.db"
DEFAULT_LIST_SEPARATOR = "|"


class SettingsError(PinrecError):
    """The send's settings break a rule; the message lists every problem with the option it concerns."""


def check_campaign_id(campaign_id: str) -> str:
    if not CAMPAIGN_ID_PATTERN.fullmatch(campaign_id):
        raise ValueError(
            f"campaign id {campaign_id!r}: use 1-128 letters, digits, '_', '.' or '-', starting with a letter or digit"
        )
    return campaign_id


def _checked(check: Callable[[str], object]) -> AfterValidator:
    """A pydantic validator from a registry's check, which raises PinrecError for an unknown name."""

    def validate(value: str) -> str:
        try:
            check(value)
        except PinrecError as error:
            raise ValueError(str(error)) from None
        return value

    return AfterValidator(validate)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AwsSettings(_Model):
    """Where and as whom AWS is called; None leaves it to the SDK (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL)."""

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None

    def options(self) -> AwsOptions:
        return AwsOptions(region=self.region, profile=self.profile, endpoint_url=self.endpoint_url)


class SendSettings(_Model):
    campaign_id: Annotated[str, AfterValidator(check_campaign_id)]
    """The ledger key, the outbox folder, the message tag."""
    channel: Annotated[str, _checked(channel_registry.channel)] = "email"
    template: str | None = None
    """A template name (./templates/NAME, shipped) or folder, built from source for this run."""
    built: str | None = None
    """A folder `pinrec templates build` wrote: rendered as is, without the authoring pipeline."""
    templates_dir: str | None = None
    composer: str | None = None
    """MODULE:FACTORY of the user's own composer, instead of the template composer."""
    config: str | None = None
    """pinrec.toml; None: $PINREC_CONFIG or ./pinrec.toml."""
    segment: str | None = None
    """Endpoints: JSON Lines or CSV, local or s3://; None when the caller hands the records over (the Lambda)."""
    segment_format: Literal["jsonl", "csv"] | None = None
    csv_list_separator: str = Field(DEFAULT_LIST_SEPARATOR, min_length=1)
    recommendations: Annotated[str, _checked(source_registry.check_spec)]
    id_type: IdType = IdType.ENDPOINT
    per_message: int = Field(MAX_ITEMS_PER_MESSAGE, ge=MIN_ITEMS_PER_MESSAGE, le=MAX_ITEMS_PER_MESSAGE)
    filter_arn: str | None = None
    filter_values: dict[str, str] = Field(default_factory=dict)
    recommendation_concurrency: int = Field(8, ge=1, le=256)
    sender: SerializeAsAny[Settings] = Field(default_factory=Settings, validate_default=True)
    """The channel's sender settings (From, origination identity, application, ...), validated by the channel."""
    outbox: str | None = None
    """Write messages as files here instead of delivering them (the default, ./pinrec-outbox)."""
    deliver: bool = False
    dry_run: bool = False
    rate: float | None = Field(None, gt=0, allow_inf_nan=False)
    """Messages per second; None: the channel's default when delivering, unpaced otherwise."""
    workers: int = Field(4, ge=1, le=256)
    compose_processes: int = Field(1, ge=1, le=64)
    ledger: Annotated[str, _checked(ledger_registry.check_spec)] = DEFAULT_LEDGER
    retry_pending: bool = False
    lease_seconds: float = Field(DEFAULT_LEASE_SECONDS, gt=0, allow_inf_nan=False)
    aws: AwsSettings = AwsSettings()

    @field_validator("sender", mode="before")
    @classmethod
    def _sender_of_channel(cls, value: Any, info: ValidationInfo) -> Any:
        name = info.data.get("channel")
        if name is None:
            return value
        model = channel_registry.channel(name).sender_settings
        if isinstance(value, model):
            return value
        return model.model_validate(value.model_dump() if isinstance(value, BaseModel) else value or {})

    @model_validator(mode="after")
    def _one_template(self) -> Self:
        if not self.template and not self.built and not self.composer:
            raise ValueError("a send needs --template or --built (or --composer)")
        if self.built and self.templates_dir:
            raise ValueError("--templates-dir goes with --template; --built names the built folder itself")
        if self.outbox and self.deliver:
            raise ValueError("--outbox and --deliver are alternatives: give one")
        return self

    @property
    def channel_object(self) -> Channel:
        return channel_registry.channel(self.channel)

    def source_options(self) -> SourceOptions:
        return SourceOptions(
            id_type=self.id_type,
            per_message=self.per_message,
            filter_arn=self.filter_arn,
            filter_values=dict(self.filter_values),
            concurrency=self.recommendation_concurrency,
        )


_FLAGS = {
    "campaign_id": "--campaign-id",
    "segment_format": "--segment-format",
    "csv_list_separator": "--csv-list-separator",
    "per_message": "--per-message",
    "recommendation_concurrency": "--recommendation-concurrency",
    "compose_processes": "--compose-processes",
    "lease_seconds": "--lease-seconds",
}


def _where(location: tuple[int | str, ...]) -> str:
    if not location:
        return "settings"
    head = str(location[0])
    if head == "sender" and len(location) > 1:
        return f"sender {location[1]}"
    return _FLAGS.get(head, "--" + head.replace("_", "-"))


def parse_settings(data: dict[str, Any]) -> SendSettings:
    """The settings `data` describes, or SettingsError listing every problem."""
    try:
        return SendSettings.model_validate(data)
    except ValidationError as error:
        problems = [
            f"  {_where(tuple(problem['loc']))}: {problem['msg'].removeprefix('Value error, ')}"
            for problem in error.errors()
        ]
        raise SettingsError("invalid send settings:\n" + "\n".join(problems)) from None
