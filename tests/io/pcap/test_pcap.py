"""Network captures: every test writes its own pcap/pcapng with scapy (or struct) in a tmp dir."""

from __future__ import annotations

import gzip
import json
import struct
from pathlib import Path

import pytest
from aioquic.quic.crypto import CryptoPair
from scapy.layers.dns import DNS, DNSQR, DNSRR
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import CookedLinux, Dot1Q
from scapy.packet import Packet, Raw
from scapy.utils import PcapNgWriter, wrpcap
from support.packets import (
    CLIENT,
    ETH,
    RESOLVER,
    SERVER,
    T0,
    Conn,
    classic_pcap,
    client_hello,
    pcapng_file,
    quic_initials,
    read,
    summary,
    timed,
    udp,
    write,
)

from auditor.io import pcap as pcapmod
from auditor.io.pcap import DnsRecord, PcapResult, is_pcap, read_pcap
from auditor.io.pcap.quic import (
    QUIC_V1,
    QUIC_V2,
    QuicInitialTracker,
    build_client_initial,
    crypto_frames,
    initial_keys,
    parse_client_hello,
    sni_from_initials,
)
from auditor.io.pcap.tcpreassembly import TcpStream
from auditor.models import Exchange

# --------------------------------------------------------------------------------------------
# Detection


@pytest.mark.parametrize(
    "head, expected",
    [
        (b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00", True),
        (b"\xa1\xb2\xc3\xd4\x00\x02\x00\x04", True),
        (b"\x4d\x3c\xb2\xa1", True),
        (b"\xa1\xb2\x3c\x4d", True),
        (b"\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x4d\x3c\x2b\x1a", True),
        (b"\x0a\x0d\x0d\x0a\x00\x00\x00\x1c\x1a\x2b\x3c\x4d", True),
        (b"\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x00\x00\x00\x00", False),
        (gzip.compress(b"\xd4\xc3\xb2\xa1" + bytes(20), mtime=0), True),
        (gzip.compress(b'{"log": {}}', mtime=0), False),
        (b"GET / HTTP/1.1\r\n", False),
        (b"", False),
    ],
)
def test_is_pcap(head: bytes, expected: bool) -> None:
    assert is_pcap(head) is expected


# --------------------------------------------------------------------------------------------
# DNS


def dns_packets() -> list[Packet]:
    q1 = DNS(id=1, rd=1, qd=DNSQR(qname="chat.example.com", qtype="A"))
    a1 = DNS(id=1, qr=1, rd=1, ra=1, qd=DNSQR(qname="chat.example.com", qtype="A"), an=[
        DNSRR(rrname="chat.example.com", type="CNAME", rdata="chat.edge.example.net"),
        DNSRR(rrname="chat.edge.example.net", type="A", rdata="93.184.216.34"),
        DNSRR(rrname="chat.edge.example.net", type="A", rdata="93.184.216.35"),
    ])
    q2 = DNS(id=2, rd=1, qd=DNSQR(qname="chat.example.com", qtype="AAAA"))
    a2 = DNS(id=2, qr=1, rd=1, ra=1, qd=DNSQR(qname="chat.example.com", qtype="AAAA"), an=[
        DNSRR(rrname="chat.example.com", type="CNAME", rdata="chat.edge.example.net"),
        DNSRR(rrname="chat.edge.example.net", type="AAAA", rdata="2606:4700::6810:1"),
    ])
    q3 = DNS(id=3, rd=1, qd=DNSQR(qname="nx.example.com"))
    a3 = DNS(id=3, qr=1, rd=1, ra=1, rcode=3, qd=DNSQR(qname="nx.example.com"))
    q4 = DNS(id=4, rd=1, qd=DNSQR(qname="lost.example.com"))
    return [
        udp(CLIENT, RESOLVER, 50001, 53, q1), udp(RESOLVER, CLIENT, 53, 50001, a1),
        udp(CLIENT, RESOLVER, 50002, 53, q2), udp(RESOLVER, CLIENT, 53, 50002, a2),
        udp(CLIENT, RESOLVER, 50003, 53, q3), udp(RESOLVER, CLIENT, 53, 50003, a3),
        udp(CLIENT, RESOLVER, 50004, 53, q4),
    ]


def test_dns_answers_name_destinations(tmp_path: Path) -> None:
    packets = dns_packets()
    # A connection to one of the answered addresses, with no TLS or HTTP to name it otherwise.
    conn = Conn(server="93.184.216.35", sport=443)
    packets += [*conn.handshake(), conn.c(b"\x00" * 40), conn.s(b"\x01" * 60), *conn.close()]
    r, warnings = read(write(tmp_path / "dns.pcap", packets))
    assert warnings == []
    assert r.dns == [
        DnsRecord("chat.example.com", "A", ["chat.edge.example.net", "93.184.216.34", "93.184.216.35"], 1, 1, "NOERROR", T0),
        DnsRecord("chat.example.com", "AAAA", ["chat.edge.example.net", "2606:4700::6810:1"], 1, 1, "NOERROR", T0 + 0.002),
        DnsRecord("nx.example.com", "A", [], 1, 1, "NXDOMAIN", T0 + 0.004),
        DnsRecord("lost.example.com", "A", [], 1, 0, None, T0 + 0.006),
    ]
    dns_out = sum(len(p[UDP].payload) for p in packets[:7] if p[UDP].dport == 53)
    dns_in = sum(len(p[UDP].payload) for p in packets[:7] if p[UDP].sport == 53)
    assert [summary(d) for d in r.destinations] == [
        (RESOLVER, ["ip"], [RESOLVER], [53], {"udp"}, dns_out, dns_in, 7, 4),
        ("chat.example.com", ["dns"], ["93.184.216.34", "93.184.216.35", "2606:4700::6810:1"], [443], {"tcp"}, 40, 60, 8, 1),
        # Looked up, not answered (NXDOMAIN, and no response at all): listed with no traffic.
        ("nx.example.com", ["dns"], [], [], set(), 0, 0, 0, 0),
        ("lost.example.com", ["dns"], [], [], set(), 0, 0, 0, 0),
    ]
    assert [d.dns_lookup for d in r.destinations] == [None, "answered", "unanswered", "unanswered"]
    assert r.destinations[1].cnames == ["chat.edge.example.net"]
    assert r.exchanges == []


def test_dns_over_tcp(tmp_path: Path) -> None:
    q = bytes(DNS(id=9, rd=1, qd=DNSQR(qname="tcp.example.org")))
    a = bytes(DNS(id=9, qr=1, qd=DNSQR(qname="tcp.example.org"), an=[DNSRR(rrname="tcp.example.org", rdata="198.51.100.9")]))
    conn = Conn(server=RESOLVER, sport=53)
    msg_q = struct.pack("!H", len(q)) + q
    msg_a = struct.pack("!H", len(a)) + a
    packets = [*conn.handshake(), conn.c(msg_q[:5]), conn.c(msg_q[5:]), conn.s(msg_a), *conn.close()]
    r, _ = read(write(tmp_path / "tcpdns.pcap", packets))
    assert r.dns == [DnsRecord("tcp.example.org", "A", ["198.51.100.9"], 1, 1, "NOERROR", T0 + 0.004)]
    assert [d.host for d in r.destinations] == [RESOLVER, "tcp.example.org"]


# --------------------------------------------------------------------------------------------
# TLS


def test_tls_sni_in_one_segment(tmp_path: Path) -> None:
    hello = client_hello("chat.example.com")
    conn = Conn()
    server_hello = b"\x16\x03\x03\x00\x30" + b"s" * 48
    packets = [*conn.handshake(), conn.c(hello), conn.s(server_hello), conn.c(b"\x17\x03\x03\x00\x05hello"), *conn.close()]
    r, warnings = read(write(tmp_path / "tls.pcap", packets))
    assert warnings == []
    assert [summary(d) for d in r.destinations] == [
        ("chat.example.com", ["sni"], [SERVER], [443], {"tcp"}, len(hello) + 10, 53, 9, 1),
    ]
    assert r.stats.packets == 9
    assert r.stats.first_timestamp == T0 and r.stats.last_timestamp == pytest.approx(T0 + 0.008)


@pytest.mark.parametrize("with_syn", [True, False], ids=["from-syn", "joined-mid-connection"])
def test_tls_client_hello_split_out_of_order_with_retransmission(tmp_path: Path, with_syn: bool) -> None:
    hello = client_hello("big.example.com", big=True)
    assert 1850 < len(hello) < 2000
    assert parse_client_hello(hello[5:]).sni == "big.example.com"
    conn = Conn()
    a, b = hello[:600], hello[600:1300]
    if with_syn:
        segments = [
            conn.c_at(600, b),  # the second segment first
            conn.c_at(0, a),
            conn.c_at(0, a),  # a retransmission
            conn.c_at(1200, hello[1200:]),  # overlaps the end of the second segment
        ]
    else:
        # Without the handshake the first segment seen starts the stream, so it must be the first
        # one; the retransmission and the overlap must still not confuse.
        segments = [conn.c_at(0, a), conn.c_at(600, b), conn.c_at(0, a), conn.c_at(1200, hello[1200:])]
    conn.cseq += len(hello)
    packets = (conn.handshake() if with_syn else []) + segments + [conn.s(b"\x16\x03\x03\x00\x02ok")] + conn.close()
    r, warnings = read(write(tmp_path / "split.pcap", packets))
    assert warnings == []
    wire_out = 600 + 600 + 700 + (len(hello) - 1200)
    assert [summary(d) for d in r.destinations] == [
        ("big.example.com", ["sni"], [SERVER], [443], {"tcp"}, wire_out, 7, len(packets), 1),
    ]


def test_client_hello_split_is_missed_without_reassembly(tmp_path: Path) -> None:
    """The segments alone do not hold a parseable ClientHello: reassembly is what finds the name."""
    hello = client_hello("big.example.com", big=True)
    with pytest.raises(ValueError):
        parse_client_hello(hello[5:1300])


def test_tls_without_sni_falls_back_to_ip(tmp_path: Path) -> None:
    hello = client_hello(None)
    assert parse_client_hello(hello[5:]).sni is None
    conn = Conn(server="198.51.100.77")
    r, _ = read(write(tmp_path / "nosni.pcap", [*conn.handshake(), conn.c(hello), *conn.close()]))
    assert [summary(d) for d in r.destinations] == [
        ("198.51.100.77", ["ip"], ["198.51.100.77"], [443], {"tcp"}, len(hello), 0, 7, 1),
    ]


@pytest.mark.parametrize(
    "link",
    [ETH, ETH / Dot1Q(vlan=7), CookedLinux(pkttype=4, lladdrtype=1, lladdrlen=6, src=b"\x02\0\0\0\0\x01\0\0"), "raw"],
    ids=["ethernet", "vlan", "linux-sll", "raw-ip"],
)
@pytest.mark.parametrize("server", [SERVER, "2001:db8::443"], ids=["ipv4", "ipv6"])
def test_link_layers_and_ipv6(tmp_path: Path, link, server: str) -> None:
    client = CLIENT if ":" not in server else "2001:db8::2"
    hello = client_hello("v6.example.com")
    conn = Conn(server=server, client=client, link=link)
    r, warnings = read(write(tmp_path / "link.pcap", [*conn.handshake(), conn.c(hello), *conn.close()]))
    assert warnings == []
    assert [summary(d) for d in r.destinations] == [
        ("v6.example.com", ["sni"], [server], [443], {"tcp"}, len(hello), 0, 7, 1),
    ]


# --------------------------------------------------------------------------------------------
# QUIC


@pytest.mark.parametrize("version", [QUIC_V1, QUIC_V2], ids=["v1", "v2"])
def test_quic_initial_from_aioquic(tmp_path: Path, version: int) -> None:
    datagrams = quic_initials(version=version)
    assert len(datagrams) == 1
    server_reply = b"\x40" + b"\x99" * 99  # a short-header packet
    packets = [udp(CLIENT, SERVER, 51000, 443, Raw(datagrams[0])), udp(SERVER, CLIENT, 443, 51000, Raw(server_reply))]
    r, warnings = read(write(tmp_path / "quic.pcap", packets))
    assert warnings == []
    assert [summary(d) for d in r.destinations] == [
        ("chat.example.com", ["quic"], [SERVER], [443], {"udp"}, len(datagrams[0]), 100, 2, 1),
    ]
    assert r.stats.dissected == 1


def test_quic_client_hello_over_two_initials_out_of_order(tmp_path: Path) -> None:
    datagrams = quic_initials("split.example.com", big=True)
    assert len(datagrams) == 2
    tracker = QuicInitialTracker()
    tracker.feed(datagrams[1])
    assert tracker.hello is None  # the second half alone is not enough
    packets = [udp(CLIENT, SERVER, 51001, 443, Raw(d)) for d in reversed(datagrams)]
    r, _ = read(write(tmp_path / "quic2.pcap", packets))
    assert [summary(d) for d in r.destinations] == [
        ("split.example.com", ["quic"], [SERVER], [443], {"udp"}, sum(map(len, datagrams)), 0, 2, 1),
    ]


def test_quic_initials_built_here_decrypt_with_aioquic_and_here(tmp_path: Path) -> None:
    """Our own Initial builder (CRYPTO frames split and shuffled across two packets) is checked
    against aioquic's decryption, then read back from a capture in reverse order."""
    message = client_hello("built.example.net")[5:]  # the handshake message, without the record header
    dcid, scid = bytes.fromhex("8394c8f03e515708"), bytes.fromhex("c0ffee00")
    p1 = build_client_initial(dcid, scid, [(900, message[900:]), (0, message[:400])], packet_number=0)
    p2 = build_client_initial(dcid, scid, [(400, message[400:900])], packet_number=1, version=QUIC_V1)
    assert len(p1) == len(p2) == 1200
    pair = CryptoPair()
    pair.setup_initial(cid=dcid, is_client=False, version=QUIC_V1)
    pn_offset = 1 + 4 + 1 + len(dcid) + 1 + len(scid) + 1 + 2
    _, payload, pn = pair.decrypt_packet(p2, pn_offset, 0)
    assert pn == 1 and crypto_frames(payload) == [(400, message[400:900])]
    _, payload, pn = pair.decrypt_packet(p1, pn_offset, 0)
    assert pn == 0 and crypto_frames(payload) == [(900, message[900:]), (0, message[:400])]
    assert sni_from_initials([p2, p1]).sni == "built.example.net"
    assert sni_from_initials([p2]) is None
    r, _ = read(write(tmp_path / "built.pcap", [udp(CLIENT, SERVER, 51002, 8443, Raw(p)) for p in (p2, p1)]))
    assert [(d.host, d.seen, d.ports) for d in r.destinations] == [("built.example.net", ["quic"], [8443])]


def test_initial_keys_match_rfc_9001_appendix_a() -> None:
    keys = initial_keys(bytes.fromhex("8394c8f03e515708"), QUIC_V1)
    assert keys.key.hex() == "1f369613dd76d5467730efcbe3b1a22d"
    assert keys.iv.hex() == "fa044b2f42a3fd3b46fb255c"
    assert keys.hp.hex() == "9f50449e04a0e810283a1e9933adedd2"
    v2 = initial_keys(bytes.fromhex("8394c8f03e515708"), QUIC_V2)  # RFC 9369 appendix A
    assert v2.key.hex() == "8b1a0bc121284290a29e0971b5cd045d"
    assert v2.iv.hex() == "91f73e2351d8fa91660e909f"
    assert v2.hp.hex() == "45b95e15235d6f45a6b19cbcb0294ba9"


def test_damaged_quic_initial_is_listed_by_ip(tmp_path: Path) -> None:
    datagram = bytearray(quic_initials()[0])
    datagram[300] ^= 0xFF  # breaks the AEAD tag check
    r, warnings = read(write(tmp_path / "badquic.pcap", [udp(CLIENT, SERVER, 51003, 443, Raw(bytes(datagram)))]))
    assert warnings == [
        "badquic.pcap: 1 QUIC connection could not be decrypted (version v1: 1); their server names are unknown"
        " and they are listed by address"
    ]
    assert [(d.host, d.seen, d.transport) for d in r.destinations] == [(SERVER, ["ip"], {"udp"})]


# --------------------------------------------------------------------------------------------
# HTTP


def test_http_request_and_response_split_across_segments(tmp_path: Path) -> None:
    body = json.dumps({"prompt": "my passport number is X1234567", "user": "ana@example.org"}).encode()
    gz = gzip.compress(body, mtime=0)
    request = (
        b"POST /v1/chat?lang=en HTTP/1.1\r\nHost: api.example.org:8080\r\nContent-Type: application/json\r\n"
        b"Content-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(gz) + gz
    )
    answer = b'{"reply": "ok"}'
    response = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nSet-Cookie: sid=abc; Path=/\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n" + b"%x\r\n%s\r\n" % (7, answer[:7]) + b"%x\r\n%s\r\n" % (8, answer[7:]) + b"0\r\n\r\n"
    )
    conn = Conn(sport=8080)
    packets = [
        *conn.handshake(),
        conn.c(request[:20]),  # inside the request line
        conn.c(request[20:90]),  # inside the headers
        conn.c(request[90:]),
        conn.s(response[:50]),
        conn.s(response[50:]),
        *conn.close(),
    ]
    r, warnings = read(write(tmp_path / "http.pcap", packets), capture=3)
    assert warnings == []
    assert r.exchanges == [
        Exchange(
            capture=3, index=0, id="pcap-3-0", method="POST", scheme="http", host="api.example.org", port=8080,
            path="/v1/chat?lang=en", http_version="HTTP/1.1",
            request_headers=[("Host", "api.example.org:8080"), ("Content-Type", "application/json"),
                             ("Content-Encoding", "gzip"), ("Content-Length", str(len(gz)))],
            request_body=body, status=200,
            response_headers=[("Content-Type", "application/json"), ("Set-Cookie", "sid=abc; Path=/"),
                              ("Transfer-Encoding", "chunked")],
            response_body=answer, server_ip=SERVER, timestamp=T0 + 0.003,
        )
    ]
    assert r.exchanges[0].url == "http://api.example.org:8080/v1/chat?lang=en"
    assert [summary(d) for d in r.destinations] == [
        ("api.example.org", ["http"], [SERVER], [8080], {"tcp"}, len(request), len(response), 11, 1),
    ]


def test_http_pipelined_requests(tmp_path: Path) -> None:
    requests = (
        b"GET /a HTTP/1.1\r\nHost: pipe.example.com\r\n\r\n"
        b"POST /b HTTP/1.1\r\nHost: pipe.example.com\r\nContent-Length: 5\r\n\r\nhello"
        b"HEAD /c HTTP/1.1\r\nHost: pipe.example.com\r\n\r\n"
        b"GET /d HTTP/1.1\r\nHost: pipe.example.com\r\n\r\n"
    )
    responses = (
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nAAA"
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nBB\r\n0\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"  # HEAD: no body follows
        b"HTTP/1.0 404 Not Found\r\n\r\nnot here"  # ends with the connection
    )
    conn = Conn(sport=80)
    packets = [*conn.handshake(), conn.c(requests), conn.s(responses[:60]), conn.s(responses[60:]), *conn.close()]
    r, _ = read(write(tmp_path / "pipe.pcap", packets))
    got = [(e.index, e.id, e.method, e.path, e.request_body, e.status, e.response_body, e.body_errors) for e in r.exchanges]
    assert got == [
        (0, "pcap-0-0", "GET", "/a", b"", 200, b"AAA", []),
        (1, "pcap-0-1", "POST", "/b", b"hello", 201, b"BB", []),
        (2, "pcap-0-2", "HEAD", "/c", b"", 200, b"", []),
        (3, "pcap-0-3", "GET", "/d", b"", 404, b"not here", []),
    ]
    assert {e.host for e in r.exchanges} == {"pipe.example.com"}
    assert r.exchanges[3].response_headers == []


def test_http_missing_segment_is_reported(tmp_path: Path) -> None:
    body = b"x" * 300
    request = b"POST /up HTTP/1.1\r\nHost: gap.example.com\r\nContent-Length: 300\r\n\r\n"
    conn = Conn(sport=80)
    head_len = len(request)
    packets = [
        *conn.handshake(),
        conn.c_at(0, request + body[:100]),
        # body[100:200] was never captured
        conn.c_at(head_len + 200, body[200:]),
    ]
    conn.cseq += head_len + 300
    packets += [conn.s(b"HTTP/1.1 204 No Content\r\n\r\n"), *conn.close()]
    r, warnings = read(write(tmp_path / "gap.pcap", packets))
    assert [(e.request_body, e.status, e.body_errors) for e in r.exchanges] == [
        (b"x" * 200, 204, ["request body: 100 bytes were not captured"]),
    ]
    assert warnings == [
        "gap.pcap: 1 TCP connection with segments missing from the capture; TLS or HTTP data there may be incomplete"
    ]


def test_http_truncated_body_at_end_of_capture(tmp_path: Path) -> None:
    conn = Conn(sport=80)
    packets = [*conn.handshake(), conn.c(b"GET / HTTP/1.1\r\nHost: cut.example.com\r\n\r\n"), conn.s(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"y" * 40)]
    r, _ = read(write(tmp_path / "cut.pcap", packets))
    assert [(e.status, e.response_body, e.body_errors) for e in r.exchanges] == [
        (200, b"y" * 40, ["response body incomplete: the capture has 40 of 100 bytes"]),
    ]


def test_http_mid_connection_without_syn_and_client_by_content(tmp_path: Path) -> None:
    # Both ports are ephemeral and there is no SYN: the request tells which side is the client.
    conn = Conn(server="198.51.100.5", sport=41000, cport=52000)
    packets = [conn.c(b"GET /x HTTP/1.1\r\nHost: mid.example.com\r\n\r\n"), conn.s(b"HTTP/1.1 204 No Content\r\n\r\n")]
    r, _ = read(write(tmp_path / "mid.pcap", packets))
    assert [(e.host, e.port, e.server_ip, e.status) for e in r.exchanges] == [("mid.example.com", 41000, "198.51.100.5", 204)]
    assert [(d.host, d.ports, d.bytes_out, d.bytes_in) for d in r.destinations] == [
        ("mid.example.com", [41000], len(packets[0][Raw].load), len(packets[1][Raw].load)),
    ]


def test_syn_decides_the_client_side(tmp_path: Path) -> None:
    # The side that sends the SYN is the client even from port 443 to a high port.
    conn = Conn(server="198.51.100.6", sport=50000, cport=443)
    packets = [*conn.handshake(), conn.c(b"a" * 10), conn.s(b"b" * 20), *conn.close()]
    r, _ = read(write(tmp_path / "syn.pcap", packets))
    assert [summary(d) for d in r.destinations] == [
        ("198.51.100.6", ["ip"], ["198.51.100.6"], [50000], {"tcp"}, 10, 20, 8, 1),
    ]


# --------------------------------------------------------------------------------------------
# Unnamed connections and byte counts


def test_bsd_loopback_link_type(tmp_path: Path) -> None:
    conn = Conn(server="127.0.0.1", client="127.0.0.1", sport=80, link="raw")
    packets = [*conn.handshake(), conn.c(b"GET /local HTTP/1.1\r\nHost: localhost:80\r\n\r\n"), conn.s(b"HTTP/1.1 204 No Content\r\n\r\n")]
    path = tmp_path / "lo.pcap"
    path.write_bytes(classic_pcap([(T0 + i, struct.pack("<I", 2) + bytes(p)) for i, p in enumerate(packets)], link=0))
    r, warnings = read(path)
    assert warnings == []
    assert [(e.host, e.port, e.path, e.status, e.timestamp) for e in r.exchanges] == [("localhost", 80, "/local", 204, T0 + 3)]


def test_unnamed_connections_are_listed_by_ip(tmp_path: Path) -> None:
    conn = Conn(server="203.0.113.9", sport=8443)
    packets = [*conn.handshake(), conn.c(b"\x05" * 123), conn.s(b"\x06" * 456), conn.c(b"\x07" * 7), *conn.close()]
    packets += [udp(CLIENT, "198.51.100.20", 40000, 5000, Raw(b"z" * 33)), udp("198.51.100.20", CLIENT, 5000, 40000, Raw(b"w" * 44))]
    r, _ = read(write(tmp_path / "ip.pcap", packets))
    assert [summary(d) for d in r.destinations] == [
        ("203.0.113.9", ["ip"], ["203.0.113.9"], [8443], {"tcp"}, 130, 456, 9, 1),
        ("198.51.100.20", ["ip"], ["198.51.100.20"], [5000], {"udp"}, 33, 44, 2, 1),
    ]


def test_one_destination_over_tcp_and_quic(tmp_path: Path) -> None:
    hello = client_hello("chat.example.com")
    conn = Conn()
    datagram = quic_initials("chat.example.com")[0]
    packets = [*conn.handshake(), conn.c(hello), *conn.close(), udp(CLIENT, SERVER, 51010, 443, Raw(datagram))]
    r, _ = read(write(tmp_path / "both.pcap", packets))
    assert [summary(d) for d in r.destinations] == [
        ("chat.example.com", ["sni", "quic"], [SERVER], [443], {"tcp", "udp"}, len(hello) + len(datagram), 0, 8, 2),
    ]


def test_flows_are_dropped_when_done(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Finished connections leave the connection table; their counts stay exact."""
    from auditor.io.pcap import analyzer

    monkeypatch.setattr(analyzer, "SWEEP_EVERY", 64)  # read where it is defined
    packets: list[Packet] = []
    for i in range(300):
        conn = Conn(server="198.51.100.50", sport=443, cport=30000 + i)
        packets += [*conn.handshake(), conn.c(b"q" * 10), *conn.close()]
    path = write(tmp_path / "many.pcap", packets, step=1.0)
    an = pcapmod._Analyzer("many.pcap", 0, lambda m: None)
    from auditor.io.pcap import _Buffer, _Damage, _pcap_records

    damage = _Damage("many.pcap", lambda m: None)
    with open(path, "rb") as fh:
        header = fh.read(24)
        an.run(_pcap_records(_Buffer(fh, b"", 24, damage), header, damage))
    assert len(an.tcp) <= 2 * 20  # each connection is kept about 30 s of capture time after it closes
    result = PcapResult()
    an.finish(result)
    assert [summary(d) for d in result.destinations] == [
        ("198.51.100.50", ["ip"], ["198.51.100.50"], [443], {"tcp"}, 3000, 0, 2100, 300),
    ]


# --------------------------------------------------------------------------------------------
# File formats


def mixed_packets() -> list[Packet]:
    hello = client_hello("ng.example.com")
    conn = Conn()
    web = Conn(sport=80, cport=40001)
    return (
        dns_packets()[:2]
        + conn.handshake() + [conn.c(hello)] + conn.close()
        + web.handshake() + [web.c(b"GET / HTTP/1.1\r\nHost: ng.example.com\r\n\r\n"), web.s(b"HTTP/1.1 204 No Content\r\n\r\n")]
        + web.close()
    )


def outcome(r: PcapResult) -> tuple:
    return ([summary(d) for d in r.destinations], r.dns, [(e.host, e.path, e.status) for e in r.exchanges], r.stats.packets)


def test_pcapng_gives_the_same_result(tmp_path: Path) -> None:
    packets = timed(mixed_packets())
    wrpcap(str(tmp_path / "a.pcap"), packets)
    with PcapNgWriter(str(tmp_path / "a.pcapng")) as w:
        for p in packets:
            w.write(p)
    a, _ = read(tmp_path / "a.pcap")
    b, warnings = read(tmp_path / "a.pcapng")
    assert warnings == []
    assert b.stats.format == "pcapng" and a.stats.format == "pcap"
    assert outcome(a) == outcome(b)
    assert outcome(a)[2] == [("ng.example.com", "/", 204)]
    assert [d.host for d in a.destinations] == [RESOLVER, "chat.example.com", "ng.example.com"]


@pytest.mark.parametrize("endian", ["<", ">"])
@pytest.mark.parametrize("nano", [False, True])
def test_classic_pcap_byte_orders_and_nanoseconds(tmp_path: Path, endian: str, nano: bool) -> None:
    packets = mixed_packets()
    frames = [(T0 + i * 0.000123457, bytes(p)) for i, p in enumerate(packets)]
    path = tmp_path / "x.pcap"
    path.write_bytes(classic_pcap(frames, endian=endian, nano=nano))
    r, warnings = read(path)
    assert warnings == []
    assert outcome(r)[2] == [("ng.example.com", "/", 204)]
    assert r.stats.packets == len(packets)
    assert r.stats.last_timestamp == pytest.approx(frames[-1][0], abs=1e-9 if nano else 1e-6)


def test_pcapng_interfaces_link_types_and_resolution(tmp_path: Path) -> None:
    conn = Conn()
    hello = client_hello("ng2.example.com")
    eth_frames = [bytes(p) for p in conn.handshake()]
    raw_frames = [bytes(conn.c(hello)[IP])]  # this one on a raw-IP interface
    ns = int(T0) * 10**9 + 123456789
    packets = [(0, ns + i * 1000, f) for i, f in enumerate(eth_frames)] + [(1, (int(T0) + 1) * 10**6, raw_frames[0])]
    path = tmp_path / "ifaces.pcapng"
    path.write_bytes(pcapng_file(packets, [(1, 9), (101, None)]))
    r, warnings = read(path)
    assert warnings == []
    assert r.stats.packets == 4
    assert r.stats.first_timestamp == pytest.approx(T0 + 0.123456789, abs=1e-6)
    assert r.stats.last_timestamp == T0 + 1
    assert [(d.host, d.bytes_out) for d in r.destinations] == [("ng2.example.com", len(hello))]


def test_gzip_compressed_pcap(tmp_path: Path) -> None:
    write(tmp_path / "plain.pcap", mixed_packets())
    (tmp_path / "c.pcap.gz").write_bytes(gzip.compress((tmp_path / "plain.pcap").read_bytes(), mtime=0))
    a, _ = read(tmp_path / "plain.pcap")
    b, warnings = read(tmp_path / "c.pcap.gz")
    assert warnings == [] and b.stats.format == "pcap.gz"
    assert outcome(a) == outcome(b)


# --------------------------------------------------------------------------------------------
# Damaged input


def good_file(tmp_path: Path) -> tuple[Path, list[int]]:
    """A pcap of the mixed traffic; returns it and the byte offset of each record."""
    path = write(tmp_path / "capture.pcap", mixed_packets())
    data = path.read_bytes()
    offsets, p = [], 24
    while p < len(data):
        offsets.append(p)
        p += 16 + struct.unpack_from("<I", data, p + 8)[0]
    return path, offsets


@pytest.mark.parametrize("cut", [5, 30], ids=["in-record-header", "in-packet-data"])
def test_truncated_file(tmp_path: Path, cut: int) -> None:
    path, offsets = good_file(tmp_path)
    data = path.read_bytes()
    last = offsets[-1]
    path.write_bytes(data[: last + cut])
    r, warnings = read(path)
    n = len(offsets) - 1
    assert warnings == [f"capture.pcap: truncated at byte {last} after {n} packets"]
    assert r.stats.packets == n
    assert outcome(r)[2] == [("ng.example.com", "/", 204)]
    assert r.dns[0].name == "chat.example.com"


def test_truncated_header(tmp_path: Path) -> None:
    path = tmp_path / "capture.pcap"
    path.write_bytes(b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00")
    r, warnings = read(path)
    assert warnings == ["capture.pcap: truncated at byte 10 after 0 packets"]
    assert r.stats.packets == 0 and r.destinations == []


@pytest.mark.parametrize("bad_len", [0x7FFFFFFF, 70000], ids=["absurd", "over-snaplen"])
def test_bad_record_length_skips_to_next_record(tmp_path: Path, bad_len: int) -> None:
    path, offsets = good_file(tmp_path)
    data = bytearray(path.read_bytes())
    k = 3  # damage the fourth record (the SYN of the TLS connection)
    at = offsets[k]
    real = struct.unpack_from("<I", data, at + 8)[0]
    struct.pack_into("<I", data, at + 8, bad_len)
    path.write_bytes(bytes(data))
    r, warnings = read(path)
    assert warnings == [
        f"capture.pcap: bad record length {bad_len:,} at byte {at} after 3 packets (snapshot length 65,535); "
        f"skipped {16 + real:,} bytes to the next readable record"
    ]
    assert r.stats.packets == len(offsets) - 1
    assert outcome(r)[2] == [("ng.example.com", "/", 204)]


def test_garbage_after_the_records(tmp_path: Path) -> None:
    path, offsets = good_file(tmp_path)
    end = path.stat().st_size
    path.write_bytes(path.read_bytes() + b"this is not a packet record, just trailing text\n" * 3)
    r, warnings = read(path)
    assert warnings == [
        f"capture.pcap: bad record length 544,501,614 at byte {end} after {len(offsets)} packets "
        "(snapshot length 65,535); no readable record follows within 1 MiB, the rest of the file was not read"
    ]
    assert r.stats.packets == len(offsets)


def test_unsupported_link_type(tmp_path: Path) -> None:
    path = tmp_path / "odd.pcap"
    path.write_bytes(classic_pcap([(T0, b"\x01" * 40), (T0 + 1, b"\x02" * 40)], link=147))
    r, warnings = read(path)
    assert warnings == ["odd.pcap: 2 packets with unsupported link type 147 skipped"]
    assert r.stats.packets == 2 and r.stats.non_ip == 2


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "the file is empty or unreadable, not a pcap or pcapng capture"),
        (b"hello world, not a capture", "not a pcap or pcapng capture (the file starts with bytes 68656c6c)"),
        (b'{"log": {"entries": []}}', "not a pcap or pcapng capture (the file starts with bytes 7b226c6f)"),
    ],
)
def test_not_a_capture_raises(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "x.bin"
    path.write_bytes(content)
    with pytest.raises(ValueError) as exc:
        read_pcap(path, warn=lambda m: None)
    assert str(exc.value) == message


def pcapng_offsets(data: bytes) -> list[tuple[int, int]]:
    out, p = [], 0
    while p < len(data):
        btype, blen = struct.unpack_from("<II", data, p)
        out.append((p, btype))
        p += blen
    return out


def test_pcapng_truncated(tmp_path: Path) -> None:
    packets = timed(mixed_packets())
    path = tmp_path / "capture.pcapng"
    with PcapNgWriter(str(path)) as w:
        for p in packets:
            w.write(p)
    data = path.read_bytes()
    blocks = [o for o, t in pcapng_offsets(data) if t == 6]
    path.write_bytes(data[: blocks[-1] + 40])
    r, warnings = read(path)
    assert warnings == [f"capture.pcapng: truncated at byte {blocks[-1]} after {len(blocks) - 1} packets"]
    assert r.stats.packets == len(blocks) - 1


def test_pcapng_bad_block_length(tmp_path: Path) -> None:
    packets = timed(mixed_packets())
    path = tmp_path / "capture.pcapng"
    with PcapNgWriter(str(path)) as w:
        for p in packets:
            w.write(p)
    data = bytearray(path.read_bytes())
    blocks = [o for o, t in pcapng_offsets(bytes(data)) if t == 6]
    at = blocks[2]
    real = struct.unpack_from("<I", data, at + 4)[0]
    struct.pack_into("<I", data, at + 4, 0x0FFFFFF0)
    path.write_bytes(bytes(data))
    r, warnings = read(path)
    assert warnings == [
        f"capture.pcapng: bad block length 268,435,440 at byte {at} after 2 packets; "
        f"skipped {real:,} bytes to the next readable block"
    ]
    assert r.stats.packets == len(blocks) - 1


def test_truncated_gzip(tmp_path: Path) -> None:
    write(tmp_path / "plain.pcap", mixed_packets())
    blob = gzip.compress((tmp_path / "plain.pcap").read_bytes(), mtime=0)
    (tmp_path / "c.pcap.gz").write_bytes(blob[: len(blob) * 2 // 3])
    r, warnings = read(tmp_path / "c.pcap.gz")
    n = r.stats.packets
    assert 0 < n < len(mixed_packets())
    assert len(warnings) == 1
    assert warnings[0].startswith("c.pcap.gz: truncated at byte ")
    assert warnings[0].endswith(
        f" of the decompressed data after {n} packets (the compressed stream ends early or is corrupt)"
    )


# --------------------------------------------------------------------------------------------
# TCP reassembly on its own


def test_tcp_stream_reorders_trims_and_reports_holes() -> None:
    got: list[bytes] = []
    gaps: list[int] = []
    ended: list[bool] = []
    st = TcpStream(got.append, gaps.append, lambda: ended.append(True))
    st.syn(0xFFFFFFF0)  # sequence numbers wrap around 2**32 inside this stream
    base = 0xFFFFFFF1
    st.segment((base + 10) & 0xFFFFFFFF, b"KLMNOPQRST")
    st.segment(base, b"ABCDEFGHIJ")
    st.segment(base + 5, b"FGHIJKL")  # already delivered
    st.segment((base + 30) & 0xFFFFFFFF, b"!!")  # after a hole of 10 bytes
    assert b"".join(got) == b"ABCDEFGHIJKLMNOPQRST" and gaps == []
    st.fin((base + 32) & 0xFFFFFFFF)
    assert ended == []
    st.finish()
    assert b"".join(got) == b"ABCDEFGHIJKLMNOPQRST!!" and gaps == [10] and ended == [True]


def test_tcp_stream_snaplen_cut_segment_is_a_hole() -> None:
    got: list[bytes] = []
    gaps: list[int] = []
    st = TcpStream(got.append, gaps.append)
    st.syn(99)
    st.segment(100, b"abc", wire_len=10)  # the capture kept 3 of 10 bytes
    st.segment(110, b"next")
    assert got == [b"abc", b"next"] and gaps == [7]
