"""Flows with findings are marked and commented where a flow list shows them (mitmweb,
mitmproxy's console): ``audit_mark``."""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from typing import TYPE_CHECKING, Any

from mitmproxy import ctx, hooks, http

if TYPE_CHECKING:
    from auditor.worker import Mark

log = logging.getLogger(__name__)


class MarkFlows:
    """The mitmproxy addon of ``audit_mark``. The recorder tells it which flow went to the
    analysis under which index (:meth:`track`); the engine's marks come back from its thread
    (:meth:`receive`) and are applied on the proxy's event loop, in batches."""

    def __init__(self) -> None:
        self.enabled = True
        # index -> flow, to mark it when its findings come back
        self._flows: weakref.WeakValueDictionary[int, http.HTTPFlow] = weakref.WeakValueDictionary()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: list[Mark] = []
        self._lock = threading.Lock()

    def load(self, loader: Any) -> None:
        loader.add_option("audit_mark", bool, True, "Mark flows with findings and comment them.")

    def configure(self, updated: set[str]) -> None:
        self._apply_options()

    def running(self) -> None:
        # An addon added with master.addons.add() after start-up gets no configure call.
        self._apply_options()

    def _apply_options(self) -> None:
        # Marks are for mitmweb and mitmproxy's console, which keep the flows listed; mitmdump
        # (and the embedded proxy) keep none, so marking there would be work for nobody.
        self.enabled = ctx.options.audit_mark and keeps_flows()

    def track(self, index: int, flow: http.HTTPFlow) -> None:
        """Flow ``index`` went to the analysis (called on the proxy's event loop)."""
        if self.enabled:
            self._flows[index] = flow
            if self._loop is None:
                self._loop = running_loop()

    def receive(self, marks: list[Mark]) -> None:
        """Marks from the engine's thread."""
        if not marks or not self.enabled:
            return
        loop = self._loop
        if loop is None or loop.is_closed():
            self._mark(marks)
            return
        # One loop callback and one update hook for all flows marked meanwhile: under load
        # this keeps the marking off the proxy's critical path.
        with self._lock:
            first = not self._pending
            self._pending.extend(marks)
        if first:
            try:
                loop.call_soon_threadsafe(self.flush)
            except RuntimeError:  # the loop has stopped
                self.flush()

    def flush(self) -> None:
        """Apply the marks received so far."""
        with self._lock:
            batch, self._pending = self._pending, []
        self._mark(batch)

    def settle(self) -> None:
        """After the engine drained: apply the marks now, unless the proxy's event loop is running
        elsewhere (it applies them itself then)."""
        loop = self._loop
        if loop is None or loop.is_closed() or not loop.is_running() or running_loop() is loop:
            self.flush()

    def _mark(self, batch: list[Mark]) -> None:
        flows = []
        for index, marked, comment in batch:
            flow = self._flows.pop(index, None)
            if flow is None:  # already gone (mitmdump keeps no flows)
                continue
            try:
                flow.marked = marked
                flow.comment = comment
                flows.append(flow)
            except Exception:  # a flow that cannot be marked is left as it is
                log.debug("auditor: could not mark flow", exc_info=True)
        if not flows:
            return
        try:
            ctx.master.addons.trigger(hooks.UpdateHook(flows))
        except Exception:  # the marks are a convenience: never an error of the proxy
            log.debug("auditor: could not announce marked flows", exc_info=True)


def keeps_flows() -> bool:
    """Whether this mitmproxy keeps a list of flows (its ``view`` addon: mitmweb, console)."""
    try:
        return ctx.master.addons.get("view") is not None
    except Exception:  # noqa: BLE001 - when in doubt, mark
        return True


def running_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop of this thread, if one is running."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
