"""The analysis engine the live addons talk to: its interface (:class:`Engine`), and
:class:`ThreadEngine`, which runs the analysis in a thread of the proxy's process.

The default engine, :class:`auditor.worker.ProcessEngine`, runs it in a separate process. Either
writes each submitted flow to ``capture.flows``, audits it, and calls back with the marks and
destination updates it found (:data:`auditor.worker.Results`, from the engine's own thread).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from auditor.worker import Analysis, Results

log = logging.getLogger(__name__)


class Engine(Protocol):
    """What the addons need of an analysis engine. ``submit`` is called on the proxy's event loop
    and must return at once; the other calls may block (they are made at the end, or by
    commands)."""

    @property
    def pid(self) -> int | None:
        """The process the analysis runs in, if not the proxy's own."""
        ...

    def submit(self, index: int, state: dict[str, Any], size: int) -> None:
        """Hand over the snapshot (``flow.get_state()``) of flow number ``index``, about
        ``size`` bytes."""
        ...

    def opaque(self, host: str, reason: str, state: dict[str, Any] | None = None) -> None:
        """Record a connection the proxy could not see into (and its flow state, for the capture)."""
        ...

    def configure(self, reveal: bool, first_party: tuple[str, ...]) -> None:
        """Change the options the report depends on."""
        ...

    def backlog(self) -> tuple[int, int]:
        """Flows, and their approximate bytes, submitted and not yet written and analysed."""
        ...

    def drain(self) -> None:
        """Wait until everything submitted so far is written and analysed."""
        ...

    def document(self) -> dict[str, Any]:
        """The report document so far."""
        ...

    def close(self) -> dict[str, Any]:
        """Drain, close the capture, stop; the final report document."""
        ...


class ThreadEngine:
    """Runs :class:`auditor.worker.Analysis` in one thread of the proxy's process (the
    ``audit_process=false`` mode: simpler, but the analysis shares the interpreter lock with
    the proxy). An :class:`Engine`, as :class:`auditor.worker.ProcessEngine` is."""

    pid: int | None = None  # (no process of its own)

    def __init__(
        self, capture_path: str | None, on_result: Results, reveal: bool = False, first_party: tuple[str, ...] = ()
    ) -> None:
        self.analysis = Analysis(capture_path)
        self.analysis.configure(reveal, first_party)
        self.on_result = on_result
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="auditor")
        self.submitted = self.submitted_bytes = 0
        self.acked = self.acked_bytes = 0

    def submit(self, index: int, state: dict[str, Any], size: int) -> None:
        self.submitted += 1
        self.submitted_bytes += size
        self._executor.submit(self._add, index, state, size)

    def _add(self, index: int, state: dict[str, Any], size: int) -> None:
        try:
            mark, updates = self.analysis.add(index, state)
            if mark is not None or updates:
                self.on_result([mark] if mark is not None else [], updates)
        except Exception:  # a failing callback must not stop the analysis thread
            log.debug("auditor: result callback failed", exc_info=True)
        finally:
            # (each counter has one writer: submitted the loop, acked this thread)
            self.acked += 1
            self.acked_bytes += size

    def opaque(self, host: str, reason: str, state: dict[str, Any] | None = None) -> None:
        self._executor.submit(lambda: self.on_result([], self.analysis.opaque(host, reason, state)))

    def configure(self, reveal: bool, first_party: tuple[str, ...]) -> None:
        self._executor.submit(self.analysis.configure, reveal, first_party)

    def backlog(self) -> tuple[int, int]:
        return self.submitted - self.acked, self.submitted_bytes - self.acked_bytes

    def drain(self) -> None:
        self._executor.submit(lambda: None).result()

    def document(self) -> dict[str, Any]:
        return self._executor.submit(self.analysis.document).result()

    def close(self) -> dict[str, Any]:
        self.drain()
        self._executor.shutdown(wait=True)
        self.analysis.close()
        return self.analysis.document()
