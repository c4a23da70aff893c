"""Pinpoint campaigns -> `campaigns/<name>-<id>/campaign.toml` (the campaigns feature's file: `pinrec campaign
validate | show | plan | deploy` read it) with `pinpoint.json` beside it (the CampaignResponse as exported).

The file points at the migrated audience of its segment (`segment`, relative to the file) and at the migrated
template folders (`built`, relative to the project folder, where pinrec campaign commands are run), and carries the
schedule, local time, quiet time (skip), limits, holdout and treatments. Its recommendations source is the one of
the recommender its templates are bound to (`send.json` of `recommenders/<name>/`), else `segment` (the items the
endpoints carry, as Pinpoint rendered a template without a recommender).

A campaign's channels are those of any of its treatments: a campaign.toml treatment overrides the campaign's
channel tables and cannot leave one out, so a treatment without a message on a channel sends the campaign's (said
in MIGRATION.md). A campaign whose segment has no built audience is still written, without `segment`, and listed
with why. A campaign the definition would refuse is not written: every violation is listed with every field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from campaign_tools.migrate.campaign_messages import MessageConverter, MigratedTemplate, Treatment
from campaign_tools.migrate.campaign_schedule import Unconvertible, convert_limits, convert_schedule, parse_instant
from campaign_tools.migrate.outcome import Outcome, flatten
from campaign_tools.migrate.source import Found
from transformer.errors import PinrecError
from transformer.limits import MAX_ITEMS_PER_MESSAGE, MIN_ITEMS_PER_MESSAGE

CAMPAIGN_FILE = "campaign.toml"
PINPOINT_FILE = "pinpoint.json"
NAME = re.compile(r"[^A-Za-z0-9_-]+")
MAX_ID = 48
DEFAULT_TREATMENT = "default"
SEGMENT_RECOMMENDATIONS = "segment"
METADATA = frozenset(
    {"Id", "Arn", "ApplicationId", "CreationDate", "LastModifiedDate", "Version", "State", "DefaultState"}
)
"""Pinpoint's bookkeeping: kept in pinpoint.json, nothing to carry."""
MAPPED = frozenset(
    {
        "Name",
        "Description",
        "Schedule",
        "Limits",
        "HoldoutPercent",
        "TreatmentName",
        "AdditionalTreatments",
        "TemplateConfiguration",
        "MessageConfiguration",
        "SegmentId",
        "SegmentVersion",
    }
)
WITHOUT_EQUIVALENT = {
    "Hook": "pinrec has no campaign hook: a FILTER hook's Lambda can filter the audience file before the run; a "
    "DELIVERY hook delivered through a Lambda function, which pinrec does not",
    "CustomDeliveryConfiguration": "custom delivery went to a Lambda function or webhook; pinrec sends through SES "
    "and End User Messaging only",
    "Priority": "pinrec runs each campaign on its own; nothing chooses between campaigns by priority",
    "TreatmentDescription": "campaign.toml has no description for the campaign's own message (its `description` is "
    "the campaign's)",
    "tags": "campaign.toml has no tags: tag the schedules `pinrec campaign deploy` creates if you need them",
}
TREATMENT_METADATA = frozenset({"Id", "State"})
TREATMENT_MAPPED = frozenset(
    {
        "SizePercent",
        "TreatmentName",
        "TreatmentDescription",
        "TemplateConfiguration",
        "MessageConfiguration",
        "Schedule",
    }
)


@dataclass(frozen=True)
class Audience:
    """A segment's migrated audience (relative to the project), or why there is none."""

    path: str | None
    why: str = ""
    version: int | None = None


@dataclass(frozen=True)
class Context:
    """What the other object kinds became, for the campaigns to point at."""

    out: Path
    folder: str
    audiences: Mapping[str, Audience]
    templates: Mapping[tuple[str, str], MigratedTemplate]
    recommenders: Mapping[str, str]
    """recommender id -> its folder (relative)."""
    now: datetime


def _slug(text: str) -> str:
    return NAME.sub("-", text).strip("-_")


def folder_name(found: Found, taken: set[str]) -> str:
    """`<name>-<id>`, at most 48 characters so that it is the campaign's id as well."""
    campaign_id = _slug(str(found.body.get("Id") or ""))[:MAX_ID]
    base = _slug(found.name) if found.name != found.body.get("Id") else ""
    room = MAX_ID - len(campaign_id) - 1
    name = (f"{base[:room].strip('-_')}-{campaign_id}" if base and room > 0 else campaign_id or base[:MAX_ID]) or (
        "campaign"
    )
    unique, number = name, 1
    while unique in taken:
        number += 1
        unique = f"{name[: MAX_ID - len(str(number)) - 1]}-{number}"
    taken.add(unique)
    return unique


def _treatment_names(body: Mapping[str, Any], outcome: Outcome) -> list[str]:
    """The campaign's own message first, then AdditionalTreatments: unique names the definition takes."""
    given: list[object] = [body.get("TreatmentName")]
    given += [item.get("TreatmentName") if isinstance(item, Mapping) else None for item in _treatments(body)]
    names: list[str] = []
    for number, value in enumerate(given):
        fallback = DEFAULT_TREATMENT if number == 0 else f"treatment-{number}"
        name = _slug(value)[:32].strip("-_") if isinstance(value, str) else ""
        name = name or fallback
        while name in names or name == "holdout":
            name = f"{name[:29]}-{number + 1}"
        if isinstance(value, str) and value and value != name:
            where = "TreatmentName" if number == 0 else f"AdditionalTreatments[{number - 1}].TreatmentName"
            outcome.notes.append(
                f"{where} {value!r} is named {name!r} (treatment names are 1-32 letters, digits, _, -)"
            )
        names.append(name)
    return names


def _treatments(body: Mapping[str, Any]) -> list[Any]:
    value = body.get("AdditionalTreatments")
    return value if isinstance(value, list) else []


class CampaignConverter:
    def __init__(self, found: Found, context: Context, folder: str) -> None:
        self.found = found
        self.body = found.body
        self.context = context
        self.folder = folder
        self.outcome = Outcome("campaign", f"{found.name} ({self.body.get('Id', 'no Id')})", found.origin)
        application = self.body.get("ApplicationId")
        self.messages = MessageConverter(
            context.out,
            f"{context.folder}/{folder}/templates",
            context.templates,
            application if isinstance(application, str) and application else None,
            self.outcome,
        )

    def launched(self) -> datetime:
        for key in ("LastModifiedDate", "CreationDate"):
            instant = parse_instant(self.body.get(key))
            if instant is not None:
                return instant
        return self.context.now

    def data(self) -> dict[str, Any]:
        """campaign.toml as data; Unconvertible when the schedule has no equivalent."""
        body = self.body
        names = _treatment_names(body, self.outcome)
        data: dict[str, Any] = {"id": self.folder, "name": self.found.name[:128]}
        if isinstance(body.get("Description"), str) and body["Description"]:
            data["description"] = body["Description"]
        data.update(self._segment())
        launched = self.launched()
        schedule = convert_schedule(body.get("Schedule"), "Schedule", self.outcome, launched)
        own = self.messages.treatment(body, "", names[0])
        extra: list[tuple[Treatment, dict[str, Any]]] = []
        for number, item in enumerate(_treatments(body)):
            where = f"AdditionalTreatments[{number}]"
            if not isinstance(item, Mapping):
                self.outcome.not_carried.append(f"{where}: not an object")
                continue
            treatment: dict[str, Any] = {"name": names[number + 1], "size_percent": item.get("SizePercent")}
            if isinstance(item.get("TreatmentDescription"), str) and item["TreatmentDescription"]:
                treatment["description"] = item["TreatmentDescription"]
            if item.get("Schedule") is not None:
                own_schedule = convert_schedule(item["Schedule"], f"{where}.Schedule", self.outcome, launched)
                if own_schedule != schedule:
                    treatment["schedule"] = own_schedule
            if item.get("CustomDeliveryConfiguration"):
                self.outcome.not_carried.append(
                    f"{where}.CustomDeliveryConfiguration: {WITHOUT_EQUIVALENT['CustomDeliveryConfiguration']}"
                )
            for key in sorted(set(item) - TREATMENT_MAPPED - TREATMENT_METADATA - {"CustomDeliveryConfiguration"}):
                self.outcome.not_carried.append(f"{where}.{key}: not a field of Pinpoint's treatments pinrec knows")
            extra.append((self.messages.treatment(item, f"{where}.", treatment["name"]), treatment))
        data.update(self._recommendations([own, *(found for found, _ in extra)]))
        if body.get("TreatmentName") is not None or names[0] != DEFAULT_TREATMENT:
            data["treatment_name"] = names[0]
        if body.get("HoldoutPercent") not in (None, 0):
            data["holdout_percent"] = body["HoldoutPercent"]
        data.update(self._channels(own, extra, names[0]))
        data["schedule"] = schedule
        limits = convert_limits(body.get("Limits"), "Limits", self.outcome)
        if limits:
            data["limits"] = limits
        if extra:
            data["treatments"] = [treatment for _, treatment in extra]
        self._unmapped()
        return data

    def _segment(self) -> dict[str, Any]:
        segment_id = self.body.get("SegmentId")
        if not isinstance(segment_id, str) or not segment_id:
            self.outcome.not_carried.append("SegmentId: missing: campaign.toml has no `segment` (give --segment)")
            return {}
        audience = self.context.audiences.get(segment_id)
        if audience is None or audience.path is None:
            why = audience.why if audience is not None else "the segment is not in the export"
            self.outcome.not_carried.append(
                f"its audience: segment {segment_id} has no migrated audience ({why}); campaign.toml has no "
                "`segment`: build one and set it, or give `--segment`"
            )
            return {}
        version = self.body.get("SegmentVersion")
        if version is not None and audience.version is not None and version != audience.version:
            self.outcome.notes.append(
                f"SegmentVersion {version}: the audience was built from the exported version {audience.version}"
            )
        relative = Path(*[".."] * len(Path(self.context.folder, self.folder).parts), audience.path)
        self.outcome.notes.append(f"segment: `{audience.path}` (its segment {segment_id})")
        return {"segment": relative.as_posix(), "segment_format": "jsonl"}

    def _recommendations(self, treatments: list[Treatment]) -> dict[str, Any]:
        bound = list(dict.fromkeys(found for treatment in treatments for found in treatment.recommenders))
        if not bound:
            self.outcome.notes.append(
                "recommendations = segment: no template of the campaign is bound to a recommender (the items an "
                "endpoint carries in RecommendationItems, as Pinpoint rendered without one)"
            )
            return {"recommendations": SEGMENT_RECOMMENDATIONS}
        if len(bound) > 1:
            self.outcome.not_carried.append(
                f"recommenders {', '.join(bound[1:])}: the templates are bound to {len(bound)} recommenders and a "
                f"campaign has one recommendations source; {bound[0]}'s is used"
            )
        folder = self.context.recommenders.get(bound[0])
        send = self._send_json(folder) if folder else {}
        if not send.get("recommendations"):
            self.outcome.not_carried.append(
                f"recommender {bound[0]}: no recommendations source was migrated (see its entry); "
                "recommendations = segment"
            )
            return {"recommendations": SEGMENT_RECOMMENDATIONS}
        return {
            "recommendations": send["recommendations"],
            "id_type": send["id_type"],
            "config": f"{folder}/pinrec.toml",
            **_per_message(send.get("per_message")),
        }

    def _send_json(self, folder: str) -> dict[str, Any]:
        try:
            data = json.loads((self.context.out / folder / "send.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _channels(
        self, own: Treatment, extra: list[tuple[Treatment, dict[str, Any]]], own_name: str
    ) -> dict[str, dict[str, Any]]:
        """The campaign's channel tables (the union over treatments) and each treatment's overrides."""
        channels: dict[str, dict[str, Any]] = dict(own.tables)
        for found, treatment in extra:
            for channel, table in found.tables.items():
                if channel not in channels:
                    channels[channel] = table
                    self.outcome.notes.append(
                        f"the campaign's own message ({own_name}) has no {channel} message in Pinpoint; a "
                        f"campaign.toml treatment sends on every channel of the campaign, so its {channel} endpoints "
                        f"get treatment {treatment['name']}'s (`{table['built']}`)"
                    )
        for found, treatment in extra:
            for channel, base in channels.items():
                given = found.tables.get(channel)
                if given is None:
                    self.outcome.notes.append(
                        f"treatment {treatment['name']} has no {channel} message in Pinpoint; its {channel} endpoints "
                        f"get the campaign's (`{base['built']}`)"
                    )
                    continue
                override = {key: value for key, value in given.items() if base.get(key) != value}
                if override:
                    treatment[channel] = override
        if not channels:
            raise Unconvertible("no email, SMS or push message could be carried over: nothing to send")
        return channels

    def _unmapped(self) -> None:
        body = self.body
        for key, reason in WITHOUT_EQUIVALENT.items():
            if body.get(key) not in (None, "", {}, []):
                shown = json.dumps(body[key], ensure_ascii=False, default=str)
                self.outcome.not_carried.append(f"{key} = {shown}: {reason}")
        if body.get("IsPaused") is True:
            self.outcome.not_carried.append(
                "IsPaused = true: campaign.toml has no paused state; after `pinrec campaign deploy`, run `pinrec "
                "campaign pause` (or do not deploy it)"
            )
        status = body.get("State", {}).get("CampaignStatus") if isinstance(body.get("State"), Mapping) else None
        if status in ("COMPLETED", "DELETED", "INVALID"):
            self.outcome.notes.append(
                f"Pinpoint's status was {status}: slots before now are not sent again (deploy schedules only later "
                "ones)"
            )
        known = METADATA | MAPPED | set(WITHOUT_EQUIVALENT) | {"IsPaused"}
        for key in sorted(set(body) - known):
            shown = json.dumps(body[key], ensure_ascii=False, default=str)
            self.outcome.not_carried.append(f"{key} = {shown}: not a campaign field pinrec knows")


def _toml(found: Found, data: Mapping[str, Any]) -> str:
    import tomli_w

    header = (
        f"# Migrated by `pinrec migrate` from Pinpoint campaign {found.body.get('Id', '?')} ({found.name}); "
        "MIGRATION.md lists what was not carried over.\n"
        "# `segment` is relative to this file; `built` and `config` to the project folder: run pinrec there.\n\n"
    )
    return header + tomli_w.dumps(data)


def convert_campaign(found: Found, context: Context, taken: set[str]) -> Outcome:
    """Write one campaign's folder under `context.out/context.folder`; the outcome says what it became."""
    from campaign_tools.campaigns.definition import CampaignError, load_campaign, parse_campaign

    folder = folder_name(found, taken)
    converter = CampaignConverter(found, context, folder)
    outcome = converter.outcome
    relative = f"{context.folder}/{folder}/{CAMPAIGN_FILE}"
    try:
        data = converter.data()
        parse_campaign(data, relative)
    except Unconvertible as problem:
        outcome.not_carried.insert(0, f"the campaign: {problem}")
    except CampaignError as error:
        outcome.not_carried.insert(
            0, "the campaign: its campaign.toml would be invalid: " + "; ".join(error.violations)
        )
    else:
        target = context.out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_toml(found, data), encoding="utf-8")
        (target.parent / PINPOINT_FILE).write_text(
            json.dumps({"CampaignResponse": found.body}, indent=2, ensure_ascii=False, default=str) + "\n"
        )
        try:
            load_campaign(target)
        except PinrecError as error:  # the writer and the reader disagree: say so rather than leave a bad file
            target.unlink()
            outcome.not_carried.insert(0, f"the campaign: the written file does not read back: {error}")
        else:
            outcome.became.insert(
                0,
                f"`{relative}`: {_summary(data)}; `pinrec campaign validate|plan {relative}` "
                f"(the CampaignResponse as exported in `{context.folder}/{folder}/{PINPOINT_FILE}`)",
            )
            return outcome
    outcome.fields = [f"{path} = {value}" for path, value in flatten(found.body)]
    return outcome


def _summary(data: Mapping[str, Any]) -> str:
    schedule = data["schedule"]
    parts = [schedule["frequency"] + (" local time" if schedule.get("local_time") else "")]
    if "quiet_time" in schedule:
        parts.append(f"quiet time {schedule['quiet_time']['start']:%H:%M}-{schedule['quiet_time']['end']:%H:%M} (skip)")
    channels = [key for key in ("email", "sms", "push") if key in data]
    parts.append("channels " + ", ".join(channels))
    if data.get("holdout_percent"):
        parts.append(f"holdout {data['holdout_percent']}%")
    if data.get("treatments"):
        parts.append(f"{len(data['treatments'])} more treatment(s)")
    return ", ".join(parts)


def describe_uncarried(found: Found, reason: str) -> Outcome:
    outcome = Outcome(found.kind, found.name, found.origin)
    outcome.not_carried.append(reason)
    outcome.fields = [f"{path} = {value}" for path, value in flatten(found.body)]
    return outcome


def _per_message(value: object) -> dict[str, Any]:
    """The recommender's RecommendationsPerMessage (its send.json's `per_message`), when it is one a send takes."""
    if type(value) is int and MIN_ITEMS_PER_MESSAGE <= value <= MAX_ITEMS_PER_MESSAGE:  # not a bool
        return {"per_message": value}
    return {}
