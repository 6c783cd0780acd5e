"""HTTP/2 over cleartext TCP (h2c with prior knowledge): requests and responses from frames.

:class:`H2Connection` takes the reassembled bytes of each direction of one connection (the
client's starts with the connection preface), splits them into frames, decodes header blocks
with HPACK (the ``hpack`` package that mitmproxy brings) and hands each finished stream to a
callback as an :class:`H2Stream`. Bodies are kept up to a limit; the rest is counted. A header
block that does not decode ends parsing of the connection (HPACK state is lost from there).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import hpack

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_DATA, _HEADERS, _RST_STREAM, _PUSH_PROMISE, _CONTINUATION = 0x0, 0x1, 0x3, 0x5, 0x9
_END_STREAM, _END_HEADERS, _PADDED, _PRIORITY = 0x1, 0x4, 0x8, 0x20
MAX_STREAMS = 4096  # open streams tracked per connection; more are ignored
MAX_HEADER_BLOCK = 1 << 20

__all__ = ["PREFACE", "H2Connection", "H2Stream"]


@dataclass(slots=True)
class H2Stream:
    """One request/response pair. Header lists keep pseudo-headers (``:method``, ``:status``...)."""

    id: int
    timestamp: float | None = None
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    request_body: bytearray = field(default_factory=bytearray)
    request_length: int = 0
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: bytearray = field(default_factory=bytearray)
    response_length: int = 0
    reset: bool = False
    complete: bool = False


def _text(b: bytes) -> str:
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return b.decode("latin-1")


class H2Connection:
    """Frames of one HTTP/2 connection, both directions; finished streams go to ``on_stream``."""

    def __init__(
        self,
        on_stream: Callable[[H2Stream], None],
        *,
        max_body: int = 1 << 24,
        now: Callable[[], float | None] = lambda: None,
    ) -> None:
        self.on_stream = on_stream
        self.max_body = max_body
        self.now = now
        self.bufs = (bytearray(), bytearray())  # client, server
        self.preface = True  # the client's preface is still to be skipped
        self.decoders = (hpack.Decoder(), hpack.Decoder())
        for d in self.decoders:
            d.max_allowed_table_size = 1 << 16
        self.pending: list[tuple[int, bytearray, bool] | None] = [None, None]  # block awaiting CONTINUATION
        self.streams: dict[int, H2Stream] = {}
        self.dead = False
        self.error: str | None = None

    def feed(self, from_client: bool, data: bytes) -> None:
        if self.dead:
            return
        side = 0 if from_client else 1
        buf = self.bufs[side]
        buf += data
        if side == 0 and self.preface:
            if len(buf) < len(PREFACE):
                return
            if buf[: len(PREFACE)] != PREFACE:
                self._die("no HTTP/2 connection preface")
                return
            del buf[: len(PREFACE)]
            self.preface = False
        pos = 0
        n = len(buf)
        while n - pos >= 9:
            length = (buf[pos] << 16) | (buf[pos + 1] << 8) | buf[pos + 2]
            if n - pos < 9 + length:
                break
            ftype, flags = buf[pos + 3], buf[pos + 4]
            sid = int.from_bytes(buf[pos + 5 : pos + 9], "big") & 0x7FFFFFFF
            payload = bytes(buf[pos + 9 : pos + 9 + length])
            pos += 9 + length
            self._frame(side, ftype, flags, sid, payload)
            if self.dead:
                return
        del buf[:pos]

    def _die(self, reason: str) -> None:
        self.dead = True
        self.error = reason
        for b in self.bufs:
            b.clear()

    def _stream(self, sid: int, create: bool) -> H2Stream | None:
        st = self.streams.get(sid)
        if st is None and create and len(self.streams) < MAX_STREAMS:
            st = self.streams[sid] = H2Stream(sid, self.now())
        return st

    def _frame(self, side: int, ftype: int, flags: int, sid: int, payload: bytes) -> None:
        pending = self.pending[side]
        if pending is not None:
            if ftype != _CONTINUATION or sid != pending[0]:
                self._die("header block interrupted")
                return
            pending[1].extend(payload)
            if len(pending[1]) > MAX_HEADER_BLOCK:
                self._die("header block too large")
            elif flags & _END_HEADERS:
                self.pending[side] = None
                self._headers(side, sid, bytes(pending[1]), pending[2])
            return
        if ftype == _DATA:
            if flags & _PADDED:
                if not payload or payload[0] >= len(payload):
                    return
                payload = payload[1 : len(payload) - payload[0]]
            st = self.streams.get(sid)
            if st is None:
                return
            if side == 0:
                st.request_length += len(payload)
                room = self.max_body - len(st.request_body)
                st.request_body += payload[:room] if room > 0 else b""
            else:
                st.response_length += len(payload)
                room = self.max_body - len(st.response_body)
                st.response_body += payload[:room] if room > 0 else b""
            if flags & _END_STREAM and side == 1:
                self._done(st, True)
        elif ftype in (_HEADERS, _PUSH_PROMISE):
            p = 0
            pad = 0
            if flags & _PADDED:
                if not payload:
                    return
                pad = payload[0]
                p = 1
            if ftype == _HEADERS and flags & _PRIORITY:
                p += 5
            elif ftype == _PUSH_PROMISE:
                p += 4
            if p + pad > len(payload):
                self._die("bad padding")
                return
            block = payload[p : len(payload) - pad]
            end_stream = ftype == _HEADERS and bool(flags & _END_STREAM)
            target = sid if ftype == _HEADERS else -1  # a promise's headers keep HPACK in step only
            if flags & _END_HEADERS:
                self._headers(side, target, block, end_stream)
            else:
                self.pending[side] = (target, bytearray(block), end_stream)
        elif ftype == _RST_STREAM:
            st = self.streams.get(sid)
            if st is not None:
                st.reset = True
                self._done(st, False)

    def _headers(self, side: int, sid: int, block: bytes, end_stream: bool) -> None:
        try:
            raw = self.decoders[side].decode(block, raw=True)
        except hpack.HPACKError as exc:
            self._die(f"HPACK: {exc}")
            return
        if sid < 0:
            return
        headers = [(_text(k), _text(v)) for k, v in raw]
        st = self._stream(sid, create=side == 0)
        if st is None:
            return
        if side == 0:
            if not st.request_headers:
                st.request_headers = headers
        else:
            status = next((v for k, v in headers if k == ":status"), "")
            if not st.response_headers and not (status.startswith("1") and status != "101"):
                st.response_headers = headers
            if end_stream:
                self._done(st, True)

    def _done(self, st: H2Stream, complete: bool) -> None:
        self.streams.pop(st.id, None)
        st.complete = complete
        if st.request_headers:
            self.on_stream(st)

    def finish(self) -> None:
        """The connection ended: hand over the streams that had started."""
        for st in list(self.streams.values()):
            self._done(st, False)
        self.streams.clear()
