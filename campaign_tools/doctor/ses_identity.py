"""The SES identity the campaign sends from (sesv2 GetEmailIdentity): the address or its domain verified for sending,
with Easy DKIM (or BYODKIM) signing in status SUCCESS -- what Gmail, Yahoo and Microsoft require of bulk senders."""

from __future__ import annotations

from typing import Any

from campaign_tools.doctor.base import Check, Finding, Findings
from campaign_tools.doctor.context import DoctorContext

found = Findings("ses-identity")


def _identity(context: DoctorContext, address: str | None, domain: str) -> tuple[str, dict[str, Any]] | Finding:
    """The first of the address and its domain that is an SES identity, and what SES says of it."""
    from botocore.exceptions import ClientError

    ses = context.clients("sesv2")
    candidates = [c for c in (address, domain) if c]
    for identity in dict.fromkeys(candidates):
        try:
            return identity, ses.get_email_identity(EmailIdentity=identity)
        except ClientError as error:
            if "NotFound" in str(error):
                continue
            return found.aws_error(f"SES identity {identity}", "ses:GetEmailIdentity", error, "ses:GetEmailIdentity")
    return found.failure(f"SES identity {' / '.join(dict.fromkeys(candidates))}",
                         "neither the address nor its domain is an SES identity in this account and region",
                         f"verify the domain: aws sesv2 create-email-identity --email-identity {domain} "
                         "and publish the three DKIM CNAME records SES returns")  # fmt: skip


def run(context: DoctorContext) -> list[Finding]:
    """Each From address of the campaign's email tables (or the send stack's SenderIdentity domain)."""
    senders: list[tuple[str | None, str]] = [(a, a.rpartition("@")[2].lower()) for a in context.from_addresses]
    senders = senders or [(None, domain) for domain in context.sender_domains]
    if not senders:
        return [found.skipped("SES identity", "no sender: give --campaign with an [email] from_address, or deploy "
                              "the send stack with SenderIdentity")]  # fmt: skip
    return [finding for address, domain in senders for finding in _check(context, address, domain)]


def _check(context: DoctorContext, address: str | None, domain: str) -> list[Finding]:
    read = _identity(context, address, domain)
    if isinstance(read, Finding):
        return [read]
    identity, answer = read
    title = f"SES identity {identity}"
    findings = []
    if not answer.get("VerifiedForSendingStatus"):
        findings.append(found.failure(title, f"not verified for sending (VerificationStatus "
                                      f"{answer.get('VerificationStatus', 'unknown')})",
                                      "publish the DKIM CNAME records SES gave for the domain (or click the link SES "
                                      "mailed to the address) and wait for SES to verify it"))  # fmt: skip
    dkim = answer.get("DkimAttributes") or {}
    if not dkim.get("SigningEnabled") or dkim.get("Status") != "SUCCESS":
        findings.append(found.failure(f"{title} DKIM", f"DKIM signing {'on' if dkim.get('SigningEnabled') else 'off'}"
                                      f", status {dkim.get('Status', 'none')}",
                                      "publish the three DKIM CNAME records of `aws sesv2 get-email-identity "
                                      f"--email-identity {identity}` (DkimAttributes.Tokens) in the domain's DNS and "
                                      "enable signing"))  # fmt: skip
    if not findings:
        findings.append(found.ok(title, f"verified for sending, DKIM {dkim.get('SigningAttributesOrigin', 'AWS_SES')} "
                                 "SUCCESS"))  # fmt: skip
    return findings


CHECK = Check("ses-identity", "the From identity verified, with DKIM (ses:GetEmailIdentity)", run)
