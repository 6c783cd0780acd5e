"""DNS messages: the first question and the answer section; DNS over TCP framing."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

_DNS_TYPES = {
    1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX", 16: "TXT", 28: "AAAA",
    33: "SRV", 64: "SVCB", 65: "HTTPS", 255: "ANY",
}
_RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


def _dns_name(msg: bytes, p: int) -> tuple[str, int]:
    """Read a (possibly compressed) domain name at ``p``; return (name, position after it)."""
    labels: list[bytes] = []
    after = -1
    hops = 0
    while True:
        n = msg[p]
        if n == 0:
            p += 1
            break
        if n & 0xC0 == 0xC0:
            if after < 0:
                after = p + 2
            p = ((n & 0x3F) << 8) | msg[p + 1]
            hops += 1
            if hops > 64:
                raise ValueError("DNS name compression loop")
            continue
        if n & 0xC0:
            raise ValueError("bad DNS label")
        labels.append(msg[p + 1 : p + 1 + n])
        p += 1 + n
    name = b".".join(labels).decode("ascii", "replace").lower()
    return name, (after if after >= 0 else p)


@dataclass(slots=True)
class _DnsMessage:
    response: bool
    rcode: int
    qname: str
    qtype: int
    answers: list[tuple[str, int, str | bytes]]  # owner name, type, value (packed address or name)
    more: list[tuple[str, int]] = field(default_factory=list)  # further questions (mDNS asks several)


def _parse_dns(msg: bytes) -> _DnsMessage | None:
    """Parse a DNS message's first question and its answer section; None if malformed."""
    try:
        _id, flags, qd, an = struct.unpack_from("!HHHH", msg, 0)
        if qd < 1:
            return None
        qname, p = _dns_name(msg, 12)
        qtype = struct.unpack_from("!H", msg, p)[0]
        p += 4
        more: list[tuple[str, int]] = []
        for _ in range(qd - 1):
            name, p = _dns_name(msg, p)
            more.append((name.rstrip("."), struct.unpack_from("!H", msg, p)[0]))
            p += 4
        answers: list[tuple[str, int, str | bytes]] = []
        if flags & 0x8000:
            for _ in range(an):
                owner, p = _dns_name(msg, p)
                rtype, _cls, _ttl, rdlen = struct.unpack_from("!HHIH", msg, p)
                p += 10
                if p + rdlen > len(msg):
                    break
                if (rtype == 1 and rdlen == 4) or (rtype == 28 and rdlen == 16):
                    answers.append((owner, rtype, msg[p : p + rdlen]))
                elif rtype == 5:
                    answers.append((owner, rtype, _dns_name(msg, p)[0]))
                p += rdlen
        return _DnsMessage(bool(flags & 0x8000), flags & 0x0F, qname.rstrip("."), qtype, answers, more)
    except (IndexError, struct.error, ValueError):
        return None



class _TcpDns:
    """DNS over TCP: two-byte length-prefixed messages in each direction."""

    __slots__ = ("bufs",)

    def __init__(self) -> None:
        self.bufs = (bytearray(), bytearray())

    def feed(self, d: int, data: bytes) -> list[bytes]:
        buf = self.bufs[d]
        buf += data
        out: list[bytes] = []
        while len(buf) >= 2:
            n = (buf[0] << 8) | buf[1]
            if len(buf) < 2 + n:
                break
            out.append(bytes(buf[2 : 2 + n]))
            del buf[: 2 + n]
        if len(buf) > 1 << 17:
            buf.clear()
        return out

