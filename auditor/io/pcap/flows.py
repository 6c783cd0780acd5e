"""Per-connection and per-destination state of the capture analyser."""

from __future__ import annotations

import socket

from auditor.io.pcap.tcpreassembly import TcpStream

_M_UNDECIDED, _M_HTTP, _M_TLS, _M_DNS, _M_QUIC, _M_OTHER, _M_H2 = range(7)
_SERVER_PORTS = frozenset({53, 80, 443, 853, 1080, 3128, 5228, 5222, 8000, 8008, 8080, 8443, 8888, 9000})
_SEEN_ORDER = ("dns", "sni", "quic", "http", "ip")
_DNS_PORTS = frozenset({53, 5353, 5355})  # DNS, multicast DNS, LLMNR
_LOOKUP_TYPES = frozenset({1, 5, 28, 64, 65, 255})  # A, CNAME, AAAA, SVCB, HTTPS, ANY: a name to connect to
_LOCAL_SUFFIXES = (".arpa", ".local", ".localdomain", ".home.arpa", ".lan", ".internal")


class _Flow:
    """One TCP connection or UDP conversation. ``a`` is the side seen first."""

    __slots__ = (
        "a_ip",
        "a_port",
        "ab",
        "b_ip",
        "b_port",
        "ba",
        "checks",
        "client_is_a",
        "client_known",
        "closed",
        "dns_a",
        "dns_b",
        "fins",
        "first_ts",
        "gapped",
        "handler",
        "heads",
        "last_ts",
        "mode",
        "name",
        "name_src",
        "need",
        "packets",
        "proto",
        "streams",
        "swept_closed",
        "undecided",
        "watch",
    )

    def __init__(self, proto: int, a_ip: bytes, a_port: int, b_ip: bytes, b_port: int, ts: float) -> None:
        self.proto = proto
        self.a_ip = a_ip
        self.a_port = a_port
        self.b_ip = b_ip
        self.b_port = b_port
        # Until the traffic says otherwise, the side on a well-known port is the server.
        self.client_is_a = not (a_port in _SERVER_PORTS or (a_port < 1024 <= b_port)) or (
            b_port in _SERVER_PORTS
        )
        self.client_known = False
        self.packets = 0
        self.ab = 0
        self.ba = 0
        self.first_ts = ts
        self.last_ts = ts
        self.name: str | None = None
        self.name_src: str | None = None
        self.dns_a: str | None = None
        self.dns_b: str | None = None
        self.watch = True
        self.need = [True, True]
        self.mode = _M_UNDECIDED
        self.streams: list[TcpStream | None] = [None, None]
        self.heads: list[bytearray] = [bytearray(), bytearray()]
        self.handler: object = None
        self.fins = 0
        self.closed = False
        self.gapped = False
        self.undecided = 0
        self.checks = 0
        self.swept_closed = False

    @property
    def client_dir(self) -> int:
        """0 if the client sends a->b, 1 if b->a."""
        return 0 if self.client_is_a else 1

    @property
    def server_ip(self) -> bytes:
        return self.b_ip if self.client_is_a else self.a_ip

    @property
    def server_ip_str(self) -> str:
        return _ntop(self.server_ip)

    @property
    def server_port(self) -> int:
        return self.b_port if self.client_is_a else self.a_port

    def release(self) -> None:
        """Drop the dissection state; only the counters remain."""
        self.watch = False
        self.mode = _M_OTHER
        self.need = [False, False]
        self.streams = [None, None]
        self.heads = [bytearray(), bytearray()]
        self.handler = None


class _Dest:
    __slots__ = (
        "cnames",
        "connections",
        "dns_lookup",
        "first",
        "host",
        "inb",
        "ips",
        "last",
        "out",
        "packets",
        "ports",
        "seen",
        "transport",
    )

    def __init__(self, host: str, ts: float) -> None:
        self.host = host
        self.ips: dict[str, None] = {}
        self.seen: set[str] = set()
        self.ports: set[int] = set()
        self.transport: set[str] = set()
        self.out = 0
        self.inb = 0
        self.packets = 0
        self.connections = 0
        self.cnames: dict[str, None] = {}
        self.first = ts
        self.last = ts
        self.dns_lookup: str | None = None


def _ntop(packed: bytes) -> str:
    return socket.inet_ntop(socket.AF_INET if len(packed) == 4 else socket.AF_INET6, packed)


