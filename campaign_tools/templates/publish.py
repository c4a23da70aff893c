"""`pinrec templates publish`: create or version the Pinpoint templates, after showing the diff to the active one.

Activation is its own explicit step (`--activate`): an update creates a new version and leaves the active one alone.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from campaign_tools.channels.base import Channel
from campaign_tools.templates.build import BuiltTemplate
from campaign_tools.templates.errors import TemplateError

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


@dataclass
class PublishResult:
    template: str
    dry_run: bool
    plans: list[ChannelPlan] = field(default_factory=list)


def pinpoint_client(region: str | None = None, profile: str | None = None) -> Any:
    from botocore.exceptions import BotoCoreError

    from transformer.aws import AwsOptions, client

    try:
        return client("pinpoint", AwsOptions(region=region, profile=profile))
    except BotoCoreError as error:
        raise TemplateError(f"cannot create the Pinpoint client: {error}") from None


def _call(client: Any, method: str, **kwargs: Any) -> dict[str, Any]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return getattr(client, method)(**kwargs)
    except ClientError as error:
        details = error.response.get("Error", {})
        raise TemplateError(
            f"Pinpoint {method} failed: {details.get('Code', '?')}: {details.get('Message', error)}"
        ) from None
    except BotoCoreError as error:
        raise TemplateError(f"Pinpoint {method} failed: {error}") from None


def current_version(client: Any, channel: Channel, name: str) -> dict[str, Any] | None:
    """The active version of the template, or None when there is no template of this name and type."""
    from botocore.exceptions import ClientError

    try:
        response = getattr(client, f"get_{channel.pinpoint.method_suffix}")(TemplateName=name)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "NotFoundException":
            return None
        details = error.response.get("Error", {})
        raise TemplateError(
            f"reading template {name} ({channel.name}) failed: {details.get('Message', error)}"
        ) from None
    return response.get(channel.pinpoint.response_key, {})


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
    client: Any,
    recommender_id: str,
    *,
    activate: bool = False,
    dry_run: bool = False,
    say: Callable[[str], None] = print,
) -> PublishResult:
    """For each channel: diff against the active version, then create or update with a new version."""
    name = built.name
    result = PublishResult(name, dry_run)
    for channel, request in built.requests(recommender_id).items():
        template_type = channel.pinpoint.template_type
        current = current_version(client, channel, name)
        if current is None:
            plan = ChannelPlan(channel, Action.CREATE, request)
            say(f"{template_type} {name}: new template{' (dry run: not created)' if dry_run else ''}")
        else:
            diff = request_diff(current, request, template_type)
            plan = ChannelPlan(channel, Action.UPDATE if diff else Action.UNCHANGED, request, diff)
            version = current.get("Version", "?")
            if diff:
                say(f"{template_type} {name}: changes against active version {version}:\n{diff}")
            else:
                say(f"{template_type} {name}: same as active version {version}, nothing to publish")
        result.plans.append(plan)
        if dry_run:
            if activate and plan.action is Action.UPDATE:
                say(f"{template_type} {name}: would activate the new version")
            continue
        suffix = channel.pinpoint.method_suffix
        if plan.action is Action.CREATE:
            _call(client, f"create_{suffix}", TemplateName=name, **{channel.pinpoint.request_key: request})
            say(f"{template_type} {name}: created (version 1 is active)")
        elif plan.action is Action.UPDATE:
            _call(
                client,
                f"update_{suffix}",
                TemplateName=name,
                CreateNewVersion=True,
                **{channel.pinpoint.request_key: request},
            )
            say(f"{template_type} {name}: new version saved; the active version is unchanged")
            if activate:
                _call(
                    client,
                    "update_template_active_version",
                    TemplateName=name,
                    TemplateType=template_type,
                    TemplateActiveVersionRequest={"Version": ACTIVE_LATEST},
                )
                plan.activated = True
                say(f"{template_type} {name}: latest version activated")
    if dry_run:
        say("dry run: nothing was created, updated or activated")
    elif not activate and any(plan.action is Action.UPDATE for plan in result.plans):
        say("new versions are not active yet: run again with --activate to make them active")
    return result
