"""What a send is asked to do: one validated object, built by `pinrec send` from its options and by the send Lambda
from its execution input, through this one schema. Every problem is reported at once, naming the option."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SerializeAsAny,
    ValidationInfo,
    field_validator,
)

from campaign_tools.channels import registry as channel_registry
from campaign_tools.channels.base import Channel, Settings
from campaign_tools.send.ledgers import registry as ledger_registry
from campaign_tools.send.ledgers.base import DEFAULT_EVENT_GRACE_SECONDS, DEFAULT_LEASE_SECONDS
from campaign_tools.send.recommendations import registry as source_registry
from campaign_tools.send.recommendations.base import IdType, SourceOptions
from campaign_tools.send.suppression import check_spec as check_suppression_spec
from campaign_tools.settings import InvalidSettings, SettingsModel, Violations
from campaign_tools.unsubscribe import keys as unsubscribe_keys
from campaign_tools.unsubscribe import links as unsubscribe_links
from transformer.aws import AwsOptions
from transformer.errors import PinrecError
from transformer.limits import MAX_ITEMS_PER_MESSAGE, MIN_ITEMS_PER_MESSAGE

CAMPAIGN_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
DEFAULT_LEDGER = "sqlite:pinrec-send.db"
DEFAULT_LIST_SEPARATOR = "|"
DEFAULT_SUPPRESSION_MAX_AGE_HOURS = 24.0


class SettingsError(InvalidSettings):
    """The send's settings break a rule; the message lists every problem with the option it concerns."""

    heading = "invalid send settings"


def check_campaign_id(campaign_id: str) -> str:
    if not CAMPAIGN_ID_PATTERN.fullmatch(campaign_id):
        raise ValueError(
            f"campaign id {campaign_id!r}: use 1-128 letters, digits, '_', '.' or '-', starting with a letter or digit"
        )
    return campaign_id


def _checked(check: Callable[[str], object], *, names_its_flag: bool = False) -> AfterValidator:
    """A pydantic validator from a registry's check, which raises PinrecError for an unknown name; a message that
    already names its flag is reported as it is."""

    def validate(value: str) -> str:
        try:
            check(value)
        except PinrecError as error:
            raise (Violations([str(error)]) if names_its_flag else ValueError(str(error))) from None
        return value

    return AfterValidator(validate)


class AwsSettings(BaseModel):
    """Where and as whom AWS is called; None leaves it to the SDK (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None

    def options(self) -> AwsOptions:
        return AwsOptions(region=self.region, profile=self.profile, endpoint_url=self.endpoint_url)


def _named(flag: str) -> Callable[[str], object]:
    return lambda value: unsubscribe_links.check_name(value, flag)


UNSUBSCRIBE_FIELDS = ("unsubscribe_mode", "contact_list", "topic", "unsubscribe_endpoint", "unsubscribe_key")


def _sender_flags() -> dict[str, str]:
    return {option.field: option.flag for channel in channel_registry.CHANNELS for option in channel.send_options}


class SendSettings(SettingsModel):
    invalid: ClassVar[type[InvalidSettings]] = SettingsError
    flags: ClassVar[Mapping[str, str]] = {"event_grace_seconds": "--event-grace"}

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
    recommendations: Annotated[str, _checked(source_registry.check_spec, names_its_flag=True)]
    id_type: IdType = IdType.ENDPOINT
    per_message: int = Field(MAX_ITEMS_PER_MESSAGE, ge=MIN_ITEMS_PER_MESSAGE, le=MAX_ITEMS_PER_MESSAGE)
    filter_arn: str | None = None
    filter_values: dict[str, str] = Field(default_factory=dict)
    recommendation_concurrency: int = Field(8, ge=1, le=256)
    sender: SerializeAsAny[Settings] = Field(default_factory=Settings)
    """The channel's sender settings (From, origination identity, application, ...), validated by the channel."""
    outbox: str | None = None
    """Write messages as files here instead of delivering them (the default, ./pinrec-outbox)."""
    deliver: bool = False
    dry_run: bool = False
    rate: float | None = Field(None, gt=0, allow_inf_nan=False)
    """Messages per second; None: the channel's default when delivering, unpaced otherwise."""
    workers: int = Field(4, ge=1, le=256)
    compose_processes: int = Field(1, ge=1, le=64)
    ledger: Annotated[str, _checked(ledger_registry.check_spec, names_its_flag=True)] = DEFAULT_LEDGER
    retry_pending: bool = False
    rebind: bool = False
    """Bind the campaign id to what this run sends, though it was started with something else."""
    lease_seconds: float = Field(DEFAULT_LEASE_SECONDS, gt=0, allow_inf_nan=False)
    suppression: Annotated[str, _checked(check_suppression_spec, names_its_flag=True)] | None = None
    """The suppression list consulted before every message (KIND:TARGET, or `none`); None: ./pinrec-suppression.db
    when it exists, else none (campaign_tools.send.suppression.choose)."""
    suppression_max_age: float = Field(DEFAULT_SUPPRESSION_MAX_AGE_HOURS, gt=0, allow_inf_nan=False)
    """Hours after which the preflight warns that the provider lists' copy (`pinrec suppression sync`) is stale."""
    event_grace_seconds: float = Field(DEFAULT_EVENT_GRACE_SECONDS, ge=0, allow_inf_nan=False)
    """How long delivery events may take to reach the ledger: an in-doubt row with none after lease + this is resent
    (`campaign_tools.send.reconcile`)."""
    aws: AwsSettings = AwsSettings()
    unsubscribe_mode: Literal["url", "pinrec", "ses"] | None = None
    """How email recipients unsubscribe (campaign_tools.unsubscribe.links); None: the template's links.unsubscribe."""
    contact_list: Annotated[str, _checked(_named("--contact-list"), names_its_flag=True)] | None = None
    """The SES contact list of the `ses` mode; None: the template's links.contact_list."""
    topic: Annotated[str, _checked(_named("--topic"), names_its_flag=True)] | None = None
    """The list's topic unsubscribes are scoped to (`ses`, `pinrec`); None: the template's links.topic."""
    unsubscribe_endpoint: Annotated[str, _checked(unsubscribe_links.check_endpoint, names_its_flag=True)] | None = None
    """The `pinrec` mode's function URL (https://HOST[/PATH]); its links are https://HOST/u/TOKEN."""
    unsubscribe_key: Annotated[str, _checked(unsubscribe_keys.check_key_source, names_its_flag=True)] | None = None
    """Where the `pinrec` mode's signing key is: secretsmanager:ID, ssm:NAME, env:VARIABLE or file:PATH."""

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

    def problems(self) -> list[str]:
        problems = []
        if not self.template and not self.built and not self.composer:
            problems.append("a send needs --template or --built (or --composer)")
        if self.built and self.templates_dir:
            problems.append("--templates-dir goes with --template; --built names the built folder itself")
        if self.outbox and self.deliver:
            problems.append("--outbox and --deliver are alternatives: give one")
        return problems + self._unsubscribe_problems()

    def _unsubscribe_problems(self) -> list[str]:
        given = [field for field in UNSUBSCRIBE_FIELDS if getattr(self, field) is not None]
        if given and not self.channel_object.unsubscribes:
            flags = ", ".join("--" + field.replace("_", "-") for field in given)
            return [f"{flags}: unsubscribing is chosen for email, not {self.channel}"]
        problems = []
        mode = self.unsubscribe_mode
        if mode == "ses" and (self.unsubscribe_endpoint or self.unsubscribe_key):
            problems.append("--unsubscribe-endpoint and --unsubscribe-key go with --unsubscribe-mode pinrec, not ses")
        if mode in ("url", "pinrec") and self.contact_list:
            problems.append(f"--contact-list goes with --unsubscribe-mode ses, not {mode}")
        if mode == "url" and (self.topic or self.unsubscribe_endpoint or self.unsubscribe_key):
            problems.append(
                "--topic, --unsubscribe-endpoint and --unsubscribe-key do not go with --unsubscribe-mode url"
            )
        return problems

    def unsubscribe_request(self) -> unsubscribe_links.UnsubscribeRequest:
        """What the composer is asked for: this send's choices, where the template's apply otherwise."""
        return unsubscribe_links.UnsubscribeRequest(
            campaign_id=self.campaign_id,
            mode=self.unsubscribe_mode,
            contact_list=self.contact_list,
            topic=self.topic,
            endpoint=self.unsubscribe_endpoint,
            key=self.unsubscribe_key,
            aws=self.aws.options(),
        )

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

    @classmethod
    def _flag(cls, location: tuple[int | str, ...]) -> str:
        if len(location) > 1 and location[0] == "sender":
            return _sender_flags().get(str(location[1]), f"sender {location[1]}")
        return super()._flag(location)
