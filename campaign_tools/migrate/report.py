"""MIGRATION.md: every object of the Pinpoint project, what it became, and what could not be carried over and why."""

from __future__ import annotations

from collections.abc import Sequence

from campaign_tools.migrate.outcome import Outcome

NEVER = {
    "journey": "journeys have no pinrec equivalent (multi-step flows with waits, splits and activities); rebuild "
    "them from segments and campaign sends, or in Amazon Connect outbound campaigns",
    "in-app template": "in-app messages are shown by the Pinpoint SDK in an app; no replacement service renders them",
    "voice template": "pinrec has no voice channel (End User Messaging voice takes its message per call)",
}


def render(outcomes: Sequence[Outcome], unrecognised: Sequence[tuple[str, str]], exports: Sequence[str]) -> str:
    carried = sum(1 for outcome in outcomes if outcome.carried)
    lines = [
        "# Migration from Amazon Pinpoint",
        "",
        f"{len(outcomes)} objects read: {carried} carried over (some in part), {len(outcomes) - carried} not. "
        f"{len(exports)} endpoint export file(s).",
        "",
        "| object | from | became | not carried over |",
        "|---|---|---|---|",
    ]
    for outcome in outcomes:
        became = "<br>".join(outcome.became) or "—"
        missing = "<br>".join(outcome.not_carried) or "—"
        lines.append(
            f"| {outcome.kind} **{_cell(outcome.name)}** | `{outcome.origin}` | {_cell(became)} | {_cell(missing)} |"
        )
    for outcome in outcomes:
        if not (outcome.notes or outcome.fields or outcome.not_carried):
            continue
        lines += ["", f"## {outcome.kind} {outcome.name}", "", f"From `{outcome.origin}`."]
        if outcome.became:
            lines += ["", "Became:", *[f"- {item}" for item in outcome.became]]
        if outcome.not_carried:
            lines += ["", "Not carried over:", *[f"- {item}" for item in outcome.not_carried]]
        if outcome.notes:
            lines += ["", "To check:", *[f"- {item}" for item in outcome.notes]]
        if outcome.fields:
            lines += ["", "Every field, as exported:", "", "```", *outcome.fields, "```"]
    if unrecognised:
        lines += ["", "## Files not recognised", ""]
        lines += [f"- `{name}`: {why}" for name, why in unrecognised]
    if exports:
        lines += ["", "## Endpoint exports read", ""] + [f"- `{path}`" for path in exports]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
