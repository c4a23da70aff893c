"""The SES account (sesv2 GetAccount): sending enabled, production access or the sandbox, the 24-hour quota and the
send rate, and the account's review status."""

from __future__ import annotations

from campaign_tools.doctor.base import Check, Finding, Findings
from campaign_tools.doctor.context import DoctorContext

found = Findings("ses-account")


def run(context: DoctorContext) -> list[Finding]:
    from botocore.exceptions import ClientError

    if not context.sends("email"):
        return [found.skipped("SES account", "the campaign has no [email] table")]
    try:
        account = context.clients("sesv2").get_account()
    except ClientError as error:
        return [found.aws_error("SES account", "ses:GetAccount", error, "ses:GetAccount")]
    quota = account.get("SendQuota") or {}
    most, rate, sent = quota.get("Max24HourSend", 0), quota.get("MaxSendRate", 0), quota.get("SentLast24Hours", 0)
    figures = f"quota {sent:,.0f} of {most:,.0f} sent in 24 hours, at most {rate:,.0f} messages/s"
    if not account.get("SendingEnabled", True):
        return [found.failure("SES sending", f"sending is paused for the account ({account.get('EnforcementStatus')})",
                              "read the SES console's account dashboard; resume with aws sesv2 "
                              "put-account-sending-attributes --sending-enabled once the cause is fixed")]  # fmt: skip
    findings = []
    if account.get("EnforcementStatus") not in (None, "HEALTHY"):
        findings.append(found.warning("SES reputation", f"the account is {account['EnforcementStatus']}",
                                      "read the SES reputation dashboard: bounce and complaint rates"))  # fmt: skip
    if not account.get("ProductionAccessEnabled"):
        findings.append(found.warning("SES production access", f"the account is in the sandbox: it delivers only to "
                                      f"verified addresses and the simulator; {figures}",
                                      "request production access: SES console > Account dashboard > Request "
                                      "production access (aws sesv2 put-account-details)"))  # fmt: skip
    elif most and sent >= most:
        findings.append(found.failure("SES quota", f"the 24-hour quota is used up: {figures}",
                                      "wait for the 24-hour window to move on, or request a quota increase"))  # fmt: skip
    else:
        findings.append(found.ok("SES account", f"production access, sending enabled, {figures}"))
    return findings


CHECK = Check("ses-account", "SES production access, quota and send rate (ses:GetAccount)", run)
