"""``capture.flows``, the live capture file: written flow by flow, and kept readable when the disk
fills up or the output folder vanishes."""

from __future__ import annotations

import logging
import os
import signal
import tempfile
import threading
import time
from contextlib import suppress
from pathlib import Path

from auditor.io.outputs import private_dir

log = logging.getLogger(__name__)

CAPTURE_NAME = "capture.flows"


def ignore_file_size_signal() -> None:
    """Make a file-size limit (``ulimit -f``) fail the write with EFBIG instead of killing the
    process with SIGXFSZ, so the capture keeps what it had and the report says what was lost.
    Only possible from the main thread; child processes get the default back (``subprocess``
    restores SIGXFSZ)."""
    if hasattr(signal, "SIGXFSZ") and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


class CaptureFile:
    """``capture.flows``, written flow by flow, that survives a full disk and a vanished folder.

    A write that fails (no space left, file too large, I/O error) is undone (the file is cut
    back to its last complete flow, so it stays readable) and counted; later flows are tried
    again. If the folder is removed while capturing, the file is restored from the still-open
    descriptor into the re-created folder, or into a fallback folder when the path is taken.
    ``warnings()`` says what was lost, for the report.
    """

    def __init__(self, path: Path, append: bool = False) -> None:
        self.path = path
        self.flows = 0
        self.lost = 0
        self.reasons: dict[str, int] = {}
        self.notes: list[str] = []
        self._size = 0
        self._fd: int | None = _open_private(path, truncate=not append)
        if append:
            # continue after the last complete flow (a process that died mid-write leaves a piece)
            self._size = _complete_length(self._fd)
            os.ftruncate(self._fd, self._size)
            os.lseek(self._fd, self._size, os.SEEK_SET)

    @property
    def directory(self) -> Path:
        return self.path.parent

    def write(self, data: bytes) -> bool:
        """Append one flow; False (and counted) if it could not be written."""
        if self._fd is None:
            self.lose("the capture file is closed")
            return False
        try:
            if os.fstat(self._fd).st_nlink == 0:
                self._recover()
            _write_all(self._fd, data)
        except OSError as e:
            with suppress(OSError):
                os.ftruncate(self._fd, self._size)
                os.lseek(self._fd, self._size, os.SEEK_SET)
            self.lose(e.strerror or str(e))
            return False
        self._size += len(data)
        self.flows += 1
        return True

    def close(self) -> None:
        if self._fd is None:
            return
        with suppress(OSError):
            if os.fstat(self._fd).st_nlink == 0:
                self._recover()
        if self._fd is not None:
            with suppress(OSError):
                os.close(self._fd)
        self._fd = None

    def warnings(self) -> list[str]:
        out = list(self.notes)
        if self.lost:
            reasons = ", ".join(sorted(self.reasons))
            out.append(
                f"{CAPTURE_NAME}: {self.lost} flow(s) could not be written ({reasons}); "
                "the report covers them, the capture does not"
            )
        return out

    def lose(self, reason: str) -> None:
        """Count one flow that could not be written, and why."""
        if not self.lost:
            log.warning(
                "auditor: cannot write to %s (%s); the proxy keeps serving, the report will count what is missing",
                self.path, reason,
            )
        self.lost += 1
        self.reasons[reason] = self.reasons.get(reason, 0) + 1

    def _recover(self) -> None:
        """The file was unlinked (its folder removed): copy what it holds to a new file."""
        assert self._fd is not None
        old, gone = self._fd, self.path.parent
        target = self.path
        try:
            private_dir(target.parent)
            new = os.open(target, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError:
            target = fallback_dir(gone) / CAPTURE_NAME
            new = _open_private(target)
        try:
            offset = 0
            while offset < self._size:
                chunk = os.pread(old, min(1 << 20, self._size - offset), offset)
                if not chunk:
                    break
                _write_all(new, chunk)
                offset += len(chunk)
        except OSError:
            os.close(new)
            raise
        os.close(old)
        self._fd, self.path = new, target
        where = "re-created it" if target.parent == gone else f"continued in {target.parent}"
        note = (
            f"{CAPTURE_NAME}: the output folder {gone} vanished while capturing; "
            f"{where} and restored the {self.flows} flow(s) written before"
        )
        self.notes.append(note)
        log.warning("auditor: %s", note)


def _open_private(path: Path, truncate: bool = True) -> int:
    private_dir(path.parent)  # (every folder it makes owner-only)
    # read-write: if the folder is removed, the content is read back from this descriptor
    fd = os.open(path, os.O_RDWR | os.O_CREAT | (os.O_TRUNC if truncate else 0), 0o600)
    os.fchmod(fd, 0o600)  # O_CREAT keeps the mode of a file that already existed
    return fd


def _complete_length(fd: int) -> int:
    """The length of the run of complete top-level tnetstrings at the start of the file."""
    end = os.fstat(fd).st_size
    offset = 0
    while offset < end:
        head = os.pread(fd, 12, offset)
        colon = head.find(b":")
        if colon <= 0 or not head[:colon].isdigit():
            break
        stop = offset + colon + 1 + int(head[:colon])
        if stop >= end or os.pread(fd, 1, stop) != b"}":
            break
        offset = stop + 1
    return offset


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def fallback_dir(wanted: Path) -> Path:
    """A new owner-only folder beside ``wanted`` (or in the temporary folder) for outputs that
    cannot go where they should."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    try:
        d = wanted.with_name(f"{wanted.name}.recovered-{stamp}-{os.getpid()}")
        d.mkdir(mode=0o700, parents=False, exist_ok=True)
        return d
    except OSError:
        return Path(tempfile.mkdtemp(prefix=f"auditor-{stamp}-"))
