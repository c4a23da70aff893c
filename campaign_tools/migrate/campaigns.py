"""Pinpoint campaigns: not built yet (campaign files arrive with the campaigns feature). Each campaign is listed in
MIGRATION.md with every field it holds, and what it refers to, so nothing is dropped silently."""

from __future__ import annotations

from collections.abc import Mapping

from campaign_tools.migrate.outcome import Outcome, flatten
from campaign_tools.migrate.source import Found

NOT_YET = "not carried over yet: campaign files arrive with the campaigns feature"


def _template_names(value: object) -> list[str]:
    if not isinstance(value, Mapping):
        return []
    return [
        f"{channel} template {template['Name']}"
        for channel, template in value.items()
        if isinstance(template, Mapping) and isinstance(template.get("Name"), str)
    ]


def describe_campaign(found: Found, segments: Mapping[str, str], templates: Mapping[str, str]) -> Outcome:
    body = found.body
    outcome = Outcome("campaign", f"{found.name} ({body.get('Id', 'no Id')})", found.origin)
    outcome.not_carried.append(NOT_YET)
    segment_id = body.get("SegmentId")
    if isinstance(segment_id, str):
        where = segments.get(segment_id)
        outcome.notes.append(
            f"its segment {segment_id}: " + (f"migrated as `{where}`" if where else "not in the export")
        )
    uses = _template_names(body.get("TemplateConfiguration"))
    for number, treatment in enumerate(body.get("AdditionalTreatments") or []):
        if isinstance(treatment, Mapping):
            uses += [
                f"{name} (treatment {number + 1})" for name in _template_names(treatment.get("TemplateConfiguration"))
            ]
    for use in uses:
        name = use.split(" template ", 1)[1].split(" (", 1)[0]
        outcome.notes.append(
            f"uses {use}: " + (f"migrated as `{templates[name]}`" if name in templates else "not in the export")
        )
    outcome.fields = [f"{path} = {value}" for path, value in flatten(body)]
    return outcome


def describe_uncarried(found: Found, reason: str) -> Outcome:
    outcome = Outcome(found.kind, found.name, found.origin)
    outcome.not_carried.append(reason)
    outcome.fields = [f"{path} = {value}" for path, value in flatten(found.body)]
    return outcome
