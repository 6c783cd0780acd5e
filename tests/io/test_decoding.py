"""Tests for auditor.io.decoding: every Content-Encoding, chains, corrupt data and the size bound."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
import zlib
from collections.abc import Callable

import brotli
import pytest
import zstandard
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.work import lines_run

from auditor.io.decoding import DEFAULT_MAX_INFLATED, decode_body, over_limit_message

MiB = 2**20
PAYLOAD = json.dumps({"messages": [{"role": "user", "content": "héllo " * 200}]}).encode()


def raw_deflate(data: bytes) -> bytes:
    """Deflate without the zlib wrapper, as many servers send ``Content-Encoding: deflate``."""
    comp = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return comp.compress(data) + comp.flush()


def zstd_streamed(data: bytes) -> bytes:
    """A zstd frame that does not declare its content size."""
    comp = zstandard.ZstdCompressor().compressobj()
    return comp.compress(data) + comp.flush()


def zstd_plain(data: bytes) -> bytes:
    return zstandard.ZstdCompressor().compress(data)


def br(data: bytes) -> bytes:
    return brotli.compress(data, quality=5)  # the default quality 11 is slow on large inputs


ENCODERS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress,
    "x-gzip": gzip.compress,
    "deflate": zlib.compress,
    "br": br,
    "zstd": zstd_plain,
}


# --- plain cases --------------------------------------------------------------------------------


def test_default_limit() -> None:
    assert DEFAULT_MAX_INFLATED == 64 * 2**20
    assert over_limit_message(DEFAULT_MAX_INFLATED) == "inflated body over 64 MiB limit, truncated"
    assert over_limit_message(MiB) == "inflated body over 1 MiB limit, truncated"
    assert over_limit_message(1000) == "inflated body over 1000 bytes limit, truncated"


@pytest.mark.parametrize("encoding", [None, "", "identity", "IDENTITY", " identity "])
def test_identity(encoding: str | None) -> None:
    assert decode_body(PAYLOAD, encoding) == (PAYLOAD, None)


@pytest.mark.parametrize("encoding", ["gzip", "br", "zstd", "deflate", "nonsense"])
def test_empty_body(encoding: str) -> None:
    assert decode_body(b"", encoding) == (b"", None)


@pytest.mark.parametrize("encoding", sorted(ENCODERS))
def test_each_encoding(encoding: str) -> None:
    assert decode_body(ENCODERS[encoding](PAYLOAD), encoding) == (PAYLOAD, None)


@pytest.mark.parametrize("encoding", ["GZIP", " Gzip ", "BR", "Zstd"])
def test_encoding_names_are_case_insensitive(encoding: str) -> None:
    encoded = ENCODERS[encoding.strip().lower()](PAYLOAD)
    assert decode_body(encoded, encoding) == (PAYLOAD, None)


def test_gzip_multiple_members_and_zero_padding() -> None:
    encoded = gzip.compress(b"first ") + gzip.compress(b"second") + b"\0" * 8
    assert decode_body(encoded, "gzip") == (b"first second", None)


@pytest.mark.parametrize("encoding", ["gzip", "zstd"])
def test_many_tiny_members_decode_in_linear_time(encoding: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Twice the members, about twice the work, counted rather than timed: the lines of auditor's
    code run, and for gzip the bytes handed to zlib (a member must not cost a whole input piece,
    since zlib copies the unused rest of a piece when a member ends)."""
    real = zlib.decompressobj
    fed = 0

    class Counted:
        def __init__(self, *args: int) -> None:
            self._d = real(*args)

        def decompress(self, data: bytes, max_length: int = 0) -> bytes:
            nonlocal fed
            fed += len(data)
            return self._d.decompress(data, max_length)

        def __getattr__(self, name: str) -> object:
            return getattr(self._d, name)

    monkeypatch.setattr(zlib, "decompressobj", Counted)
    work, bytes_fed = {}, {}
    for members in (50_000, 100_000):
        encoded = ENCODERS[encoding](b"ab") * members
        fed = 0
        result: list[tuple[bytes, str | None]] = []
        work[members] = lines_run(lambda encoded=encoded, result=result: result.append(decode_body(encoded, encoding)))
        assert result == [(b"ab" * members, None)]
        bytes_fed[members] = fed
        if encoding == "gzip":  # a small first piece per member, never a whole 64 KiB piece
            assert fed < 2048 * members, (fed, members)
    assert 0 < work[100_000] <= 2.2 * work[50_000], work
    assert bytes_fed[100_000] <= 2.2 * bytes_fed[50_000], bytes_fed


def test_gzip_label_on_zlib_stream() -> None:
    assert decode_body(zlib.compress(PAYLOAD), "gzip") == (PAYLOAD, None)


def test_deflate_raw() -> None:
    assert decode_body(raw_deflate(PAYLOAD), "deflate") == (PAYLOAD, None)


def test_deflate_label_on_gzip_stream() -> None:
    assert decode_body(gzip.compress(PAYLOAD), "deflate") == (PAYLOAD, None)


def test_zstd_without_content_size() -> None:
    encoded = zstd_streamed(PAYLOAD)
    assert zstandard.get_frame_parameters(encoded).content_size == zstandard.CONTENTSIZE_UNKNOWN
    assert decode_body(encoded, "zstd") == (PAYLOAD, None)


def test_zstd_several_frames() -> None:
    encoded = zstd_plain(b"one ") + zstd_streamed(b"two")
    assert decode_body(encoded, "zstd") == (b"one two", None)


# --- chains -------------------------------------------------------------------------------------


def test_chain_gzip_then_br() -> None:
    encoded = br(gzip.compress(PAYLOAD))  # gzip applied first, then br
    assert decode_body(encoded, "gzip, br") == (PAYLOAD, None)


def test_chain_three_codings_with_identity() -> None:
    encoded = zstd_plain(raw_deflate(gzip.compress(PAYLOAD)))
    assert decode_body(encoded, "gzip,identity, deflate ,zstd") == (PAYLOAD, None)


def test_chain_in_wrong_order_fails() -> None:
    encoded = br(gzip.compress(PAYLOAD))
    body, error = decode_body(encoded, "br, gzip")
    assert body == encoded
    assert error == "corrupt gzip data: incorrect header check"


def test_chain_with_unknown_outer_coding_keeps_inner_result() -> None:
    # "foo, gzip": gzip is undone, then foo is unknown: the gzip output is returned.
    body, error = decode_body(gzip.compress(PAYLOAD), "foo, gzip")
    assert body == PAYLOAD
    assert error == "unsupported content-encoding 'foo'"


def test_chain_with_unknown_inner_coding_returns_input() -> None:
    encoded = gzip.compress(PAYLOAD)
    assert decode_body(encoded, "gzip, foo") == (encoded, "unsupported content-encoding 'foo'")


# --- unknown and corrupt data -------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["compress", "x-compress", "exi", "pack200-gzip", "aes128gcm"])
def test_unknown_encoding(encoding: str) -> None:
    assert decode_body(PAYLOAD, encoding) == (PAYLOAD, f"unsupported content-encoding {encoding!r}")


@pytest.mark.parametrize(
    ("encoding", "error"),
    [
        ("gzip", "corrupt gzip data: incorrect header check"),
        ("deflate", "corrupt deflate data: "),  # zlib's reason varies with the input
        ("br", "corrupt br data"),
        ("zstd", "corrupt zstd data: not a zstd frame"),
    ],
)
def test_corrupt_data_is_returned_unchanged(encoding: str, error: str) -> None:
    data = b"this is not compressed at all"
    body, got = decode_body(data, encoding)
    assert body == data
    assert got is not None and got.startswith(error)


def test_already_decoded_json_labelled_gzip() -> None:
    assert decode_body(PAYLOAD, "gzip") == (PAYLOAD, "corrupt gzip data: incorrect header check")


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd"])
def test_truncated_stream_returns_partial_output(encoding: str) -> None:
    data = os.urandom(200_000)  # incompressible, so a cut stream still decodes a prefix
    encoded = ENCODERS[encoding](data)
    body, error = decode_body(encoded[: len(encoded) // 2], encoding)
    assert error == f"{encoding} data truncated"
    assert 0 < len(body) < len(data)
    assert data.startswith(body)


def test_zstd_skippable_frame_and_padding() -> None:
    skippable = (0x184D2A50).to_bytes(4, "little") + (3).to_bytes(4, "little") + b"abc"
    encoded = skippable + zstd_plain(PAYLOAD) + b"\0\0\0"
    assert decode_body(encoded, "zstd") == (PAYLOAD, None)


def test_truncated_zstd_frame_header() -> None:
    encoded = zstd_plain(PAYLOAD)
    body, error = decode_body(encoded[:3], "zstd")
    assert (body, error) == (encoded[:3], "zstd data truncated")


@pytest.mark.parametrize("encoding", ["gzip", "br", "zstd"])
def test_corruption_in_the_middle_keeps_decoded_prefix(encoding: str) -> None:
    data = b"".join(b"line %d of a long text body\n" % i for i in range(200_000))
    encoder = ENCODERS[encoding]
    if encoding == "zstd":  # without a checksum, zstd cannot tell damaged content
        encoder = zstandard.ZstdCompressor(write_checksum=True).compress
    encoded = bytearray(encoder(data))
    middle = len(encoded) // 2
    encoded[middle : middle + 64] = b"\xff" * 64
    body, error = decode_body(bytes(encoded), encoding)
    assert error is not None
    assert len(body) >= len(data) // 4
    assert body[: len(data) // 4] == data[: len(data) // 4]


@pytest.mark.parametrize(
    ("encoding", "error"),
    [
        ("gzip", "trailing data after gzip stream"),
        ("deflate", "trailing data after deflate stream"),
        ("br", "trailing data after br stream"),
        ("zstd", "trailing data after zstd stream"),
    ],
)
def test_trailing_garbage_keeps_output(encoding: str, error: str) -> None:
    encoded = ENCODERS[encoding](PAYLOAD) + b"GARBAGE!"
    assert decode_body(encoded, encoding) == (PAYLOAD, error)


# --- the size bound -----------------------------------------------------------------------------


def zeros_bomb(encoding: str, size: int) -> bytes:
    return ENCODERS[encoding](b"\0" * size)


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd"])
def test_bomb_is_cut_at_limit(encoding: str) -> None:
    bomb = zeros_bomb(encoding, 10 * 10**6)
    start = time.perf_counter()
    body, error = decode_body(bomb, encoding, limit=MiB)
    elapsed = time.perf_counter() - start
    assert body == b"\0" * MiB
    assert error == "inflated body over 1 MiB limit, truncated"
    assert elapsed < 0.5


def test_zstd_bomb_without_content_size() -> None:
    bomb = zstd_streamed(b"\0" * (10 * 10**6))
    body, error = decode_body(bomb, "zstd", limit=MiB)
    assert (len(body), error) == (MiB, "inflated body over 1 MiB limit, truncated")


def test_raw_deflate_bomb() -> None:
    body, error = decode_body(raw_deflate(b"\0" * (10 * 10**6)), "deflate", limit=MiB)
    assert (len(body), error) == (MiB, "inflated body over 1 MiB limit, truncated")


def test_chained_bomb() -> None:
    bomb = br(gzip.compress(b"\0" * (10 * 10**6)))
    body, error = decode_body(bomb, "gzip, br", limit=MiB)
    assert len(body) == MiB
    assert error is not None and error.startswith("inflated body over 1 MiB limit, truncated")


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd"])
def test_body_of_exactly_the_limit_is_not_cut(encoding: str) -> None:
    data = os.urandom(1000) * 100
    assert decode_body(ENCODERS[encoding](data), encoding, limit=len(data)) == (data, None)
    body, error = decode_body(ENCODERS[encoding](data), encoding, limit=len(data) - 1)
    assert (body, error) == (data[:-1], over_limit_message(len(data) - 1))


def test_small_limit() -> None:
    assert decode_body(gzip.compress(b"hello world"), "gzip", limit=5) == (
        b"hello",
        "inflated body over 5 bytes limit, truncated",
    )


_MEMORY_PROBE = """
import gzip, resource, sys, zlib
import brotli, zstandard
from auditor.io.decoding import decode_body

def stream(compress, flush, total=200 * 2**20, chunk=b"\\0" * 2**20):
    return b"".join(compress(chunk) for _ in range(total // len(chunk))) + flush()

encoding = sys.argv[1]
if encoding == "gzip":
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = stream(c.compress, c.flush)
elif encoding == "br":
    c = brotli.Compressor(quality=1)
    bomb = stream(c.process, c.finish)
else:
    c = zstandard.ZstdCompressor().compressobj()
    bomb = stream(c.compress, c.flush)
sys.path.insert(0, "tests")
from support.memory import status_kb
before = status_kb("VmHWM")
body, error = decode_body(bomb, encoding, limit=2**20)
after = status_kb("VmHWM")
assert len(body) == 2**20, len(body)
print((after - before) // 1024)
"""


@pytest.mark.e2e
@pytest.mark.skipif(sys.platform != "linux", reason="peak memory is read from /proc/self/status")
@pytest.mark.parametrize("encoding", ["gzip", "br", "zstd"])
def test_bomb_memory_stays_near_limit(encoding: str) -> None:
    """A 200 MiB bomb decoded with a 1 MiB limit must not raise peak memory by much."""
    result = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE, encoding],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    growth_mib = int(result.stdout.strip())
    assert growth_mib < 16, f"peak memory grew by {growth_mib} MiB"


# --- properties ---------------------------------------------------------------------------------

ENCODING_NAMES = st.sampled_from(
    ["gzip", "x-gzip", "deflate", "br", "zstd", "identity", "gzip, br", "br, zstd", "weird", ""]
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    data=st.binary(max_size=2048),
    encoding=st.one_of(st.none(), ENCODING_NAMES),
    limit=st.integers(0, 4096),
)
def test_never_raises_on_arbitrary_bytes(data: bytes, encoding: str | None, limit: int) -> None:
    body, error = decode_body(data, encoding, limit)
    assert isinstance(body, bytes)
    assert error is None or isinstance(error, str)
    assert body == data or len(body) <= limit


@settings(max_examples=200, deadline=None)
@given(
    data=st.binary(max_size=4096),
    encoding=st.sampled_from([*sorted(ENCODERS), "zstd-streamed", "raw-deflate"]),
)
def test_round_trip(data: bytes, encoding: str) -> None:
    if encoding == "zstd-streamed":
        encoded, label = zstd_streamed(data), "zstd"
    elif encoding == "raw-deflate":
        encoded, label = raw_deflate(data), "deflate"
    else:
        encoded, label = ENCODERS[encoding](data), encoding
    assert decode_body(encoded, label) == (data, None)


@settings(max_examples=200, deadline=None)
@given(
    data=st.binary(min_size=1, max_size=4096),
    cut=st.integers(0, 10_000),
    encoding=st.sampled_from(sorted(ENCODERS)),
)
def test_cut_streams_never_raise_and_give_a_prefix(data: bytes, cut: int, encoding: str) -> None:
    encoded = ENCODERS[encoding](data)
    cut %= len(encoded)
    body, error = decode_body(encoded[:cut], encoding)
    if cut == 0:
        assert (body, error) == (b"", None)
        return
    assert error is not None
    assert body == encoded[:cut] or data.startswith(body)
