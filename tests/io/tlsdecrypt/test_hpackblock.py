"""The HPACK fast path decodes every block as hpack's own decoder does: the same header lists,
the same dynamic table after them, and the same exception when a block is bad."""

from __future__ import annotations

import random

import pytest
from hpack import Decoder, Encoder, HeaderTuple, NeverIndexedHeaderTuple

from auditor.io.tlsdecrypt.hpackblock import BlockDecoder


def _blocks(seed: int, count: int) -> list[bytes]:
    """Header blocks as an HTTP/2 peer writes them: indexed and literal fields, Huffman or not,
    never-indexed values, new names, table size updates, a table that evicts."""
    rnd = random.Random(seed)
    enc = Encoder()
    names = [b":method", b":path", b":authority", b":scheme", b"user-agent", b"accept", b"cookie",
             b"authorization", b"x-request-id", b"content-type", b"x-custom-" + bytes([97 + seed % 26])]
    out = []
    for i in range(count):
        if rnd.random() < 0.05:
            enc.header_table_size = rnd.choice([0, 256, 4096, 1 << 16])
        headers = []
        for _ in range(rnd.randint(1, 12)):
            name = rnd.choice(names)
            value = rnd.choice([b"GET", b"/v1/chat?n=%d" % i, b"a" * rnd.randint(0, 300), b"\xff\x00\x80 binary",
                                b"x" * rnd.randint(1, 40)])
            if rnd.random() < 0.2:
                headers.append(NeverIndexedHeaderTuple(name, value))
            else:
                headers.append(HeaderTuple(name, value))
        out.append(enc.encode(headers, huffman=rnd.random() < 0.7))
    return out


def _run(decoder: Decoder | BlockDecoder, block: bytes) -> tuple[str, object]:
    try:
        if isinstance(decoder, BlockDecoder):
            headers = decoder.decode(block)
        else:
            headers = [(bytes(n), bytes(v)) for n, v in decoder.decode(block, raw=True)]
    except Exception as e:  # noqa: BLE001 - the exception class is what is compared
        return "error", type(e).__name__
    return "ok", headers


def _state(decoder: Decoder) -> tuple[object, ...]:
    t = decoder.header_table
    return list(t.dynamic_entries), t._current_size, t.maxsize


@pytest.mark.parametrize("seed", range(6))
def test_same_as_hpack_on_good_and_damaged_blocks(seed: int) -> None:
    rnd = random.Random(1000 + seed)
    blocks = _blocks(seed, 300)
    fast = BlockDecoder(1 << 16)
    ref = Decoder()
    ref.max_allowed_table_size = 1 << 16
    errors = 0
    handed: list[bytes] = []  # blocks the fast path handed to hpack's decoder
    _count_fallbacks(fast, handed)
    for i, block in enumerate(blocks):
        if i > 200:  # the last ones damaged: truncated, bytes changed, bytes added
            b = bytearray(block)
            how = rnd.randrange(3)
            if how == 0 and b:
                del b[rnd.randrange(len(b)) :]
            elif how == 1 and b:
                for _ in range(rnd.randint(1, 3)):
                    b[rnd.randrange(len(b))] = rnd.randrange(256)
            else:
                b[rnd.randrange(len(b) + 1) : 0] = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 6)))
            block = bytes(b)
        got, want = _run(fast, block), _run(ref, block)
        assert got == want, (i, block)
        if want[0] == "error":
            errors += 1
            # A peer's decoder is not used after an error; start both again from the same state.
            fast = BlockDecoder(1 << 16)
            _count_fallbacks(fast, handed)
            ref = Decoder()
            ref.max_allowed_table_size = 1 << 16
        else:
            assert _state(fast.hpack) == _state(ref)
        if i == 200:
            assert len(handed) < 30  # good blocks: only those with a table size update (about 5%)
    assert errors > 5  # the damaged blocks did reach the error paths


def _count_fallbacks(fast: BlockDecoder, handed: list[bytes]) -> None:
    decode = fast.hpack.decode

    def counted(block: bytes, raw: bool = False) -> object:
        handed.append(block)
        return decode(block, raw=raw)

    fast.hpack.decode = counted  # type: ignore[method-assign]


def test_limits_as_hpack() -> None:
    enc = Encoder()
    big = enc.encode([(b"x-big", b"v" * 70000)], huffman=False)  # over the header list limit
    for block in (big, b"\x80", b"\xff\xff\xff\xff\xff\xff\x01", b"\x3f\xe1\xff\x03"):  # index 0, long varint, size update
        assert _run(BlockDecoder(1 << 16), block) == _run(_fresh(), block)


def _fresh() -> Decoder:
    d = Decoder()
    d.max_allowed_table_size = 1 << 16
    return d
