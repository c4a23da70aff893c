"""A DMARC record for the From domain (`_dmarc.DOMAIN` TXT, `v=DMARC1`; found at the organisational domain when the
From domain is a subdomain), through dnspython. No DNS server reachable: skipped, with a note."""

from __future__ import annotations

from campaign_tools.doctor.base import Check, Finding, Findings
from campaign_tools.doctor.context import DoctorContext
from campaign_tools.doctor.dns import DnsUnreachable

found = Findings("dmarc")


def _candidates(domain: str) -> list[str]:
    """The domain, then each parent of at least two labels (the organisational domain's record applies too)."""
    labels = domain.split(".")
    return [".".join(labels[start:]) for start in range(max(1, len(labels) - 1))]


def _policy(record: str) -> str:
    tags = dict(part.strip().partition("=")[::2] for part in record.split(";") if "=" in part)
    return tags.get("p", "").strip().lower()


def run(context: DoctorContext) -> list[Finding]:
    domains = context.sender_domains
    if not domains:
        return [found.skipped("DMARC", "no From domain to look up")]
    return [_check(context, domain) for domain in domains]


def _check(context: DoctorContext, domain: str) -> Finding:
    title = f"DMARC for {domain}"
    for name in _candidates(domain):
        try:
            records = [r for r in context.resolver.txt(f"_dmarc.{name}") if r.strip().lower().startswith("v=dmarc1")]
        except DnsUnreachable as error:
            return found.skipped(title, f"DNS is unreachable from here ({error}): DMARC was not checked",
                                 f"look it up where DNS works: dig TXT _dmarc.{domain}")  # fmt: skip
        if len(records) > 1:
            return found.failure(title, f"_dmarc.{name} has {len(records)} DMARC records; receivers ignore them all",
                                 "keep exactly one v=DMARC1 TXT record")  # fmt: skip
        if records:
            policy = _policy(records[0])
            where = "" if name == domain else f" (the organisational domain {name}'s)"
            if policy not in ("none", "quarantine", "reject"):
                return found.failure(title, f"_dmarc.{name}'s record has no valid p= tag",
                                     "publish e.g. v=DMARC1; p=none; rua=mailto:dmarc@" + name)  # fmt: skip
            return found.ok(title, f"v=DMARC1, p={policy}{where}")
    return found.failure(title, f"no DMARC record at _dmarc.{domain} or its parent domains",
                         f"publish a TXT record _dmarc.{domain}: v=DMARC1; p=none; rua=mailto:dmarc@{domain} "
                         "(Gmail, Yahoo and Microsoft require DMARC of bulk senders)")  # fmt: skip


CHECK = Check("dmarc", "a DMARC record for the From domain (DNS TXT _dmarc.DOMAIN)", run)
