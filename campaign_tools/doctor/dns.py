"""DNS TXT lookups for the DMARC check, through dnspython. A `Resolver` is anything with `txt(name)`, so the tests
inject a fake one and never reach the network."""

from __future__ import annotations

from typing import Protocol


class DnsUnreachable(Exception):
    """No DNS server answered (no network, a timeout): the DNS checks are skipped, not failed."""


class Resolver(Protocol):
    def txt(self, name: str) -> list[str]:
        """The TXT strings of `name` (each record's strings joined); [] when it has none or does not exist;
        DnsUnreachable when no server answered."""
        ...


class DnsPythonResolver:
    def __init__(self, timeout: float = 3.0) -> None:
        self.timeout = timeout

    def txt(self, name: str) -> list[str]:
        import dns.exception
        import dns.resolver

        try:
            resolver = dns.resolver.Resolver()
        except dns.resolver.NoResolverConfiguration:
            raise DnsUnreachable("no resolver configured") from None
        resolver.lifetime = self.timeout
        try:
            answer = resolver.resolve(name, "TXT")
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except (dns.resolver.NoNameservers, dns.resolver.LifetimeTimeout, dns.exception.Timeout) as error:
            raise DnsUnreachable(type(error).__name__) from None
        return [b"".join(record.strings).decode("utf-8", "replace") for record in answer]
