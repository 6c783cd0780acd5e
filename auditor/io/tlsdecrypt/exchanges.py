"""Exchanges from decrypted traffic: one sink per capture, shared by HTTP/1.1, HTTP/2 and HTTP/3."""

from __future__ import annotations

from collections.abc import Iterable

from auditor.io.pcap import decoded_body, http_exchange, strip_port
from auditor.limits import DEFAULT_LIMITS, Limits
from auditor.models import Exchange, TlsInfo

__all__ = ["ConnInfo", "Sink", "StreamExchange", "message_exchange"]


class Sink:
    """Collects decrypted exchanges. Also stands in for the pcap analyser that the cleartext
    HTTP/1.x parser (:class:`auditor.io.pcap.HttpConnection`) reports to: ``ts``, ``limits``,
    ``capture`` and ``exchanges``."""

    def __init__(self, capture: int = 0, limits: Limits = DEFAULT_LIMITS) -> None:
        self.capture = capture
        self.limits = limits
        self.exchanges: list[Exchange] = []
        self.ts = 0.0

    def dns_over_http(self, raw: bytes | None) -> None:
        """The HTTP/1.x parser hands over each message that may be DoH. Nothing to do here: DoH is
        read from the finished exchanges of every HTTP version alike (:attr:`DecryptResult.dns_messages`)."""

    # The HTTP/1.x parser lists its exchanges through the analyser's own constructor (it only uses
    # ``capture`` and ``exchanges``), so decrypted exchanges are built exactly as cleartext ones.
    new_exchange = http_exchange


class ConnInfo:
    """What an HTTP parser needs to know of its connection (duck-types the pcap flow)."""

    __slots__ = ("name", "name_src", "server_ip_str", "server_port", "tls")

    def __init__(self, server_ip: str, server_port: int, tls: TlsInfo) -> None:
        self.server_ip_str = server_ip
        self.server_port = server_port
        self.name: str | None = tls.sni
        self.name_src: str | None = "sni" if tls.sni else None
        self.tls = tls


def _text(b: bytes) -> str:
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return b.decode("latin-1")


def message_exchange(
    sink: Sink, conn: ConnInfo, headers: Iterable[tuple[bytes, bytes]], version: str, ts: float
) -> Exchange | None:
    """A new exchange from an HTTP/2 or HTTP/3 request header list (pseudo-headers first)."""
    pseudo: dict[str, str] = {}
    regular: list[tuple[str, str]] = []
    for k, v in headers:
        name = _text(k)
        if name.startswith(":"):
            pseudo.setdefault(name, _text(v))
        else:
            regular.append((name, _text(v)))
    method = pseudo.get(":method")
    if method is None:
        return None
    authority = pseudo.get(":authority") or next((v for k, v in regular if k.lower() == "host"), "")
    host = strip_port(authority).lower() if authority else (conn.name or conn.server_ip_str)
    index = len(sink.exchanges)
    ex = Exchange(
        capture=sink.capture,
        index=index,
        id=f"pcap-{sink.capture}-{index}",
        method=method,
        scheme=pseudo.get(":scheme", "https"),
        host=host,
        port=conn.server_port,
        path=pseudo.get(":path", "/") if method != "CONNECT" else authority,
        http_version=version,
        request_headers=regular[: sink.limits.max_headers],
        server_ip=conn.server_ip_str,
        tls=conn.tls,
        timestamp=ts,
    )
    sink.exchanges.append(ex)
    return ex


def response_headers(ex: Exchange, headers: Iterable[tuple[bytes, bytes]], limits: Limits) -> bool:
    """Set the response status and headers; False for an interim (1xx) response."""
    status = None
    regular: list[tuple[str, str]] = []
    for k, v in headers:
        if k == b":status":
            try:
                status = int(v)
            except ValueError:
                status = None
        elif not k.startswith(b":"):
            regular.append((_text(k), _text(v)))
    if status is not None and 100 <= status < 200:
        return False
    ex.status = status
    ex.response_headers = regular[: limits.max_headers]
    return True


def finish_body(ex: Exchange, request: bool, body: bytearray, total: int, limits: Limits) -> None:
    """Store a complete (or cut) message body, decoded from its Content-Encoding."""
    side = "request" if request else "response"
    if total > len(body):
        ex.body_errors.append(f"{side} body: only the first {len(body):,} of {total:,} bytes were kept")
    headers = ex.request_headers if request else ex.response_headers
    data = decoded_body(ex, side, headers, bytes(body), limits)
    if request:
        ex.request_body = data
    else:
        ex.response_body = data


class StreamExchange:
    """One HTTP/2 or HTTP/3 request stream: its exchange and both bodies as they arrive
    (index 0: request, 1: response)."""

    __slots__ = ("bodies", "ended", "ex", "has_response", "totals")

    def __init__(self, ex: Exchange | None) -> None:
        self.ex = ex
        self.bodies = (bytearray(), bytearray())
        self.totals = [0, 0]
        self.ended = [False, False]
        self.has_response = False

    def add(self, d: int, data: bytes, limits: Limits) -> None:
        room = limits.max_body - len(self.bodies[d])
        self.bodies[d].extend(data if len(data) <= room else data[: max(room, 0)])
        self.totals[d] += len(data)

    def end(self, d: int, limits: Limits) -> None:
        """Direction ``d`` ended: store its body."""
        if self.ended[d]:
            return
        self.ended[d] = True
        if self.ex is not None:
            finish_body(self.ex, d == 0, self.bodies[d], self.totals[d], limits)
        self.bodies[d].clear()

    def finish(self, limits: Limits) -> None:
        """The connection ended: store what the directions that did not end carried."""
        for d in (0, 1):
            if not self.ended[d] and self.ex is not None and self.totals[d]:
                if d == 1:
                    self.ex.body_errors.append("response body incomplete: the stream did not end in the capture")
                self.end(d, limits)
