"""What :func:`~auditor.io.pcap.read_pcap` returns: destinations, DNS records, counts."""

from __future__ import annotations

from dataclasses import dataclass, field

from auditor.models import Exchange

__all__ = ["DnsRecord", "NetworkDestination", "PcapResult", "PcapStats"]




@dataclass(slots=True)
class DnsRecord:
    """One DNS question (name and type) with every answer seen for it in the capture.

    ``answers`` holds the addresses and CNAME targets of all responses, without repeats;
    ``queries`` and ``responses`` count the messages seen.
    """

    name: str
    type: str
    answers: list[str] = field(default_factory=list)
    queries: int = 0
    responses: int = 0
    rcode: str | None = None  # of the last response
    first_seen: float | None = None


@dataclass(slots=True)
class NetworkDestination:
    """A server the capture shows traffic to, with how its name was learned.

    ``host`` is a name, or the IP address when no name was seen. ``seen`` lists, in the order
    dns, sni, quic, http, ip, how the destination appeared: a DNS answer, a TLS ClientHello, a
    QUIC Initial, an HTTP ``Host`` header, or a connection to an address with no known name.
    ``bytes_out`` counts client-to-server TCP/UDP payload bytes as they crossed the wire
    (retransmissions included), ``bytes_in`` the other way; ``packets`` counts both directions.
    A destination known only from DNS has no ports, transport or traffic. ``dns_lookup`` says
    whether the name was looked up in DNS (over port 53) and got an answer: "answered",
    "unanswered" (queried, but no response or none with an address or alias: a blocked or failed
    lookup; such a name is listed even when no traffic went to it), or None when not looked up.
    """

    host: str
    ips: list[str] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)
    transport: set[str] = field(default_factory=set)
    bytes_out: int = 0
    bytes_in: int = 0
    packets: int = 0
    connections: int = 0
    cnames: list[str] = field(default_factory=list)
    first_seen: float | None = None
    last_seen: float | None = None
    dns_lookup: str | None = None


@dataclass(slots=True)
class PcapStats:
    """Counts for one capture file."""

    format: str = "pcap"
    packets: int = 0
    bytes: int = 0  # original (on-the-wire) length of every packet
    dissected: int = 0  # packets handed to a DNS, TLS, QUIC or HTTP dissector
    non_ip: int = 0  # packets that were not IPv4/IPv6 or had an unsupported link type
    first_timestamp: float | None = None
    last_timestamp: float | None = None

    @property
    def duration(self) -> float:
        """Seconds between the first and the last packet."""
        if self.first_timestamp is None or self.last_timestamp is None:
            return 0.0
        return self.last_timestamp - self.first_timestamp


@dataclass(slots=True)
class PcapResult:
    """Everything :func:`read_pcap` found in one capture; ``warnings`` repeats what ``warn`` got."""

    exchanges: list[Exchange] = field(default_factory=list)
    destinations: list[NetworkDestination] = field(default_factory=list)
    dns: list[DnsRecord] = field(default_factory=list)
    stats: PcapStats = field(default_factory=PcapStats)
    warnings: list[str] = field(default_factory=list)

