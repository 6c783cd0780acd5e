"""Benchmark: ``read_pcap`` against scapy and dpkt on the same capture.

Generates a realistic mixed pcap of N packets (default 1,000,000): mostly TCP payload packets of
a dozen concurrent TLS connections that open and close over time (SYN, ClientHello, including
about 1,900-byte ones split over two segments, bulk data, ACKs, FIN), DNS queries and answers,
QUIC connections (real Initial packets made with aioquic, then short-header packets) and a few
cleartext HTTP/1.1 connections. Packet templates come from scapy, OpenSSL and aioquic; the
packets themselves are written with ``struct``, so generation takes seconds.

Then, each in a fresh subprocess so its peak memory is its own:

- ``auditor``: ``auditor.io.pcap.read_pcap`` (destinations, DNS, SNI, QUIC, HTTP);
- ``dpkt``: ``dpkt.pcap.Reader`` with ``dpkt.ethernet.Ethernet`` parsing every packet into
  Ethernet/IP/TCP/UDP objects;
- ``scapy``: ``scapy.utils.rdpcap`` (full dissection with its default layers) on the first
  50,000 packets, its rate extrapolated (it is too slow and too memory-hungry for the whole
  file); ``scapy+tls`` the same after ``load_layer("tls")``, which is what reading SNI with
  scapy takes, on the first 10,000 packets;
- ``raw``: ``scapy.utils.RawPcapReader``, which only splits records (a floor for any reader).

Prints packets per second, the ratio against scapy and dpkt, and peak RSS; then peak RSS of
``read_pcap`` on a quarter of the file against the whole, to show memory does not grow with it.

Then the whole audit against tshark (the reference for what a capture holds):
``auditor report F --format json`` against ``tshark -r F -o tcp.reassemble_out_of_order:TRUE -T
fields -e tls.handshake.extensions_server_name -e dns.qry.name -e http.host`` on a capture with many
destinations (:func:`generate_many`: by default 1,500,000 packets, 17,000 sessions, each to its
own server), and on its first 100,000 packets, to show that the cost per packet does not grow with
the number of destinations. Each pair runs interleaved; peak memory is each process's VmHWM.

    python benchmarks/bench_pcap.py [--packets 1000000] [--repeat 1] [--audit-packets 1500000]
                                    [--destinations 17000] [--only reader|audit]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import resource
import shutil
import ssl
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "tests"))

from support.memory import status_kb, watch_peaks  # noqa: E402

SCAPY_SLICE = 50_000
SCAPY_TLS_SLICE = 10_000

_ETH = bytes.fromhex("020000000002" "020000000001") + b"\x08\x00"
_IPV4 = struct.Struct("!BBHHHBBH4s4s")
_TCP = struct.Struct("!HHIIBBHHH")
_UDP = struct.Struct("!HHHH")
_REC = struct.Struct("<IIII")


def _tcp(src: bytes, dst: bytes, sport: int, dport: int, seq: int, ack: int, flags: int, payload: bytes = b"") -> bytes:
    ip = _IPV4.pack(0x45, 0, 40 + len(payload), 0, 0x4000, 64, 6, 0, src, dst)
    return _ETH + ip + _TCP.pack(sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 0x50, flags, 65535, 0, 0) + payload


def _udp(src: bytes, dst: bytes, sport: int, dport: int, payload: bytes) -> bytes:
    ip = _IPV4.pack(0x45, 0, 28 + len(payload), 0, 0x4000, 64, 17, 0, src, dst)
    return _ETH + ip + _UDP.pack(sport, dport, 8 + len(payload), 0) + payload


_CONTEXTS: dict[bool, ssl.SSLContext] = {}


def _client_hello(name: str, big: bool) -> bytes:
    """A real TLS ClientHello record from OpenSSL; ``big`` pads it to about 1,900 bytes."""
    ctx = _CONTEXTS.get(big)
    if ctx is None:
        ctx = _CONTEXTS[big] = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        if big:
            ctx.set_alpn_protocols(["h2", "http/1.1"] + [f"x-{i:02d}-" + "p" * 130 for i in range(12)])
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname=name)
    with contextlib.suppress(ssl.SSLWantReadError):
        obj.do_handshake()
    return outgoing.read()


def _quic_initials(name: str, big: bool) -> list[bytes]:
    """Real client Initial datagrams from aioquic (two of them when ``big``)."""
    from aioquic.quic.configuration import QuicConfiguration
    from aioquic.quic.connection import QuicConnection

    conn = QuicConnection(
        configuration=QuicConfiguration(is_client=True, server_name=name, alpn_protocols=["h3"], quantum_readiness_test=big)
    )
    conn.connect(("127.0.0.1", 443), now=0.0)
    return [data for data, _ in conn.datagrams_to_send(now=0.0)]


class _Emitter:
    """Appends timestamped frames to a classic pcap file (0.2 ms apart), counting them by kind."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.out: list[bytes] = []
        self.t = 1_700_000_000.0
        self.emitted = 0
        self.counts = {"tcp_payload": 0, "tcp_control": 0, "dns": 0, "quic": 0, "http": 0, "tls_hello": 0}

    def __call__(self, frame: bytes, kind: str) -> None:
        self.t += 0.0002
        sec = int(self.t)
        self.out.append(_REC.pack(sec, int((self.t - sec) * 1e6), len(frame), len(frame)) + frame)
        self.counts[kind] += 1
        self.emitted += 1
        if len(self.out) >= 20000:
            self.flush()

    def flush(self) -> None:
        _flush(self.path, self.out)


def generate(path: Path, n: int, seed: int = 7) -> dict[str, int]:
    """Write ``n`` packets of mixed traffic to ``path``; return counts per kind."""
    from scapy.layers.dns import DNS, DNSQR, DNSRR

    rnd = random.Random(seed)
    names = [
        "chat.deepseek.com", "chatgpt.com", "ab.chatgpt.com", "events.statsigapi.net", "api.openai.com",
        "mcs.volceapplog.com", "o450.ingest.sentry.io", "cdn.example-static.com", "www.google.com",
        "fonts.gstatic.com", "api.anthropic.com", "claude.ai",
    ]
    server_ips = {nm: bytes([104, 18, i + 1, 10]) for i, nm in enumerate(names)}
    unnamed = [bytes([203, 0, 113, i]) for i in range(1, 5)]
    resolver = bytes([10, 0, 0, 1])
    client = bytes([10, 0, 0, 2])
    dns_pairs = []
    for i, nm in enumerate(names):
        q = bytes(DNS(id=i, rd=1, qd=DNSQR(qname=nm)))
        a = bytes(
            DNS(id=i, qr=1, rd=1, ra=1, qd=DNSQR(qname=nm),
                an=[DNSRR(rrname=nm, type="CNAME", rdata=f"edge{i}.cdn.example.net"),
                    DNSRR(rrname=f"edge{i}.cdn.example.net", type="A", rdata=".".join(map(str, server_ips[nm])))])
        )
        dns_pairs.append((q, a))
    hellos = {nm: (_client_hello(nm, False), _client_hello(nm, True)) for nm in names}
    quic = {nm: (_quic_initials(nm, False), _quic_initials(nm, True)) for nm in names[:6]}
    bulk = bytes(rnd.getrandbits(8) for _ in range(1448))
    small = bulk[:310]
    http_body = b'{"device_id":"a1b2c3","event":"open","ts":1700000000,"x":"' + b"y" * 60 + b'"}'
    http_req = (
        b"POST /v1/collect HTTP/1.1\r\nHost: telemetry.example.org\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % len(http_body) + http_body
    )
    http_resp = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}"

    emit = _Emitter(path)
    port = [20000]

    def next_port() -> int:
        port[0] = 20000 + (port[0] - 19999) % 40000
        return port[0]

    class Conn:
        __slots__ = ("cport", "cseq", "left", "server", "sport", "sseq")

    def open_tls() -> Conn:
        c = Conn()
        named = rnd.random() < 0.9
        nm = rnd.choice(names)
        c.server = server_ips[nm] if named else rnd.choice(unnamed)
        c.sport = 443
        c.cport = next_port()
        c.cseq = rnd.getrandbits(32)
        c.sseq = rnd.getrandbits(32)
        c.left = rnd.choice((20, 60, 200, 1000, 5000))
        emit(_tcp(client, c.server, c.cport, 443, c.cseq, 0, 0x02), "tcp_control")
        emit(_tcp(c.server, client, 443, c.cport, c.sseq, c.cseq + 1, 0x12), "tcp_control")
        c.cseq += 1
        c.sseq += 1
        emit(_tcp(client, c.server, c.cport, 443, c.cseq, c.sseq, 0x10), "tcp_control")
        if named:
            hello = hellos[nm][rnd.random() < 0.3]
            for i in range(0, len(hello), 1448):
                seg = hello[i : i + 1448]
                emit(_tcp(client, c.server, c.cport, 443, c.cseq, c.sseq, 0x18, seg), "tls_hello")
                c.cseq += len(seg)
        return c

    def close(c: Conn) -> None:
        emit(_tcp(client, c.server, c.cport, c.sport, c.cseq, c.sseq, 0x11), "tcp_control")
        emit(_tcp(c.server, client, c.sport, c.cport, c.sseq, c.cseq + 1, 0x11), "tcp_control")
        emit(_tcp(client, c.server, c.cport, c.sport, c.cseq + 1, c.sseq + 1, 0x10), "tcp_control")

    conns = [open_tls() for _ in range(12)]
    quic_flows: list[tuple[bytes, int]] = []
    while emit.emitted < n:
        r = rnd.random()
        if r < 0.012:
            q, a = dns_pairs[rnd.randrange(len(dns_pairs))]
            p = next_port()
            emit(_udp(client, resolver, p, 53, q), "dns")
            emit(_udp(resolver, client, 53, p, a), "dns")
        elif r < 0.05:
            if not quic_flows or rnd.random() < 0.01:
                nm = rnd.choice(list(quic))
                p = next_port()
                for d in quic[nm][rnd.random() < 0.3]:
                    emit(_udp(client, server_ips[nm], p, 443, d), "quic")
                quic_flows = ([*quic_flows, (server_ips[nm], p)])[-4:]
            else:
                srv, p = rnd.choice(quic_flows)
                if rnd.random() < 0.7:
                    emit(_udp(srv, client, 443, p, b"\x40" + bulk[:1199]), "quic")
                else:
                    emit(_udp(client, srv, p, 443, b"\x40" + bulk[:40]), "quic")
        elif r < 0.0512:
            srv = bytes([198, 51, 100, 7])
            cp, cs, ss = next_port(), rnd.getrandbits(32), rnd.getrandbits(32)
            emit(_tcp(client, srv, cp, 80, cs, 0, 0x02), "tcp_control")
            emit(_tcp(srv, client, 80, cp, ss, cs + 1, 0x12), "tcp_control")
            cs += 1
            ss += 1
            emit(_tcp(client, srv, cp, 80, cs, ss, 0x18, http_req[:80]), "http")
            emit(_tcp(client, srv, cp, 80, cs + 80, ss, 0x18, http_req[80:]), "http")
            cs += len(http_req)
            emit(_tcp(srv, client, 80, cp, ss, cs, 0x18, http_resp), "http")
            ss += len(http_resp)
            emit(_tcp(client, srv, cp, 80, cs, ss, 0x11), "tcp_control")
            emit(_tcp(srv, client, 80, cp, ss, cs + 1, 0x11), "tcp_control")
        else:
            i = rnd.randrange(len(conns))
            c = conns[i]
            r2 = rnd.random()
            if r2 < 0.62:
                emit(_tcp(c.server, client, c.sport, c.cport, c.sseq, c.cseq, 0x18, bulk), "tcp_payload")
                c.sseq += len(bulk)
            elif r2 < 0.95:
                emit(_tcp(client, c.server, c.cport, c.sport, c.cseq, c.sseq, 0x10), "tcp_control")
            else:
                emit(_tcp(client, c.server, c.cport, c.sport, c.cseq, c.sseq, 0x18, small), "tcp_payload")
                c.cseq += len(small)
            c.left -= 1
            if c.left <= 0:
                close(c)
                conns[i] = open_tls()
    emit.flush()
    return emit.counts


def _dns(qid: int, name: str, ip: bytes | None, rcode: int = 0, response: bool = False) -> bytes:
    """A DNS query, or its response (one A record when ``ip`` is given), written with struct."""
    qname = b"".join(bytes([len(part)]) + part.encode() for part in name.split(".")) + b"\x00"
    flags = (0x8180 | rcode) if response else 0x0100
    an = 1 if response and ip else 0
    msg = struct.pack("!HHHHHH", qid, flags, 1, an, 0, 0) + qname + b"\x00\x01\x00\x01"
    if an:
        msg += b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4) + ip
    return msg


def generate_many(path: Path, n: int, destinations: int, seed: int = 11) -> dict[str, int]:
    """Write ``n`` packets in which about ``destinations`` servers each get their own session.

    Each session looks its server's name up in DNS, then talks to it over TLS (a real OpenSSL
    ClientHello, 30% of them about 1,900 bytes and split over two segments), QUIC (Initials of
    v1, v2, draft-29, draft-27 and mvfst 0xfaceb002 built by ``auditor.io.pcap.quic``, and real aioquic
    Initials) or cleartext HTTP/1.1, with data both ways, then closes. Sixty-four sessions run at
    once, interleaved; 8% also look up a name that gets NXDOMAIN (a blocked tracker).
    """
    from auditor.io.pcap.quic import MVFST_DRAFT_27, QUIC_V1, QUIC_V2, build_client_initial, draft

    rnd = random.Random(seed)
    resolver = bytes([10, 0, 0, 1])
    client = bytes([10, 0, 0, 2])
    bulk = bytes(rnd.getrandbits(8) for _ in range(1448))
    emit = _Emitter(path)
    real_quic = {i: _quic_initials(f"h3-{i}.example.net", i % 2 == 1) for i in range(4)}
    versions = (QUIC_V1, QUIC_V2, draft(29), draft(27), MVFST_DRAFT_27)
    per_session = max(12, n // max(destinations, 1))

    def session(i: int):  # yields (frame, kind)
        name = f"api{i}.svc{i % 997}.example{i % 61}.com"
        ip = struct.pack("!I", (104 << 24 | 16 << 16) + 3 * i + 1)
        cport = 10000 + i % 50000
        qid = i & 0xFFFF
        yield _udp(client, resolver, cport, 53, _dns(qid, name, None)), "dns"
        yield _udp(resolver, client, 53, cport, _dns(qid, name, ip, response=True)), "dns"
        if rnd.random() < 0.08:
            blocked = f"t{i}.tracker{i % 13}.example.org"
            yield _udp(client, resolver, cport + 1, 53, _dns(qid ^ 1, blocked, None)), "dns"
            yield _udp(resolver, client, 53, cport + 1, _dns(qid ^ 1, blocked, None, rcode=3, response=True)), "dns"
        left = rnd.randint(per_session // 3, per_session * 5 // 3)
        r = rnd.random()
        if r < 0.2:  # QUIC
            if i % 50 == 0:
                initials = real_quic[i // 50 % 4]
            else:
                message = _client_hello(name, rnd.random() < 0.3)[5:]
                version = versions[i % len(versions)]
                dcid = struct.pack("!Q", i * 7919 + 1)
                half = len(message) // 2 if len(message) > 1100 else len(message)
                initials = [build_client_initial(dcid, b"\x01\x02\x03\x04", [(0, message[:half])], version=version)]
                if half < len(message):
                    initials.append(build_client_initial(dcid, b"\x01\x02\x03\x04", [(half, message[half:])],
                                                         packet_number=1, version=version))
            for d in initials:
                yield _udp(client, ip, cport, 443, d), "quic"
            for _ in range(left):
                if rnd.random() < 0.7:
                    yield _udp(ip, client, 443, cport, b"\x40" + bulk[:1199]), "quic"
                else:
                    yield _udp(client, ip, cport, 443, b"\x40" + bulk[:40]), "quic"
            return
        http = r > 0.9
        sport = 80 if http else 443
        cs, ss = rnd.getrandbits(32), rnd.getrandbits(32)
        yield _tcp(client, ip, cport, sport, cs, 0, 0x02), "tcp_control"
        yield _tcp(ip, client, sport, cport, ss, cs + 1, 0x12), "tcp_control"
        cs += 1
        ss += 1
        yield _tcp(client, ip, cport, sport, cs, ss, 0x10), "tcp_control"
        if http:
            body = b'{"device_id":"d%06d","event":"open","ts":1700000000}' % i
            req = (b"POST /v1/collect HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                   b"Content-Length: %d\r\n\r\n" % (name.encode(), len(body)) + body)
            yield _tcp(client, ip, cport, sport, cs, ss, 0x18, req[:60]), "http"
            yield _tcp(client, ip, cport, sport, cs + 60, ss, 0x18, req[60:]), "http"
            cs += len(req)
            resp = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}"
            yield _tcp(ip, client, sport, cport, ss, cs, 0x18, resp), "http"
            ss += len(resp)
        else:
            hello = _client_hello(name, rnd.random() < 0.3)
            for k in range(0, len(hello), 1448):
                seg = hello[k : k + 1448]
                yield _tcp(client, ip, cport, sport, cs, ss, 0x18, seg), "tls_hello"
                cs += len(seg)
        for _ in range(left):
            if rnd.random() < 0.6:
                yield _tcp(ip, client, sport, cport, ss, cs, 0x18, bulk), "tcp_payload"
                ss += len(bulk)
            else:
                yield _tcp(client, ip, cport, sport, cs, ss, 0x10), "tcp_control"
        yield _tcp(client, ip, cport, sport, cs, ss, 0x11), "tcp_control"
        yield _tcp(ip, client, sport, cport, ss, cs + 1, 0x11), "tcp_control"
        yield _tcp(client, ip, cport, sport, cs + 1, ss + 1, 0x10), "tcp_control"

    started = 0
    active = []
    for _ in range(64):
        active.append(session(started))
        started += 1
    while emit.emitted < n:
        k = rnd.randrange(len(active))
        try:
            emit(*next(active[k]))
        except StopIteration:
            active[k] = session(started)
            started += 1
    emit.flush()
    return {**emit.counts, "sessions": started}


def _flush(path: Path, out: list[bytes]) -> None:
    new = not path.exists()
    with open(path, "ab") as fh:
        if new:
            fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        fh.write(b"".join(out))
    out.clear()


def slice_pcap(src: Path, dst: Path, n: int) -> None:
    """Copy the header and the first ``n`` records of a little-endian pcap."""
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        fo.write(fi.read(24))
        for _ in range(n):
            hdr = fi.read(16)
            if len(hdr) < 16:
                break
            incl = _REC.unpack(hdr)[2]
            fo.write(hdr + fi.read(incl))


def _status_kb(field: str) -> int:
    """A memory figure of this process from /proc/self/status, in KiB (``VmHWM`` is peak RSS)."""
    kb = status_kb(field)
    if kb is None:
        raise RuntimeError(f"no {field} in /proc/self/status")
    return kb


def _child(mode: str, capture: str) -> None:
    if mode == "auditor":
        from auditor.io.pcap import read_pcap
    elif mode == "dpkt":
        import dpkt
    else:
        from scapy.utils import RawPcapReader, rdpcap

        if mode == "scapy+tls":
            from scapy.main import load_layer

            load_layer("tls")
    base_kb = _status_kb("VmRSS")
    t0 = time.perf_counter()
    extra: dict = {}
    if mode == "auditor":
        res = read_pcap(capture, warn=lambda m: None)
        count = res.stats.packets
        extra = {
            "destinations": len(res.destinations),
            "dns": len(res.dns),
            "exchanges": len(res.exchanges),
            "sni": sum(1 for d in res.destinations if "sni" in d.seen),
            "quic": sum(1 for d in res.destinations if "quic" in d.seen),
            "dissected": res.stats.dissected,
        }
    elif mode == "dpkt":
        count = 0
        with open(capture, "rb") as fh:
            for _ts, buf in dpkt.pcap.Reader(fh):
                eth = dpkt.ethernet.Ethernet(buf)
                ip = eth.data
                if isinstance(ip, (dpkt.ip.IP, dpkt.ip6.IP6)):
                    _ = ip.data  # TCP/UDP object, built by the Ethernet constructor
                count += 1
    elif mode in ("scapy", "scapy+tls"):
        count = len(rdpcap(capture))
    else:
        count = sum(1 for _ in RawPcapReader(capture))
    elapsed = time.perf_counter() - t0
    peak_kb = _status_kb("VmHWM")
    print(json.dumps({"mode": mode, "count": count, "seconds": elapsed, "peak_rss_mb": peak_kb / 1024,
                      "base_rss_mb": base_kb / 1024, **extra}))


TSHARK_FIELDS = ("tls.handshake.extensions_server_name", "dns.qry.name", "http.host")


def _measure(cmd: list[str]) -> dict:
    """Run ``cmd``; its wall and CPU seconds, and its peak RSS read from its own ``VmHWM``.

    ``/proc/<pid>/status`` is read every 5 ms while the process runs (VmHWM only grows, so the
    last reading before exit is its peak, give or take the last 5 ms).
    """
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak_kb = watch_peaks(proc, 0.005).get(proc.pid, 0)
    wall = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # cumulative: the caller takes differences
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed: {proc.stderr.read().decode(errors='replace')[-500:]}")
    return {"seconds": wall, "cpu_total": usage.ru_utime + usage.ru_stime, "peak_rss_mb": peak_kb / 1024}


def whole_audit_vs_tshark(capture: Path, packets: int, out_dir: Path, repeat: int) -> dict[str, dict]:
    """``auditor report F --format json`` against tshark extracting the same names, interleaved."""
    tshark = ["tshark", "-r", str(capture), "-o", "tcp.reassemble_out_of_order:TRUE", "-T", "fields"]
    for f in TSHARK_FIELDS:
        tshark += ["-e", f]
    auditor = [str(Path(sys.executable).with_name("auditor")), "report", str(capture), "--format", "json",
               "-o", str(out_dir / capture.stem), "-q"]
    best: dict[str, dict] = {}
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    last_cpu = cpu.ru_utime + cpu.ru_stime
    for _ in range(repeat):
        for name, cmd in (("tshark", tshark), ("auditor", auditor)):
            r = _measure(cmd)
            r["cpu"] = r.pop("cpu_total") - last_cpu
            last_cpu += r["cpu"]
            r["rate"] = packets / r["seconds"]
            r["cpu_rate"] = packets / max(r["cpu"], 1e-9)
            prev = best.get(name)
            if prev is None or r["seconds"] < prev["seconds"]:
                r["peak_rss_mb"] = max(r["peak_rss_mb"], prev["peak_rss_mb"] if prev else 0)
                best[name] = r
            else:
                prev["peak_rss_mb"] = max(r["peak_rss_mb"], prev["peak_rss_mb"])
    doc = json.loads((out_dir / (capture.stem + ".json")).read_text())
    best["auditor"]["destinations"] = len(doc["destinations"])
    return best


def run(mode: str, capture: Path, repeat: int = 1) -> dict:
    runs = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, __file__, "--child", mode, str(capture)], check=True, capture_output=True, text=True
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    best = min(runs, key=lambda r: r["seconds"])
    best["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
    best["rate"] = best["count"] / best["seconds"]
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--packets", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=1, help="runs of each; the best time counts")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--audit-packets", type=int, default=1_500_000,
                    help="packets of the many-destinations capture for the whole-audit comparison with tshark")
    ap.add_argument("--destinations", type=int, default=17_000, help="sessions (servers) in that capture")
    ap.add_argument("--only", choices=("reader", "audit"), help="run only the reader comparison or only the whole audit")
    args = ap.parse_args()
    if args.child:
        _child(*args.child)
        return
    if args.only != "reader":
        audit_section(args)
    if args.only == "audit":
        return
    with tempfile.TemporaryDirectory() as tmp:
        full = Path(tmp) / "bench.pcap"
        t0 = time.perf_counter()
        counts = generate(full, args.packets)
        size_mb = full.stat().st_size / 2**20
        mix = ", ".join(f"{k} {v:,}" for k, v in counts.items())
        print(f"generated {args.packets:,} packets ({size_mb:,.0f} MiB) in {time.perf_counter() - t0:.1f} s: {mix}")
        scapy_n = min(SCAPY_SLICE, args.packets)
        scapy_file = Path(tmp) / "slice.pcap"
        slice_pcap(full, scapy_file, scapy_n)
        tls_n = min(SCAPY_TLS_SLICE, args.packets)
        tls_file = Path(tmp) / "slice-tls.pcap"
        slice_pcap(full, tls_file, tls_n)
        quarter = Path(tmp) / "quarter.pcap"
        slice_pcap(full, quarter, args.packets // 4)

        results = {
            "auditor": run("auditor", full, args.repeat),
            "dpkt": run("dpkt", full, args.repeat),
            "raw": run("raw", full, args.repeat),
            "scapy": run("scapy", scapy_file, args.repeat),
            "scapy+tls": run("scapy+tls", tls_file, args.repeat),
        }
        a = results["auditor"]
        print(
            f"read_pcap found {a['destinations']} destinations ({a['sni']} by TLS SNI, {a['quic']} by QUIC), "
            f"{a['dns']} DNS questions, {a['exchanges']:,} HTTP exchanges; {a['dissected']:,} packets dissected"
        )
        print()
        print(f"{'':44}{'packets/s':>11}{'seconds':>9}{'vs scapy':>10}{'vs dpkt':>9}{'peak RSS':>10}")
        labels = {
            "auditor": "auditor read_pcap (full analysis)",
            "dpkt": "dpkt Reader + Ethernet parse",
            "scapy": f"scapy rdpcap ({scapy_n // 1000}k slice{', extrapolated' if scapy_n < args.packets else ''})",
            "scapy+tls": f"scapy rdpcap + TLS layer ({tls_n // 1000}k slice)",
            "raw": "scapy RawPcapReader (records only)",
        }
        for mode in ("auditor", "dpkt", "scapy", "scapy+tls", "raw"):
            r = results[mode]
            vs_scapy = r["rate"] / results["scapy"]["rate"]
            vs_dpkt = r["rate"] / results["dpkt"]["rate"]
            print(
                f"{labels[mode]:44}{r['rate']:11,.0f}{r['seconds']:9.2f}{vs_scapy:9.1f}x{vs_dpkt:8.2f}x"
                f"{r['peak_rss_mb']:7.0f} MB"
            )
        print(
            f"(scapy read {scapy_n:,} packets, and {tls_n:,} with the TLS layer; at those rates the whole "
            f"file would take {args.packets / results['scapy']['rate']:,.0f} s and "
            f"{args.packets / results['scapy+tls']['rate']:,.0f} s; peak RSS is for the slices)"
        )
        print(f"read_pcap is {a['rate'] / results['scapy+tls']['rate']:,.0f}x as fast as scapy with its TLS layer.")
        q = run("auditor", quarter, 1)
        print()
        print("memory flatness of read_pcap (peak RSS; RSS after imports in brackets):")
        print(f"  {q['count']:>11,} packets: {q['peak_rss_mb']:6.0f} MB  [{q['base_rss_mb']:.0f} MB]")
        print(f"  {a['count']:>11,} packets: {a['peak_rss_mb']:6.0f} MB  [{a['base_rss_mb']:.0f} MB]")


def audit_section(args: argparse.Namespace) -> None:
    """The whole audit against tshark on a many-destinations capture, and on its first 100k packets."""
    if shutil.which("tshark") is None:
        print("tshark is not installed (Debian package tshark): skipping the whole-audit comparison")
        return
    with tempfile.TemporaryDirectory() as tmp:
        full = Path(tmp) / "many.pcap"
        t0 = time.perf_counter()
        counts = generate_many(full, args.audit_packets, args.destinations)
        mix = ", ".join(f"{k} {v:,}" for k, v in counts.items())
        size_mb = full.stat().st_size / 2**20
        print(f"generated {args.audit_packets:,} packets ({size_mb:,.0f} MiB) in {time.perf_counter() - t0:.1f} s: {mix}")
        small_n = min(100_000, args.audit_packets)
        small = Path(tmp) / "many-100k.pcap"
        slice_pcap(full, small, small_n)
        print()
        print("whole audit (auditor report F --format json) against tshark -T fields -e "
              + " -e ".join(TSHARK_FIELDS) + " (tcp.reassemble_out_of_order:TRUE):")
        print(f"{'':12}{'packets':>11}{'dests':>8}{'':3}{'tshark pkt/s':>13}{'auditor pkt/s':>14}{'ratio':>7}"
              f"{'ratio (CPU)':>12}{'tshark peak':>12}{'auditor peak':>13}")
        for label, path, n in ((f"first {small_n // 1000}k", small, small_n), ("whole file", full, args.audit_packets)):
            res = whole_audit_vs_tshark(path, n, Path(tmp), args.repeat)
            ts, au = res["tshark"], res["auditor"]
            print(f"{label:12}{n:11,}{au['destinations']:8,}{'':3}{ts['rate']:13,.0f}{au['rate']:14,.0f}"
                  f"{au['rate'] / ts['rate']:6.2f}x{au['cpu_rate'] / ts['cpu_rate']:11.2f}x"
                  f"{ts['peak_rss_mb']:9.0f} MB{au['peak_rss_mb']:10.0f} MB")
        print("(ratio: auditor's packets/s over tshark's, wall clock, best of --repeat; CPU: user+system seconds)")
    print()


if __name__ == "__main__":
    main()
