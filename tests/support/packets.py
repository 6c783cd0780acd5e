"""Network-capture builders for the pcap tests: real TLS ClientHellos (OpenSSL) and QUIC Initials
(aioquic), TCP connections with the right sequence numbers, pcap/pcapng files written with scapy
or struct, and a whole session (``session_capture``, the ``session_pcap`` fixture of conftest)."""

from __future__ import annotations

import contextlib
import ssl
import struct
from pathlib import Path

from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.connection import QuicConnection
from scapy.layers.dns import DNS, DNSQR, DNSRR
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.packet import Packet, Raw
from scapy.utils import wrpcap

from auditor.io.pcap import NetworkDestination, PcapResult, read_pcap
from auditor.io.pcap.quic import QUIC_V1

T0 = 1_700_000_000.0
CLIENT = "10.0.0.2"
RESOLVER = "10.0.0.1"
SERVER = "93.184.216.34"
ETH = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")


def client_hello(name: str | None, *, big: bool = False) -> bytes:
    """A real TLS ClientHello record from OpenSSL; ``big`` pads ALPN to about 1,900 bytes."""
    ctx = ssl.create_default_context()
    if big:
        ctx.set_alpn_protocols(["h2", "http/1.1"] + [f"x-{i:02d}-" + "p" * 130 for i in range(12)])
    if name is None:
        ctx.check_hostname = False
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname=name)
    with contextlib.suppress(ssl.SSLWantReadError):
        obj.do_handshake()
    return outgoing.read()


def quic_initials(name: str = "chat.example.com", *, big: bool = False, version: int = QUIC_V1) -> list[bytes]:
    """Real client Initial datagrams from aioquic."""
    conn = QuicConnection(
        configuration=QuicConfiguration(
            is_client=True, server_name=name, alpn_protocols=["h3"], quantum_readiness_test=big,
            supported_versions=[version],
        )
    )
    conn.connect(("127.0.0.1", 443), now=0.0)
    return [data for data, _ in conn.datagrams_to_send(now=0.0)]


class Conn:
    """One TCP connection; each call returns a packet with the right sequence numbers."""

    def __init__(self, server: str = SERVER, sport: int = 443, cport: int = 40000, client: str = CLIENT,
                 link: Packet | None = None) -> None:
        self.server, self.sport, self.cport, self.client = server, sport, cport, client
        self.cisn, self.sisn = 1000, 70000
        self.cseq, self.sseq = self.cisn + 1, self.sisn + 1
        self.link = ETH if link is None else link
        self.v6 = ":" in server

    def _ip(self, from_client: bool) -> Packet:
        src, dst = (self.client, self.server) if from_client else (self.server, self.client)
        ip = IPv6(src=src, dst=dst) if self.v6 else IP(src=src, dst=dst)
        return ip if self.link == "raw" else self.link.copy() / ip

    def packet(self, from_client: bool, flags: str, seq: int, ack: int, data: bytes = b"") -> Packet:
        sp, dp = (self.cport, self.sport) if from_client else (self.sport, self.cport)
        p = self._ip(from_client) / TCP(sport=sp, dport=dp, flags=flags, seq=seq, ack=ack)
        return p / Raw(data) if data else p

    def handshake(self) -> list[Packet]:
        return [
            self.packet(True, "S", self.cisn, 0),
            self.packet(False, "SA", self.sisn, self.cisn + 1),
            self.packet(True, "A", self.cseq, self.sseq),
        ]

    def c(self, data: bytes) -> Packet:
        p = self.packet(True, "PA", self.cseq, self.sseq, data)
        self.cseq += len(data)
        return p

    def s(self, data: bytes) -> Packet:
        p = self.packet(False, "PA", self.sseq, self.cseq, data)
        self.sseq += len(data)
        return p

    def c_at(self, offset: int, data: bytes) -> Packet:
        """A client segment at ``offset`` bytes into the stream (for reordering)."""
        return self.packet(True, "PA", self.cisn + 1 + offset, self.sseq, data)

    def s_at(self, offset: int, data: bytes) -> Packet:
        return self.packet(False, "PA", self.sisn + 1 + offset, self.cseq, data)

    def close(self) -> list[Packet]:
        return [
            self.packet(True, "FA", self.cseq, self.sseq),
            self.packet(False, "FA", self.sseq, self.cseq + 1),
            self.packet(True, "A", self.cseq + 1, self.sseq + 1),
        ]


def udp(src: str, dst: str, sport: int, dport: int, payload: bytes | Packet) -> Packet:
    return ETH / IP(src=src, dst=dst) / UDP(sport=sport, dport=dport) / payload


def timed(packets: list[Packet], step: float = 0.001) -> list[Packet]:
    for i, p in enumerate(packets):
        p.time = T0 + i * step
    return packets


def write(path: Path, packets: list[Packet], step: float = 0.001) -> Path:
    wrpcap(str(path), timed(packets, step))
    return path


def read(path: Path, **kw) -> tuple[PcapResult, list[str]]:
    warnings: list[str] = []
    return read_pcap(path, warn=warnings.append, **kw), warnings


def summary(d: NetworkDestination) -> tuple:
    return (d.host, d.seen, d.ips, d.ports, d.transport, d.bytes_out, d.bytes_in, d.packets, d.connections)


def classic_pcap(frames: list[tuple[float, bytes]], *, endian: str = "<", nano: bool = False, link: int = 1,
                 snaplen: int = 65535) -> bytes:
    """A classic pcap file written with struct (any byte order, micro- or nanoseconds)."""
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    out = [struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, snaplen, link)]
    for ts, frame in frames:
        sec = int(ts)
        frac = round((ts - sec) * (1e9 if nano else 1e6))
        out.append(struct.pack(endian + "IIII", sec, frac, len(frame), len(frame)) + frame)
    return b"".join(out)


def pcapng_block(btype: int, body: bytes) -> bytes:
    body += b"\0" * (-len(body) % 4)
    n = len(body) + 12
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)


def pcapng_file(packets: list[tuple[int, int, bytes]], ifaces: list[tuple[int, int | None]]) -> bytes:
    """A pcapng file: ``ifaces`` are (link type, tsresol or None); packets (iface, ts units, frame)."""
    out = [pcapng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))]
    for link, res in ifaces:
        opts = b"" if res is None else struct.pack("<HHB3x", 9, 1, res) + struct.pack("<HH", 0, 0)
        out.append(pcapng_block(1, struct.pack("<HHI", link, 0, 0) + opts))
    out.append(pcapng_block(4, struct.pack("<HH", 0, 0)))  # a name resolution block, to be skipped
    for iface, units, frame in packets:
        out.append(pcapng_block(6, struct.pack("<IIIII", iface, units >> 32, units & 0xFFFFFFFF, len(frame), len(frame)) + frame))
    return b"".join(out)


CHAT_IP, BYPASS_IP, QUIC_IP, UMENG_IP = "203.0.113.10", "203.0.113.20", "203.0.113.30", "203.0.113.40"


def session_capture(path: Path) -> Path:
    """Write to ``path`` a phone's session on the wire: DNS for the chat host, TLS to it, a pinned
    connection that bypassed the proxy, QUIC to Google, and cleartext HTTP with an email to Umeng."""
    dns = [
        udp(CLIENT, "192.0.2.53", 53001, 53, DNS(id=1, rd=1, qd=DNSQR(qname="chat.deepseek.com"))),
        udp("192.0.2.53", CLIENT, 53, 53001, DNS(id=1, qr=1, qd=DNSQR(qname="chat.deepseek.com"),
                                               an=[DNSRR(rrname="chat.deepseek.com", type="A", rdata=CHAT_IP)])),
    ]
    chat = Conn(server=CHAT_IP, cport=41000)
    pinned = Conn(server=BYPASS_IP, cport=41001)
    hello = client_hello("log.byteoversea.com", big=True)
    umeng = Conn(server=UMENG_IP, sport=80, cport=41002)
    form = b"appkey=x&email=jane.doe%40example.org&device_model=Pixel+8"
    request = (b"POST /app_logs HTTP/1.1\r\nHost: alog.umeng.com\r\nContent-Type: application/x-www-form-urlencoded\r\n"
               b"Content-Length: " + str(len(form)).encode() + b"\r\n\r\n" + form)
    packets = [
        *dns,
        *chat.handshake(), chat.c(client_hello("chat.deepseek.com")), chat.s(b"\x16\x03\x03\x00\x04abcd"),
        *pinned.handshake(), pinned.c(hello[:1000]), pinned.c(hello[1000:]),
        *[udp(CLIENT, QUIC_IP, 50000, 443, d) for d in quic_initials("www.googleapis.com")],
        *umeng.handshake(), umeng.c(request), umeng.s(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), *umeng.close(),
    ]
    return write(path, packets)
