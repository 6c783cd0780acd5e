"""Atomic, owner-only writing of every output (reports, redacted captures, check results).

Outputs hold evidence about people, so files are created readable by their owner only (0600)
and the folders made for them are owner-only too (0700).

:class:`Outputs` writes the files of one run together: each goes to a temporary file beside its
target first, and only when every one of them is complete are they renamed into place. A
failure on the way (a renderer error, a full disk) leaves no new file behind and no older one
overwritten.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, TextIO

__all__ = ["OutputError", "Outputs", "open_private", "private_dir", "write_private"]


class OutputError(OSError):
    """An output cannot go where it was asked to. ``str()`` is one line meant for the user."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "cannot write"


def private_dir(path: Path) -> None:
    """Make folder ``path`` and any missing parent, each owner-only (0700).

    A parent that exists as a file gives an :class:`OutputError` that says so (instead of the
    system's "File exists" or "Not a directory").
    """
    missing: list[Path] = []
    p = path
    while True:
        if p.is_dir():
            break
        if p.exists() or p.is_symlink():
            raise OutputError(f"{p} is a file, not a folder")
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=0o700)
        except FileExistsError:
            if not d.is_dir():
                raise OutputError(f"{d} is a file, not a folder") from None
        except NotADirectoryError:
            raise OutputError(f"{d.parent} is a file, not a folder") from None


def _temporary(path: Path) -> tuple[Path, int]:
    private_dir(path.parent)
    if path.is_dir():
        raise OutputError(f"{path} is a folder")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.fchmod(fd, 0o600)
    return tmp, fd


class Outputs:
    """The output files of one run, committed together.

    ::

        with Outputs() as out:
            with out.open_text(Path("r/report.html")) as fh:
                render(fh)
            out.write(Path("r/report.json"), text)
        # both renamed into place here, or neither if anything above raised
    """

    def __init__(self) -> None:
        self._pending: list[tuple[Path, Path]] = []  # (temporary, target)
        self.written: list[Path] = []

    @contextmanager
    def open_binary(self, path: Path) -> Iterator[BinaryIO]:
        """A binary file object that becomes ``path`` when the run commits."""
        tmp, fd = _temporary(path)
        self._pending.append((tmp, path))
        with os.fdopen(fd, "wb") as fh:
            yield fh

    @contextmanager
    def open_text(self, path: Path) -> Iterator[TextIO]:
        """A UTF-8 text file object that becomes ``path`` when the run commits."""
        tmp, fd = _temporary(path)
        self._pending.append((tmp, path))
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            yield fh

    def write(self, path: Path, data: str | bytes) -> None:
        """Write ``data`` (text as UTF-8) as ``path`` when the run commits."""
        with self.open_binary(path) as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)

    def temporary(self, path: Path) -> Path:
        """Where the pending ``path`` is being written (to check it before :meth:`commit`)."""
        for tmp, target in self._pending:
            if target == path:
                return tmp
        raise KeyError(path)

    def commit(self) -> list[Path]:
        """Rename every temporary file into place; return the paths written."""
        pending, self._pending = self._pending, []
        done = 0
        try:
            for tmp, target in pending:
                os.replace(tmp, target)
                self.written.append(target)
                done += 1
        except OSError:
            for tmp, _ in pending[done:]:
                with suppress(OSError):
                    tmp.unlink()
            raise
        return list(self.written)

    def discard(self) -> None:
        """Remove the temporary files: nothing of this run is written."""
        pending, self._pending = self._pending, []
        for tmp, _ in pending:
            with suppress(OSError):
                tmp.unlink()

    def __enter__(self) -> Outputs:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()


def write_private(path: Path, data: str | bytes) -> Path:
    """Write one owner-only file in full or not at all (an older file stays until the new one is complete)."""
    with Outputs() as out:
        out.write(path, data)
    return path


@contextmanager
def open_private(path: Path) -> Iterator[TextIO]:
    """A UTF-8 text file object that becomes ``path``, owner-only, when the block ends without error."""
    with Outputs() as out, out.open_text(path) as fh:
        yield fh
