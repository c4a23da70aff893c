"""The push application the campaign sends through (pinpoint GetApp): it exists in this account and region."""

from __future__ import annotations

from campaign_tools.doctor.base import Check, Finding, Findings
from campaign_tools.doctor.context import DoctorContext

found = Findings("push")


def run(context: DoctorContext) -> list[Finding]:
    from botocore.exceptions import ClientError

    stack = context.stack_of("send")
    application = context.sender("application_id") or (stack.parameters.get("PushApplicationId") if stack else None)
    if not application:
        return [found.skipped("push application", "none named (campaign [sender] application_id)")]
    title = f"push application {application}"
    try:
        app = context.clients("pinpoint").get_app(ApplicationId=application)["ApplicationResponse"]
    except ClientError as error:
        return [found.aws_error(title, "mobiletargeting:GetApp", error, "mobiletargeting:GetApp",
                                missing="create the application (End User Messaging push) or fix [sender] "
                                "application_id")]  # fmt: skip
    return [found.ok(title, f"{app.get('Name', '')}")]


CHECK = Check("push", "the push application (mobiletargeting:GetApp)", run)
