"""The push application the campaign sends through (pinpoint GetApp): it exists in this account and region."""

from __future__ import annotations

from campaign_tools.doctor.base import Check, Finding, Findings
from campaign_tools.doctor.context import DoctorContext

found = Findings("push")


def run(context: DoctorContext) -> list[Finding]:
    """Each application of the campaign's [push] tables, else the send stack's PushApplicationId."""
    if not context.sends("push"):
        return [found.skipped("push application", "the campaign has no [push] table")]
    stack = context.stack_of("send")
    named = context.sender_values("push", "application_id")
    fallback = stack.parameters.get("PushApplicationId") if stack else None
    applications = named or ([fallback] if fallback else [])
    if not applications:
        return [found.skipped("push application", "none named (campaign [push] application_id)")]
    return [_check(context, application) for application in applications]


def _check(context: DoctorContext, application: str) -> Finding:
    from botocore.exceptions import ClientError

    title = f"push application {application}"
    try:
        app = context.clients("pinpoint").get_app(ApplicationId=application)["ApplicationResponse"]
    except ClientError as error:
        return found.aws_error(title, "mobiletargeting:GetApp", error, "mobiletargeting:GetApp",
                               missing="create the application (End User Messaging push) or fix the campaign's "
                               "[push] application_id")  # fmt: skip
    return found.ok(title, f"{app.get('Name', '')}")


CHECK = Check("push", "the push application (mobiletargeting:GetApp)", run)
