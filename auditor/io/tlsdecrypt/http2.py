"""HTTP/2 (RFC 9113) read from both directions of a decrypted connection.

Frames are cut from each direction's byte stream; header blocks (HEADERS, CONTINUATION,
PUSH_PROMISE) are decoded with one HPACK decoder per direction (the ``hpack`` package's, with the
fast path of :mod:`auditor.io.tlsdecrypt.hpackblock`), so the dynamic tables stay in step with
the endpoints'. Each client stream becomes an exchange.
"""

from __future__ import annotations

from hpack.exceptions import HPACKError

from auditor.io.tlsdecrypt.exchanges import ConnInfo, Sink, StreamExchange, message_exchange, response_headers
from auditor.io.tlsdecrypt.hpackblock import BlockDecoder

__all__ = ["PREFACE", "Http2Conn"]

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
MAX_FRAME = 1 << 24
_DATA, _HEADERS, _RST, _SETTINGS, _PUSH, _GOAWAY, _CONT = 0, 1, 3, 4, 5, 7, 9
_END_STREAM, _END_HEADERS, _PADDED, _PRIORITY = 0x1, 0x4, 0x8, 0x20


class _Side:
    __slots__ = ("block", "block_flags", "block_push", "block_stream", "buf", "dead", "decoder", "preface")

    def __init__(self, preface: bool) -> None:
        self.buf = bytearray()
        self.decoder = BlockDecoder(1 << 16)  # hpack's decoder, with a fast path for the usual blocks
        self.block = bytearray()
        self.block_stream = 0
        self.block_flags = 0
        self.block_push = False
        self.preface = preface
        self.dead = False


class Http2Conn:
    """Both directions of one HTTP/2 connection; exchanges go to ``sink``."""

    def __init__(self, sink: Sink, conn: ConnInfo) -> None:
        self.sink = sink
        self.conn = conn
        self.sides = (_Side(True), _Side(False))
        self.streams: dict[int, StreamExchange] = {}
        self.error: str | None = None

    def feed(self, from_client: bool, data: bytes) -> None:
        side = self.sides[0 if from_client else 1]
        if side.dead:
            return
        buf = side.buf
        buf += data
        if side.preface:
            if len(buf) < len(PREFACE):
                return
            if bytes(buf[: len(PREFACE)]) != PREFACE:
                self._die(side, "not an HTTP/2 connection preface")
                return
            del buf[: len(PREFACE)]
            side.preface = False
        p = 0
        n = len(buf)
        while n - p >= 9:
            length = int.from_bytes(buf[p : p + 3], "big")
            if length > MAX_FRAME:
                self._die(side, "HTTP/2 frame too large")
                return
            if n - p < 9 + length:
                break
            ftype = buf[p + 3]
            flags = buf[p + 4]
            stream_id = int.from_bytes(buf[p + 5 : p + 9], "big") & 0x7FFFFFFF
            payload = bytes(buf[p + 9 : p + 9 + length])
            p += 9 + length
            self._frame(from_client, side, ftype, flags, stream_id, payload)
            if side.dead:
                return
        del buf[:p]

    def gap(self, from_client: bool) -> None:
        self._die(self.sides[0 if from_client else 1], "TCP data missing from the capture")

    def _die(self, side: _Side, reason: str) -> None:
        side.dead = True
        side.buf.clear()
        self.error = self.error or reason

    @staticmethod
    def _unpad(flags: int, payload: bytes) -> bytes:
        if flags & _PADDED and payload:
            pad = payload[0]
            return payload[1 : len(payload) - pad] if pad < len(payload) else b""
        return payload

    def _frame(self, from_client: bool, side: _Side, ftype: int, flags: int, sid: int, payload: bytes) -> None:
        d = 0 if from_client else 1
        if side.block_stream and ftype != _CONT:
            self._die(side, "HTTP/2 header block interrupted")
            return
        if ftype == _DATA:
            st = self.streams.get(sid)
            if st is None:
                return
            st.add(d, self._unpad(flags, payload), self.sink.limits)
            if flags & _END_STREAM:
                self._end(sid, st, d)
        elif ftype in (_HEADERS, _PUSH):
            body = self._unpad(flags, payload)
            if ftype == _HEADERS and flags & _PRIORITY:
                body = body[5:]
            if ftype == _PUSH:
                body = body[4:]
            side.block = bytearray(body)
            side.block_stream = sid
            side.block_flags = flags
            side.block_push = ftype == _PUSH
            if flags & _END_HEADERS:
                self._block(from_client, side)
        elif ftype == _CONT:
            if sid != side.block_stream:
                self._die(side, "HTTP/2 CONTINUATION on the wrong stream")
                return
            side.block += payload
            if len(side.block) > self.sink.limits.max_body:
                self._die(side, "HTTP/2 header block too large")
                return
            if flags & _END_HEADERS:
                self._block(from_client, side)
        elif ftype == _RST:
            st = self.streams.get(sid)
            if st is not None:
                if st.ex is not None and st.ex.status is None:
                    st.ex.error = st.ex.error or "stream reset"
                self._end(sid, st, 0)
                self._end(sid, st, 1)

    def _block(self, from_client: bool, side: _Side) -> None:
        sid, flags, push = side.block_stream, side.block_flags, side.block_push
        block = bytes(side.block)
        side.block = bytearray()
        side.block_stream = 0
        try:
            headers = side.decoder.decode(block)
        except (HPACKError, ValueError, IndexError) as e:
            self._die(side, f"HPACK decoding failed ({e.__class__.__name__})")
            return
        if push:
            return
        st = self.streams.get(sid)
        if from_client:
            if st is None:
                ex = message_exchange(self.sink, self.conn, headers, "HTTP/2.0", self.sink.ts)
                st = self.streams[sid] = StreamExchange(ex)
            # else: request trailers
        else:
            if st is None or st.ex is None:
                return
            if not st.has_response:
                st.has_response = response_headers(st.ex, headers, self.sink.limits)
        if flags & _END_STREAM and st is not None:
            self._end(sid, st, 0 if from_client else 1)

    def _end(self, sid: int, st: StreamExchange, d: int) -> None:
        st.end(d, self.sink.limits)
        if st.ended[0] and st.ended[1]:
            self.streams.pop(sid, None)

    def finish(self) -> None:
        """The connection ended: store what the open streams carried."""
        for st in self.streams.values():
            st.finish(self.sink.limits)
        self.streams.clear()
