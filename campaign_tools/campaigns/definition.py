"""`campaign.toml`: one campaign as Pinpoint's `WriteCampaignRequest` described it, validated with every problem
reported at once, each named by its TOML path (`schedule.quiet_time.start`, `treatments[1].email.template`).

The README's "Campaigns (campaign.toml)" documents every key. The rules between keys:
- each channel table (`[email]`, `[sms]`, `[push]`: one per channel of `channels.registry`) names a `template` or a
  `built` folder, and takes that channel's sender settings (`from_address`, `origination_identity`, ...);
- sizes, as Pinpoint's HoldoutPercent and AdditionalTreatments[].SizePercent: `holdout_percent` plus every
  `[[treatments]]` `size_percent` is at most 100, and what is left goes to the campaign's own message (Pinpoint's
  default treatment, named `treatment_name`). Pinpoint allowed five treatments: with the campaign's own taking a
  share, at most four `[[treatments]]`; when they take the rest (the sum is exactly 100), five;
- a treatment's channel tables override the campaign's table of that channel key by key, and name only channels
  the campaign has; a treatment's own `[treatments.schedule]` replaces the campaign's for its recipients;
- `frequency = "event"` needs `[schedule.event_filter]` (and takes no `local_time`); other frequencies take none;
- with `local_time`, `start` and `end` are wall-clock times without an offset (read in each recipient's zone);
  otherwise a time without an offset is read in `schedule.timezone`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    create_model,
    field_validator,
    model_validator,
)

from campaign_tools.campaigns.event_filter import EventFilter
from campaign_tools.campaigns.table import Table, toml_path
from campaign_tools.campaigns.zones import campaign_zone
from campaign_tools.channels import registry as channel_registry
from campaign_tools.channels.base import Channel, Settings
from campaign_tools.send.ledgers import registry as ledger_registry
from campaign_tools.send.recommendations import registry as source_registry
from campaign_tools.send.recommendations.base import IdType
from campaign_tools.send.suppression import check_spec as check_suppression_spec
from campaign_tools.settings import InvalidSettings, SettingsModel, Violations
from transformer.config import unknown_key
from transformer.errors import PinrecError
from transformer.limits import MAX_ITEMS_PER_MESSAGE, MIN_ITEMS_PER_MESSAGE

CAMPAIGN_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,47}")
"""No `.`: a send's ledger id is `<campaign>.<slot>.<treatment>.<channel>` (see `campaigns.units`)."""
TREATMENT_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
HOLDOUT = "holdout"
DEFAULT_TREATMENT = "default"
MAX_TREATMENTS = 5
MAX_PER_ENDPOINT = 100
"""Pinpoint's maximum for Daily and Total."""
MAX_MESSAGES_PER_SECOND = 20_000
MIN_MAXIMUM_DURATION = timedelta(seconds=60)
DEFAULT_MAX_LATENESS = timedelta(hours=1)
Frequency = Literal["once", "hourly", "daily", "weekly", "monthly", "event"]


class CampaignError(InvalidSettings):
    """A campaign.toml breaks rules; the message lists each problem with its TOML path."""

    heading = "invalid campaign definition"

    def __init__(self, violations: Sequence[str], source: str | None = None) -> None:
        self.violations = list(violations)
        heading = f"invalid {source}" if source is not None else self.heading
        PinrecError.__init__(self, f"{heading}:\n" + "\n".join(f"  - {violation}" for violation in self.violations))


def _pattern(pattern: re.Pattern[str], what: str, longest: int) -> AfterValidator:
    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(
                f"{what} {value!r}: use 1-{longest} letters, digits, '_' or '-', starting with a letter or digit"
            )
        return value

    return AfterValidator(check)


def _zone_name(value: str) -> str:
    campaign_zone(value)
    return value


def _spec_of(check: Any, flag: str) -> AfterValidator:
    """A `pinrec send` option's check on the key of the same name (the message without the option's name)."""

    def validate(value: str) -> str:
        try:
            check(value)
        except PinrecError as error:
            raise ValueError(str(error).replace(f"{flag} ", "")) from None
        return value

    return AfterValidator(validate)


def _no_limit_at_zero(value: int | None) -> int | None:
    """Pinpoint's 0: no limit."""
    return value or None


PerEndpoint = Annotated[int | None, Field(ge=0, le=MAX_PER_ENDPOINT), AfterValidator(_no_limit_at_zero)]


class ChannelMessage(Table):
    """A channel's table: its template and (in the subclass `channel_tables` makes) the channel's sender settings."""

    template: str | None = None
    """A template name (./templates/NAME, shipped) or folder, built for the run."""
    built: str | None = None
    """A folder `pinrec templates build` wrote, sent as is."""

    def sender(self, channel: Channel) -> Settings:
        """The channel's sender settings from this table."""
        return channel.sender_settings.model_validate(
            {name: getattr(self, name) for name in channel.sender_settings.model_fields}
        )

    def merged(self, override: ChannelMessage | None) -> ChannelMessage:
        """This table with the keys `override` sets (a treatment's table) replacing its own."""
        if override is None:
            return self
        return self.model_copy(update={name: getattr(override, name) for name in override.model_fields_set})


def _message_model(channel: Channel) -> type[ChannelMessage]:
    name = f"{channel.name.title()}Message"
    return create_model(name, __base__=(ChannelMessage, channel.sender_settings))  # type: ignore[arg-type]


class ChannelTablesBase(Table):
    def given(self) -> dict[str, ChannelMessage]:
        """channel name -> its table, for the tables written, in the registry's order."""
        return {name: value for name in type(self).model_fields if (value := getattr(self, name)) is not None}


if TYPE_CHECKING:
    ChannelTables = ChannelTablesBase
else:
    ChannelTables = create_model(
        "ChannelTables",
        __base__=ChannelTablesBase,
        **{channel.name: (_message_model(channel) | None, None) for channel in channel_registry.CHANNELS},
    )


def _gather_channel_tables(data: Any) -> Any:
    """The file writes `[email]`; the model keeps the channel tables together under `channels`."""
    if not isinstance(data, Mapping):
        return data
    names = channel_registry.names()
    rest = {key: value for key, value in data.items() if key not in names}
    if "channels" in rest:
        rest["channels "] = rest.pop("channels")  # not a key of the file: reported as unknown
    return {**rest, "channels": {key: value for key, value in data.items() if key in names}}


class QuietTime(Table):
    start: time
    """HH:MM, in each recipient's own zone."""
    end: time

    def covers(self, moment: time) -> bool:
        """Quiet at this local time: [start, end), across midnight when start > end (22:00-07:00)."""
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


class Schedule(Table):
    """Pinpoint's Schedule, with pinrec's quiet_time_mode and max_lateness."""

    start: datetime
    end: datetime | None = None
    frequency: Annotated[Frequency, BeforeValidator(lambda value: value.lower() if isinstance(value, str) else value)]
    local_time: bool = False
    timezone: Annotated[str, AfterValidator(_zone_name)] = "UTC"
    """The campaign's zone: of `start`/`end` without an offset, and of recipients without a valid one."""
    quiet_time: QuietTime | None = None
    quiet_time_mode: Literal["skip", "hold"] = "skip"
    """skip: a recipient in quiet time gets nothing from that slot (Pinpoint's campaigns); hold: it gets the
    message when quiet time ends (Pinpoint's journeys' WaitForQuietTime)."""
    max_lateness: timedelta = DEFAULT_MAX_LATENESS
    """A slot not started within this time after it was due is skipped (`late`), never sent late."""
    event_filter: EventFilter | None = None

    @property
    def zone(self) -> tzinfo:
        return campaign_zone(self.timezone)

    def instant(self, value: datetime) -> datetime:
        """`value` as a UTC instant; without an offset it is read in the campaign's zone (not for local_time)."""
        if value.tzinfo is None:
            return value.replace(tzinfo=self.zone, fold=0).astimezone(UTC)
        return value.astimezone(UTC)

    def problems(self, where: str) -> list[str]:
        found = []
        if self.local_time:
            found += [
                f"{where}.{name}: with local_time it is a wall-clock time, read in each recipient's zone: write it "
                "without an offset"
                for name in ("start", "end")
                if (value := getattr(self, name)) is not None and value.tzinfo is not None
            ]
        if self.end is not None and not found and self._comparable(self.end) <= self._comparable(self.start):
            found.append(f"{where}.end: must be after {where}.start")
        if self.frequency == "event":
            if self.event_filter is None:
                found.append(f'{where}.event_filter: frequency = "event" needs an event filter')
            if self.local_time:
                found.append(f'{where}.local_time: does not apply to frequency = "event"')
        elif self.event_filter is not None:
            found.append(f'{where}.event_filter: only for frequency = "event", not {self.frequency!r}')
        if self.quiet_time is not None and self.quiet_time.start == self.quiet_time.end:
            found.append(f"{where}.quiet_time: start and end are the same time: give a range (it may span midnight)")
        if self.max_lateness <= timedelta(0):
            found.append(f"{where}.max_lateness: must be more than 0 seconds")
        return found

    def _comparable(self, value: datetime) -> datetime:
        return value.replace(tzinfo=None) if self.local_time else self.instant(value)


class ProjectLimits(Table):
    """Pinpoint's project (ApplicationSettings) limits: per endpoint, across every campaign of the ledger."""

    daily: PerEndpoint = None
    total: PerEndpoint = None


class Limits(Table):
    """Pinpoint's CampaignLimits (Session has no meaning without sessions and is not taken)."""

    daily: PerEndpoint = None
    """Messages one endpoint gets from this campaign in 24 hours (0 or none: no limit)."""
    total: PerEndpoint = None
    """Messages one endpoint gets from this campaign over all its runs."""
    messages_per_second: int | None = Field(None, ge=1, le=MAX_MESSAGES_PER_SECOND)
    maximum_duration: timedelta | None = None
    """How long after its slot a run may go on delivering (at least 60 seconds)."""
    project: ProjectLimits = ProjectLimits()

    @field_validator("maximum_duration")
    @classmethod
    def _duration(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value < MIN_MAXIMUM_DURATION:
            raise ValueError("must be at least 60 seconds (Pinpoint's minimum)")
        return value


SHORT_DURATION = re.compile(r"(\d+)\s*([wdhm])")
SHORT_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}
MAX_ATTRIBUTION_WINDOW = timedelta(days=90)


def _short_duration(value: object) -> object:
    """`7d`, `12h`, `2w`, `30m` as well as what pydantic reads (ISO 8601 `P7D`, seconds)."""
    match = SHORT_DURATION.fullmatch(value.strip().lower()) if isinstance(value, str) else None
    if match is None:
        return value
    return timedelta(**{SHORT_UNITS[match.group(2)]: int(match.group(1))})


class ConversionSettings(Table):
    """How the campaign report attributes conversions (`pinrec conversions ingest`) to recipients."""

    window: Annotated[timedelta, BeforeValidator(_short_duration)] = timedelta(days=7)
    """A recipient converts when a conversion of theirs falls within this time after their message (the holdout:
    after their slot)."""
    event_types: tuple[Annotated[str, Field(min_length=1, max_length=128)], ...] | None = None
    """The conversion event types that count (none: every type)."""

    @field_validator("window")
    @classmethod
    def _window(cls, value: timedelta) -> timedelta:
        if not timedelta(0) < value <= MAX_ATTRIBUTION_WINDOW:
            raise ValueError('must be more than 0 and at most 90 days (e.g. "7d", "12h", "P7D")')
        return value


class Treatment(Table):
    """One of Pinpoint's AdditionalTreatments: a share of the recipients, its own templates and schedule."""

    name: Annotated[str, _pattern(TREATMENT_NAME_PATTERN, "treatment name", 32)]
    description: str = ""
    size_percent: int = Field(ge=1, le=100)
    channels: ChannelTables = Field(default_factory=ChannelTables)
    schedule: Schedule | None = None

    _gather = model_validator(mode="before")(_gather_channel_tables)


class CampaignDefinition(SettingsModel):
    """A campaign.toml, validated."""

    invalid: ClassVar[type[InvalidSettings]] = CampaignError

    id: Annotated[str, _pattern(CAMPAIGN_ID_PATTERN, "campaign id", 48)]
    name: str = Field(min_length=1, max_length=128)
    description: str = ""
    segment: str | None = None
    """Endpoints: JSON Lines or CSV, local (relative to the campaign file) or s3://; `--segment` overrides it."""
    segment_format: Literal["jsonl", "csv"] | None = None
    csv_list_separator: str = Field("|", min_length=1)
    recommendations: Annotated[str, _spec_of(source_registry.check_spec, "--recommendations")]
    id_type: IdType = IdType.ENDPOINT
    per_message: int = Field(MAX_ITEMS_PER_MESSAGE, ge=MIN_ITEMS_PER_MESSAGE, le=MAX_ITEMS_PER_MESSAGE)
    """Items recommended per message (Pinpoint's RecommendationsPerMessage), as `pinrec send --per-message`."""
    config: str | None = None
    """pinrec.toml of the transformer (None: $PINREC_CONFIG or ./pinrec.toml)."""
    ledger: Annotated[str, _spec_of(ledger_registry.check_spec, "--ledger")] | None = None
    """Where the campaign's sends are recorded, as `pinrec send --ledger` (None: the run's option, else its default);
    on AWS the table the events function writes, so delivery events reach the campaign's rows."""
    suppression: Annotated[str, _spec_of(check_suppression_spec, "--suppression")] | None = None
    """The suppression list its sends consult, as `pinrec send --suppression` (None: the run's option, else the
    send's default)."""
    treatment_name: Annotated[str, _pattern(TREATMENT_NAME_PATTERN, "treatment name", 32)] = DEFAULT_TREATMENT
    """The name of the campaign's own message (Pinpoint's default treatment)."""
    assign_by: Literal["endpoint", "user"] = "endpoint"
    """What the holdout and treatment hash keys on: the endpoint id, or the user id (all of a user's endpoints in one
    group; endpoints without one fall back to their id)."""
    channels: ChannelTables
    schedule: Schedule
    limits: Limits = Limits()
    holdout_percent: int = Field(0, ge=0, le=100)
    treatments: tuple[Treatment, ...] = Field((), max_length=MAX_TREATMENTS)
    expiry: datetime | None = None
    """After this instant nothing is sent: no slot, no held message, no event (no offset: the campaign's zone)."""
    conversions: ConversionSettings = ConversionSettings()

    _gather = model_validator(mode="before")(_gather_channel_tables)

    @model_validator(mode="wrap")
    @classmethod
    def _every_violation_at_once(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            definition = handler(data)
        except ValidationError as error:
            raise cls.invalid(describe(error)) from None
        problems = definition.problems() if isinstance(definition, CampaignDefinition) else []
        if problems:
            raise cls.invalid(problems)
        return definition

    @property
    def default_share(self) -> int:
        """The percent the campaign's own message gets: what the holdout and the treatments leave."""
        return 100 - self.holdout_percent - sum(treatment.size_percent for treatment in self.treatments)

    def problems(self) -> list[str]:
        found = self._size_problems()
        given = self.channels.given()
        if not given:
            names = ", ".join(f"[{name}]" for name in channel_registry.names())
            found.append(f"(top level): a campaign needs at least one channel table: {names}")
        for name, table in given.items():
            if bool(table.template) == bool(table.built):
                found.append(f"{name}: give template or built (one of them)")
        found += self.schedule.problems("schedule")
        names_seen = {self.treatment_name}
        for index, treatment in enumerate(self.treatments):
            where = f"treatments[{index}]"
            if treatment.name in names_seen or treatment.name == HOLDOUT:
                found.append(f"{where}.name: {treatment.name!r} is taken (treatment names differ, and not holdout)")
            names_seen.add(treatment.name)
            for name, table in treatment.channels.given().items():
                if name not in given:
                    found.append(f"{where}.{name}: the campaign has no [{name}] table for it to override")
                elif table.template and table.built:
                    found.append(f"{where}.{name}: give template or built (one of them)")
            if treatment.schedule is not None:
                found += treatment.schedule.problems(f"{where}.schedule")
                if (treatment.schedule.frequency == "event") != (self.schedule.frequency == "event"):
                    found.append(f'{where}.schedule.frequency: "event" for all treatments or for none')
        if self.treatment_name == HOLDOUT:
            found.append("treatment_name: 'holdout' names the holdout group")
        return found

    def _size_problems(self) -> list[str]:
        share = self.default_share
        if share < 0:
            sizes = " + ".join(f"{treatment.size_percent}" for treatment in self.treatments)
            return [f"holdout_percent + treatments' size_percent = {self.holdout_percent} + {sizes} is over 100"]
        if share > 0 and len(self.treatments) == MAX_TREATMENTS:
            return [
                f"treatments: {MAX_TREATMENTS} treatments and the campaign's own message ({share}% left to it) make "
                f"{MAX_TREATMENTS + 1}; Pinpoint allowed {MAX_TREATMENTS} (make the sizes add up to 100)"
            ]
        return []

    def expiry_instant(self) -> datetime | None:
        return None if self.expiry is None else self.schedule.instant(self.expiry)

    def channel_objects(self) -> dict[str, Channel]:
        return {name: channel_registry.channel(name) for name in self.channels.given()}

    def message(self, treatment: str, channel: str) -> ChannelMessage:
        """The table a treatment (or the campaign's own message) sends on a channel: the campaign's, overridden."""
        base = self.channels.given()[channel]
        if treatment == self.treatment_name:
            return base
        found = next(candidate for candidate in self.treatments if candidate.name == treatment)
        return base.merged(found.channels.given().get(channel))

    def normalised(self) -> dict[str, Any]:
        """The definition as campaign.toml spells it, every default filled in (None values left out)."""
        data = self.model_dump(mode="json", exclude_none=True)
        data.update(data.pop("channels"))
        for treatment in data.get("treatments", []):
            treatment.update(treatment.pop("channels"))
        return data

    def schedule_of(self, treatment: str) -> Schedule:
        found = next((candidate for candidate in self.treatments if candidate.name == treatment), None)
        return found.schedule if found is not None and found.schedule is not None else self.schedule


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation) if get_origin(annotation) is not None else ():
        found = _model_of(argument)
        if found is not None:
            return found
    return None


def known_keys(location: tuple[int | str, ...]) -> list[str]:
    """The keys the table at a location takes (for "did you mean")."""
    model: type[BaseModel] | None = CampaignDefinition
    for part in location:
        if model is None:
            return []
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:  # a key of a dict field (attributes.NAME): the dict's value model
            continue
        model = _model_of(field.annotation)
    if model is None:
        return []
    keys = [name for name in model.model_fields if name != "channels"]
    if "channels" in model.model_fields:
        keys += list(channel_registry.names())
    return keys


def describe(error: ValidationError) -> list[str]:
    """One `path: message` per problem; an unknown key with the key it probably meant."""
    found: list[str] = []
    for detail in error.errors():
        location = tuple(detail["loc"])
        cause = (detail.get("ctx") or {}).get("error")
        if isinstance(cause, Violations):
            found += [message for message in cause.messages if message not in found]
            continue
        if detail["type"] == "extra_forbidden" and location:
            message = unknown_key(str(location[-1]).strip(), known_keys(location[:-1]))
        elif detail["type"] == "missing":
            message = "required"
        else:
            message = (str(cause) if isinstance(cause, ValueError) else detail["msg"]).removeprefix("Value error, ")
        found.append(f"{toml_path(location)}: {message}")
    return found


def _relative_to(path: Path, value: object) -> object:
    if not isinstance(value, str) or not value or value == "-" or "://" in value or Path(value).is_absolute():
        return value
    return str(path.parent / value)


def parse_campaign(data: Mapping[str, Any], source: str | None = None) -> CampaignDefinition:
    try:
        return CampaignDefinition.model_validate(dict(data))
    except CampaignError as error:
        raise CampaignError(error.violations, source) from None


def load_campaign(path: str | Path) -> CampaignDefinition:
    """Read and validate a campaign.toml; a relative `segment` path is read relative to the file."""
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise PinrecError(f"cannot read {file}: {getattr(error, 'strerror', None) or error}") from None
    except tomllib.TOMLDecodeError as error:
        raise PinrecError(f"{file} is not valid TOML: {error}") from None
    if "segment" in data:
        data["segment"] = _relative_to(file, data["segment"])
    return parse_campaign(data, str(file))
