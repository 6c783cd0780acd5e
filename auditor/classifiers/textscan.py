"""Multi-pattern prefilter: which fields may hold which value pattern, in one pass per exchange.

The sent values of an exchange are joined (NUL-separated) and scanned once with all prefilter
patterns compiled into one Hyperscan database; each match end is mapped back to its field. The
exact (slower) regular expression and validator of a pattern then run on those fields only. When
the ``hyperscan`` package is not importable, each prefilter runs as a Python regular expression
over the same joined text: the same fields come out, only slower.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate
from types import ModuleType

_hs: ModuleType | None
try:  # pragma: no cover - the import is exercised by every run
    import hyperscan as _hs
except ImportError:  # pragma: no cover - platforms without a wheel
    _hs = None

SEPARATOR = "\x00"


class Scanner:
    """A compiled set of named prefilter patterns (Hyperscan syntax, also valid for ``re``)."""

    def __init__(self, patterns: Sequence[tuple[str, str]], use_hyperscan: bool = True) -> None:
        self.names = [name for name, _ in patterns]
        self.patterns = [p for _, p in patterns]
        self.engine = "re"
        self._db = None
        self._scratch = None
        if use_hyperscan and _hs is not None:
            db = _hs.Database()
            db.compile(
                expressions=[p.encode() for p in self.patterns],
                ids=list(range(len(self.patterns))),
                elements=len(self.patterns),
                flags=[0] * len(self.patterns),
            )
            self._db = db
            self._scratch = _hs.Scratch(db)
            self.engine = "hyperscan"
        else:
            self._res = [re.compile(p.encode()) for p in self.patterns]

    def scan(self, values: Sequence[str]) -> list[set[int]]:
        """For each pattern (in order), the indices of the ``values`` it may match."""
        hits: list[set[int]] = [set() for _ in self.patterns]
        if not values:
            return hits
        text = SEPARATOR.join(values)
        if text.isascii():  # character offsets are byte offsets
            data = text.encode("ascii")
            lengths = [len(v) + 1 for v in values]
        else:
            chunks = [v.encode("utf-8", "surrogatepass") for v in values]
            data = b"\x00".join(chunks)
            lengths = [len(b) + 1 for b in chunks]
        starts = [0, *accumulate(lengths)][:-1]
        if self._db is not None:
            ends: list[tuple[int, int]] = []
            append = ends.append

            def on_match(pid: int, _start: int, end: int, _flags: int, _ctx: object) -> None:
                append((pid, end))

            self._db.scan(data, match_event_handler=on_match, scratch=self._scratch)
            for pid, end in ends:
                hits[pid].add(bisect_right(starts, end - 1) - 1)
        else:
            for pid, rx in enumerate(self._res):
                for m in rx.finditer(data):
                    hits[pid].add(bisect_right(starts, m.end() - 1) - 1)
        return hits
