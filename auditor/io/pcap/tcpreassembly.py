"""Reassembly of one direction of a TCP connection.

Segments may arrive out of order, retransmitted, overlapping or cut short by the capture's
snapshot length; :class:`TcpStream` hands its consumer the bytes in sequence order, each byte at
most once, and reports holes it had to give up on. Out-of-order data is buffered up to a limit,
so memory per connection stays bounded.
"""

from __future__ import annotations

from collections.abc import Callable

MASK = 0xFFFFFFFF
DEFAULT_MAX_PENDING = 1 << 22  # out-of-order bytes held before a hole is skipped


def seq_diff(a: int, b: int) -> int:
    """``a - b`` in 32-bit sequence space, as a signed number."""
    d = (a - b) & MASK
    return d - 0x100000000 if d & 0x80000000 else d


class TcpStream:
    """Ordered byte delivery for one direction of a TCP connection.

    ``on_data(bytes)`` receives the stream in order; ``on_gap(n)`` is told that ``n`` bytes are
    missing (never captured, or cut by the snapshot length); ``on_end()`` is called once, when the
    stream reaches its FIN or :meth:`finish` is called.
    """

    __slots__ = (
        "delivered",
        "ended",
        "fin_seq",
        "gaps",
        "max_pending",
        "next_seq",
        "on_data",
        "on_end",
        "on_gap",
        "pending",
        "pending_bytes",
        "synced",
    )

    def __init__(
        self,
        on_data: Callable[[bytes], None],
        on_gap: Callable[[int], None] | None = None,
        on_end: Callable[[], None] | None = None,
        max_pending: int = DEFAULT_MAX_PENDING,
    ) -> None:
        self.next_seq: int | None = None
        self.synced = False
        self.pending: dict[int, tuple[bytes, int]] = {}
        self.pending_bytes = 0
        self.fin_seq: int | None = None
        self.ended = False
        self.delivered = 0
        self.gaps = 0
        self.max_pending = max_pending
        self.on_data = on_data
        self.on_gap = on_gap
        self.on_end = on_end

    def syn(self, seq: int) -> None:
        """A SYN with sequence number ``seq``: the data starts at ``seq + 1``."""
        if self.delivered == 0:
            self.next_seq = (seq + 1) & MASK
            self.synced = True

    def segment(self, seq: int, data: bytes, wire_len: int | None = None) -> None:
        """A segment whose first byte has sequence number ``seq``.

        ``wire_len`` is the payload length on the wire when the capture kept only ``data``.
        """
        if self.ended:
            return
        n = len(data) if wire_len is None else max(wire_len, len(data))
        if n == 0:
            return
        if self.next_seq is None:
            self.next_seq = seq & MASK
        d = seq_diff(seq, self.next_seq)
        if d > 0:
            old = self.pending.get(seq & MASK)
            if old is None or old[1] < n:
                self.pending[seq & MASK] = (data, n)
                self.pending_bytes += len(data) - (len(old[0]) if old else 0)
            if self.pending_bytes > self.max_pending:
                self._skip_hole()
            return
        if d < 0:
            if not self.synced and self.delivered == 0:
                # Joined mid-stream and an earlier segment turned up late: start from it.
                self.next_seq = seq & MASK
            else:
                overlap = -d
                if overlap >= n:
                    return  # pure retransmission
                data = data[overlap:]
                n -= overlap
        self._deliver(data, n)
        if self.pending:
            self._drain()
        self._check_end()

    def fin(self, seq: int) -> None:
        """A FIN at sequence number ``seq`` (the byte after the last data byte)."""
        if self.next_seq is None:
            self.next_seq = seq & MASK
        self.fin_seq = seq & MASK
        self._check_end()

    def finish(self) -> None:
        """No more segments will come: deliver what is buffered, skipping holes, and end."""
        while self.pending and not self.ended:
            self._skip_hole()
        if not self.ended:
            self.ended = True
            if self.on_end is not None:
                self.on_end()
        self.pending.clear()
        self.pending_bytes = 0

    # -- internals --------------------------------------------------------------------------

    def _deliver(self, data: bytes, n: int) -> None:
        self.next_seq = (self.next_seq + n) & MASK  # type: ignore[operator]
        self.delivered += n
        if data:
            self.on_data(data)
        if n > len(data):
            self.gaps += 1
            if self.on_gap is not None:
                self.on_gap(n - len(data))

    def _drain(self) -> None:
        for s in sorted(self.pending, key=lambda k: seq_diff(k, self.next_seq)):  # type: ignore[arg-type]
            d = seq_diff(s, self.next_seq)  # type: ignore[arg-type]
            if d > 0:
                break
            data, n = self.pending.pop(s)
            self.pending_bytes -= len(data)
            if -d < n:
                self._deliver(data[-d:] if d else data, n + d)

    def _skip_hole(self) -> None:
        first = min(self.pending, key=lambda k: seq_diff(k, self.next_seq))  # type: ignore[arg-type]
        hole = seq_diff(first, self.next_seq)  # type: ignore[arg-type]
        if hole > 0:
            self.gaps += 1
            if self.on_gap is not None:
                self.on_gap(hole)
            self.next_seq = first
        self._drain()
        self._check_end()

    def _check_end(self) -> None:
        if not self.ended and self.fin_seq is not None and self.next_seq == self.fin_seq and not self.pending:
            self.ended = True
            if self.on_end is not None:
                self.on_end()
