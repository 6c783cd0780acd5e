"""The entry point: open a capture, pick its record reader, run the analyser over it."""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from auditor.io.pcap.analyzer import _Analyzer
from auditor.io.pcap.records import (
    _GZIP,
    _PCAP_MAGICS,
    _PCAPNG_SHB,
    Record,
    _Buffer,
    _Damage,
    _pcap_records,
    _pcapng_records,
)
from auditor.io.pcap.results import PcapResult
from auditor.limits import DEFAULT_LIMITS, Limits

__all__ = ["read_pcap"]


def read_pcap(
    path: str | os.PathLike[str],
    *,
    capture: int = 0,
    warn: Callable[[str], None] | None = None,
    limits: Limits | None = None,
    dns_messages: Iterable[bytes] = (),
) -> PcapResult:
    """Read a pcap or pcapng file (optionally gzip-compressed) in one streaming pass.

    Damage (truncation, bad record lengths, unknown link types, missing TCP segments) is
    reported through ``warn`` and in ``result.warnings``, and what could be read is returned.
    A file that is not a capture at all raises ``ValueError``.

    ``dns_messages``: raw DNS messages seen by other means, such as DNS over HTTPS inside traffic
    decrypted with a key log; they name destinations like the capture's own DNS, as lookups made
    before the capture's first packet.
    """
    name = Path(path).name
    result = PcapResult()

    def _warn(message: str) -> None:
        result.warnings.append(message)
        if warn is not None:
            warn(message)

    with open(path, "rb") as raw:
        magic = raw.read(2)
        raw.seek(0)
        f: BinaryIO = gzip.GzipFile(fileobj=raw, mode="rb") if magic == _GZIP else raw  # type: ignore[assignment]
        try:
            head = f.read(24)
        except (EOFError, OSError, zlib.error):
            head = b""
        if not head:
            raise ValueError("the file is empty or unreadable, not a pcap or pcapng capture")
        damage = _Damage(name, _warn)
        analyzer = _Analyzer(name, capture, _warn, limits or DEFAULT_LIMITS)
        fmt = analyzer.stats.format = "pcap"
        if head[:4] in _PCAP_MAGICS:
            buffer = _Buffer(f, b"", 24, damage)
            if len(head) < 24:
                damage.truncated(len(head))
                records: Iterator[Record] = iter(())
            else:
                records = _pcap_records(buffer, head, damage)
        elif head[:4] == _PCAPNG_SHB and (
            len(head) < 12 or head[8:12] in (b"\x4d\x3c\x2b\x1a", b"\x1a\x2b\x3c\x4d")
        ):
            fmt = "pcapng"
            buffer = _Buffer(f, head, 0, damage)
            records = _pcapng_records(buffer, damage)
        else:
            raise ValueError(f"not a pcap or pcapng capture (the file starts with bytes {head[:4].hex()})")
        analyzer.stats.format = fmt + (".gz" if magic == _GZIP else "")
        for message in dns_messages:
            analyzer.dns_over_http(message)
        analyzer.run(records)
        if damage.compressed_error and not damage.reported_truncation:
            damage.truncated(buffer.offset)
        analyzer.finish(result)
    return result

