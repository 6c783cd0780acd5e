"""Progress on long work, and what Ctrl-C leaves behind.

:func:`progress_for` gives the callback the audit calls once per exchange read (with the bytes
it carried). Nothing shows for work under :data:`DELAY` seconds. Past that, a rich progress bar
on standard error when it is a terminal (exchanges read, bytes, elapsed time), else a plain line
every :data:`INTERVAL` seconds, so a CI log shows that work goes on. ``-q`` passes
``quiet`` and nothing shows.

:class:`OutputLog` records which report files were written; when the user presses Ctrl-C the
command raises :class:`Interrupted` with one line saying what was and was not written.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TextIO

__all__ = ["DELAY", "INTERVAL", "Interrupted", "OutputLog", "Progress", "progress_for", "size_text"]

Progress = Callable[[int, int], None]  # (exchanges, bytes) read since the last call

DELAY = 2.0  # seconds of work before anything shows
INTERVAL = 10.0  # seconds between plain progress lines


def size_text(n: float) -> str:
    """``"12.3 MB"`` (decimal units, as file managers show sizes)."""
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n:,.1f} TB"  # pragma: no cover (the loop returns)


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


@dataclass
class _Meter:
    """Counts what was read and shows it once the work has taken :data:`DELAY` seconds."""

    stream: TextIO
    terminal: bool
    started: float = field(default_factory=time.monotonic)
    exchanges: int = 0
    bytes: int = 0
    _next_line: float = 0.0
    _bar: Any = None
    _task: Any = None

    def __call__(self, exchanges: int, nbytes: int) -> None:
        self.exchanges += exchanges
        self.bytes += nbytes
        now = time.monotonic()
        if now - self.started < DELAY:
            return
        if self.terminal:
            if self._bar is None:
                self._start_bar()
            self._bar.update(self._task, completed=self.exchanges, read=size_text(self.bytes))
        elif now >= self._next_line:
            if self._next_line:  # the first line waits a full interval after the delay
                self.stream.write(f"auditor: {self.text(now)}\n")
                self.stream.flush()
            self._next_line = now + INTERVAL

    def text(self, now: float | None = None) -> str:
        elapsed = (now or time.monotonic()) - self.started
        return f"{_count(self.exchanges, 'exchange')} read ({size_text(self.bytes)}) in {elapsed:,.0f} s"

    def _start_bar(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self._bar = Progress(
            SpinnerColumn(),
            TextColumn("auditing"),
            BarColumn(bar_width=None),  # pulses: the number of exchanges is not known in advance
            TextColumn("{task.completed:,} exchanges · {task.fields[read]}"),
            TimeElapsedColumn(),
            console=Console(file=self.stream),
            transient=True,
        )
        self._task = self._bar.add_task("auditing", total=None, read=size_text(self.bytes))
        self._bar.start()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


@contextmanager
def progress_for(quiet: bool, stream: TextIO | None = None) -> Iterator[Progress | None]:
    """The progress callback for an audit (None when ``quiet``); the display ends with the block."""
    if quiet:
        yield None
        return
    out = stream if stream is not None else sys.stderr
    try:
        terminal = out.isatty()
    except (AttributeError, ValueError):
        terminal = False
    meter = _Meter(out, terminal)
    try:
        yield meter
    finally:
        meter.close()


class Interrupted(Exception):
    """The user pressed Ctrl-C; ``str()`` is the one line to show (exit status 130)."""


@dataclass
class OutputLog:
    """The report files a command means to write, and those it has written."""

    planned: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)

    def interrupted(self) -> Interrupted:
        """The :class:`Interrupted` to raise: what was written, what was not."""
        missing = [p for p in self.planned if p not in self.written]
        if not self.written:
            what = "nothing written" if not missing else f"nothing written ({', '.join(missing)} not written)"
        else:
            what = f"wrote {', '.join(self.written)}"
            if missing:
                what += f"; not written: {', '.join(missing)}"
        return Interrupted(f"interrupted: {what}")
