from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import pytest

from auditor.io.capture import CaptureError, detect_format, open_capture

HAR = b'{"log": {"entries": [{"request": {"method": "GET", "url": "https://a.example.com/"}, "response": {"status": 204}}]}}'


@pytest.mark.parametrize(
    "head, fmt",
    [
        (b'{"log": {}}', "har"),
        (b'\xef\xbb\xbf  {"log"', "har"),
        (b"1234:5:error,", "mitmproxy"),
        (b"\xd4\xc3\xb2\xa1\x02\x00", "pcap"),
        (b"\xa1\xb2\xc3\xd4", "pcap"),
        (b"\x0a\x0d\x0d\x0a", "pcap"),
        (b"\x1f\x8b\x08", "gzip"),
        (zlib.compress(b"{}")[:4], "zlib"),
        (b"GET / HTTP/1.1", None),
        (b"12345", None),
    ],
)
def test_detect_format_from_content(head: bytes, fmt: str | None) -> None:
    assert detect_format(head) == fmt


def test_format_comes_from_content_not_name(tmp_path: Path) -> None:
    p = tmp_path / "capture.pcap"
    p.write_bytes(HAR)
    cap = open_capture(p)
    assert cap.info.format == "har" and [e.host for e in cap.exchanges] == ["a.example.com"]
    assert cap.info.exchanges == 1


@pytest.mark.parametrize("compress", [gzip.compress, zlib.compress])
def test_compressed_har(tmp_path: Path, compress) -> None:
    p = tmp_path / "c.zhar"
    p.write_bytes(compress(HAR))
    assert [e.status for e in open_capture(p).exchanges] == [204]


@pytest.mark.parametrize(
    "setup, message",
    [
        (lambda p: None, "no such file"),
        (lambda p: p.write_bytes(b""), "empty file, not a capture"),
        (lambda p: p.write_bytes(b"hello world"), "unrecognized format (expected a mitmproxy flow file, HAR or pcap)"),
        (lambda p: p.mkdir(), "is a directory, not a capture file"),
        (lambda p: p.write_bytes(b"\x1f\x8b\x08\x00garbage"), "compressed capture is damaged"),
    ],
)
def test_unusable_files_give_one_line(tmp_path: Path, setup, message: str) -> None:
    p = tmp_path / "x"
    setup(p)
    with pytest.raises(CaptureError) as e:
        open_capture(p)
    assert message in str(e.value) and "\n" not in str(e.value)
