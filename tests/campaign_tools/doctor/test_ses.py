"""The SES identity with DKIM (moto), the DMARC record (a fake resolver: never the network) and the SES account
(GetAccount answered: moto has none)."""

from __future__ import annotations

from typing import Any

from campaign_tools.doctor import dmarc, ses_account, ses_identity
from campaign_tools.doctor.base import Status
from tests.aws_fixtures import ACCOUNT, REGION, verify_ses_identity
from tests.campaign_tools.doctor.conftest import FakeResolver, answer, campaign, only


def verified(clients: Any, identity: str, *, dkim: bool = True) -> None:
    from moto.ses.models import ses_backends

    verify_ses_identity(clients("sesv2"), identity)
    if dkim:  # what SES shows once the DKIM CNAME records are found
        record = ses_backends[ACCOUNT][REGION].email_identities[identity]
        record.dkim_attributes.update({"SigningEnabled": True, "Status": "SUCCESS"})


def test_a_verified_domain_with_dkim_is_ok(clients, make_context, run_check):
    verified(clients, "shop.example.com")
    finding = only(run_check(ses_identity.CHECK, make_context(campaign=campaign())), Status.OK)
    assert finding.title == "SES identity shop.example.com"
    assert finding.detail == "verified for sending, DKIM AWS_SES SUCCESS"


def test_dkim_not_set_up_fails_with_the_records_to_publish(clients, make_context, run_check):
    verified(clients, "shop.example.com", dkim=False)
    finding = only(run_check(ses_identity.CHECK, make_context(campaign=campaign())), Status.FAILURE)
    assert finding.detail == "DKIM signing off, status NOT_STARTED"
    assert finding.fix == (
        "publish the three DKIM CNAME records of `aws sesv2 get-email-identity --email-identity shop.example.com` "
        "(DkimAttributes.Tokens) in the domain's DNS and enable signing"
    )


def test_no_identity_fails_with_how_to_create_it(make_context, run_check):
    finding = only(run_check(ses_identity.CHECK, make_context(campaign=campaign())), Status.FAILURE)
    assert finding.detail == "neither the address nor its domain is an SES identity in this account and region"
    assert finding.fix.startswith(
        "verify the domain: aws sesv2 create-email-identity --email-identity shop.example.com"
    )


def test_no_sender_is_skipped(make_context, run_check):
    only(run_check(ses_identity.CHECK, make_context()), Status.SKIPPED)


def test_a_treatments_own_from_address_is_checked_too(clients, make_context, run_check):
    verified(clients, "shop.example.com")
    other = {"name": "b", "size_percent": 50, "email": {"from_address": "Deals <deals@other.example.org>"}}
    context = make_context(campaign=campaign(treatments=[other]))
    findings = run_check(ses_identity.CHECK, context)
    assert [(f.title, f.status) for f in findings] == [
        ("SES identity shop.example.com", Status.OK),
        ("SES identity deals@other.example.org / other.example.org", Status.FAILURE),
    ]
    resolver = FakeResolver({"_dmarc.shop.example.com": ["v=DMARC1; p=none"]})
    titles = [f.title for f in run_check(dmarc.CHECK, make_context(campaign=context.campaign, resolver=resolver))]
    assert titles == ["DMARC for shop.example.com", "DMARC for other.example.org"]


def test_a_campaign_without_an_email_table_skips_the_ses_checks(make_context, run_check):
    sms = make_context(campaign=campaign(channel="sms", sender={"origination_identity": "+14255550100"}))
    assert only(run_check(ses_account.CHECK, sms), Status.SKIPPED).detail == "the campaign has no [email] table"
    only(run_check(ses_identity.CHECK, sms), Status.SKIPPED)
    only(run_check(dmarc.CHECK, sms), Status.SKIPPED)


def test_dmarc_found_at_the_domain_or_its_parent(make_context, run_check):
    resolver = FakeResolver({"_dmarc.example.com": ["v=DMARC1; p=quarantine; rua=mailto:d@example.com"]})
    finding = only(run_check(dmarc.CHECK, make_context(campaign=campaign(), resolver=resolver)), Status.OK)
    assert finding.detail == "v=DMARC1, p=quarantine (the organisational domain example.com's)"
    assert resolver.asked == ["_dmarc.shop.example.com", "_dmarc.example.com"]


def test_no_dmarc_record_fails_with_the_record_to_publish(make_context, run_check):
    resolver = FakeResolver({"_dmarc.shop.example.com": ["google-site-verification=abc"]})
    finding = only(run_check(dmarc.CHECK, make_context(campaign=campaign(), resolver=resolver)), Status.FAILURE)
    assert finding.fix == (
        "publish a TXT record _dmarc.shop.example.com: v=DMARC1; p=none; rua=mailto:dmarc@shop.example.com "
        "(Gmail, Yahoo and Microsoft require DMARC of bulk senders)"
    )


def test_two_dmarc_records_fail(make_context, run_check):
    resolver = FakeResolver({"_dmarc.shop.example.com": ["v=DMARC1; p=none", "v=DMARC1; p=reject"]})
    finding = only(run_check(dmarc.CHECK, make_context(campaign=campaign(), resolver=resolver)), Status.FAILURE)
    assert finding.fix == "keep exactly one v=DMARC1 TXT record"


def test_unreachable_dns_is_skipped_with_a_note(make_context, run_check):
    resolver = FakeResolver(unreachable=True)
    finding = only(run_check(dmarc.CHECK, make_context(campaign=campaign(), resolver=resolver)), Status.SKIPPED)
    assert finding.detail == "DNS is unreachable from here (LifetimeTimeout): DMARC was not checked"
    assert finding.fix == "look it up where DNS works: dig TXT _dmarc.shop.example.com"


def test_the_dnspython_resolver_reports_no_server_as_unreachable(monkeypatch):
    """The real resolver class, pointed at a closed loopback port: no network is used, and it is DnsUnreachable."""
    import dns.resolver
    import pytest

    from campaign_tools.doctor.dns import DnsPythonResolver, DnsUnreachable

    class Closed(dns.resolver.Resolver):
        def __init__(self) -> None:
            super().__init__(configure=False)
            self.nameservers = ["127.0.0.1"]
            self.port = 9  # discard: nothing answers DNS there

    monkeypatch.setattr(dns.resolver, "Resolver", Closed)
    with pytest.raises(DnsUnreachable):
        DnsPythonResolver(timeout=0.5).txt("_dmarc.example.com")


ACCOUNT_ANSWER = {
    "SendQuota": {"Max24HourSend": 50000.0, "MaxSendRate": 14.0, "SentLast24Hours": 120.0},
    "SendingEnabled": True,
    "ProductionAccessEnabled": True,
    "EnforcementStatus": "HEALTHY",
    "SuppressionAttributes": {"SuppressedReasons": ["BOUNCE", "COMPLAINT"]},
}


def test_production_account_is_ok_with_its_quota(clients, make_context, run_check):
    answer(clients("sesv2"), "GetAccount", ACCOUNT_ANSWER)
    finding = only(run_check(ses_account.CHECK, make_context()), Status.OK)
    assert finding.detail == (
        "production access, sending enabled, quota 120 of 50,000 sent in 24 hours, at most 14 messages/s"
    )


def test_sandbox_is_a_warning_with_the_request(clients, make_context, run_check):
    answer(clients("sesv2"), "GetAccount", {**ACCOUNT_ANSWER, "ProductionAccessEnabled": False})
    finding = only(run_check(ses_account.CHECK, make_context()), Status.WARNING)
    assert finding.fix == (
        "request production access: SES console > Account dashboard > Request production access "
        "(aws sesv2 put-account-details)"
    )


def test_paused_sending_fails(clients, make_context, run_check):
    answer(clients("sesv2"), "GetAccount", {**ACCOUNT_ANSWER, "SendingEnabled": False, "EnforcementStatus": "SHUTDOWN"})
    finding = only(run_check(ses_account.CHECK, make_context()), Status.FAILURE)
    assert finding.detail == "sending is paused for the account (SHUTDOWN)"
    assert finding.fix.startswith("read the SES console's account dashboard")


def test_denied_get_account_names_the_action(clients, make_context, run_check):
    answer(clients("sesv2"), "GetAccount", "AccessDeniedException")
    finding = only(run_check(ses_account.CHECK, make_context()), Status.FAILURE)
    assert finding.fix == "grant the caller ses:GetAccount"
