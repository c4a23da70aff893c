"""`pinrec templates publish`: create or version the Pinpoint templates, after showing the diff to the active one.

Every call goes through the command's `AwsSession`: reads with `session.read`, writes with `session.write`, so a dry
run reads and diffs, records the write requests instead of sending them, and AWS errors are the session's one-line
messages naming the IAM action. Activation is its own explicit step (`--activate`): an update creates a new
version and leaves the active one alone.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from campaign_tools.aws.session import AwsSession, Request, error_code
from campaign_tools.channels.base import Channel
from campaign_tools.templates.build import BuiltTemplate

ACTIVE_LATEST = "latest"


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"


@dataclass
class ChannelPlan:
    channel: Channel
    action: Action
    request: dict[str, Any]
    diff: str = ""
    activated: bool = False
    active_version: str | None = None
    """The version active before publishing; None when there was no template."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel.name,
            "template_type": self.channel.pinpoint.template_type,
            "action": str(self.action),
            "active_version": self.active_version,
            "activated": self.activated,
            "diff": self.diff,
        }


@dataclass
class PublishResult:
    template: str
    dry_run: bool
    plans: list[ChannelPlan] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "template": self.template,
            "dry_run": self.dry_run,
            "results": [plan.to_dict() for plan in self.plans],
            "seconds": round(self.seconds, 3),
        }


def operation(verb: str, channel: Channel) -> str:
    """The API operation, and IAM action, on a channel's template: Get + sms_template -> GetSmsTemplate."""
    return verb + "".join(word.title() for word in channel.pinpoint.method_suffix.split("_"))


def _is_missing(error: Exception) -> bool:
    return error_code(error) == "NotFoundException"


def current_version(session: AwsSession, channel: Channel, name: str) -> dict[str, Any] | None:
    """The active version of the template, or None when there is no template of this name and type."""
    request = Request("pinpoint", operation("Get", channel), {"TemplateName": name})
    response = session.read(request, absent=_is_missing)
    if response is None:
        return None
    active: dict[str, Any] = response.get(channel.pinpoint.response_key, {})
    return active


def _lines(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        try:
            decoded = json.loads(value) if value.startswith("{") else None
        except json.JSONDecodeError:
            decoded = None
        text = json.dumps(decoded, indent=2, sort_keys=True, ensure_ascii=False) if decoded is not None else value
    else:
        text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    return text.splitlines()


def request_diff(current: Mapping[str, Any], request: Mapping[str, Any], label: str) -> str:
    """Unified diff, field by field, of what the request changes in the active version."""
    chunks = []
    for key, wanted in request.items():
        before, after = _lines(current.get(key)), _lines(wanted)
        if before == after:
            continue
        diff = difflib.unified_diff(before, after, f"active {label} {key}", f"new {label} {key}", lineterm="", n=2)
        chunks.append("\n".join(diff))
    return "\n".join(chunks)


def publish_template(
    built: BuiltTemplate,
    session: AwsSession,
    recommender_id: str,
    *,
    activate: bool = False,
    say: Callable[[str], None] = print,
) -> PublishResult:
    """For each channel: diff against the active version, then create or update with a new version (a dry-run
    session records those writes instead of sending them)."""
    result = PublishResult(built.name, session.dry_run)
    for channel, request in built.requests(recommender_id).items():
        plan = _plan(session, built.name, channel, request, say)
        result.plans.append(plan)
        _apply(session, built.name, plan, activate, say)
    if session.dry_run:
        say("dry run: nothing was created, updated or activated")
    elif not activate and any(plan.action is Action.UPDATE for plan in result.plans):
        say("new versions are not active yet: run again with --activate to make them active")
    return result


def _plan(
    session: AwsSession, name: str, channel: Channel, request: dict[str, Any], say: Callable[[str], None]
) -> ChannelPlan:
    template_type = channel.pinpoint.template_type
    current = current_version(session, channel, name)
    if current is None:
        say(f"{template_type} {name}: new template{' (dry run: not created)' if session.dry_run else ''}")
        return ChannelPlan(channel, Action.CREATE, request)
    diff = request_diff(current, request, template_type)
    version = current.get("Version")
    if diff:
        say(f"{template_type} {name}: changes against active version {version or '?'}:\n{diff}")
    else:
        say(f"{template_type} {name}: same as active version {version or '?'}, nothing to publish")
    action = Action.UPDATE if diff else Action.UNCHANGED
    return ChannelPlan(channel, action, request, diff, active_version=None if version is None else str(version))


def _apply(session: AwsSession, name: str, plan: ChannelPlan, activate: bool, say: Callable[[str], None]) -> None:
    """Create the template, or save a new version (and activate it); in a dry run the session only records them."""
    label = f"{plan.channel.pinpoint.template_type} {name}"
    body = {"TemplateName": name, plan.channel.pinpoint.request_key: plan.request}
    sent = not session.dry_run
    if plan.action is Action.CREATE:
        session.write(Request("pinpoint", operation("Create", plan.channel), body))
        if sent:
            say(f"{label}: created (version 1 is active)")
    elif plan.action is Action.UPDATE:
        session.write(Request("pinpoint", operation("Update", plan.channel), {**body, "CreateNewVersion": True}))
        if sent:
            say(f"{label}: new version saved; the active version is unchanged")
        if activate:
            version = {"Version": ACTIVE_LATEST}
            activation = {"TemplateName": name, "TemplateType": plan.channel.pinpoint.template_type}
            session.write(
                Request(
                    "pinpoint", "UpdateTemplateActiveVersion", {**activation, "TemplateActiveVersionRequest": version}
                )
            )
            plan.activated = sent
            say(f"{label}: latest version activated" if sent else f"{label}: would activate the new version")
