"""The live audit: a mitmproxy addon that audits traffic as it passes.

Each finished flow is snapshotted on the proxy's event loop (its state, as ``flow.get_state()``
gives it, see :class:`Snapshots`) and handed to the analysis, which by default runs in a
separate process (:mod:`auditor.worker`): it writes the flow to the capture file and audits it
with the same code that reads saved captures (:func:`auditor.flowfile.state_to_exchange` and
:class:`auditor.audit.Auditor`), so the same traffic gives the same findings live and offline.
The proxy's process, which serves the app's traffic, keeps its core and its interpreter lock
to itself. The app's traffic never waits for the analysis (unless the analysis falls far
behind, see ``LiveAuditor.max_backlog``), and an analysis error is logged and leaves the flow
untouched.

Options (``--set name=value`` in mitmdump/mitmweb):

- ``audit_dir``: where ``capture.flows``, ``report.html`` and ``report.json`` go (none: no files)
- ``audit_formats``: report formats written at the end (``html,json``)
- ``audit_reveal``: show personal values unmasked in the reports
- ``audit_first_party``: hosts, registrable domains or owners of the app itself
- ``audit_map``: ``HOST=ADDR:PORT``: connect to ADDR:PORT for HOST, keep HOST in the capture
- ``audit_block_unmapped``: refuse connections to hosts that ``audit_map`` does not name
- ``audit_stream_sse``: stream server-sent events to the client (bodies are still recorded)
- ``audit_mark``: mark flows with findings and comment them with categories and country (where
  flows are kept: mitmweb and mitmproxy's console)
- ``audit_process``: analyse in a separate process (default); false: in a thread of the proxy
"""

from __future__ import annotations

import asyncio
import copy
import logging
import os
import signal
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path
from typing import Any

from mitmproxy import command, ctx, http
from mitmproxy.io import tnetstring
from mitmproxy.version import FLOW_FORMAT_VERSION

from ..io.outputs import private_dir
from ..worker import Analysis, Mark, ProcessEngine, Results

log = logging.getLogger(__name__)

CAPTURE_NAME = "capture.flows"
Update = Callable[[dict[str, Any]], None]


def parse_map(entries: Sequence[str]) -> dict[str, tuple[str, int]]:
    """``["api.openai.com=127.0.0.1:8443"]`` -> ``{"api.openai.com": ("127.0.0.1", 8443)}``."""
    out: dict[str, tuple[str, int]] = {}
    for entry in entries:
        host, sep, target = entry.partition("=")
        addr, colon, port = target.rpartition(":")
        if not sep or not host or not colon or not addr or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"invalid map {entry!r}: expected HOST=ADDR:PORT")
        out[host.strip().lower()] = (addr.strip("[]"), int(port))
    return out


def tnetstring_dumps(value: Any) -> bytes:
    """``mitmproxy.io.tnetstring.dumps`` with the same bytes, about twice as fast (flow states
    are written on the proxy's process, so this is part of what the addon costs)."""
    out: list[bytes] = []
    _tn(value, out)
    return out[0]


def _tn(value: Any, out: list[bytes]) -> None:
    t = type(value)
    if t is bytes:
        out.append(b"%d:%s," % (len(value), value))
    elif t is str:
        data = value.encode()
        out.append(b"%d:%s;" % (len(data), data))
    elif t is dict:
        parts: list[bytes] = []
        for k, v in reversed(value.items()):  # mitmproxy writes dict items last first
            _tn(k, parts)
            _tn(v, parts)
        body = b"".join(parts)
        out.append(b"%d:%s}" % (len(body), body))
    elif t is list or t is tuple:
        parts = []
        for item in value:
            _tn(item, parts)
        body = b"".join(parts)
        out.append(b"%d:%s]" % (len(body), body))
    elif value is None:
        out.append(b"0:~")
    elif value is True:
        out.append(b"4:true!")
    elif value is False:
        out.append(b"5:false!")
    elif t is int:
        data = b"%d" % value
        out.append(b"%d:%s#" % (len(data), data))
    elif t is float:
        data = repr(value).encode()
        out.append(b"%d:%s^" % (len(data), data))
    else:  # subclasses and anything else: mitmproxy's own encoder
        out.append(tnetstring.dumps(value))


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
            out.append(f"{CAPTURE_NAME}: {self.lost} flow(s) could not be written ({reasons}); the report covers them, the capture does not")
        return out

    def lose(self, reason: str) -> None:
        """Count one flow that could not be written, and why."""
        if not self.lost:
            log.warning("auditor: cannot write to %s (%s); the proxy keeps serving, the report will count what is missing", self.path, reason)
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
        note = f"{CAPTURE_NAME}: the output folder {gone} vanished while capturing; {where} and restored the {self.flows} flow(s) written before"
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


class Snapshots:
    """``flow.get_state()``, about three times faster.

    Most of what mitmproxy's ``get_state`` costs is the two connections, serialised field by
    field for every flow although a keep-alive connection does not change between its flows.
    Here a connection's state is kept (weakly, by connection) and reused while its attributes
    are the same objects with the same values. The first flow is also snapshotted the slow way
    and compared: if the two ever differ (another mitmproxy version), ``get_state`` is used.
    """

    def __init__(self) -> None:
        self._conns: weakref.WeakKeyDictionary[Any, tuple[list[Any], dict[str, Any]]] = weakref.WeakKeyDictionary()
        self._checked = False
        self._fast = True

    def __call__(self, flow: http.HTTPFlow) -> dict[str, Any]:
        if not self._fast:
            return flow.get_state()
        state = self._snapshot(flow)
        if not self._checked:
            self._checked = True
            if state != flow.get_state():
                log.warning("auditor: fast flow snapshots differ from mitmproxy's; using get_state()")
                self._fast = False
                return flow.get_state()
        return state

    def _conn(self, conn: Any) -> dict[str, Any]:
        values = list(conn.__dict__.values())
        cached = self._conns.get(conn)
        if cached is not None and cached[0] == values:
            return cached[1]
        state = conn.get_state()
        self._conns[conn] = (values, state)
        return state

    def _snapshot(self, flow: http.HTTPFlow) -> dict[str, Any]:
        # mitmproxy.flow.Flow.get_state and mitmproxy.http.HTTPFlow.get_state, same keys and order
        state = {
            "version": FLOW_FORMAT_VERSION,
            "type": flow.type,
            "id": flow.id,
            "error": flow.error.get_state() if flow.error else None,
            "client_conn": self._conn(flow.client_conn),
            "server_conn": self._conn(flow.server_conn),
            "intercepted": flow.intercepted,
            "is_replay": flow.is_replay,
            "marked": flow.marked,
            "metadata": copy.deepcopy(flow.metadata) if flow.metadata else {},
            "comment": flow.comment,
            "timestamp_created": flow.timestamp_created,
        }
        backup = flow._backup
        state["backup"] = copy.deepcopy(backup) if backup != state else None
        state["request"] = flow.request.get_state()
        state["response"] = flow.response.get_state() if flow.response else None
        state["websocket"] = flow.websocket.get_state() if flow.websocket else None
        return state


class ThreadEngine:
    """Runs :class:`auditor.worker.Analysis` in one thread of the proxy's process (the
    ``audit_process=false`` mode: simpler, but the analysis shares the interpreter lock with
    the proxy). Same interface as :class:`auditor.worker.ProcessEngine`."""

    pid = None

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
        except Exception:
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


class LiveAuditor:
    """The mitmproxy addon. ``on_update`` (optional) is called with a destination summary
    whenever a destination first appears or receives a new category of personal data."""

    #: Flows (and bytes of bodies) waiting for the writer and the analysis before the proxy
    #: holds finished flows back until the backlog is halved; each flow waits at most
    #: ``max_backlog_wait`` seconds, so a stuck analysis never stops the traffic.
    max_backlog = 1000
    max_backlog_bytes = 64 << 20
    max_backlog_wait = 10.0

    def __init__(self, on_update: Update | None = None) -> None:
        # Without a callback (mitmdump -s, mitmweb -s) each new destination is logged.
        self._standalone = on_update is None
        self.on_update = on_update if on_update is not None else _log_destination
        self.engine: Any = None  # ProcessEngine or ThreadEngine, made once the options are known
        self.maps: dict[str, tuple[str, int]] = {}
        # server connection -> its address before --map (weak: a connection that never
        # connects leaves no entry behind)
        self._mapped: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
        self._snapshot = Snapshots()
        self._capture_path: Path | None = None
        self._next_index = 0
        # Flows already handed over (a flow can see both ``response`` and ``error``); weak, so
        # the set does not grow with the traffic.
        self._submitted: weakref.WeakSet[http.HTTPFlow] = weakref.WeakSet()
        # index -> flow, to mark it when its findings come back
        self._flows: weakref.WeakValueDictionary[int, http.HTTPFlow] = weakref.WeakValueDictionary()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._marks: list[Mark] = []
        self._marks_lock = threading.Lock()
        self._finish_lock = threading.Lock()
        self._finished = False
        self._doc: dict[str, Any] | None = None
        self._formats = "html,json"
        self._mark_flows = True
        self._block_unmapped = False
        self._stream_sse = True
        self._in_process = False
        self._reveal = False
        self._first_party: tuple[str, ...] = ()
        self._throttled = 0
        self.upstream_failures: dict[str, str] = {}  # host -> why its TLS handshake failed
        self.unrecorded = 0
        self.report_paths: list[Path] = []
        self.report_errors: list[str] = []

    # -- options -------------------------------------------------------------------------
    def load(self, loader: Any) -> None:
        loader.add_option("audit_dir", str | None, None, "Directory for capture.flows and the reports.")
        loader.add_option("audit_formats", str, "html,json", "Report formats written at the end: html, json, md.")
        loader.add_option("audit_reveal", bool, False, "Show personal values unmasked in the reports.")
        loader.add_option("audit_first_party", Sequence[str], [], "Hosts, domains or owners of the app itself.")
        loader.add_option("audit_map", Sequence[str], [], "HOST=ADDR:PORT: connect there for HOST, keep HOST in the capture.")
        loader.add_option(
            "audit_block_unmapped", bool, False, "Refuse connections to hosts not in audit_map (keeps tests on loopback)."
        )
        loader.add_option("audit_stream_sse", bool, True, "Stream server-sent events to the client while recording them.")
        loader.add_option("audit_mark", bool, True, "Mark flows with findings and comment them.")
        loader.add_option(
            "audit_process", bool, True,
            "Write the capture and analyse in a separate process (false: in a thread of the proxy's process).",
        )

    def configure(self, updated: set[str]) -> None:
        self._apply_options()

    def running(self) -> None:
        # An addon added with master.addons.add() after start-up gets no configure call.
        self._apply_options()
        ignore_file_size_signal()
        from ..proxy import protect_ca_key

        with suppress(Exception):
            protect_ca_key(Path(ctx.options.confdir).expanduser())
        if self._standalone and not ctx.options.audit_dir:
            log.warning(
                "auditor: audit_dir is not set: flows are audited, but no capture and no report will be written "
                "(add --set audit_dir=DIR)"
            )

    @command.command("audit.report")
    def audit_report(self) -> None:
        """Write the reports of the audit so far beside the capture (audit_dir), now."""
        if self._capture_path is None:
            log.warning("auditor: audit_dir is not set: there is nowhere to write the reports (set audit_dir=DIR)")
            return
        if self._doc is not None:
            doc = self._doc
        else:
            self.drain()
            doc = self._complete(self._engine().document())
        capture = self.capture_path or self._capture_path
        paths, errors = self._write_reports(doc, capture.parent)
        for p in paths:
            log.info("auditor: wrote %s", p)
        for e in errors:
            log.warning("auditor: report not written: %s", e)

    def _apply_options(self) -> None:
        opts = ctx.options
        self._formats = opts.audit_formats
        # Marks are for mitmweb and mitmproxy's console, which keep the flows listed; mitmdump
        # (and the embedded proxy) keep none, so marking there would be work for nobody.
        self._mark_flows = opts.audit_mark and _keeps_flows()
        self._block_unmapped = opts.audit_block_unmapped
        self._stream_sse = opts.audit_stream_sse
        try:
            self.maps = parse_map(opts.audit_map)
        except ValueError as e:
            from mitmproxy import exceptions

            raise exceptions.OptionsError(str(e)) from None
        if opts.audit_stream_sse and "store_streamed_bodies" in opts and not opts.store_streamed_bodies:
            opts.update(store_streamed_bodies=True)
        reveal, first_party = bool(opts.audit_reveal), tuple(opts.audit_first_party)
        if self.engine is None:
            self._reveal, self._first_party, self._in_process = reveal, first_party, not opts.audit_process
            if opts.audit_dir:
                self._capture_path = Path(opts.audit_dir).expanduser() / CAPTURE_NAME
            self._start_engine()
        elif (reveal, first_party) != (self._reveal, self._first_party):
            self._reveal, self._first_party = reveal, first_party
            self.engine.configure(reveal, first_party)

    def _engine(self) -> Any:
        """The engine (started with the options known so far if it is not yet)."""
        return self.engine or self._start_engine()

    def _start_engine(self) -> Any:
        path = str(self._capture_path) if self._capture_path else None
        # (a frozen mitmproxy build cannot run ``python -m auditor.worker``)
        if not self._in_process and not getattr(sys, "frozen", False):
            try:
                self.engine = ProcessEngine(path, self._results, self._reveal, self._first_party)
                return self.engine
            except OSError as e:
                log.warning("auditor: cannot start the analysis process (%s); analysing in the proxy's process", e)
        self.engine = ThreadEngine(path, self._results, self._reveal, self._first_party)
        return self.engine

    # -- traffic -------------------------------------------------------------------------
    def server_connect(self, data: Any) -> None:
        host = str(data.server.address[0]).lower() if data.server.address else ""
        target = self.maps.get(host)
        if target is not None:
            self._mapped[data.server] = data.server.address
            data.server.address = target
        elif self._block_unmapped:
            data.server.error = f"auditor: connection to {host or 'an unknown host'} refused (not in --map)"

    def server_connected(self, data: Any) -> None:
        # Once connected, give a mapped connection its real address back: mitmproxy reuses a
        # server connection only for requests to the same address, so a mapped one would
        # otherwise be left open and a new one made for every request on a keep-alive connection.
        # (mitmproxy refuses ``server.address = ...`` on an open connection; the address is only
        # compared and shown from now on, the socket is connected.)
        original = self._mapped.pop(data.server, None)
        if original is not None:
            data.server.__dict__["address"] = original

    def server_connect_error(self, data: Any) -> None:
        self._mapped.pop(data.server, None)

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        if (
            self._stream_sse
            and flow.response is not None
            and "text/event-stream" in flow.response.headers.get("content-type", "")
        ):
            flow.response.stream = True

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
        if self._finished:
            return
        try:
            state = opaque_flow_state(data.context.client, data.context.server, str(data.conn.error or ""))
        except Exception:  # never break the app's traffic
            log.debug("auditor: cannot record a failed TLS handshake", exc_info=True)
            return
        from ..flowfile import opaque_connection

        found = opaque_connection(state)
        if found is not None:
            self._engine().opaque(found[0], found[1], state)

    def tls_failed_server(self, data: Any) -> None:
        """The upstream server's certificate was refused: say how to accept a test backend's
        (logged under mitmdump; ``auditor capture``/``run`` print ``upstream_failures``)."""
        if self._finished:
            return
        host = str(data.context.server.sni or (data.context.server.address or ("?",))[0])
        first = not self.upstream_failures
        self.upstream_failures.setdefault(host, str(data.conn.error or "no reason given"))
        if first and self._standalone:
            log.warning("auditor: %s", upstream_hint(self.upstream_failures, "--set ssl_insecure=true"))

    def _submit(self, flow: http.HTTPFlow) -> None:
        if flow in self._submitted or self._finished:
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
        if self._mark_flows:
            self._flows[index] = flow
            if self._loop is None:
                self._loop = _running_loop()
        self._engine().submit(index, state, _flow_size(flow))

    def _backlog(self) -> tuple[int, int]:
        """Flows, and their approximate bytes, handed over but not yet written and analysed."""
        return self.engine.backlog() if self.engine is not None else (0, 0)

    def _backpressure(self) -> Awaitable[None] | None:
        flows, size = self._backlog()
        if flows <= self.max_backlog and size <= self.max_backlog_bytes:
            return None
        return self._wait_for_backlog()

    async def _wait_for_backlog(self) -> None:
        """Hold this flow until the backlog is down to half its bounds: under more traffic than
        the analysis keeps up with, the proxy slows down instead of growing without bound."""
        if not self._throttled:
            log.info("auditor: the analysis is behind the traffic; slowing the proxy down to keep memory bounded")
        self._throttled += 1
        deadline = time.monotonic() + self.max_backlog_wait
        while not self._finished and time.monotonic() < deadline:
            flows, size = self._backlog()
            if flows <= self.max_backlog // 2 and size <= self.max_backlog_bytes // 2:
                return
            await asyncio.sleep(0.005)

    # -- results (from the engine's thread) -----------------------------------------------
    def _results(self, marks: list[Mark], updates: list[dict[str, Any]]) -> None:
        if self.on_update is not None:
            for summary in updates:
                try:
                    self.on_update(summary)
                except Exception:
                    log.debug("auditor: update callback failed", exc_info=True)
        if not marks or not self._mark_flows:
            return
        loop = self._loop
        if loop is None or loop.is_closed():
            self._mark(marks)
            return
        # One loop callback and one update hook for all flows marked meanwhile: under load
        # this keeps the marking off the proxy's critical path.
        with self._marks_lock:
            first = not self._marks
            self._marks.extend(marks)
        if first:
            try:
                loop.call_soon_threadsafe(self._flush_marks)
            except RuntimeError:  # the loop has stopped
                self._flush_marks()

    def _flush_marks(self) -> None:
        with self._marks_lock:
            batch, self._marks = self._marks, []
        self._mark(batch)

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
            except Exception:
                log.debug("auditor: could not mark flow", exc_info=True)
        if not flows:
            return
        try:
            from mitmproxy import hooks

            ctx.master.addons.trigger(hooks.UpdateHook(flows))
        except Exception:
            log.debug("auditor: could not announce marked flows", exc_info=True)

    # -- the end -------------------------------------------------------------------------
    def drain(self) -> None:
        """Wait until every submitted flow is written and analysed (and marked)."""
        if self.engine is not None and not self._finished:
            self.engine.drain()
            loop = self._loop
            if loop is None or loop.is_closed() or not loop.is_running() or _running_loop() is loop:
                self._flush_marks()

    @property
    def capture_path(self) -> Path | None:
        """Where the capture is (elsewhere than ``audit_dir`` if that folder vanished)."""
        if self._doc is not None and self._capture_path is not None and self._doc.get("captures"):
            return Path(self._doc["captures"][0]["path"])
        return self._capture_path

    def warnings(self) -> list[str]:
        """What this side lost (the engine reports the rest in the document)."""
        out = []
        if self.unrecorded:
            out.append(f"live: {self.unrecorded} flow(s) could not be recorded (see the log)")
        if self._throttled:
            out.append(
                f"live: the analysis fell behind the traffic; {self._throttled} flow(s) were held back "
                "to keep memory bounded (the app saw slower answers meanwhile)"
            )
        return out

    def document(self) -> dict[str, Any]:
        """The report document so far (all of it after :meth:`finish`)."""
        if self._doc is not None:
            return self._doc
        return self._complete(self._engine().document())

    def _complete(self, doc: dict[str, Any]) -> dict[str, Any]:
        if doc.get("captures"):
            doc["captures"][0]["warnings"].extend(self.warnings())
        return doc

    def finish(self) -> dict[str, Any]:
        """Drain, close the capture, write the reports (if ``audit_dir``); return the document.

        Reports that cannot be written where the capture is go to a fallback folder
        (:func:`fallback_dir`); ``report_paths`` and ``report_errors`` say what happened."""
        # mitmproxy's ``done`` (in the proxy's thread) and the command that embeds the proxy
        # may both call this: the second waits for the first and gets the same document.
        with self._finish_lock:
            if self._doc is not None:
                return self._doc
            engine = self._engine()
            self._finished = True
            doc = self._complete(engine.close())
            self._flush_marks()
            self._doc = doc
            capture = self.capture_path  # (where the capture ended up: the reports go beside it)
            if capture is not None:
                paths, errors = self._write_reports(doc, capture.parent)
                self.report_paths.extend(paths)
                self.report_errors.extend(errors)
            return doc

    def _write_reports(self, doc: dict[str, Any], directory: Path) -> tuple[list[Path], list[str]]:
        """Write every format (each in full or not at all); the paths written and the errors."""
        from ..io import write_private
        from ..output import parse_formats
        from ..renderers import FORMATS, render

        paths: list[Path] = []
        errors: list[str] = []
        fallback: Path | None = None
        for fmt in parse_formats(self._formats):
            name = f"report{FORMATS[fmt]}"
            try:
                text = render(doc, fmt)
            except Exception as e:
                log.exception("auditor: rendering %s failed", name)
                errors.append(f"{name}: rendering failed ({e})")
                continue
            try:
                paths.append(write_private(directory / name, text))
                continue
            except OSError as e:
                first = e
            try:
                fallback = fallback or fallback_dir(directory)
                paths.append(write_private(fallback / name, text))
                log.warning("auditor: cannot write %s (%s); wrote %s instead", directory / name, first.strerror or first, fallback / name)
            except OSError as e:
                errors.append(f"{directory / name}: {first.strerror or first}; fallback: {e.strerror or e}")
                log.error("auditor: the report %s could not be written (%s)", directory / name, first.strerror or first)
        return paths, errors

    def done(self) -> None:
        try:
            doc = self.finish()
        except Exception:
            log.exception("auditor: writing the reports failed")
            return
        if self._standalone:
            s = doc["summary"]
            log.info(
                "auditor: %s, %s (%d third-party), %s",
                _count(s["exchanges"], "request"), _count(s["destinations"], "destination"),
                s["third_party_destinations"], _count(s["findings"], "finding"),
            )
            for p in (self.capture_path, *self.report_paths):
                if p is not None:
                    log.info("auditor: wrote %s", p)
            for capture in doc.get("captures", ()):
                for warning in capture.get("warnings", ()):
                    log.warning("auditor: %s", warning)


def destination_line(s: dict[str, Any]) -> str:
    """One line for a destination summary (a new destination, or new categories for it)."""
    where = owner_text(s["owner"], s["country"])
    if s.get("opaque"):
        return f"  ! {s['host']}  {where}  not inspected: the client refused the proxy's certificate"
    cats = ", ".join(s["categories"]) or "no personal data yet"
    return f"  > {s['host']}  {where}  {cats}"


def upstream_hint(failures: dict[str, str], option: str) -> str:
    """What to say when upstream TLS handshakes failed (``option``: how to accept any certificate)."""
    host, error = next(iter(failures.items()))
    more = f" and {len(failures) - 1} more host(s)" if len(failures) > 1 else ""
    return (
        f"the TLS handshake with the upstream server {host}{more} failed ({error}); "
        f"if it is a test backend with a self-signed or private certificate, add {option}"
    )


def owner_text(owner: str | None, country: str | None) -> str:
    """``"DeepSeek (CN)"``, or what is missing said in words instead of ``(??)``."""
    if owner and country:
        return f"{owner} ({country})"
    if owner:
        return f"{owner} (country not in auditor's data)"
    return "(owner not in auditor's data; auditor explain HOST shows what is known)"


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _log_destination(s: dict[str, Any]) -> None:
    log.info("auditor: %s", destination_line(s).strip())


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


def _flow_size(flow: http.HTTPFlow) -> int:
    """Approximate memory of a flow's snapshot: its bodies and messages, plus the rest."""
    size = 2048
    with suppress(Exception):
        size += len(flow.request.raw_content or b"")
        if flow.response is not None:
            size += len(flow.response.raw_content or b"")
        if flow.websocket is not None:
            size += sum(len(m.content) for m in flow.websocket.messages)
    return size


def _keeps_flows() -> bool:
    """Whether this mitmproxy keeps a list of flows (its ``view`` addon: mitmweb, console)."""
    try:
        return ctx.master.addons.get("view") is not None
    except Exception:  # noqa: BLE001 - when in doubt, mark
        return True


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def write_reports(doc: dict[str, Any], directory: Path, formats: str) -> list[Path]:
    """Write ``report.<ext>`` files for ``formats`` into ``directory`` (owner-only)."""
    from ..output import parse_formats, write_private
    from ..renderers import FORMATS, render

    out = []
    for fmt in parse_formats(formats):
        path = directory / f"report{FORMATS[fmt]}"
        write_private(path, render(doc, fmt))
        out.append(path)
    return out
