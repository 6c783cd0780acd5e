"""Destinations: who receives the data (owner, country, service category, party) per host."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from auditor.destinations import geo, owners, parties
from auditor.models import Exchange, Owner

# How a destination may appear in a network capture; all but "dns" mean traffic went there.
# "decrypted": HTTP read from TLS or QUIC decrypted with a key log.
NETWORK_SEEN = frozenset({"dns", "sni", "quic", "http", "ip", "decrypted"})
TRAFFIC_SEEN = frozenset({"sni", "quic", "http", "ip", "decrypted"})
DNS_PORTS = frozenset({53, 5353})


@dataclass
class Destination:
    """Everything learned about one host over a capture."""

    host: str
    registrable_domain: str
    owner: Owner | None = None
    owner_match: str | None = None
    owner_origin: str | None = None
    tld_country: str | None = None
    server_ips: list[str] = field(default_factory=list)
    exchanges: int = 0
    cleartext: bool = False
    ports: list[int] = field(default_factory=list)
    schemes: list[str] = field(default_factory=list)
    data_categories: dict[str, int] = field(default_factory=dict)
    prompt_endpoint: bool = False
    party: str = "unknown"
    party_note: str | None = None  # e.g. "on the app's domain, run by X" (see auditor.destinations.parties)
    seen: list[str] = field(default_factory=list)  # "proxy" and, from pcaps, dns/sni/quic/http/ip
    bytes_out: int = 0  # from network captures: payload bytes client -> server
    bytes_in: int = 0
    cleartext_personal: int = 0  # cleartext exchanges that carried personal data
    tls_failures: int = 0  # handshakes in which the client refused the proxy's certificate
    opaque_reason: str | None = None
    dns_lookup: str | None = None  # from network captures: "answered", "unanswered" or None

    @property
    def service(self) -> str | None:
        return self.owner.category if self.owner else None

    @property
    def opaque(self) -> bool:
        """The client refused every TLS handshake with the proxy (pinning): nothing was seen inside."""
        return self.tls_failures > 0 and self.exchanges == 0

    @property
    def ip_countries(self) -> list[tuple[str, str | None]]:
        """Each server address with its IP registry country (None for private addresses)."""
        return [(ip, geo.ip_country(ip)) for ip in self.server_ips]

    @property
    def server_countries(self) -> list[str]:
        out: list[str] = []
        for _, c in self.ip_countries:
            if c and c not in out:
                out.append(c)
        return out

    @property
    def jurisdiction(self) -> tuple[str, str] | None:
        """(country, basis) of the law that reaches the receiving company: its owner's country,
        else its parent's, else the country of a country-code TLD (inferred)."""
        if self.owner and self.owner.country:
            return self.owner.country, "owner"
        if self.owner and self.owner.parent_country:
            return self.owner.parent_country, "parent"
        if self.tld_country:
            return self.tld_country, "tld"
        return None


class Resolver:
    """Builds and updates :class:`Destination` records host by host."""

    def __init__(self) -> None:
        self.by_host: dict[str, Destination] = {}
        self._kinds: set[str] = set()  # every way any destination was seen (for bypass_check)
        self.browsing = parties.Browsing()

    def get(self, host: str) -> Destination:
        d = self.by_host.get(host)
        if d is None:
            match = owners.lookup(host)
            d = Destination(
                host=host,
                registrable_domain=owners.registrable_domain(host),
                owner=match.owner if match else None,
                owner_match=match.matched if match else None,
                owner_origin=match.origin if match else None,
                tld_country=geo.tld_country(host),
            )
            self.by_host[host] = d
        return d

    def add_exchange(self, ex: Exchange, via: str = "proxy") -> Destination:
        d = self.get(ex.host)
        self.browsing.add(ex)
        if via not in d.seen:
            d.seen.append(via)
            self._kinds.add(via)
        d.exchanges += 1
        if ex.cleartext:
            d.cleartext = True
        if ex.server_ip and ex.server_ip not in d.server_ips:
            d.server_ips.append(ex.server_ip)
        if ex.port and ex.port not in d.ports:
            d.ports.append(ex.port)
        if ex.scheme not in d.schemes:
            d.schemes.append(ex.scheme)
        return d

    def add_network(self, nd: Any) -> Destination:
        """Merge a destination seen in a network capture (``auditor.io.pcap.NetworkDestination``)."""
        d = self.get(nd.host.lower().rstrip("."))
        for how in nd.seen:
            if how not in d.seen:
                d.seen.append(how)
                self._kinds.add(how)
        for ip in nd.ips:
            if ip not in d.server_ips:
                d.server_ips.append(ip)
        for port in nd.ports:
            if port not in d.ports:
                d.ports.append(port)
        d.bytes_out += nd.bytes_out
        d.bytes_in += nd.bytes_in
        lookup = getattr(nd, "dns_lookup", None)
        if lookup is not None and d.dns_lookup != "answered":
            d.dns_lookup = lookup
        return d

    @property
    def bypass_check(self) -> bool:
        """True when both proxy and network captures were audited, so bypass can be judged."""
        kinds = self._kinds
        return "proxy" in kinds and bool(kinds & NETWORK_SEEN)

    def bypassed_proxy(self, d: Destination) -> bool:
        """Seen on the network but never through the proxy (only meaningful with both captures)."""
        if not self.bypass_check or "proxy" in d.seen or not set(d.seen) & TRAFFIC_SEEN:
            return False
        return not (d.ports and set(d.ports) <= DNS_PORTS)  # name lookups never go through a proxy

    def add_opaque(self, host: str, reason: str) -> Destination:
        """A connection the proxy could not see into, known by its TLS server name."""
        d = self.get(host.lower().rstrip("."))
        d.tls_failures += 1
        d.opaque_reason = reason
        return d

    def assign_parties(self, first_party: Iterable[str] = (), origin: str = "option") -> dict[str, Any]:
        """Mark each destination first, third, platform or unknown party (:mod:`auditor.destinations.parties`);
        return the report's ``first_party``. ``origin``: where ``first_party`` was named
        (``"option"`` or ``"policy"``). Raises :class:`auditor.destinations.parties.FirstPartyError`."""
        return parties.decide(self.by_host, self.browsing, first_party, origin)
