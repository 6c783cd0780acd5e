"""An index of byte strings to find in data, each with the bytes it stands for, kept on disk.

:class:`SpooledIndex` answers what :class:`.matching.Matcher` answers (the longest registered
key at each position, left to right; keys shorter than :data:`.matching.SHORT` only between
non-alphanumeric characters) with the keys and their values in an unlinked, owner-only
temporary file instead of memory. Memory holds, per distinct key prefix (its first
:attr:`SpooledIndex.PREFIX` bytes), three small arrays, one regular expression branch per
distinct start of a prefix (its first :attr:`SpooledIndex.SEARCHED` bytes) and, per key, four
integers (hash, offset, lengths); the bytes of a key are read back only where its hash matched. Keys of
one prefix are tried by length, longest first, one hash lookup per length.

Text is matched as its UTF-8 encoding (surrogates passed through): a valid key only matches a
valid text at character boundaries, so the matches are those of the same keys in the string,
and the whole-token rule of short keys is then applied to characters (``str.isalnum``).
"""

from __future__ import annotations

import os
import re
import tempfile
from array import array
from collections.abc import Iterator

from auditor.redact.matching import SHORT, _trie_regex

__all__ = ["SpooledIndex"]

_SHORT_BYTES = 1 << 40  # flags packed above the key length: short as bytes, short as text
_SHORT_TEXT = 1 << 41
_LENGTH = (1 << 40) - 1


def _ascii_alnum(c: int) -> bool:
    return (48 <= c <= 57) or (65 <= c <= 90) or (97 <= c <= 122)


def _alnum_before(data: bytes, i: int) -> bool:
    """Whether the character of UTF-8 ``data`` that ends at byte ``i`` is alphanumeric."""
    if i <= 0:
        return False
    j = i - 1
    while j > 0 and i - j < 4 and (data[j] & 0xC0) == 0x80:
        j -= 1
    try:
        return data[j:i].decode("utf-8", "surrogatepass").isalnum()
    except UnicodeDecodeError:
        return False


def _alnum_at(data: bytes, i: int) -> bool:
    """Whether the character of UTF-8 ``data`` that starts at byte ``i`` is alphanumeric."""
    if i >= len(data):
        return False
    lead = data[i]
    size = 1 if lead < 0x80 else 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4
    try:
        return data[i : i + size].decode("utf-8", "surrogatepass").isalnum()
    except UnicodeDecodeError:
        return False


class SpooledIndex:
    """Keys (bytes) and their values (bytes) on disk; finds and replaces the keys in data.

    Add every pair first (:meth:`add`: the first value given for a key stays), then use
    :meth:`finditer`, :meth:`sub` and :meth:`value`; :meth:`close` removes the file.
    """

    PREFIX = 12
    SEARCHED = 6  # the regular expression finds the first bytes of the prefixes only (fewer branches)

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile(prefix="auditor-redact-")  # noqa: SIM115 - closed by close()
        self._fd = self._file.fileno()
        self._end = 0
        # prefix -> (hashes of its keys, 3 integers per key: offset, key length | flags, value
        # length); once frozen, longest keys first, with the runs of each key length (length,
        # first, end) as a third array
        self._buckets: dict[bytes, tuple[array[int], array[int], array[int]]] = {}
        self._regex: re.Pattern[bytes] | None = None
        self._lengths: list[int] = []
        self._frozen = False
        self.size = 0  # keys held
        self.longest = 0  # length of the longest key, in bytes
        self.count = 0  # replacements made by :meth:`sub`

    def __len__(self) -> int:
        return self.size

    def close(self) -> None:
        self._file.close()
        self._buckets = {}
        self._regex = None

    # ---- building

    def add(self, key: bytes, value: bytes, text_length: int | None = None) -> bool:
        """Register ``key`` (``text_length``: its length in characters, for the whole-token
        rule of text); False when the key was already there (its first value stays)."""
        if not key:
            return False
        if self._frozen:
            raise RuntimeError("SpooledIndex: add() after the first search")
        prefix = key[: self.PREFIX]
        h = hash(key)
        bucket = self._buckets.get(prefix)
        if bucket is None:
            bucket = self._buckets[prefix] = (array("q"), array("q"), array("q"))
        elif h in bucket[0] and self._holds(bucket, key, h):
            return False
        os.pwrite(self._fd, key + value, self._end)
        flags = (_SHORT_BYTES if len(key) < SHORT else 0) | (
            _SHORT_TEXT if (text_length if text_length is not None else len(key)) < SHORT else 0
        )
        bucket[0].append(h)
        bucket[1].extend((self._end, len(key) | flags, len(value)))
        self._end += len(key) + len(value)
        self.size += 1
        self.longest = max(self.longest, len(key))
        return True

    def _holds(self, bucket: tuple[array[int], array[int], array[int]], key: bytes, h: int) -> bool:
        hashes, meta, _ = bucket
        i = -1
        while True:
            try:
                i = hashes.index(h, i + 1)
            except ValueError:
                return False
            if (meta[3 * i + 1] & _LENGTH) == len(key) and self._read(meta[3 * i], len(key)) == key:
                return True

    def _read(self, offset: int, size: int) -> bytes:
        return os.pread(self._fd, size, offset)

    def _freeze(self) -> None:
        """Sort each prefix's keys longest first (stable), note the run of each length, and
        compile the prefix expression."""
        for prefix, (hashes, meta, _) in self._buckets.items():
            order = sorted(range(len(hashes)), key=lambda i: -(meta[3 * i + 1] & _LENGTH))
            new_hashes = array("q", (hashes[i] for i in order))
            new_meta = array("q", (x for i in order for x in meta[3 * i : 3 * i + 3]))
            runs = array("q")
            for j in range(len(order)):
                length = new_meta[3 * j + 1] & _LENGTH
                if runs and runs[-3] == length:
                    runs[-1] = j + 1
                else:
                    runs.extend((length, j, j + 1))
            self._buckets[prefix] = (new_hashes, new_meta, runs)
        self._lengths = sorted({len(p) for p in self._buckets}, reverse=True)
        heads = {p[: self.SEARCHED] for p in self._buckets}
        self._regex = re.compile(_trie_regex(sorted(heads), bytes)) if heads else None
        self._frozen = True

    # ---- searching

    def finditer(self, data: bytes, overlapping: bool = False, text: bool = False) -> Iterator[tuple[int, int, int]]:
        """``(start, end, record)`` of the longest key at each place, left to right (not
        overlapping unless ``overlapping``); ``text``: ``data`` is UTF-8 text, the whole-token
        rule applies to its characters. Read a record's value with :meth:`value`."""
        if not self._frozen:
            self._freeze()
        regex = self._regex
        if regex is None or not data:
            return
        buckets = self._buckets
        short_flag = _SHORT_TEXT if text else _SHORT_BYTES
        n = len(data)
        search_at = 0
        while search_at < n:
            m = regex.search(data, search_at)
            if m is None:
                return
            start = m.start()
            hit = -1
            matched = m.end() - start  # (a prefix longer than this may match, unless this is all of one)
            for plen in self._lengths:
                if plen > matched and matched < self.SEARCHED:
                    continue
                bucket = buckets.get(data[start : start + plen])
                if bucket is None:
                    continue
                hashes, meta, runs = bucket
                for r in range(0, len(runs), 3):
                    end = start + runs[r]
                    if end > n:
                        continue
                    piece = data[start:end]
                    try:
                        i = hashes.index(hash(piece), runs[r + 1], runs[r + 2])
                    except ValueError:
                        continue
                    if meta[3 * i + 1] & short_flag and (
                        (_alnum_before(data, start) or _alnum_at(data, end))
                        if text
                        else (start > 0 and _ascii_alnum(data[start - 1])) or (end < n and _ascii_alnum(data[end]))
                    ):
                        continue
                    if self._read(meta[3 * i], runs[r]) != piece:
                        continue  # (a hash collision)
                    hit = (meta[3 * i] << 64) | (runs[r] << 32) | meta[3 * i + 2]
                    break
                if hit >= 0:
                    break
            if hit < 0:
                search_at = start + 1
                continue
            end = start + ((hit >> 32) & 0xFFFFFFFF)
            yield start, end, hit
            search_at = start + 1 if overlapping else end

    def value(self, record: int) -> bytes:
        """The value of a record that :meth:`finditer` yielded."""
        offset, klen, vlen = record >> 64, (record >> 32) & 0xFFFFFFFF, record & 0xFFFFFFFF
        return self._read(offset + klen, vlen)

    def sub(self, data: bytes, text: bool = False) -> bytes:
        """``data`` with every key replaced by its value."""
        out: list[bytes] = []
        pos = 0
        for start, end, record in self.finditer(data, text=text):
            out.append(data[pos:start])
            out.append(self.value(record))
            self.count += 1
            pos = end
        if not out:
            return data
        out.append(data[pos:])
        return b"".join(out)
