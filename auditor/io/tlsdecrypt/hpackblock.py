"""HPACK (RFC 7541) header blocks decoded in one loop, on the ``hpack`` package's decoder state.

``hpack.Decoder.decode`` spends most of its time in per-field Python overhead (a memoryview slice
and a copy of the rest of the block per literal, a debug log call per field, tuple subclasses).
:class:`BlockDecoder` decodes the representations every HTTP/2 peer sends (indexed fields, and
literals with incremental indexing, without indexing and never indexed) itself, with the checks
hpack makes on them, reading and updating hpack's own header table. Anything else (a dynamic
table size update, an index out of range, a truncated block, bad Huffman data, a header list over
the limit) makes it put the table back as it was before the
block and hand the block to ``hpack.Decoder.decode``: what comes out, result or exception, is
then exactly hpack's.
"""

from __future__ import annotations

from hpack import Decoder
from hpack.huffman_table import decode_huffman
from hpack.table import HeaderTable

__all__ = ["BlockDecoder"]

_STATIC = HeaderTable.STATIC_TABLE
_STATIC_LEN = len(_STATIC)
_VARINT_MAX = 5  # hpack.hpack.VARINT_MAX_LENGTH


class _Other(Exception):
    """The block needs hpack's own decoder."""


def _integer(data: bytes, pos: int, mask: int) -> tuple[int, int]:
    """The integer with a ``mask``-bit prefix at ``pos`` (RFC 7541 5.1), and the position after it."""
    start = pos
    n = data[pos] & mask
    pos += 1
    if n == mask:
        shift = 0
        while True:
            b = data[pos]  # IndexError when truncated: hpack's decoder takes the block
            pos += 1
            if b >= 128:
                n += (b - 128) << shift
            else:
                n += b << shift
                break
            shift += 7
            if pos - start > _VARINT_MAX:  # (hpack's limit on continuation bytes)
                raise _Other
    return n, pos


class BlockDecoder:
    """One direction's HPACK decoder: :meth:`decode` gives a block's ``(name, value)`` byte pairs."""

    __slots__ = ("hpack",)

    def __init__(self, max_table_size: int) -> None:
        self.hpack = Decoder()
        self.hpack.max_allowed_table_size = max_table_size

    def decode(self, block: bytes) -> list[tuple[bytes, bytes]]:
        """The header list of ``block``; raises what ``hpack.Decoder.decode`` raises."""
        table = self.hpack.header_table
        entries = table.dynamic_entries
        saved = (list(entries), table._current_size)
        try:
            return self._decode(block, table)
        except Exception:  # noqa: BLE001 - anything unusual: hpack decides, from the same table
            entries.clear()
            entries.extend(saved[0])
            table._current_size = saved[1]
        return [(bytes(name), bytes(value)) for name, value in self.hpack.decode(block, raw=True)]

    def _decode(self, data: bytes, table: HeaderTable) -> list[tuple[bytes, bytes]]:
        entries = table.dynamic_entries
        limit = self.hpack.max_header_list_size
        headers: list[tuple[bytes, bytes]] = []
        inflated = 0
        pos = 0
        end = len(data)
        while pos < end:
            first = data[pos]
            if first & 0x80:  # indexed field
                index, pos = _integer(data, pos, 0x7F)
                if 0 < index <= _STATIC_LEN:
                    name, value = _STATIC[index - 1]
                elif _STATIC_LEN < index <= _STATIC_LEN + len(entries):
                    name, value = entries[index - _STATIC_LEN - 1]
                else:
                    raise _Other
            else:
                if first & 0x40:
                    index_bits, indexing = 0x3F, True
                elif first & 0x20:  # dynamic table size update
                    raise _Other
                else:
                    index_bits, indexing = 0x0F, False
                if first & index_bits:  # the name from the table
                    index, pos = _integer(data, pos, index_bits)
                    if 0 < index <= _STATIC_LEN:
                        name = _STATIC[index - 1][0]
                    elif _STATIC_LEN < index <= _STATIC_LEN + len(entries):
                        name = entries[index - _STATIC_LEN - 1][0]
                    else:
                        raise _Other
                else:  # a literal name
                    huffman = data[pos + 1] & 0x80
                    length, pos = _integer(data, pos + 1, 0x7F)
                    name = data[pos : pos + length]
                    if len(name) != length:
                        raise _Other
                    pos += length
                    if huffman:
                        name = decode_huffman(name)
                huffman = data[pos] & 0x80
                length, pos = _integer(data, pos, 0x7F)
                value = data[pos : pos + length]
                if len(value) != length:
                    raise _Other
                pos += length
                if huffman:
                    value = decode_huffman(value)
                if indexing:
                    size = 32 + len(name) + len(value)
                    maxsize = table._maxsize
                    if size > maxsize:  # an entry larger than the table empties it (RFC 7541 4.4)
                        entries.clear()
                        table._current_size = 0
                    else:
                        entries.appendleft((name, value))
                        current = table._current_size + size
                        while current > maxsize:
                            old_name, old_value = entries.pop()
                            current -= 32 + len(old_name) + len(old_value)
                        table._current_size = current
            headers.append((name, value))
            inflated += 32 + len(name) + len(value)
            if inflated > limit:
                raise _Other
        if table._maxsize > self.hpack.max_allowed_table_size:
            raise _Other
        return headers
