"""What passes through the proxy goes to the analysis: each finished flow (answered, failed, or
a WebSocket that ended), each connection whose client refused the proxy's certificate, and
each upstream server whose handshake failed."""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Awaitable
from contextlib import suppress
from typing import Any

from mitmproxy import http

from auditor.live.marks import MarkFlows
from auditor.live.messages import upstream_hint
from auditor.live.session import AuditSession
from auditor.live.snapshot import Snapshots

log = logging.getLogger(__name__)


class Recorder:
    """The mitmproxy addon that hands flows to the session's engine (no options of its own).

    An error here (a flow that cannot be snapshotted) is logged and counted, and never reaches
    the app's traffic. What it lost goes into the report's warnings."""

    #: Flows (and bytes of bodies) waiting for the writer and the analysis before the proxy
    #: holds finished flows back until the backlog is halved; each flow waits at most
    #: ``max_backlog_wait`` seconds, so a stuck analysis never stops the traffic.
    max_backlog = 1000
    max_backlog_bytes = 64 << 20
    max_backlog_wait = 10.0

    def __init__(self, session: AuditSession, marks: MarkFlows) -> None:
        self.session = session
        self.marks = marks
        self._snapshot = Snapshots()
        self._next_index = 0
        # Flows already handed over (a flow can see both ``response`` and ``error``); weak, so
        # the set does not grow with the traffic.
        self._submitted: weakref.WeakSet[http.HTTPFlow] = weakref.WeakSet()
        self.throttled = 0
        self.unrecorded = 0
        self.upstream_failures: dict[str, str] = {}  # host -> why its TLS handshake failed
        session.warning_sources.append(self.warnings)

    # These hooks return an awaitable only while the backlog is over its bounds (see
    # ``max_backlog``); mitmproxy then waits for it before finishing the flow.
    def response(self, flow: http.HTTPFlow) -> Awaitable[None] | None:
        if flow.websocket is None:
            self._submit(flow)
        return self._backpressure()

    def error(self, flow: http.HTTPFlow) -> Awaitable[None] | None:
        if flow.websocket is None:
            self._submit(flow)
        return self._backpressure()

    def websocket_end(self, flow: http.HTTPFlow) -> Awaitable[None] | None:
        self._submit(flow)
        return self._backpressure()

    def tls_failed_client(self, data: Any) -> None:
        """The client refused the proxy's certificate (pinning, or the CA is not trusted).

        The connection is saved in the capture as a TCP flow with the client's SNI, the
        server's address and the error (see :func:`opaque_flow_state`), so that auditing
        ``capture.flows`` later finds the same opaque destination as the live report."""
        if self.session.finished:
            return
        try:
            state = opaque_flow_state(data.context.client, data.context.server, str(data.conn.error or ""))
        except Exception:  # never break the app's traffic
            log.debug("auditor: cannot record a failed TLS handshake", exc_info=True)
            return
        from auditor.io.flowfile import opaque_connection

        found = opaque_connection(state)
        if found is not None:
            self.session.ensure_engine().opaque(found[0], found[1], state)

    def tls_failed_server(self, data: Any) -> None:
        """The upstream server's certificate was refused: say how to accept a test backend's
        (logged under mitmdump; ``auditor capture``/``run`` print ``upstream_failures``)."""
        if self.session.finished:
            return
        host = str(data.context.server.sni or (data.context.server.address or ("?",))[0])
        first = not self.upstream_failures
        self.upstream_failures.setdefault(host, str(data.conn.error or "no reason given"))
        if first and self.session.standalone:
            log.warning("auditor: %s", upstream_hint(self.upstream_failures, "--set ssl_insecure=true"))

    def _submit(self, flow: http.HTTPFlow) -> None:
        if flow in self._submitted or self.session.finished:
            return
        self._submitted.add(flow)
        try:
            state = self._snapshot(flow)
        except Exception:  # never break the app's traffic
            self.unrecorded += 1
            log.exception("auditor: cannot snapshot flow %s", flow.id)
            return
        index = self._next_index
        self._next_index += 1
        self.marks.track(index, flow)
        self.session.ensure_engine().submit(index, state, flow_size(flow))

    def backlog(self) -> tuple[int, int]:
        """Flows, and their approximate bytes, handed over but not yet written and analysed."""
        engine = self.session.engine
        return engine.backlog() if engine is not None else (0, 0)

    def _backpressure(self) -> Awaitable[None] | None:
        flows, size = self.backlog()
        if flows <= self.max_backlog and size <= self.max_backlog_bytes:
            return None
        return self._wait_for_backlog()

    async def _wait_for_backlog(self) -> None:
        """Hold this flow until the backlog is down to half its bounds: under more traffic than
        the analysis keeps up with, the proxy slows down instead of growing without bound."""
        if not self.throttled:
            log.info("auditor: the analysis is behind the traffic; slowing the proxy down to keep memory bounded")
        self.throttled += 1
        deadline = time.monotonic() + self.max_backlog_wait
        while not self.session.finished and time.monotonic() < deadline:
            flows, size = self.backlog()
            if flows <= self.max_backlog // 2 and size <= self.max_backlog_bytes // 2:
                return
            await asyncio.sleep(0.005)

    def warnings(self) -> list[str]:
        """What this side lost (the engine reports the rest in the document)."""
        out = []
        if self.unrecorded:
            out.append(f"live: {self.unrecorded} flow(s) could not be recorded (see the log)")
        if self.throttled:
            out.append(
                f"live: the analysis fell behind the traffic; {self.throttled} flow(s) were held back "
                "to keep memory bounded (the app saw slower answers meanwhile)"
            )
        return out


def opaque_flow_state(client: Any, server: Any, error: str) -> dict[str, Any]:
    """A connection the proxy could not see into, as a flow state mitmproxy's ``FlowReader``
    reads: a TCP flow without messages, with the client's SNI, the server's address, the
    error, and ``metadata["auditor"] = "opaque"``."""
    from mitmproxy import flow as mflow
    from mitmproxy import tcp

    f = tcp.TCPFlow(client, server)
    f.error = mflow.Error(error or "TLS handshake with the client failed")
    f.metadata["auditor"] = "opaque"
    return f.get_state()


def flow_size(flow: http.HTTPFlow) -> int:
    """Approximate memory of a flow's snapshot: its bodies and messages, plus the rest."""
    size = 2048
    with suppress(Exception):
        size += len(flow.request.raw_content or b"")
        if flow.response is not None:
            size += len(flow.response.raw_content or b"")
        if flow.websocket is not None:
            size += sum(len(m.content) for m in flow.websocket.messages)
    return size
