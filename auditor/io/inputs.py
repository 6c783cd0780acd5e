"""Bounded reading of every input: captures, policies, known values, reports, key logs.

Two entry points:

- :func:`read_small` (and :func:`read_text`): a whole small file (a policy, a known-values
  file, a JSON report, a TLS key log) read into memory, refused above a size limit.
- :func:`open_bounded`: a capture, unwrapped from gzip, zlib (mitmproxy's ``.zhar``) or a zip
  archive (Playwright's ``.zip`` HAR) into an unlinked temporary file, inflated to at most a
  limit and in pieces, so memory stays small whatever the inflated size. ``-`` reads standard
  input (spooled to a temporary file the same way).

Every failure is an :class:`InputError` whose ``str()`` is one line meant for the user.
"""

from __future__ import annotations

import gzip
import io
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, BinaryIO

from auditor.errors import AuditorError

__all__ = [
    "DEFAULT_MAX_SMALL",
    "InputError",
    "Opened",
    "compression",
    "open_bounded",
    "read_small",
    "read_text",
    "size_text",
]

MiB = 2**20
DEFAULT_MAX_SMALL = 16 * MiB  # a policy, a known-values file, a key log: far less in practice
_CHUNK = 1 << 20
STDIN = "-"


class InputError(AuditorError, ValueError):
    """An input cannot be read. ``str()`` is one line meant for the user."""


def size_text(n: int) -> str:
    """``1536`` -> ``"1.5 KiB"``; whole MiB and GiB without decimals."""
    for unit, size in (("GiB", 2**30), ("MiB", MiB), ("KiB", 1024)):
        if n >= size:
            value = n / size
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} bytes"


def _name(path: str | Path) -> str:
    return "standard input" if str(path) == STDIN else str(path)


def _os_error(name: str, e: OSError) -> InputError:
    if isinstance(e, FileNotFoundError):
        return InputError(f"{name}: no such file")
    if isinstance(e, PermissionError):
        return InputError(f"{name}: permission denied")
    if isinstance(e, IsADirectoryError):
        return InputError(f"{name}: is a directory")
    return InputError(f"{name}: cannot read ({e.strerror or e})")


def _stdin() -> BinaryIO:
    return sys.stdin.buffer


def read_small(path: str | Path, what: str = "file", max_bytes: int = DEFAULT_MAX_SMALL) -> bytes:
    """The bytes of a small input file (or standard input for ``-``), at most ``max_bytes``.

    ``what`` names the expected kind in messages: ``"policy file"`` gives
    ``"x: is a directory, not a policy file"``.
    """
    name = _name(path)
    if str(path) == STDIN:
        data = _stdin().read(max_bytes + 1)
    else:
        p = Path(path)
        try:
            if p.is_dir():
                raise InputError(f"{name}: is a directory, not a {what}")
            with open(p, "rb") as fh:
                data = fh.read(max_bytes + 1)
        except OSError as e:
            raise _os_error(name, e) from None
    if len(data) > max_bytes:
        raise InputError(f"{name}: larger than {size_text(max_bytes)}, too large for a {what}")
    return data


def read_text(path: str | Path, what: str = "file", max_bytes: int = DEFAULT_MAX_SMALL) -> str:
    """:func:`read_small` decoded as UTF-8 (a byte-order mark is skipped)."""
    data = read_small(path, what, max_bytes)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(f"{_name(path)}: not UTF-8 text (byte {e.start})") from None


def compression(head: bytes) -> str | None:
    """``"gzip"``, ``"zlib"``, ``"zip"`` or None, from a file's first bytes."""
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if len(head) >= 2 and head[0] == 0x78 and (head[0] * 256 + head[1]) % 31 == 0:
        return "zlib"
    return None


@dataclass
class Opened:
    """An input opened by :func:`open_bounded`.

    ``file`` holds the content (unwrapped from its compression or archive), positioned at 0;
    ``path`` is a file on disk with the original bytes (the input itself, or standard input
    spooled to a temporary file) for readers that open it themselves; ``wrapper`` is
    ``"gzip"``, ``"zlib"``, ``"zip"`` or None; ``head`` the first 64 bytes of the content.
    """

    name: str
    path: Path
    file: IO[bytes]
    head: bytes
    wrapper: str | None = None
    member: str | None = None  # the archive member read, for a zip
    _cleanup: list[IO[bytes]] = field(default_factory=list, repr=False)
    archive: zipfile.ZipFile | None = field(default=None, repr=False)

    def attachment(self, member: str, limit: int) -> tuple[bytes, int] | None:
        """A file stored beside the HAR in a zip archive (Playwright keeps bodies so, named by
        ``content._file``): its first ``limit`` bytes and its full size, or None if absent."""
        if self.archive is None or not member:
            return None
        try:
            info = self.archive.getinfo(member)
            with self.archive.open(info) as fh:
                return fh.read(limit), info.file_size
        except (KeyError, OSError, zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError):
            return None

    def close(self) -> None:
        if self.archive is not None:
            self.archive.close()
        for fh in (self.file, *self._cleanup):
            with suppress(OSError):
                fh.close()

    def __enter__(self) -> Opened:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_bounded(
    path: str | Path,
    *,
    max_inflated: int,
    what: str = "capture",
    keep_gzip: Callable[[bytes], bool] | None = None,
) -> Opened:
    """Open an input for streaming, unwrapped and bounded (see the module's docstring).

    ``max_inflated`` bounds what a compressed input inflates to (and what standard input may
    hold); beyond it, an :class:`InputError`. ``keep_gzip`` is asked with the first inflated
    bytes of a gzip input whether to leave it wrapped (for readers that stream gzip themselves,
    such as the pcap reader); ``wrapper`` is then None and ``head`` the inflated bytes.
    """
    name = _name(path)
    spool: IO[bytes] | None = None
    try:
        if str(path) == STDIN:
            spool = tempfile.NamedTemporaryFile(prefix="auditor-stdin-")  # noqa: SIM115 - kept until Opened.close()
            _copy_bounded(_stdin(), spool, max_inflated, name, "holds more than")
            spool.flush()
            disk = Path(spool.name)
        else:
            disk = Path(path)
            if disk.is_dir():
                raise InputError(f"{name}: is a directory, not a {what} file")
        raw = open(disk, "rb")  # noqa: SIM115 - handed to the Opened input, which closes it
    except InputError:
        if spool is not None:
            spool.close()
        raise
    except OSError as e:
        if spool is not None:
            spool.close()
        raise _os_error(name, e) from None
    cleanup = [spool] if spool is not None else []
    try:
        head = raw.read(64)
        raw.seek(0)
    except OSError as e:
        raw.close()
        raise _os_error(name, e) from None
    kind = compression(head)
    if kind is None:
        return Opened(name, disk, raw, head, None, None, cleanup)
    if kind == "gzip" and keep_gzip is not None:
        try:
            with gzip.GzipFile(fileobj=raw) as g:
                inner = g.read(64)
        except (OSError, EOFError, zlib.error) as e:
            raw.close()
            for fh in cleanup:
                fh.close()
            raise InputError(f"{name}: compressed {what} is damaged ({e})") from None
        raw.seek(0)
        if keep_gzip(inner):
            return Opened(name, disk, raw, inner, None, None, cleanup)
    try:
        out, member = _unwrap(raw, kind, name, max_inflated, what)
    except BaseException:
        raw.close()
        for fh in cleanup:
            fh.close()
        raise
    archive = None
    if kind == "zip":
        try:
            archive = zipfile.ZipFile(raw)  # kept open for the bodies stored beside the HAR
        except (OSError, zipfile.BadZipFile):
            raw.close()
        else:
            cleanup.append(raw)
    else:
        raw.close()
    inner = out.read(64)
    out.seek(0)
    return Opened(name, disk, out, inner, kind, member, cleanup, archive)


def _copy_bounded(
    src: IO[bytes] | io.BufferedIOBase, dst: IO[bytes], limit: int, name: str, verb: str = "inflates beyond"
) -> int:
    total = 0
    while chunk := src.read(min(_CHUNK, limit + 1 - total) or 1):
        total += len(chunk)
        if total > limit:
            raise InputError(f"{name}: {verb} {size_text(limit)}")
        dst.write(chunk)
    return total


def _unwrap(raw: IO[bytes], kind: str, name: str, limit: int, what: str) -> tuple[IO[bytes], str | None]:
    """Inflate ``raw`` into an unlinked temporary file, at most ``limit`` bytes."""
    out = tempfile.TemporaryFile(prefix="auditor-")  # noqa: SIM115 - returned open to the caller
    member = None
    try:
        if kind == "gzip":
            with gzip.GzipFile(fileobj=raw) as g:
                _copy_bounded(g, out, limit, name, f"compressed {what} inflates beyond")
        elif kind == "zlib":
            _inflate_zlib(raw, out, limit, name, what)
        else:
            member = _unzip(raw, out, limit, name, what)
    except InputError:
        out.close()
        raise
    except (OSError, zlib.error, EOFError, zipfile.BadZipFile, NotImplementedError, RuntimeError) as e:
        out.close()
        raise InputError(f"{name}: compressed {what} is damaged ({e})") from None
    out.flush()
    out.seek(0)
    return out, member


def _inflate_zlib(raw: IO[bytes], out: IO[bytes], limit: int, name: str, what: str) -> None:
    d = zlib.decompressobj()
    total = 0
    while (data := raw.read(_CHUNK)) or d.unconsumed_tail:
        chunk = d.decompress(d.unconsumed_tail + data, _CHUNK)
        total += len(chunk)
        if total > limit:
            raise InputError(f"{name}: compressed {what} inflates beyond {size_text(limit)}")
        out.write(chunk)
        if d.eof or (not data and not chunk):
            break


def _unzip(raw: IO[bytes], out: IO[bytes], limit: int, name: str, what: str) -> str:
    """Copy the one capture in a zip archive: its ``.har`` member (Playwright writes ``har.har``
    beside the bodies it stores as separate files), else its only member."""
    with zipfile.ZipFile(raw) as z:
        infos = [i for i in z.infolist() if not i.is_dir()]
        hars = [i for i in infos if i.filename.lower().endswith(".har")]
        pick = hars if hars else infos
        if len(pick) != 1:
            listed = ", ".join(i.filename for i in pick[:5]) or "nothing"
            raise InputError(f"{name}: a zip archive must hold one .har file (it holds {listed})")
        info = pick[0]
        if info.file_size > limit:
            raise InputError(f"{name}: {info.filename} inflates beyond {size_text(limit)}")
        with z.open(info) as member:
            _copy_bounded(member, out, limit, name, f"compressed {what} inflates beyond")
        return info.filename
