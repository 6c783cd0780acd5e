"""Peak memory of a process, read from its own ``VmHWM`` in ``/proc/<pid>/status``.

Not ``ru_maxrss``: Linux carries a parent's peak over into a child across fork and exec, so a
child of a large process (pytest, a benchmark driver) would report its parent.

- :func:`peak_rss_mb` / :func:`status_kb`: this process (or any process by pid);
- :func:`watch_peaks`: sample running processes from outside until one exits;
- run as a script, ``python tests/support/memory.py MODULE ARGS...`` runs ``python -m MODULE
  ARGS...`` and writes its ``VmHWM`` (KiB) at exit to the file named by ``$PEAK_FILE``.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterable
from pathlib import Path

PEAK_FILE_ENV = "PEAK_FILE"
SCRIPT = Path(__file__).resolve()


def status_kb(field: str = "VmHWM", pid: int | str = "self") -> int | None:
    """A memory figure (``VmHWM``, ``VmRSS``...) of a process in KiB; None when the process is
    gone or the kernel has no such line."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def peak_rss_mb(pid: int | str = "self") -> float:
    """The peak resident set size of a process (this one by default) in MiB, from its ``VmHWM``."""
    kb = status_kb("VmHWM", pid)
    if kb is None:
        raise RuntimeError(f"no VmHWM in /proc/{pid}/status")
    return kb / 1024


def descendants(pid: int) -> list[int]:
    """The pids of every process below ``pid`` (children, their children...)."""
    out: list[int] = []
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            kids = [int(c) for t in Path(f"/proc/{p}/task").iterdir() for c in (t / "children").read_text().split()]
        except OSError:
            continue
        out.extend(kids)
        todo.extend(kids)
    return out


def watch_peaks(
    proc: subprocess.Popen[bytes] | subprocess.Popen[str], interval: float = 0.005,
    pids: Callable[[], Iterable[int]] | None = None,
) -> dict[int, int]:
    """Sample the ``VmHWM`` (KiB) of ``pids()`` (default: ``proc`` itself) every ``interval``
    seconds until ``proc`` exits; the highest reading per pid. ``VmHWM`` only grows, so the last
    reading is the peak, give or take the last interval."""
    peaks: dict[int, int] = {}
    while proc.poll() is None:
        for pid in pids() if pids is not None else (proc.pid,):
            kb = status_kb("VmHWM", pid)
            if kb is not None and kb > peaks.get(pid, 0):
                peaks[pid] = kb
        time.sleep(interval)
    return peaks


def _run_module_and_report() -> None:
    import atexit
    import os
    import runpy
    import sys

    def report() -> None:
        kb = status_kb("VmHWM")
        with open(os.environ[PEAK_FILE_ENV], "w", encoding="ascii") as out:
            out.write("" if kb is None else str(kb))

    atexit.register(report)
    module = sys.argv[1]
    sys.argv = [module, *sys.argv[2:]]
    sys.path[0] = ""  # as ``python -m``: the working directory first, not this folder
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    _run_module_and_report()
