"""Limits on what one audit reads, decodes and walks, so hostile captures cost bounded time and memory.

A :class:`Limits` is threaded from ``auditor report`` (``--max-body-mb``, ``--max-inflated-mb``,
``--max-depth``, ``--max-fields``, ``--max-headers``) through :func:`auditor.io.capture.open_capture`
to the readers, the body decoder and the field walkers. Whatever a limit cuts is reported: a
body kept only in part is noted on its exchange (and counted in the capture's warnings), cut
header lists are counted in a warning.

This module is the base every reader, decoder and walker uses, so it imports nothing from the
package: the defaults live here (:mod:`auditor.io.decoding` and :mod:`auditor.extract` take theirs
from it).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_FIELDS",
    "DEFAULT_MAX_INFLATED",
    "Limits",
    "cut_message",
]

MiB = 2**20

DEFAULT_MAX_INFLATED = 64 * MiB  # bytes a compressed body (or all sniffed content) inflates to
DEFAULT_MAX_DEPTH = 64  # nesting levels of JSON walked
DEFAULT_MAX_FIELDS = 20000  # fields taken from one exchange


@dataclass(frozen=True, slots=True)
class Limits:
    """How much of each exchange is read and analysed.

    - ``max_body``: bytes of one stored body or WebSocket message kept (16 MiB, as the pcap
      reader always kept); the rest is skipped and counted.
    - ``max_inflated``: bytes a compressed body is inflated to (64 MiB); a decompression bomb
      stops there.
    - ``max_depth``: nesting levels of JSON (and JSON inside strings) walked (64).
    - ``max_fields``: fields taken from one exchange (20,000).
    - ``max_headers``: headers kept per request or response (1,000; servers commonly refuse more
      than 100).
    - ``max_capture_inflated``: bytes a compressed capture file (``.zhar``, gzip/zlib) is
      inflated to (4 GiB).
    """

    max_body: int = 16 * MiB
    max_inflated: int = DEFAULT_MAX_INFLATED
    max_depth: int = DEFAULT_MAX_DEPTH
    max_fields: int = DEFAULT_MAX_FIELDS
    max_headers: int = 1_000
    max_capture_inflated: int = 4 * 2**30

    def __post_init__(self) -> None:
        for name in ("max_body", "max_inflated", "max_depth", "max_fields", "max_headers", "max_capture_inflated"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, not {value!r}")


DEFAULT_LIMITS = Limits()


def cut_message(what: str, kept: int, total: int) -> str:
    """The note on an exchange whose ``what`` (``"request body"``) was cut to ``kept`` bytes."""
    return f"{what}: only the first {kept:,} of {total:,} bytes were kept"
