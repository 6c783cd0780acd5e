"""The capture analyser: one pass over the records, routing each packet to its connection.

:meth:`_Analyzer.run` is the hot loop: it decodes the link layer (with
:func:`~auditor.io.pcap.linklayer.network_offset`, which key-log decryption uses too), IP and
TCP/UDP headers with ``struct`` and dictionary lookups only, and hands a packet to the slow path
(reassembly, DNS, TLS, QUIC, HTTP) only when its connection is still being watched.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator

from auditor.io.pcap import doh
from auditor.io.pcap.dns import _DNS_TYPES, _RCODES, _DnsMessage, _parse_dns, _TcpDns
from auditor.io.pcap.flows import (
    _DNS_PORTS,
    _LOCAL_SUFFIXES,
    _LOOKUP_TYPES,
    _M_DNS,
    _M_H2,
    _M_HTTP,
    _M_OTHER,
    _M_QUIC,
    _M_TLS,
    _M_UNDECIDED,
    _SEEN_ORDER,
    _Dest,
    _Flow,
    _ntop,
)
from auditor.io.pcap.h2c import H2Connection, H2Stream
from auditor.io.pcap.http1 import MAX_HEAD, HttpConnection, _classify, _header, decoded_body, http_exchange
from auditor.io.pcap.linklayer import network_offset
from auditor.io.pcap.quic import QuicInitialTracker, version_name
from auditor.io.pcap.records import Record, _count
from auditor.io.pcap.results import DnsRecord, NetworkDestination, PcapResult, PcapStats
from auditor.io.pcap.tcpreassembly import MASK, TcpStream
from auditor.io.pcap.tls import _TlsHello
from auditor.limits import DEFAULT_LIMITS, Limits
from auditor.models import Exchange

TCP_IDLE = 900.0  # seconds of capture time before an idle open TCP connection is dropped
TCP_CLOSED_IDLE = 30.0  # ... a closed one (or at the second sweep after it closed)
UDP_IDLE = 120.0
QUIC_IDLE = 600.0  # a UDP conversation named by its QUIC Initial
SWEEP_EVERY = 1 << 16  # packets between sweeps of idle connections


class _Analyzer:
    """Per-capture state: connections, destinations, DNS names, exchanges."""

    def __init__(
        self, name: str, capture: int, warn: Callable[[str], None], limits: Limits = DEFAULT_LIMITS
    ) -> None:
        self.name = name
        self.capture = capture
        self.warn = warn
        self.limits = limits
        self.tcp: dict[tuple[bytes, bytes, int, int], tuple[_Flow, bool]] = {}
        self.udp: dict[tuple[bytes, bytes, int, int], tuple[_Flow, bool]] = {}
        self.dests: dict[str, _Dest] = {}
        self.ip_names: dict[bytes, str] = {}
        self.dns: dict[tuple[str, str], DnsRecord] = {}
        self.exchanges: list[Exchange] = []
        self.stats = PcapStats()
        self.ts = 0.0
        self.dissected = 0
        self.unsupported_links: dict[int, int] = {}
        self.gapped_flows = 0
        self.malformed = 0
        self.quic_unread: dict[str, int] = {}  # QUIC versions never decrypted -> connections
        self.looked_up: dict[str, float] = {}  # names asked over unicast DNS -> first seen
        self.answered: set[str] = set()  # ... of which got an address or an alias

    # -- main loop --------------------------------------------------------------------------

    def run(self, records: Iterator[Record]) -> None:
        """Count and route every record; the hot path uses only struct and dict lookups."""
        unpack = struct.unpack_from
        tcp = self.tcp
        udp = self.udp
        tcp_slow = self._tcp_slow
        udp_slow = self._udp_slow
        new_flow = self._new_flow
        link_offset = network_offset  # the one link-layer decoder (also key-log decryption's)
        packets = 0
        nbytes = 0
        non_ip = 0
        first_ts: float | None = None
        ts = 0.0
        next_sweep = SWEEP_EVERY
        for ts, link, data, orig in records:
            packets += 1
            nbytes += orig
            if first_ts is None:
                first_ts = ts
            if packets >= next_sweep:
                next_sweep = packets + SWEEP_EVERY
                self.ts = ts
                self._sweep(ts)
            try:
                found = link_offset(link, data)
                if found is None:
                    self.unsupported_links[link] = self.unsupported_links.get(link, 0) + 1
                    non_ip += 1
                    continue
                et, off = found
                if et == 0x0800:
                    ihl = (data[off] & 0x0F) << 2
                    total, frag = unpack("!H2xH", data, off + 2)
                    if frag & 0x1FFF:
                        continue  # not the first fragment: no transport header
                    proto = data[off + 9]
                    src = data[off + 12 : off + 16]
                    dst = data[off + 16 : off + 20]
                    l4 = off + ihl
                    end = off + total if total else orig  # TSO captures may say 0
                elif et == 0x86DD:
                    plen, proto = unpack("!HB", data, off + 4)
                    src = data[off + 8 : off + 24]
                    dst = data[off + 24 : off + 40]
                    l4 = off + 40
                    end = l4 + plen if plen else len(data)
                    while proto in (0, 43, 44, 60, 51):
                        if proto == 44:
                            if unpack("!H", data, l4 + 2)[0] & 0xFFF8:
                                proto = -1
                                break
                            proto = data[l4]
                            l4 += 8
                        elif proto == 51:
                            proto, hl = data[l4], data[l4 + 1]
                            l4 += (hl + 2) << 2
                        else:
                            proto, hl = data[l4], data[l4 + 1]
                            l4 += (hl + 1) << 3
                else:
                    non_ip += 1
                    continue
                if proto == 6:
                    sport, dport, seq, offflags = unpack("!HHI4xH", data, l4)
                    doff = (offflags >> 12) << 2
                    flags = offflags & 0xFF
                    paylen = end - l4 - doff
                    if paylen < 0:
                        paylen = 0
                    entry = tcp.get((src, dst, sport, dport))
                    if entry is None:
                        flow = new_flow(6, src, sport, dst, dport, ts, flags)
                        fwd = True
                    else:
                        flow, fwd = entry
                    flow.packets += 1
                    flow.last_ts = ts
                    if fwd:
                        flow.ab += paylen
                    else:
                        flow.ba += paylen
                    if flags & 0x07 or (paylen and flow.watch):
                        self.ts = ts
                        tcp_slow(flow, fwd, seq, flags, data, l4 + doff, end, paylen)
                elif proto == 17:
                    sport, dport = unpack("!HH", data, l4)
                    paylen = end - l4 - 8
                    if paylen < 0:
                        paylen = 0
                    entry = udp.get((src, dst, sport, dport))
                    if entry is None:
                        flow = new_flow(17, src, sport, dst, dport, ts, 0)
                        fwd = True
                    else:
                        flow, fwd = entry
                    flow.packets += 1
                    flow.last_ts = ts
                    if fwd:
                        flow.ab += paylen
                    else:
                        flow.ba += paylen
                    if flow.watch and paylen > 0:
                        self.ts = ts
                        udp_slow(flow, fwd, data[l4 + 8 : end])
            except (IndexError, struct.error):
                self.malformed += 1
        st = self.stats
        st.packets = packets
        st.bytes = nbytes
        st.non_ip = non_ip
        st.first_timestamp = first_ts
        st.last_timestamp = ts if packets else None

    # -- flows ------------------------------------------------------------------------------

    def _new_flow(self, proto: int, src: bytes, sport: int, dst: bytes, dport: int, ts: float, flags: int) -> _Flow:
        flow = _Flow(proto, src, sport, dst, dport, ts)
        if proto == 6:
            if flags & 0x12 == 0x12:  # SYN-ACK: the sender is the server
                flow.client_is_a = False
                flow.client_known = True
            if sport == 53 or dport == 53:
                flow.mode = _M_DNS
                flow.handler = _TcpDns()
            table = self.tcp
        else:
            if sport in _DNS_PORTS or dport in _DNS_PORTS:
                flow.mode = _M_DNS
            else:
                flow.mode = _M_QUIC
            table = self.udp
        names = self.ip_names
        flow.dns_a = names.get(src)
        flow.dns_b = names.get(dst)
        table[(src, dst, sport, dport)] = (flow, True)
        table[(dst, src, dport, sport)] = (flow, False)
        return flow

    def _stream(self, flow: _Flow, d: int) -> TcpStream:
        st = flow.streams[d]
        if st is None:
            st = flow.streams[d] = TcpStream(
                on_data=lambda data: self._on_data(flow, d, data),
                on_gap=lambda n: self._on_gap(flow, d, n),
                on_end=lambda: self._on_end(flow, d),
            )
        return st

    def _tcp_slow(
        self, flow: _Flow, fwd: bool, seq: int, flags: int, data: bytes, pstart: int, end: int, paylen: int
    ) -> None:
        d = 0 if fwd else 1
        if flags & 0x02:  # SYN
            if not flags & 0x10:
                if flow.closed or (flow.ab + flow.ba - paylen) > 0:
                    # A new connection on the same ports: account for the old one first.
                    flow.packets -= 1
                    if fwd:
                        flow.ab -= paylen
                    else:
                        flow.ba -= paylen
                    self._evict(flow)
                    flow = self._new_flow(6, flow.a_ip if fwd else flow.b_ip, flow.a_port if fwd else flow.b_port,
                                          flow.b_ip if fwd else flow.a_ip, flow.b_port if fwd else flow.a_port,
                                          self.ts, flags)
                    flow.packets = 1
                    flow.ab = paylen
                    d = 0
                    fwd = True
                flow.client_is_a = fwd
                flow.client_known = True
            elif not flow.client_known:
                flow.client_is_a = not fwd
                flow.client_known = True
            if flow.watch and flow.need[d]:
                self._stream(flow, d).syn(seq)
            seq = (seq + 1) & MASK
        if paylen and flow.watch and flow.need[d]:
            self.dissected += 1
            self._stream(flow, d).segment(seq, data[pstart : min(end, len(data))], paylen)
        if flags & 0x01:  # FIN
            st = flow.streams[d]
            if st is not None and flow.watch:
                st.fin((seq + paylen) & MASK)
            flow.fins |= 1 << d
            if flow.fins == 3:
                self._close(flow)
        if flags & 0x04:  # RST
            self._close(flow)

    def _on_data(self, flow: _Flow, d: int, data: bytes) -> None:
        mode = flow.mode
        if mode == _M_HTTP:
            handler: HttpConnection = flow.handler  # type: ignore[assignment]
            handler.feed(d == flow.client_dir, data)
            if handler.done:
                flow.release()
        elif mode == _M_TLS:
            if d == flow.client_dir:
                hello: _TlsHello = flow.handler  # type: ignore[assignment]
                if hello.feed(data):
                    if hello.info is not None and hello.info.sni and flow.name is None:
                        flow.name = hello.info.sni
                        flow.name_src = "sni"
                    flow.release()
        elif mode == _M_H2:
            flow.handler.feed(d == flow.client_dir, data)  # type: ignore[attr-defined]
        elif mode == _M_UNDECIDED:
            head = flow.heads[d]
            head += data
            kind = _classify(bytes(head[:16]))
            if kind is None:
                return
            self._decide(flow, d, kind)
        elif mode == _M_DNS:
            for raw in flow.handler.feed(d, data):  # type: ignore[attr-defined]
                self.dissected += 1
                msg = _parse_dns(raw)
                if msg is not None:
                    self._record_dns(msg)

    def _decide(self, flow: _Flow, d: int, kind: str) -> None:
        if kind in ("tls_hello", "http_request", "h2c"):
            if not flow.client_known:
                flow.client_is_a = d == 0
                flow.client_known = True
            elif flow.client_dir != d:
                kind = "other"
        elif kind in ("tls", "http_response"):
            if not flow.client_known:
                flow.client_is_a = d == 1
                flow.client_known = True
            elif flow.client_dir == d:
                kind = "other"
        if kind == "other" or kind == "tls":
            flow.undecided |= 1 << d
            if (
                kind == "tls"
                or flow.undecided == 3
                or (flow.client_known and d == flow.client_dir)
                or len(flow.heads[d]) > MAX_HEAD
            ):
                flow.mode = _M_OTHER
                flow.release()
            return
        heads = flow.heads
        flow.heads = [bytearray(), bytearray()]
        c = flow.client_dir
        if kind == "tls_hello":
            flow.mode = _M_TLS
            flow.handler = _TlsHello()
            flow.need[1 - c] = False
            flow.streams[1 - c] = None
            self._on_data(flow, c, bytes(heads[c]))
        elif kind == "h2c":
            flow.mode = _M_H2
            flow.handler = H2Connection(lambda st: self._h2_stream(flow, st), max_body=self.limits.max_body,
                                        now=lambda: self.ts)
            for d in (c, 1 - c):
                if heads[d]:
                    self._on_data(flow, d, bytes(heads[d]))
        else:
            flow.mode = _M_HTTP
            flow.handler = HttpConnection(self, flow)
            if heads[c]:
                self._on_data(flow, c, bytes(heads[c]))
            if heads[1 - c] and flow.mode == _M_HTTP:
                self._on_data(flow, 1 - c, bytes(heads[1 - c]))

    def _on_gap(self, flow: _Flow, d: int, n: int) -> None:
        if not flow.gapped:
            flow.gapped = True
            if flow.mode in (_M_HTTP, _M_TLS):
                self.gapped_flows += 1
        if flow.mode == _M_HTTP:
            flow.handler.gap(d == flow.client_dir, n)  # type: ignore[attr-defined]
        elif flow.mode == _M_TLS:
            if d == flow.client_dir:
                flow.release()
        elif flow.mode == _M_UNDECIDED and flow.heads[d]:
            flow.mode = _M_OTHER
            flow.release()

    def _on_end(self, flow: _Flow, d: int) -> None:
        if flow.mode == _M_HTTP and flow.handler is not None:
            flow.handler.end(d == flow.client_dir)  # type: ignore[attr-defined]

    def _close(self, flow: _Flow) -> None:
        """The connection ended: flush reassembly and parsers, keep only the counters."""
        if flow.closed:
            return
        flow.closed = True
        if flow.watch:
            for st in flow.streams:
                if st is not None:
                    st.finish()
            if flow.mode in (_M_HTTP, _M_H2) and flow.handler is not None:
                flow.handler.finish()  # type: ignore[attr-defined]
        flow.release()

    def _evict(self, flow: _Flow) -> None:
        if flow.proto == 6:
            self._close(flow)
            table = self.tcp
        else:
            self._quic_unread(flow)
            flow.release()
            table = self.udp
        self._account(flow)
        table.pop((flow.a_ip, flow.b_ip, flow.a_port, flow.b_port), None)
        table.pop((flow.b_ip, flow.a_ip, flow.b_port, flow.a_port), None)

    def _sweep(self, now: float) -> None:
        """Drop connections that ended or went idle, accounting for their traffic.

        A closed connection stays one sweep longer (or 30 s of capture time) so that its last
        ACKs are not mistaken for a new connection.
        """
        stale: list[_Flow] = []
        for flow, fwd in self.tcp.values():
            if not fwd:
                continue
            if flow.closed:
                if flow.swept_closed or now - flow.last_ts > TCP_CLOSED_IDLE:
                    stale.append(flow)
                flow.swept_closed = True
            elif now - flow.last_ts > TCP_IDLE:
                stale.append(flow)
        for flow, fwd in self.udp.values():
            if fwd and now - flow.last_ts > (QUIC_IDLE if flow.name_src == "quic" else UDP_IDLE):
                stale.append(flow)
        for flow in stale:
            self._evict(flow)

    def _account(self, flow: _Flow) -> None:
        """Add a finished connection's counters to its destination."""
        server = flow.server_ip
        if flow.name:
            host, src = flow.name, flow.name_src or "ip"
        else:
            dn = (flow.dns_b if flow.client_is_a else flow.dns_a) or self.ip_names.get(server)
            host, src = (dn, "dns") if dn else (_ntop(server), "ip")
        dest = self._dest(host, flow.first_ts)
        dest.seen.add(src)
        dest.ips[_ntop(server)] = None
        dest.ports.add(flow.server_port)
        dest.transport.add("tcp" if flow.proto == 6 else "udp")
        if flow.client_is_a:
            dest.out += flow.ab
            dest.inb += flow.ba
        else:
            dest.out += flow.ba
            dest.inb += flow.ab
        dest.packets += flow.packets
        dest.connections += 1
        dest.first = min(dest.first, flow.first_ts)
        dest.last = max(dest.last, flow.last_ts)

    def _dest(self, host: str, ts: float) -> _Dest:
        dest = self.dests.get(host)
        if dest is None:
            dest = self.dests[host] = _Dest(host, ts)
        return dest

    # -- UDP: DNS and QUIC -----------------------------------------------------------------

    def _udp_slow(self, flow: _Flow, fwd: bool, payload: bytes) -> None:
        if not payload:
            return  # cut by the snapshot length
        mode = flow.mode
        if mode == _M_DNS:
            self.dissected += 1
            msg = _parse_dns(payload)
            if msg is not None:
                if not flow.client_known:
                    flow.client_is_a = fwd != msg.response
                    flow.client_known = True
                self._record_dns(msg, multicast=flow.server_port != 53)
                # flow.checks counts unanswered queries; a conversation whose queries are all
                # answered is accounted for at once (resolvers use a new port per query).
                flow.checks += -1 if msg.response else 1
                if flow.checks <= 0 and msg.response:
                    self._evict(flow)
            return
        # QUIC: Initials have a long header; gQUIC before Q046 a public header with the version.
        b0 = payload[0]
        if b0 & 0xC0 != 0xC0 and (b0 & 0x89 != 0x09 or payload[9:11] != b"Q0"):
            flow.checks += 1
            if flow.checks > 8:
                self._quic_unread(flow)
                flow.release()
            return
        if flow.client_known and fwd != flow.client_is_a:
            return  # the server's Initials use other keys
        if payload[1:5] == b"\0\0\0\0":
            return  # version negotiation: the server lists its versions, the client starts again
        tracker: QuicInitialTracker | None = flow.handler  # type: ignore[assignment]
        if tracker is None:
            tracker = flow.handler = QuicInitialTracker()
        self.dissected += 1
        if tracker.feed(payload) and not flow.client_known:
            flow.client_is_a = fwd
            flow.client_known = True
        if tracker.hello is not None:
            if tracker.hello.sni and flow.name is None:
                flow.name = tracker.hello.sni
                flow.name_src = "quic"
            flow.release()
        elif tracker.failed or tracker.datagrams > 32:
            self._quic_unread(flow)
            flow.release()

    def _quic_unread(self, flow: _Flow) -> None:
        """Count a QUIC connection whose client packets never decrypted, by version."""
        tracker = flow.handler
        if isinstance(tracker, QuicInitialTracker) and not tracker.opened and tracker.versions:
            key = ", ".join(version_name(v) for v in tracker.versions)
            self.quic_unread[key] = self.quic_unread.get(key, 0) + 1

    def _dns_record(self, qname: str, qtype: int) -> DnsRecord:
        name = _DNS_TYPES.get(qtype, f"TYPE{qtype}")
        key = (qname, name)
        rec = self.dns.get(key)
        if rec is None:
            rec = self.dns[key] = DnsRecord(qname, name, first_seen=self.ts)
        return rec

    def dns_over_http(self, raw: bytes | None) -> None:
        """Record a DNS message carried over HTTP (DoH), if there is one."""
        if raw is not None:
            msg = _parse_dns(raw)
            if msg is not None:
                self._record_dns(msg)

    # The HTTP/1.x and h2c parsers list their exchanges through this; key-log decryption's sink
    # uses the same function, so decrypted exchanges are built exactly as cleartext ones.
    new_exchange = http_exchange

    def _h2_stream(self, flow: _Flow, st: H2Stream) -> None:
        """A finished HTTP/2 stream of a cleartext connection becomes an exchange."""
        pseudo = {k: v for k, v in st.request_headers if k.startswith(":")}
        headers = [(k, v) for k, v in st.request_headers if not k.startswith(":")]
        authority = pseudo.get(":authority") or _header(headers, "host")
        ex = self.new_exchange(flow, authority, pseudo.get(":method", "GET"), pseudo.get(":path", "/"), "HTTP/2.0",
                               headers, st.timestamp)
        limits = self.limits
        for side, hdrs, body, length in (
            ("request", headers, st.request_body, st.request_length),
            ("response", st.response_headers, st.response_body, st.response_length),
        ):
            if length > limits.max_body:
                ex.body_errors.append(f"{side} body: only the first {limits.max_body:,} of {length:,} bytes were kept")
            decoded = decoded_body(ex, side, [(k, v) for k, v in hdrs if not k.startswith(":")], bytes(body), limits)
            if side == "request":
                ex.request_body = decoded
            else:
                ex.response_body = decoded
        if st.response_headers:
            status = next((v for k, v in st.response_headers if k == ":status"), "")
            ex.status = int(status) if status.isdigit() else None
            ex.response_headers = [(k, v) for k, v in st.response_headers if not k.startswith(":")]
        if not st.complete:
            ex.error = "the stream was reset" if st.reset else "the stream ended before its response was complete"
        for raw in doh.dns_messages(ex):
            self.dns_over_http(raw)

    def _record_dns(self, msg: _DnsMessage, multicast: bool = False) -> None:
        """Record a DNS message; ``multicast`` (mDNS, LLMNR) answers name local devices, not destinations."""
        rec = self._dns_record(msg.qname, msg.qtype)
        if not multicast and msg.qtype in _LOOKUP_TYPES and msg.qname not in self.looked_up:
            self.looked_up[msg.qname] = self.ts
        if not msg.response:
            rec.queries += 1
            for qname, qtype in msg.more:
                self._dns_record(qname, qtype).queries += 1
            return
        rec.responses += 1
        rec.rcode = _RCODES.get(msg.rcode, str(msg.rcode))
        # Follow the CNAME chain from the question; its addresses belong to the queried name.
        chain = {msg.qname}
        grew = True
        while grew:
            grew = False
            for owner, rtype, value in msg.answers:
                if rtype == 5 and owner.rstrip(".") in chain and value not in chain:
                    chain.add(value)  # type: ignore[arg-type]
                    grew = True
        addresses: list[bytes] = []
        cnames: list[str] = []
        for owner, rtype, value in msg.answers:
            text = value if isinstance(value, str) else _ntop(value)
            if text not in rec.answers:
                rec.answers.append(text)
            if owner.rstrip(".") not in chain:
                continue
            if rtype == 5:
                cnames.append(value)  # type: ignore[arg-type]
            else:
                addresses.append(value)  # type: ignore[arg-type]
        if (addresses or cnames) and not multicast and msg.qtype in _LOOKUP_TYPES:
            self.answered.add(msg.qname)
        if addresses and not multicast:
            dest = self._dest(msg.qname, self.ts)
            dest.seen.add("dns")
            for a in addresses:
                self.ip_names[a] = msg.qname
                dest.ips[_ntop(a)] = None
            for c in cnames:
                dest.cnames[c] = None

    # -- results ----------------------------------------------------------------------------

    def _lookups(self) -> None:
        """Mark each destination's DNS lookup; list names looked up without an answer."""
        for name, first in self.looked_up.items():
            if not name or name.endswith(_LOCAL_SUFFIXES):
                continue
            answered = name in self.answered
            dest = self.dests.get(name)
            if dest is None:
                if answered:
                    continue  # an alias whose addresses are listed under the name it points to
                dest = self._dest(name, first)
                dest.seen.add("dns")
            dest.dns_lookup = "answered" if answered else "unanswered"

    def finish(self, result: PcapResult) -> None:
        for table in (self.tcp, self.udp):
            for flow, fwd in list(table.values()):
                if fwd:
                    self._evict(flow)
        self.stats.dissected = self.dissected
        result.stats = self.stats
        self._lookups()
        result.exchanges = self.exchanges
        result.dns = sorted(self.dns.values(), key=lambda r: (r.first_seen or 0.0))
        dests = sorted(self.dests.values(), key=lambda x: (x.first, x.host))
        result.destinations = [
            NetworkDestination(
                host=x.host,
                ips=list(x.ips),
                seen=[s for s in _SEEN_ORDER if s in x.seen],
                ports=sorted(x.ports),
                transport=set(x.transport),
                bytes_out=x.out,
                bytes_in=x.inb,
                packets=x.packets,
                connections=x.connections,
                cnames=list(x.cnames),
                first_seen=x.first,
                last_seen=x.last,
                dns_lookup=x.dns_lookup,
            )
            for x in dests
        ]
        for link, count in sorted(self.unsupported_links.items()):
            self.warn(f"{self.name}: {_count(count, 'packet')} with unsupported link type {link} skipped")
        if self.gapped_flows:
            self.warn(
                f"{self.name}: {_count(self.gapped_flows, 'TCP connection')} with segments missing from "
                "the capture; TLS or HTTP data there may be incomplete"
            )
        if self.quic_unread:
            total = sum(self.quic_unread.values())
            versions = "; ".join(f"{v}: {n:,}" for v, n in sorted(self.quic_unread.items()))
            self.warn(
                f"{self.name}: {_count(total, 'QUIC connection')} could not be decrypted (version {versions}); "
                "their server names are unknown and they are listed by address"
            )
        if self.malformed:
            self.warn(f"{self.name}: {_count(self.malformed, 'packet')} with malformed or cut-off headers skipped")

