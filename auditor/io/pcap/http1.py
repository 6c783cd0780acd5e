"""Cleartext HTTP/1.x: incremental framing of both directions of a connection.

:class:`HttpConnection` matches requests to responses in order (pipelining) and reports each
exchange to its owner (the capture analyser, or the sink of decrypted TLS traffic), which
:class:`_Owner` describes.
"""

from __future__ import annotations

import ipaddress
from collections import deque
from typing import Protocol

from auditor.io.decoding import decode_body
from auditor.io.pcap import doh
from auditor.io.pcap.flows import _Flow
from auditor.limits import DEFAULT_LIMITS, Limits
from auditor.models import Exchange

MAX_HEAD = 1 << 16  # largest header section accepted
MAX_BODY = 1 << 24  # body bytes kept per message; the rest is counted, not stored
MAX_WAITING = 1 << 20  # response bytes held while their request has not been seen

_METHODS = frozenset(
    b"GET POST PUT DELETE HEAD OPTIONS PATCH CONNECT TRACE PROPFIND PROPPATCH MKCOL COPY MOVE "
    b"LOCK UNLOCK REPORT SEARCH PURGE".split()
)


class _Owner(Protocol):
    """What the parser reports to: the capture analyser, or a stand-in for decrypted traffic."""

    ts: float
    limits: Limits

    def new_exchange(self, flow: _Flow, authority: str | None, method: str, path: str, version: str,
                     headers: list[tuple[str, str]], ts: float | None) -> Exchange: ...

    def dns_over_http(self, raw: bytes | None) -> None: ...


_HEAD, _BODY, _CHUNK_SIZE, _CHUNK_DATA, _CHUNK_CRLF, _TRAILERS, _UNTIL_CLOSE, _DEAD = range(8)


def _classify(head: bytes) -> str | None:
    """What the first bytes of a TCP stream look like; None if more bytes are needed."""
    b0 = head[0]
    if 0x14 <= b0 <= 0x17:
        if len(head) < 6:
            return None if len(head) < 2 or head[1] == 3 else "other"
        if head[1] != 3:
            return "other"
        return "tls_hello" if b0 == 0x16 and head[5] == 1 else "tls"
    if head.startswith(b"HTTP/1."):
        return "http_response"
    if head.startswith(b"PRI * HTTP/2.0"):
        return "h2c"
    if len(head) < 14 and b"PRI * HTTP/2.0".startswith(head):
        return None
    if len(head) < 7 and b"HTTP/1.".startswith(head):
        return None
    sp = head.find(b" ", 0, 12)
    if sp > 0:
        return "http_request" if head[:sp] in _METHODS else "other"
    if len(head) < 12 and head.isalpha() and head.isupper():
        return None
    return "other"


def _decode_head(raw: bytes) -> tuple[str, list[tuple[str, str]]]:
    """Split a header section into its start line and (name, value) pairs."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    lines = text.split("\n")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        line = line.rstrip("\r")
        if not line:
            continue
        if line[0] in " \t" and headers:  # obsolete line folding
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}")
            continue
        name, sep, value = line.partition(":")
        if sep:
            headers.append((name.strip(), value.strip()))
    return lines[0].rstrip("\r"), headers


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    for k, v in headers:
        if k.lower() == name:
            return v
    return None


def _framing(headers: list[tuple[str, str]]) -> tuple[int, int]:
    """(state, length) for a message body from Transfer-Encoding / Content-Length; (-1, 0) if none."""
    te = _header(headers, "transfer-encoding")
    if te and te.lower().replace(" ", "").split(",")[-1] == "chunked":
        return _CHUNK_SIZE, 0
    cl = _header(headers, "content-length")
    if cl is not None:
        try:
            n = int(cl.split(",")[0].strip())
        except ValueError:
            return _DEAD, 0
        return (_BODY, n) if n > 0 else (-1, 0)
    return -1, 0


def decoded_body(
    ex: Exchange, side: str, headers: list[tuple[str, str]], body: bytes, limits: Limits = DEFAULT_LIMITS
) -> bytes:
    """``body`` decoded from its Content-Encoding; failures are recorded on the exchange."""
    ce = _header(headers, "content-encoding")
    if not ce or not body:
        return body
    try:
        data, err = decode_body(body, ce, limits.max_inflated)
    except Exception as exc:  # noqa: BLE001  (a decoder bug must not lose the exchange; it is recorded on it)
        ex.body_errors.append(f"{side} body: {exc}")
        return body
    if err:
        ex.body_errors.append(f"{side} body: {err}")
    return data


class _Http1Parser:
    """Incremental HTTP/1.x framing for one direction of a connection."""

    __slots__ = (
        "body",
        "body_len",
        "buf",
        "conn",
        "exchange",
        "headers",
        "is_request",
        "missing",
        "msg_ts",
        "remaining",
        "state",
    )

    def __init__(self, conn: HttpConnection, is_request: bool) -> None:
        self.conn = conn
        self.is_request = is_request
        self.buf = bytearray()
        self.state = _HEAD
        self.remaining = 0
        self.body = bytearray()
        self.body_len = 0
        self.exchange: Exchange | None = None
        self.headers: list[tuple[str, str]] = []
        self.msg_ts: float | None = None
        self.missing = 0

    def feed(self, data: bytes) -> None:
        st = self.state
        if st == _DEAD:
            return
        if st == _HEAD and not self.buf:
            self.msg_ts = self.conn.an.ts
        self.buf += data
        self.run()

    def _add(self, data: bytes | bytearray) -> None:
        room = self.conn.an.limits.max_body - len(self.body)
        self.body += data if len(data) <= room else data[:room]
        self.body_len += len(data)

    def die(self, reason: str) -> None:
        if self.exchange is not None and self.exchange.error is None:
            self.exchange.error = reason
        self.state = _DEAD
        self.buf.clear()

    def run(self) -> None:
        buf = self.buf
        while True:
            st = self.state
            if st == _HEAD:
                while buf[:2] == b"\r\n":
                    del buf[:2]
                if not buf:
                    return
                if not self.is_request and not self.conn.pending:
                    if len(buf) > MAX_WAITING:
                        self.die("response without a request")
                    return
                i = buf.find(b"\r\n\r\n")
                j = buf.find(b"\n\n", 0, i if i >= 0 else len(buf))
                if j >= 0 and (i < 0 or j < i):
                    idx, sep = j, 2
                elif i >= 0:
                    idx, sep = i, 4
                else:
                    if len(buf) > MAX_HEAD:
                        self.die("HTTP header section too large")
                    return
                raw = bytes(buf[:idx])
                del buf[: idx + sep]
                self.body = bytearray()
                self.body_len = 0
                self.missing = 0
                if self.is_request:
                    self.conn.request_head(self, raw)
                else:
                    self.conn.response_head(self, raw)
                if self.state == _HEAD and self.exchange is not None:
                    self.conn.message_done(self)
            elif st in (_BODY, _CHUNK_DATA):
                if not buf:
                    return
                take = min(self.remaining, len(buf))
                self._add(buf[:take])
                del buf[:take]
                self.remaining -= take
                if self.remaining:
                    return
                if st == _BODY:
                    self.state = _HEAD
                    self.conn.message_done(self)
                else:
                    self.state = _CHUNK_CRLF
            elif st == _CHUNK_SIZE:
                i = buf.find(b"\n")
                if i < 0:
                    if len(buf) > 4096:
                        self.die("bad chunked encoding")
                    return
                line = bytes(buf[:i]).split(b";", 1)[0].strip()
                del buf[: i + 1]
                try:
                    size = int(line, 16)
                except ValueError:
                    self.die("bad chunked encoding")
                    return
                if size == 0:
                    self.state = _TRAILERS
                else:
                    self.remaining = size
                    self.state = _CHUNK_DATA
            elif st == _CHUNK_CRLF:
                if buf[:2] == b"\r\n":
                    del buf[:2]
                elif buf[:1] == b"\n":
                    del buf[:1]
                elif buf == b"\r" or not buf:
                    return
                self.state = _CHUNK_SIZE
            elif st == _TRAILERS:
                i = buf.find(b"\n")
                if i < 0:
                    return
                line = bytes(buf[:i]).strip()
                del buf[: i + 1]
                if not line:
                    self.state = _HEAD
                    self.conn.message_done(self)
            elif st == _UNTIL_CLOSE:
                if buf:
                    self._add(buf)
                    buf.clear()
                return
            else:
                return

    def gap(self, n: int) -> None:
        """``n`` bytes of this direction were not captured."""
        st = self.state
        if st in (_BODY, _CHUNK_DATA) and n <= self.remaining and not self.buf:
            self.remaining -= n
            self.missing += n
            self.body_len += n
            if not self.remaining:
                if st == _BODY:
                    self.state = _HEAD
                    self.conn.message_done(self)
                else:
                    self.state = _CHUNK_CRLF
        elif st == _UNTIL_CLOSE:
            self.missing += n
            self.body_len += n
        elif st != _DEAD:
            self.die("TCP data missing from the capture")

    def end(self) -> None:
        """The direction ended (FIN, reset or end of capture)."""
        st = self.state
        if st == _UNTIL_CLOSE:
            self.state = _HEAD
            self.conn.message_done(self)
        elif st in (_BODY, _CHUNK_SIZE, _CHUNK_DATA, _CHUNK_CRLF, _TRAILERS) and self.exchange is not None:
            side = "request" if self.is_request else "response"
            if st == _BODY:
                total = self.body_len + self.remaining
                note = f"{side} body incomplete: the capture has {self.body_len:,} of {total:,} bytes"
            else:
                note = f"{side} body incomplete: the chunked body ends early after {self.body_len:,} bytes"
            self.exchange.body_errors.append(note)
            self.state = _HEAD
            self.conn.message_done(self)
        self.state = _DEAD
        self.buf.clear()


class HttpConnection:
    """HTTP/1.x on one TCP connection: requests matched to responses in order (pipelining)."""

    __slots__ = ("an", "done", "flow", "pending", "req", "resp")

    def __init__(self, an: _Owner, flow: _Flow) -> None:
        self.an = an
        self.flow = flow
        self.req = _Http1Parser(self, True)
        self.resp = _Http1Parser(self, False)
        self.pending: deque[Exchange] = deque()
        self.done = False

    def request_head(self, p: _Http1Parser, raw: bytes) -> None:
        start, headers = _decode_head(raw)
        parts = start.split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            p.exchange = None
            p.die("not an HTTP/1.x request")
            return
        method, target, version = parts
        path = target
        authority = _header(headers, "host")
        if target.startswith(("http://", "https://")):  # absolute form (proxy requests)
            rest = target.split("://", 1)[1]
            authority, slash, tail = rest.partition("/")
            path = slash + tail if slash else "/"
        ex = self.an.new_exchange(self.flow, authority, method, path, version, headers, p.msg_ts)
        self.pending.append(ex)
        p.exchange = ex
        p.headers = headers
        state, length = _framing(headers)
        if state == _DEAD:
            p.die("bad Content-Length")
        elif state < 0:
            p.state = _HEAD
        else:
            p.state = state
            p.remaining = length
        if self.resp.buf and self.resp.state == _HEAD:
            self.resp.run()

    def response_head(self, p: _Http1Parser, raw: bytes) -> None:
        start, headers = _decode_head(raw)
        parts = start.split(" ", 2)
        try:
            status = int(parts[1])
        except (IndexError, ValueError):
            p.exchange = None
            p.die("not an HTTP/1.x response")
            return
        ex = self.pending[0]
        p.exchange = None
        if 100 <= status < 200 and status != 101:
            return  # interim response; the final one follows
        ex.status = status
        ex.response_headers = headers
        p.exchange = ex
        p.headers = headers
        if status == 101 or (ex.method == "CONNECT" and 200 <= status < 300):
            # The connection now carries another protocol.
            p.state = _HEAD
            self.message_done(p)
            self.stop()
            return
        if ex.method == "HEAD" or status in (204, 304):
            p.state = _HEAD
            return
        state, length = _framing(headers)
        if state == _DEAD:
            p.die("bad Content-Length")
        elif state < 0:
            if _header(headers, "content-length") is not None:
                p.state = _HEAD  # Content-Length: 0
            else:
                p.state = _UNTIL_CLOSE
        else:
            p.state = state
            p.remaining = length

    def message_done(self, p: _Http1Parser) -> None:
        ex = p.exchange
        if ex is None:
            return
        side = "request" if p.is_request else "response"
        if p.missing:
            ex.body_errors.append(f"{side} body: {p.missing:,} bytes were not captured")
        limits = self.an.limits
        if p.body_len > limits.max_body:
            ex.body_errors.append(f"{side} body: only the first {limits.max_body:,} of {p.body_len:,} bytes were kept")
        body = decoded_body(ex, side, p.headers, bytes(p.body), limits)
        if p.is_request:
            ex.request_body = body
            self.an.dns_over_http(doh.query_message(ex.method, ex.path, p.headers, body))
        else:
            ex.response_body = body
            self.an.dns_over_http(doh.response_message(p.headers, body))
            if self.pending and self.pending[0] is ex:
                self.pending.popleft()
        p.exchange = None
        p.body = bytearray()
        p.body_len = 0
        p.missing = 0

    def stop(self) -> None:
        """Stop parsing this connection (protocol switch or tunnel)."""
        self.req.state = _DEAD
        self.resp.state = _DEAD
        self.req.buf.clear()
        self.resp.buf.clear()
        self.done = True

    def feed(self, from_client: bool, data: bytes) -> None:
        (self.req if from_client else self.resp).feed(data)

    def gap(self, from_client: bool, n: int) -> None:
        (self.req if from_client else self.resp).gap(n)

    def end(self, from_client: bool) -> None:
        (self.req if from_client else self.resp).end()

    def finish(self) -> None:
        self.req.end()
        self.resp.end()
        self.pending.clear()


class ExchangeList(Protocol):
    """Where :func:`http_exchange` lists exchanges: the capture analyser, or the sink of decrypted traffic."""

    capture: int
    exchanges: list[Exchange]


def _is_ip(host: str) -> bool:
    """True if ``host`` is an IPv4 or IPv6 address literal."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def http_exchange(owner: ExchangeList, flow: _Flow, authority: str | None, method: str, path: str, version: str,
                  headers: list[tuple[str, str]], ts: float | None) -> Exchange:
    """A new HTTP exchange of ``flow``, appended to ``owner.exchanges``; its authority names the
    flow if nothing did. (The owners use it as their ``new_exchange`` method.)"""
    host = strip_port(authority) if authority else ""
    if not host:
        host = flow.server_ip_str
    elif flow.name is None and not _is_ip(host):
        flow.name = host.lower()
        flow.name_src = "http"
    index = len(owner.exchanges)
    ex = Exchange(
        capture=owner.capture,
        index=index,
        id=f"pcap-{owner.capture}-{index}",
        method=method,
        scheme="http",
        host=host,
        port=flow.server_port,
        path=path,
        http_version=version,
        request_headers=headers,
        server_ip=flow.server_ip_str,
        timestamp=ts,
    )
    owner.exchanges.append(ex)
    return ex


def strip_port(authority: str) -> str:
    authority = authority.strip()
    if authority.startswith("["):
        return authority[1:].split("]", 1)[0]
    if authority.count(":") == 1:
        return authority.split(":", 1)[0]
    return authority
