"""Network captures: QUIC of every version, gQUIC, version negotiation, link types, multicast DNS,
HTTP/2 in cleartext and DNS over HTTPS. Each test writes its own capture in a tmp dir."""

from __future__ import annotations

import base64
import struct
from pathlib import Path

import h2.config
import h2.connection
import pytest
from scapy.layers.dns import DNS, DNSQR, DNSRR
from scapy.layers.inet import IP
from scapy.packet import Raw
from support.packets import CLIENT, SERVER, T0, Conn, classic_pcap, client_hello, pcapng_file, read, udp, write

from auditor.io.pcap import doh
from auditor.io.pcap.quic import (
    GQUIC_Q050,
    GQUIC_T051,
    MVFST_DRAFT_22,
    MVFST_DRAFT_27,
    MVFST_EXPERIMENTAL,
    QUIC_V1,
    QUIC_V2,
    build_client_initial,
    draft,
    initial_keys,
    sni_from_initials,
    version_name,
)
from auditor.models import Exchange

DCID, SCID = bytes.fromhex("8394c8f03e515708"), bytes.fromhex("c0ffee00")


def hello_message(name: str, big: bool = False) -> bytes:
    return client_hello(name, big=big)[5:]  # the handshake message, without the TLS record header


# --------------------------------------------------------------------------------------------
# QUIC versions


def test_draft_29_keys_match_the_drafts_appendix_a() -> None:
    keys = initial_keys(DCID, draft(29))  # draft-ietf-quic-tls-29, appendix A.1
    assert keys.key.hex() == "175257a31eb09dea9366d8bb79ad80ba"
    assert keys.iv.hex() == "6b26114b9cba2b63a9e8dd4f"
    assert initial_keys(DCID, draft(33)) == initial_keys(DCID, QUIC_V1)  # drafts 33-34 took v1's salt
    assert initial_keys(DCID, draft(28)) != initial_keys(DCID, draft(29)) != initial_keys(DCID, QUIC_V1)


@pytest.mark.parametrize(
    "version",
    [draft(22), draft(23), draft(27), draft(29), draft(32), draft(34), QUIC_V1, QUIC_V2,
     MVFST_DRAFT_22, MVFST_DRAFT_27, MVFST_EXPERIMENTAL],
    ids=version_name,
)
def test_every_version_with_a_known_salt(tmp_path: Path, version: int) -> None:
    message = hello_message("v.example.com", big=True)
    p1 = build_client_initial(DCID, SCID, [(0, message[:900])], version=version)
    p2 = build_client_initial(DCID, SCID, [(900, message[900:])], packet_number=1, version=version)
    r, warnings = read(write(tmp_path / "v.pcap", [udp(CLIENT, SERVER, 52000, 443, Raw(p)) for p in (p2, p1)]))
    assert warnings == []
    assert [(d.host, d.seen) for d in r.destinations] == [("v.example.com", ["quic"])]


def test_unknown_and_reserved_versions_are_tried_with_every_salt(tmp_path: Path) -> None:
    from auditor.io.pcap.quic import _SALT_DRAFT_29

    message = hello_message("reserved.example.com")
    # A reserved version (0x?a?a?a?a) protected with draft-29's salt, as Chrome and quic-go do.
    p = build_client_initial(DCID, SCID, [(0, message)], version=0x1A2A3A4A, salt=_SALT_DRAFT_29)
    assert sni_from_initials([p]).sni == "reserved.example.com"
    r, warnings = read(write(tmp_path / "r.pcap", [udp(CLIENT, SERVER, 52001, 443, Raw(p))]))
    assert warnings == [] and [d.host for d in r.destinations] == ["reserved.example.com"]


def test_version_negotiation_is_followed(tmp_path: Path) -> None:
    """The client offers a version the server lacks; after Version Negotiation it starts again
    with v1, another connection id and keys of its own."""
    first = bytearray(build_client_initial(DCID, SCID, [(0, hello_message("vn.example.com"))], version=0xFF00000F,
                                           salt=b"\x00" * 20))  # draft-15: no salt is known
    vn = b"\x80" + b"\x00" * 4 + bytes([len(SCID)]) + SCID + bytes([len(DCID)]) + DCID + struct.pack("!II", QUIC_V1, QUIC_V2)
    second = build_client_initial(b"\x11" * 8, SCID, [(0, hello_message("vn.example.com"))], version=QUIC_V1)
    packets = [udp(CLIENT, SERVER, 52002, 443, Raw(bytes(first))), udp(SERVER, CLIENT, 443, 52002, Raw(vn)),
               udp(CLIENT, SERVER, 52002, 443, Raw(second))]
    r, warnings = read(write(tmp_path / "vn.pcap", packets))
    assert warnings == []
    assert [(d.host, d.seen, d.packets) for d in r.destinations] == [("vn.example.com", ["quic"], 3)]


def test_connections_never_decrypted_are_named_by_version_in_a_warning(tmp_path: Path) -> None:
    message = hello_message("hidden.example.com")
    packets = [
        udp(CLIENT, SERVER, 52003 + i, 443,
            Raw(build_client_initial(DCID, SCID, [(0, message)], version=v, salt=b"\x01" * 20)))
        for i, v in enumerate((0xFF00000F, 0xFF00000F, 0xFACEB0FF))
    ]
    r, warnings = read(write(tmp_path / "hidden.pcap", packets))
    assert warnings == [
        "hidden.pcap: 3 QUIC connections could not be decrypted (version draft-15: 2; mvfst 0xfaceb0ff: 1); "
        "their server names are unknown and they are listed by address"
    ]
    assert [(d.host, d.seen, d.connections) for d in r.destinations] == [(SERVER, ["ip"], 3)]


def chlo(sni: str, pad: int = 200) -> bytes:
    """A gQUIC CHLO message: PAD, SNI and VER tags (sorted by their little-endian value)."""
    tags = [(b"PAD\x00", b"-" * pad), (b"SNI\x00", sni.encode()), (b"VER\x00", b"Q046")]
    table, values, end = b"", b"", 0
    for tag, value in tags:
        end += len(value)
        table += tag + struct.pack("<I", end)
        values += value
    return b"CHLO" + struct.pack("<HH", len(tags), 0) + table + values


@pytest.mark.parametrize("version", ["Q043", "Q046"])
def test_gquic_cleartext_chlo(tmp_path: Path, version: str) -> None:
    message = chlo("www.youtube.com")
    frame = b"\xa0\x01" + struct.pack(">H", len(message)) + message  # STREAM frame on stream 1
    if version == "Q043":  # public header: flags, connection id, version, packet number, message hash
        packet = b"\x09" + b"\x42" * 8 + version.encode() + b"\x01" + b"\x00" * 12 + frame
    else:  # Q046: long header with both connection id lengths in one byte
        packet = b"\xc3" + version.encode() + b"\x50" + b"\x42" * 8 + b"\x00\x00\x00\x01" + b"\x00" * 12 + frame
    r, warnings = read(write(tmp_path / "g.pcap", [udp(CLIENT, SERVER, 52010, 443, Raw(packet))]))
    assert warnings == []
    assert [(d.host, d.seen) for d in r.destinations] == [("www.youtube.com", ["quic"])]


@pytest.mark.parametrize("version", [GQUIC_Q050, GQUIC_T051], ids=version_name)
def test_gquic_initials(tmp_path: Path, version: int) -> None:
    """Q050 and T05x Initials have their own salts and carry the handshake in frame type 0x08:
    a CHLO for Q050, a TLS ClientHello for T050/T051."""
    message = chlo("www.googletagmanager.com") if version == GQUIC_Q050 else hello_message("www.googletagmanager.com")
    packet = build_client_initial(DCID, SCID, [(0, message)], version=version)
    assert packet[1:5] == version.to_bytes(4, "big") and packet.count(message[:40]) == 0  # encrypted
    r, warnings = read(write(tmp_path / "g50.pcap", [udp(CLIENT, SERVER, 52011, 443, Raw(packet))]))
    assert warnings == []
    assert [(d.host, d.seen) for d in r.destinations] == [("www.googletagmanager.com", ["quic"])]


# --------------------------------------------------------------------------------------------
# Link types


def ip_frame() -> bytes:
    conn = Conn()
    return bytes(conn.c(client_hello("link.example.com"))[IP])


@pytest.mark.parametrize(
    "link, prefix",
    [
        (9, b"\xff\x03\x00\x21"),  # PPP with address and control
        (9, b"\x00\x21"),  # PPP, address and control compressed
        (9, b"\x21"),  # PPP, protocol field compressed too
        (50, b"\xff\x03\x00\x21"),  # PPP in HDLC framing
        (204, b"\x01\xff\x03\x00\x21"),  # PPP with a direction byte
        (51, b"\x11\x00\x00\x01\x00\x40\x00\x21"),  # PPPoE session
        (104, b"\x0f\x00\x08\x00"),  # Cisco HDLC
        (105, bytes([0x08, 0x01]) + b"\x00" * 22 + b"\xaa\xaa\x03\x00\x00\x00\x08\x00"),  # 802.11 data, to the AP
        (105, bytes([0x88, 0x02]) + b"\x00" * 24 + b"\xaa\xaa\x03\x00\x00\x00\x08\x00"),  # 802.11 QoS data
        (127, b"\x00\x00\x08\x00\x00\x00\x00\x00" + bytes([0x08, 0x02]) + b"\x00" * 22
         + b"\xaa\xaa\x03\x00\x00\x00\x08\x00"),  # radiotap, then 802.11
    ],
    ids=["ppp", "ppp-acfc", "ppp-pfc", "ppp-hdlc", "ppp-dir", "pppoe", "c-hdlc", "wlan", "wlan-qos", "radiotap"],
)
@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_link_types(tmp_path: Path, link: int, prefix: bytes, fmt: str) -> None:
    frame = prefix + ip_frame()
    if fmt == "pcap":
        data = classic_pcap([(T0, frame)], link=link)
    else:
        data = pcapng_file([(0, int(T0 * 1e6), frame)], [(link, None)])
    path = tmp_path / f"link.{fmt}"
    path.write_bytes(data)
    r, warnings = read(path)
    assert warnings == []
    assert [(d.host, d.seen, d.ports) for d in r.destinations] == [("link.example.com", ["sni"], [443])]


def test_encrypted_wifi_frames_are_skipped_quietly(tmp_path: Path) -> None:
    frame = bytes([0x08, 0x41]) + b"\x00" * 22 + b"\x00" * 60  # protected data frame
    path = tmp_path / "wep.pcap"
    path.write_bytes(classic_pcap([(T0, frame)], link=105))
    r, warnings = read(path)
    assert warnings == [] and r.destinations == [] and r.stats.non_ip == 1


# --------------------------------------------------------------------------------------------
# Multicast DNS


def test_mdns_questions_are_listed_without_destinations(tmp_path: Path) -> None:
    q = DNS(id=0, qd=[DNSQR(qname="_googlecast._tcp.local", qtype="PTR"), DNSQR(qname="_airplay._tcp.local", qtype="PTR")])
    a = DNS(id=0, qr=1, aa=1, qd=DNSQR(qname="tv.local", qtype="A"), an=[DNSRR(rrname="tv.local", rdata="192.168.1.20")])
    packets = [udp(CLIENT, "224.0.0.251", 5353, 5353, q), udp("192.168.1.20", "224.0.0.251", 5353, 5353, a)]
    r, warnings = read(write(tmp_path / "mdns.pcap", packets))
    assert warnings == []
    assert [(x.name, x.type) for x in r.dns] == [("_googlecast._tcp.local", "PTR"), ("_airplay._tcp.local", "PTR"), ("tv.local", "A")]
    assert "tv.local" not in [d.host for d in r.destinations]
    assert all(d.dns_lookup is None for d in r.destinations)


# --------------------------------------------------------------------------------------------
# HTTP/2 in cleartext and DNS over HTTPS


def dns_query(name: str, qid: int = 0) -> bytes:
    return bytes(DNS(id=qid, rd=1, qd=DNSQR(qname=name)))


def dns_answer(name: str, ip: str, qid: int = 0) -> bytes:
    return bytes(DNS(id=qid, qr=1, rd=1, ra=1, qd=DNSQR(qname=name), an=[DNSRR(rrname=name, rdata=ip)]))


def h2_session() -> tuple[list[tuple[bool, bytes]], list[bytes]]:
    """A real h2 client and server (the ``h2`` package) exchanging two DoH lookups (GET and POST)
    and a JSON request, gzip-compressed; returns the bytes each side sent, in order."""
    import gzip

    client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    server = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
    wire: list[tuple[bool, bytes]] = []

    def pump() -> None:
        while True:
            c, s = client.data_to_send(), None
            if c:
                wire.append((True, c))
                server.receive_data(c)
            s = server.data_to_send()
            if s:
                wire.append((False, s))
                client.receive_data(s)
            if not c and not s:
                return

    client.initiate_connection()
    server.initiate_connection()
    pump()
    q1 = dns_query("chat.example.org", 1)
    path = "/dns-query?dns=" + base64.urlsafe_b64encode(q1).decode().rstrip("=")
    base = [(":authority", "doh.example.net"), (":scheme", "http")]
    client.send_headers(1, [(":method", "GET"), *base, (":path", path), ("accept", doh.CONTENT_TYPE)], end_stream=True)
    q2 = dns_query("blocked.example.org", 2)
    client.send_headers(3, [(":method", "POST"), *base, (":path", "/dns-query"), ("content-type", doh.CONTENT_TYPE),
                            ("content-length", str(len(q2)))])
    client.send_data(3, q2, end_stream=True)
    body = b'{"email": "jane.doe@example.org", "note": "hello"}'
    client.send_headers(5, [(":method", "POST"), *base, (":path", "/v1/profile"), ("content-type", "application/json")])
    client.send_data(5, body, end_stream=True)
    pump()
    a1 = dns_answer("chat.example.org", "198.51.100.77", 1)
    a2 = bytes(DNS(id=2, qr=1, rcode=5, qd=DNSQR(qname="blocked.example.org")))  # REFUSED
    for sid, answer in ((1, a1), (3, a2)):
        server.send_headers(sid, [(":status", "200"), ("content-type", doh.CONTENT_TYPE)])
        server.send_data(sid, answer, end_stream=True)
    server.send_headers(5, [(":status", "200"), ("content-type", "application/json"), ("content-encoding", "gzip")])
    server.send_data(5, gzip.compress(b'{"ok": true}'), end_stream=True)
    pump()
    return wire, [q1, a1, q2, a2]


def test_h2c_exchanges_and_dns_over_https(tmp_path: Path) -> None:
    wire, messages = h2_session()
    conn = Conn(server="192.0.2.80", sport=80, cport=43000)
    packets = conn.handshake()
    for from_client, data in wire:
        for i in range(0, len(data), 700):  # several segments per write
            packets.append(conn.c(data[i : i + 700]) if from_client else conn.s(data[i : i + 700]))
    # A later connection to the address the DoH answer gave: named by that answer.
    chat = Conn(server="198.51.100.77", sport=443, cport=43001)
    packets += conn.close() + chat.handshake() + [chat.c(b"\x00" * 10)]
    r, warnings = read(write(tmp_path / "h2c.pcap", packets))
    assert warnings == []
    assert [(e.method, e.host, e.path.split("?")[0], e.status, e.http_version) for e in r.exchanges] == [
        ("GET", "doh.example.net", "/dns-query", 200, "HTTP/2.0"),
        ("POST", "doh.example.net", "/dns-query", 200, "HTTP/2.0"),
        ("POST", "doh.example.net", "/v1/profile", 200, "HTTP/2.0"),
    ]
    profile = r.exchanges[2]
    assert profile.request_body.startswith(b'{"email"') and profile.response_body == b'{"ok": true}'
    assert profile.request_headers == [("content-type", "application/json")]
    assert [doh.dns_messages(e) for e in r.exchanges[:2]] == [messages[:2], messages[2:]]
    assert [(x.name, x.answers, x.rcode) for x in r.dns] == [
        ("chat.example.org", ["198.51.100.77"], "NOERROR"),
        ("blocked.example.org", [], "REFUSED"),
    ]
    hosts = {d.host: (d.seen, d.dns_lookup) for d in r.destinations}
    assert hosts == {
        "doh.example.net": (["http"], None),
        "chat.example.org": (["dns"], "answered"),
        "blocked.example.org": (["dns"], "unanswered"),
    }
    assert [d.ports for d in r.destinations if d.host == "chat.example.org"] == [[443]]


def test_doh_over_http1(tmp_path: Path) -> None:
    query = dns_query("plain.example.org", 7)
    answer = dns_answer("plain.example.org", "203.0.113.9", 7)
    conn = Conn(server="192.0.2.81", sport=80, cport=43002)
    req = (b"POST /dns-query HTTP/1.1\r\nHost: doh.example.net\r\nContent-Type: application/dns-message\r\n"
           b"Content-Length: %d\r\n\r\n" % len(query) + query)
    resp = b"HTTP/1.1 200 OK\r\nContent-Type: application/dns-message\r\nContent-Length: %d\r\n\r\n" % len(answer) + answer
    r, _ = read(write(tmp_path / "doh1.pcap", [*conn.handshake(), conn.c(req), conn.s(resp), *conn.close()]))
    assert [(x.name, x.queries, x.responses, x.answers) for x in r.dns] == [("plain.example.org", 1, 1, ["203.0.113.9"])]


@pytest.mark.parametrize(
    "method, path, headers, body, expected",
    [
        ("GET", "/dns-query?dns=" + base64.urlsafe_b64encode(b"\x00" * 12 + b"x").decode().rstrip("="), [], b"", b"\x00" * 12 + b"x"),
        ("GET", "/dns-query?dns=!!!", [], b"", None),
        ("GET", "/dns-query?dns=AAAA", [], b"", None),  # too short for a DNS header
        ("POST", "/q", [("Content-Type", "application/dns-message; charset=x")], b"\x01" * 20, b"\x01" * 20),
        ("POST", "/q", [("Content-Type", "application/json")], b"\x01" * 20, None),
        ("PUT", "/q?dns=AAAAAAAAAAAAAAAA", [], b"", None),
    ],
)
def test_doh_query_message(method: str, path: str, headers: list, body: bytes, expected: bytes | None) -> None:
    assert doh.query_message(method, path, headers, body) == expected
    ex = Exchange(capture=0, index=0, id="x", method=method, scheme="https", host="h", port=443, path=path,
                  request_headers=headers, request_body=body)
    assert doh.dns_messages(ex) == ([expected] if expected else [])


def test_h2c_damaged_header_block_stops_the_connection_only(tmp_path: Path) -> None:
    conn = Conn(server="192.0.2.82", sport=80, cport=43003)
    frame = struct.pack("!I", 4)[1:] + b"\x01\x05" + struct.pack("!I", 1) + b"\xff\xff\xff\xff"  # bad HPACK
    bad = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame
    other = Conn(server="192.0.2.83", sport=443, cport=43004)
    r, warnings = read(write(tmp_path / "bad.pcap", [*conn.handshake(), conn.c(bad), *other.handshake(), other.c(client_hello("after.example.com"))]))
    assert r.exchanges == [] and warnings == []
    assert "after.example.com" in [d.host for d in r.destinations]
