"""Pinpoint message templates -> built template folders (`template.json` + parts, what `pinrec send --built` and
`templates.prebuilt.load_prebuilt` read): the stored Handlebars parts written byte for byte, never re-authored, so a
send renders exactly what Pinpoint stored. DefaultSubstitutions go into template.json; the recommender binding and
Pinpoint's own metadata into `pinpoint.json` beside it. Each imported template is linted (syntax, Pinpoint/pinrec
rendering differences, variables an endpoint cannot fill) and the findings reported, the parts left as they are.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from campaign_tools.channels import email, push, sms
from campaign_tools.channels.base import Part, Settings
from campaign_tools.migrate.outcome import Outcome, flatten
from campaign_tools.migrate.source import Found
from campaign_tools.templates.prebuilt import SendableTemplate

TEMPLATE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
RECOMMENDATION_PATH = re.compile(r"Recommendations\.(?:\[([^\]]+)\]|([A-Za-z0-9_-]+))")
METADATA = ("Arn", "CreationDate", "LastModifiedDate", "TemplateType", "Version", "tags", "TemplateDescription")
PUSH_PLATFORMS = ("APNS", "GCM", "ADM", "Baidu")


def _parts(found: Found, outcome: Outcome) -> tuple[str, dict[Part, str], Settings | None]:
    body = found.body
    if found.kind == "email":
        parts = {email.SUBJECT: body.get("Subject"), email.HTML: body.get("HtmlPart"), email.TEXT: body.get("TextPart")}
        if not isinstance(body.get("Subject"), str):
            parts[email.SUBJECT] = ""
            outcome.notes.append("it has no Subject: the subject is empty, as Pinpoint would have sent it")
        if body.get("Headers"):
            outcome.not_carried.append(
                "Headers: pinrec's email channel sets its own headers (List-Unsubscribe, tags); the stored headers "
                f"are {json.dumps(body['Headers'], ensure_ascii=False)}"
            )
        return "email", {part: text for part, text in parts.items() if isinstance(text, str)}, None
    if found.kind == "sms":
        return "sms", ({sms.BODY: body["Body"]} if isinstance(body.get("Body"), str) else {}), None
    default: Mapping[str, Any] = body["Default"] if isinstance(body.get("Default"), Mapping) else {}
    parts = {push.TITLE: default.get("Title"), push.BODY: default.get("Body"), push.URL: default.get("Url")}
    for platform in PUSH_PLATFORMS:
        if body.get(platform):
            outcome.not_carried.append(
                f"{platform}: per-platform overrides; pinrec's push sends the Default message to every platform "
                f"({', '.join(path for path, _ in flatten(body[platform], platform))})"
            )
    action = default.get("Action") if default.get("Action") in ("OPEN_APP", "DEEP_LINK", "URL") else "OPEN_APP"
    sound = default.get("Sound") if isinstance(default.get("Sound"), str) else None
    settings = push.PushTemplateSettings(action=action, sound=sound)
    return "push", {part: text for part, text in parts.items() if isinstance(text, str)}, settings


def recommendation_attributes(parts: Collection[str]) -> tuple[str, ...]:
    """The `Recommendations.<Name>` attributes the parts read, in order of first use."""
    names: dict[str, None] = {}
    for text in parts:
        for match in RECOMMENDATION_PATH.finditer(text):
            names.setdefault(match.group(1) or match.group(2), None)
    return tuple(names)


def lint_parts(parts: Mapping[Part, str], attributes: Collection[str], defaults: Mapping[str, str]) -> list[str]:
    """Findings on the stored parts (never changed): syntax, rendering hazards, variables no endpoint fills, and
    recommendation variables without a default (Pinpoint leaves them empty in test sends)."""
    from campaign_tools.rendering import PinpointRenderer, TemplateRenderError, lint_hazards
    from campaign_tools.templates.handlebars_paths import path_uses
    from campaign_tools.templates.paths import describe_path

    renderer = PinpointRenderer()
    findings: list[str] = []
    for part, text in parts.items():
        try:
            renderer.check(text, name=part.key)
        except TemplateRenderError as error:
            findings.append(f"{part.key}: error: {error}")
            continue
        findings += [f"{part.key} line {hazard.line}: {hazard.code}: {hazard.message}" for hazard in lint_hazards(text)]
        for use in path_uses(text):
            info = describe_path(use.path, attributes)
            if not info.known:
                findings.append(
                    f"{part.key} line {use.line}: unknown variable {use.path}: {info.problem or ''}".rstrip(": ")
                )
            elif info.recommendation is not None and use.printed and use.path not in defaults:
                findings.append(
                    f"{part.key} line {use.line}: {use.path} has no DefaultSubstitutions value (empty when an endpoint "
                    "has no recommendation)"
                )
    return findings


def convert_template(found: Found, out: Path, folder: str, recommenders: Mapping[str, str]) -> Outcome:
    """Write one template's built folder under `out/folder`; the outcome says what it became."""
    outcome = Outcome(f"{found.kind} template", found.name, found.origin)
    body = found.body
    name = found.name
    if not TEMPLATE_NAME.fullmatch(name):
        outcome.not_carried.append(f"the template name {name!r} is not a Pinpoint template name: not imported")
        outcome.fields += [f"{path} = {value}" for path, value in flatten(body)]
        return outcome
    channel, parts, channel_settings = _parts(found, outcome)
    if not parts or (channel == "email" and email.HTML not in parts):
        outcome.not_carried.append(f"it has no {'HtmlPart' if channel == 'email' else 'message body'}: not imported")
        outcome.fields += [f"{path} = {value}" for path, value in flatten(body)]
        return outcome
    from campaign_tools.rendering import TemplateRenderError
    from campaign_tools.rendering.defaults import parse_default_substitutions

    try:
        defaults = parse_default_substitutions(body.get("DefaultSubstitutions"), template=name)
    except TemplateRenderError as error:
        defaults = {}
        outcome.not_carried.append(f"DefaultSubstitutions: {error}; the template was imported without defaults")
    attributes = recommendation_attributes(parts.values())
    template = SendableTemplate(
        name=name,
        channels=(channel,),
        parts=parts,
        default_substitutions=defaults,
        channel_settings={channel: channel_settings} if channel_settings is not None else {},
        attributes=attributes,
    )
    target = out / folder / channel / name
    target.mkdir(parents=True, exist_ok=True)
    for part, text in parts.items():
        # Bytes as stored: no newline translation, no re-encoding beyond UTF-8.
        (target / part.built_file).write_bytes(text.encode("utf-8"))
    (target / "template.json").write_text(json.dumps(template.to_json(), indent=2, ensure_ascii=False) + "\n")
    recommender_id = body.get("RecommenderId") if isinstance(body.get("RecommenderId"), str) else None
    pinpoint = {key: body[key] for key in (*METADATA, "TemplateName") if key in body}
    pinpoint["RecommenderId"] = recommender_id
    pinpoint["recommender"] = recommenders.get(recommender_id) if recommender_id else None
    (target / "pinpoint.json").write_text(json.dumps(pinpoint, indent=2, ensure_ascii=False, default=str) + "\n")
    relative = f"{folder}/{channel}/{name}"
    outcome.became.append(
        f"`{relative}/`: a built template ({', '.join(part.key for part in parts)}), the stored parts byte for byte; "
        f"send it with `pinrec send --built {relative}`"
    )
    if defaults:
        outcome.became.append(f"DefaultSubstitutions: {len(defaults)} kept in template.json")
    if recommender_id:
        bound = recommenders.get(recommender_id)
        outcome.became.append(
            f"recommender {recommender_id}: bound in pinpoint.json"
            + (f" to `{bound}/pinrec.toml`" if bound else " (its configuration was not in the export)")
        )
    findings = lint_parts(parts, attributes, defaults)
    (target / "lint.txt").write_text("".join(finding + "\n" for finding in findings) or "no findings\n")
    outcome.notes += [f"lint: {finding}" for finding in findings]
    return outcome
