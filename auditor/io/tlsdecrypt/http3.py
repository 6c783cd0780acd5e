"""HTTP/3 (RFC 9114) read from the decrypted streams of a QUIC connection.

Request streams (client-initiated bidirectional) carry HEADERS and DATA frames; header blocks are
decoded with QPACK (``pylsqpack``, one decoder per direction). A QPACK decoder must be sized as
its endpoint announced in SETTINGS, so events wait in order until that SETTINGS frame is read;
blocked header blocks resume when the encoder stream delivers their entries.
"""

from __future__ import annotations

from collections import deque
from typing import Any, cast

from pylsqpack import Decoder, DecoderStreamError, DecompressionFailed, EncoderStreamError, StreamBlocked

from auditor.io.pcap.quic import encode_varint, varint
from auditor.io.tlsdecrypt.exchanges import ConnInfo, Sink, StreamExchange, message_exchange, response_headers

__all__ = ["Http3Conn"]

_DATA, _HEADERS, _SETTINGS = 0x00, 0x01, 0x04
_CONTROL, _PUSH, _ENCODER, _DECODER = 0x00, 0x01, 0x02, 0x03
_QPACK_CAPACITY, _QPACK_BLOCKED = 0x01, 0x07
MAX_H3_FRAME = 1 << 24


class _Stream:
    """One direction of a stream, as bytes not yet cut into frames."""

    __slots__ = ("buf", "dead", "kind")

    def __init__(self) -> None:
        self.buf = bytearray()
        self.kind: int | None = None  # unidirectional stream type
        self.dead = False


class Http3Conn:
    """Both directions of one HTTP/3 connection; exchanges go to ``sink``."""

    def __init__(self, sink: Sink, conn: ConnInfo) -> None:
        self.sink = sink
        self.conn = conn
        self.uni: dict[tuple[int, int], _Stream] = {}
        self.requests: dict[int, StreamExchange] = {}
        self.bidi_buf: dict[tuple[int, int], _Stream] = {}
        self.decoders: list[Decoder | None] = [None, None]  # decode what the client / server sent
        self.queue: deque[tuple[Any, ...]] = deque()
        self.blocked: dict[tuple[int, int], list[tuple[Any, ...]]] = {}
        self.error: str | None = None

    # -- stream bytes ------------------------------------------------------------------------

    def data(self, from_client: bool, sid: int, data: bytes) -> None:
        d = 0 if from_client else 1
        if sid & 0x02:  # unidirectional
            st = self.uni.get((d, sid))
            if st is None:
                st = self.uni[(d, sid)] = _Stream()
            if st.dead:
                return
            st.buf += data
            if st.kind is None:
                try:
                    # varint only indexes its buffer: a bytearray reads as bytes do (no copy).
                    st.kind, p = varint(cast(bytes, st.buf), 0)
                except IndexError:
                    return
                del st.buf[:p]
            if st.kind == _ENCODER:
                self.queue.append(("enc", d, bytes(st.buf)))
                st.buf.clear()
                self._pump()
            elif st.kind == _CONTROL:
                self._frames(d, sid, st, control=True)
            else:
                st.dead = True
                st.buf.clear()
            return
        if sid & 0x01:
            return  # server-initiated bidirectional streams are not used by HTTP/3
        key = (d, sid)
        st = self.bidi_buf.get(key)
        if st is None:
            st = self.bidi_buf[key] = _Stream()
        if not st.dead:
            st.buf += data
            self._frames(d, sid, st, control=False)

    def end(self, from_client: bool, sid: int) -> None:
        if sid & 0x03 == 0:
            self.queue.append(("end", 0 if from_client else 1, sid))
            self._pump()

    def _frames(self, d: int, sid: int, st: _Stream, control: bool) -> None:
        buf = st.buf
        p = 0
        while True:
            try:
                # varint only indexes its buffer: a bytearray reads as bytes do (no copy).
                ftype, q = varint(cast(bytes, buf), p)
                length, q = varint(cast(bytes, buf), q)
            except IndexError:
                break
            if length > MAX_H3_FRAME:
                st.dead = True
                buf.clear()
                return
            if len(buf) - q < length and not (ftype == _DATA and not control):
                break
            if ftype == _DATA and not control:
                take = min(length, len(buf) - q)
                if take == 0 and length:
                    break
                self.queue.append(("data", d, sid, bytes(buf[q : q + take])))
                if take < length:  # a DATA frame in pieces: keep its header for the rest
                    buf.clear()
                    buf += encode_varint(ftype) + encode_varint(length - take)
                    self._pump()
                    return
            elif control and ftype == _SETTINGS:
                self._settings(d, bytes(buf[q : q + length]))
            elif ftype == _HEADERS and not control:
                self.queue.append(("hdr", d, sid, bytes(buf[q : q + length])))
            p = q + length
        del buf[:p]
        self._pump()

    def _settings(self, d: int, payload: bytes) -> None:
        values: dict[int, int] = {}
        p = 0
        try:
            while p < len(payload):
                k, p = varint(payload, p)
                v, p = varint(payload, p)
                values[k] = v
        except IndexError:
            pass
        # What endpoint d's decoder accepts sizes the decoder of what the other side sends.
        other = 1 - d
        if self.decoders[other] is None:
            self.decoders[other] = Decoder(values.get(_QPACK_CAPACITY, 0), values.get(_QPACK_BLOCKED, 0))

    # -- events in order ---------------------------------------------------------------------

    def _pump(self, final: bool = False) -> None:
        q = self.queue
        while q:
            ev = q[0]
            kind, d = ev[0], ev[1]
            if kind in ("enc", "hdr") and self.decoders[d] is None:
                if not final:
                    return
                self.decoders[d] = Decoder(0, 0)
            q.popleft()
            self._event(ev)

    def _event(self, ev: tuple[Any, ...]) -> None:
        kind, d = ev[0], ev[1]
        if kind == "enc":
            try:
                unblocked = self.decoders[d].feed_encoder(ev[2])
            except (EncoderStreamError, DecoderStreamError):
                self.error = self.error or "QPACK encoder stream could not be read"
                return
            for sid in unblocked:
                try:
                    _, headers = self.decoders[d].resume_header(sid)
                except (DecompressionFailed, StreamBlocked):
                    continue
                self._headers(d, sid, headers)
                for later in self.blocked.pop((d, sid), []):
                    self._event(later)
            return
        sid = ev[2]
        if (d, sid) in self.blocked and kind != "enc":
            self.blocked[(d, sid)].append(ev)
            return
        if kind == "hdr":
            try:
                _, headers = self.decoders[d].feed_header(sid, ev[3])
            except StreamBlocked:
                self.blocked[(d, sid)] = []
                return
            except DecompressionFailed:
                self.error = self.error or "QPACK header block could not be decoded"
                return
            self._headers(d, sid, headers)
        elif kind == "data":
            st = self.requests.get(sid)
            if st is not None and st.ex is not None:
                st.add(d, ev[3], self.sink.limits)
        elif kind == "end":
            st = self.requests.get(sid)
            if st is not None:
                st.end(d, self.sink.limits)

    def _headers(self, d: int, sid: int, headers: list[tuple[bytes, bytes]]) -> None:
        st = self.requests.get(sid)
        if d == 0:
            if st is None:
                ex = message_exchange(self.sink, self.conn, headers, "HTTP/3", self.sink.ts)
                self.requests[sid] = StreamExchange(ex)
        elif st is not None and st.ex is not None and not st.has_response:
            st.has_response = response_headers(st.ex, headers, self.sink.limits)

    def finish(self) -> None:
        """The connection ended: decode what waits and store the open streams' bodies."""
        self._pump(final=True)
        for st in self.requests.values():
            st.finish(self.sink.limits)
