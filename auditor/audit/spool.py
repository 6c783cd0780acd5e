"""A list of JSON-ready records that moves to a temporary file once it grows, so memory stays flat.

The audit collects one record (a dict) per finding. A capture of 100,000 exchanges gives
hundreds of thousands of them, so past :attr:`RecordSpool.memory_limit` records they are written,
one after the other in :mod:`marshal` format (several times faster to write and read back than
JSON, and exact for the JSON types records hold), to an unlinked temporary file readable by its
owner only, and read back one at a time whenever they are iterated. Small audits never touch the
disk. The file is only ever read by the process that wrote it.
"""

from __future__ import annotations

import json
import marshal
import os
import tempfile
import threading
from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any, overload

__all__ = ["RecordSpool"]

_READ = 1 << 20


class RecordSpool(Sequence[dict[str, Any]]):
    """An append-only sequence of dicts, in memory while small, on disk once large.

    Items read back from disk are fresh copies: changing one does not change the spool.
    """

    memory_limit = 10_000

    def __init__(self, items: Iterable[dict[str, Any]] = (), memory_limit: int | None = None) -> None:
        if memory_limit is not None:
            self.memory_limit = memory_limit
        self._items: list[dict[str, Any]] = []
        self._file: IO[bytes] | None = None
        self._offsets = array("q")
        self._end = 0
        self._lock = threading.Lock()
        for item in items:
            self.append(item)

    @property
    def spooled(self) -> bool:
        """True once the records live in the temporary file."""
        return self._file is not None

    def append(self, item: dict[str, Any]) -> None:
        """Add one record (of JSON types: dict, list, str, int, float, bool, None)."""
        with self._lock:
            if self._file is None:
                self._items.append(item)
                if len(self._items) > self.memory_limit:
                    self._spill()
                return
            self._write(item)

    def _spill(self) -> None:
        self._file = tempfile.TemporaryFile(prefix="auditor-findings-")  # noqa: SIM115 - closed by close()
        items, self._items = self._items, []
        for item in items:
            self._write(item)

    def _write(self, item: dict[str, Any]) -> None:
        assert self._file is not None
        # marshal keeps lone surrogates (from escapes such as \ud800 in captured JSON) as they are.
        try:
            data = marshal.dumps(item)
        except ValueError:  # a subclass (of str, dict...): stored as its JSON form, as JSON would read it back
            data = marshal.dumps(json.loads(json.dumps(item, ensure_ascii=False)))
        self._offsets.append(self._end)
        self._file.write(data)
        self._end += len(data)

    def value(self) -> list[dict[str, Any]] | RecordSpool:
        """The records as a plain list while in memory, else the spool itself."""
        return self._items if self._file is None else self

    def __len__(self) -> int:
        return len(self._items) if self._file is None else len(self._offsets)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if self._file is None:
            yield from list(self._items)
            return
        with self._lock:
            self._file.flush()
            end = self._end
            count = len(self._offsets)
        fd = self._file.fileno()
        offsets = self._offsets
        data = b""
        base = 0  # data holds the file's bytes [base, base + len(data))
        for i in range(count):
            start = offsets[i]
            stop = offsets[i + 1] if i + 1 < count else end
            if stop > base + len(data):  # read on from this record: a block, or the whole record
                have = base + len(data)
                data = data[start - base :] + os.pread(fd, max(_READ, stop - have), have)
                base = start
                if stop > base + len(data):
                    break  # (cannot happen: the file holds every record written)
            yield marshal.loads(data[start - base : stop - base])

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if self._file is None:
            return self._items[index]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        n = len(self._offsets)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError("record index out of range")
        with self._lock:
            self._file.flush()
            end = self._offsets[index + 1] if index + 1 < n else self._end
        return marshal.loads(os.pread(self._file.fileno(), end - self._offsets[index], self._offsets[index]))

    def close(self) -> None:
        """Delete the temporary file (the records are gone with it)."""
        if self._file is not None:
            self._file.close()

    def __repr__(self) -> str:
        where = "on disk" if self._file is not None else "in memory"
        return f"<RecordSpool of {len(self)} records {where}>"
