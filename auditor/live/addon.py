"""The live audit as mitmproxy addons: one per concern, composed by :func:`default_addons` (as
mitmproxy composes its own), and :class:`LiveAuditor`, the same addons as one object (what
``mitmdump -s`` scripts and the commands that embed the proxy load)."""

from __future__ import annotations

from collections.abc import Awaitable
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from mitmproxy import command, http

from auditor.live.engine import Engine
from auditor.live.mapping import HostMap
from auditor.live.marks import MarkFlows
from auditor.live.record import Recorder
from auditor.live.session import AuditSession, Update
from auditor.live.sse import StreamSSE


class LiveAddons(NamedTuple):
    """The addons of a live audit, in the order mitmproxy calls them."""

    hosts: HostMap
    sse: StreamSSE
    marks: MarkFlows
    recorder: Recorder
    session: AuditSession


def default_addons(on_update: Update | None = None) -> LiveAddons:
    """The addons of a live audit, wired to each other. ``on_update`` (optional) is called with a
    destination summary whenever a destination first appears or receives a new category of
    personal data; without it each new destination is logged.

    ``addons = list(default_addons())`` in a script loads them one by one (mitmproxy then calls
    each of them itself); ``addons = [LiveAuditor()]`` loads the same as one addon."""
    marks = MarkFlows()
    session = AuditSession(marks, on_update)
    return LiveAddons(HostMap(), StreamSSE(), marks, Recorder(session, marks), session)


class _WithOptions(Protocol):
    def load(self, loader: Any) -> None: ...
    def configure(self, updated: set[str]) -> None: ...
    def running(self) -> None: ...


class LiveAuditor:
    """The mitmproxy addon of a live audit: :func:`default_addons` as one addon, which passes
    each of mitmproxy's events on to the part that handles it. ``on_update``: see
    :func:`default_addons`.

    (The parts are not in an ``addons`` attribute: mitmproxy would then call each of them
    itself, after this object had already passed the event on.)"""

    def __init__(self, on_update: Update | None = None) -> None:
        self.parts = default_addons(on_update)
        p = self.parts
        self._with_options: tuple[_WithOptions, ...] = (p.hosts, p.sse, p.marks, p.session)

    # -- mitmproxy's events, passed on --------------------------------------------------------
    def load(self, loader: Any) -> None:
        for part in self._with_options:
            part.load(loader)

    def configure(self, updated: set[str]) -> None:
        for part in self._with_options:
            part.configure(updated)

    def running(self) -> None:
        for part in self._with_options:
            part.running()

    def done(self) -> None:
        self.parts.session.done()

    def server_connect(self, data: Any) -> None:
        self.parts.hosts.server_connect(data)

    def server_connected(self, data: Any) -> None:
        self.parts.hosts.server_connected(data)

    def server_connect_error(self, data: Any) -> None:
        self.parts.hosts.server_connect_error(data)

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        self.parts.sse.responseheaders(flow)

    def response(self, flow: http.HTTPFlow) -> Awaitable[None] | None:
        return self.parts.recorder.response(flow)

    def error(self, flow: http.HTTPFlow) -> Awaitable[None] | None:
        return self.parts.recorder.error(flow)

    def websocket_end(self, flow: http.HTTPFlow) -> Awaitable[None] | None:
        return self.parts.recorder.websocket_end(flow)

    def tls_failed_client(self, data: Any) -> None:
        self.parts.recorder.tls_failed_client(data)

    def tls_failed_server(self, data: Any) -> None:
        self.parts.recorder.tls_failed_server(data)

    @command.command("audit.report")
    def audit_report(self) -> None:
        """Write the reports of the audit so far beside the capture (audit_dir), now."""
        self.parts.session.audit_report()

    # -- the audit, for the code that embeds the proxy ----------------------------------------
    def drain(self) -> None:
        """Wait until every submitted flow is written and analysed (and marked)."""
        self.parts.session.drain()

    def document(self) -> dict[str, Any]:
        """The report document so far (all of it after :meth:`finish`)."""
        return self.parts.session.document()

    def finish(self) -> dict[str, Any]:
        """Drain, close the capture, write the reports (if ``audit_dir``); return the document.
        See :meth:`AuditSession.finish`."""
        return self.parts.session.finish()

    def warnings(self) -> list[str]:
        """What the proxy's side lost (the engine reports the rest in the document)."""
        return self.parts.session.warnings()

    @property
    def engine(self) -> Engine | None:
        """The analysis engine (None until the options are known)."""
        return self.parts.session.engine

    @property
    def capture_path(self) -> Path | None:
        """Where the capture is (elsewhere than ``audit_dir`` if that folder vanished)."""
        return self.parts.session.capture_path

    @property
    def report_paths(self) -> list[Path]:
        return self.parts.session.report_paths

    @property
    def report_errors(self) -> list[str]:
        return self.parts.session.report_errors

    @property
    def upstream_failures(self) -> dict[str, str]:
        """Host -> why its upstream TLS handshake failed."""
        return self.parts.recorder.upstream_failures

    @property
    def unrecorded(self) -> int:
        """Flows that could not be snapshotted (see the log)."""
        return self.parts.recorder.unrecorded

    @property
    def maps(self) -> dict[str, tuple[str, int]]:
        """``audit_map``, parsed."""
        return self.parts.hosts.maps

    # The backlog bounds (see :class:`Recorder`): flows, bytes, and how long one flow waits.
    @property
    def max_backlog(self) -> int:
        return self.parts.recorder.max_backlog

    @max_backlog.setter
    def max_backlog(self, value: int) -> None:
        self.parts.recorder.max_backlog = value

    @property
    def max_backlog_bytes(self) -> int:
        return self.parts.recorder.max_backlog_bytes

    @max_backlog_bytes.setter
    def max_backlog_bytes(self, value: int) -> None:
        self.parts.recorder.max_backlog_bytes = value

    @property
    def max_backlog_wait(self) -> float:
        return self.parts.recorder.max_backlog_wait

    @max_backlog_wait.setter
    def max_backlog_wait(self, value: float) -> None:
        self.parts.recorder.max_backlog_wait = value

    def _backlog(self) -> tuple[int, int]:
        return self.parts.recorder.backlog()
