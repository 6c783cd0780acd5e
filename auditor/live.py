"""The live audit: a mitmproxy addon that audits traffic as it passes.

Each finished flow is snapshotted on the proxy's event loop (``flow.get_state()``, cheap) and
handed to one worker thread, which writes it to the capture file and analyses it with the same
code that reads saved captures (:func:`auditor.flowfile.state_to_exchange` and
:class:`auditor.audit.Auditor`): the same traffic gives the same findings live and offline.
The app's traffic never waits for the analysis, and an analysis error is logged and leaves the
flow untouched.

Options (``--set name=value`` in mitmdump/mitmweb):

- ``audit_dir``: where ``capture.flows``, ``report.html`` and ``report.json`` go (none: no files)
- ``audit_formats``: report formats written at the end (``html,json``)
- ``audit_reveal``: show personal values unmasked in the reports
- ``audit_first_party``: hosts, registrable domains or owners of the app itself
- ``audit_map``: ``HOST=ADDR:PORT``: connect to ADDR:PORT for HOST, keep HOST in the capture
- ``audit_block_unmapped``: refuse connections to hosts that ``audit_map`` does not name
- ``audit_stream_sse``: stream server-sent events to the client (bodies are still recorded)
- ``audit_mark``: mark flows with findings and comment them with categories and country
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import tempfile
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path
from typing import Any

from mitmproxy import ctx, http
from mitmproxy.io import tnetstring

from .audit import AuditOptions, Auditor
from .flowfile import state_to_exchange
from .models import CaptureInfo, Finding

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
    else:  # ints, floats, subclasses: mitmproxy's own encoder
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

    def __init__(self, path: Path) -> None:
        self.path = path
        self.flows = 0
        self.lost = 0
        self.reasons: dict[str, int] = {}
        self.notes: list[str] = []
        self._size = 0
        self._fd: int | None = _open_private(path)

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
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
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


def _open_private(path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # read-write: if the folder is removed, the content is read back from this descriptor
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # O_CREAT keeps the mode of a file that already existed
    return fd


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
        self.on_update = on_update
        self.auditor = Auditor()
        self.maps: dict[str, tuple[str, int]] = {}
        # server connection -> its address before --map (weak: a connection that never
        # connects leaves no entry behind)
        self._mapped: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="auditor")
        self._lock = threading.Lock()
        self._capture: CaptureFile | None = None
        self._capture_path: Path | None = None
        self._next_index = 0
        # Flows already handed over (a flow can see both ``response`` and ``error``); weak, so
        # the set does not grow with the traffic.
        self._submitted: weakref.WeakSet[http.HTTPFlow] = weakref.WeakSet()
        self._pending: list[Future[None]] = []
        self._reported: dict[str, set[str]] = {}
        self._marks: list[tuple[http.HTTPFlow, list[Finding], str]] = []
        self._marks_lock = threading.Lock()
        self._finish_lock = threading.Lock()
        self._finished = False
        self._doc: dict[str, Any] | None = None
        self._formats = "html,json"
        self._mark_flows = True
        self._block_unmapped = False
        self._stream_sse = True
        self._done = 0
        self._queued_bytes = 0
        self._done_bytes = 0
        self._throttled = 0
        self.errors = 0
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

    def configure(self, updated: set[str]) -> None:
        self._apply_options()

    def running(self) -> None:
        # An addon added with master.addons.add() after start-up gets no configure call.
        self._apply_options()
        ignore_file_size_signal()
        from .proxy import protect_ca_key

        with suppress(Exception):
            protect_ca_key(Path(ctx.options.confdir).expanduser())

    def _apply_options(self) -> None:
        opts = ctx.options
        self._formats = opts.audit_formats
        self._mark_flows = opts.audit_mark
        self._block_unmapped = opts.audit_block_unmapped
        self._stream_sse = opts.audit_stream_sse
        self.auditor.options = AuditOptions(reveal=opts.audit_reveal, first_party=tuple(opts.audit_first_party))
        try:
            self.maps = parse_map(opts.audit_map)
        except ValueError as e:
            from mitmproxy import exceptions

            raise exceptions.OptionsError(str(e)) from None
        if opts.audit_stream_sse and "store_streamed_bodies" in opts and not opts.store_streamed_bodies:
            opts.update(store_streamed_bodies=True)
        if opts.audit_dir and self._capture is None:
            self._capture_path = Path(opts.audit_dir).expanduser() / CAPTURE_NAME
            self._capture = CaptureFile(self._capture_path)
        if not self.auditor.captures:
            path = str(self._capture_path) if self._capture_path else "live"
            self.auditor.captures.append(CaptureInfo(path=path, format="mitmproxy"))

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
        """The client refused the proxy's certificate (pinning, or the CA is not trusted)."""
        sni = data.context.client.sni
        if not sni:
            return
        reason = str(data.conn.error or "TLS handshake with the client failed")
        with suppress(RuntimeError):  # after finish(): too late for the report
            self._executor.submit(self._opaque, sni, reason)

    def _opaque(self, host: str, reason: str) -> None:
        with self._lock:
            new = host not in self.auditor.resolver.by_host
            self.auditor.resolver.add_opaque(host, reason)
        if new:
            self._notify(host)

    def _submit(self, flow: http.HTTPFlow) -> None:
        if flow in self._submitted or self._finished:
            return
        self._submitted.add(flow)
        try:
            state = flow.get_state()
        except Exception:  # never break the app's traffic
            self.unrecorded += 1
            log.exception("auditor: cannot snapshot flow %s", flow.id)
            return
        index = self._next_index
        self._next_index += 1
        size = _flow_size(flow)
        self._queued_bytes += size
        loop = asyncio.get_running_loop() if _in_loop() else None
        try:
            fut = self._executor.submit(self._analyse, state, index, flow, loop, size)
        except RuntimeError:  # finish() ran in the meantime: the proxy is stopping
            return
        self._pending.append(fut)
        if len(self._pending) > 1000:
            self._pending = [f for f in self._pending if not f.done()]

    def _analyse(
        self, state: dict[str, Any], index: int, flow: http.HTTPFlow, loop: asyncio.AbstractEventLoop | None, size: int = 0
    ) -> None:
        try:
            self._write_and_analyse(state, index, flow, loop)
        finally:
            # (each counter has one writer: _next_index/_queued_bytes the loop, these the worker)
            self._done += 1
            self._done_bytes += size

    def _backlog(self) -> tuple[int, int]:
        """Flows, and their approximate bytes, handed over but not yet written and analysed."""
        return self._next_index - self._done, self._queued_bytes - self._done_bytes

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

    def _write_and_analyse(self, state: dict[str, Any], index: int, flow: http.HTTPFlow, loop: asyncio.AbstractEventLoop | None) -> None:
        if self._capture is not None:
            # A flow that cannot be written is counted (and said in the report), and still analysed.
            try:
                data = tnetstring_dumps(state)
            except Exception as e:
                self._capture.lose(f"not serialisable: {e}")
            else:
                self._capture.write(data)
        try:
            ex = state_to_exchange(state, 0, index)
            if ex is None:
                return
            with self._lock:
                found = self.auditor.add_exchange(ex)
                self.auditor.captures[0].exchanges += 1
            host = ex.host
            cats = {f.category for f in found}
            reported = self._reported.get(host)
            if reported is None or cats - reported:
                self._reported.setdefault(host, set()).update(cats)
                self._notify(host)
            if found and self._mark_flows:
                if loop is None:
                    self._mark([(flow, found, host)])
                else:
                    # One loop callback and one update hook for all flows marked meanwhile:
                    # under load this keeps the marking off the proxy's critical path.
                    with self._marks_lock:
                        first = not self._marks
                        self._marks.append((flow, found, host))
                    if first:
                        loop.call_soon_threadsafe(self._flush_marks)
        except Exception:
            self.errors += 1
            log.exception("auditor: analysis of flow %s failed; the flow is unaffected", state.get("id"))

    def _flush_marks(self) -> None:
        with self._marks_lock:
            batch, self._marks = self._marks, []
        self._mark(batch)

    def _mark(self, batch: list[tuple[http.HTTPFlow, list[Finding], str]]) -> None:
        flows = []
        for flow, found, host in batch:
            try:
                dest = self.auditor.resolver.by_host.get(host)
                country = dest.owner.country if dest and dest.owner and dest.owner.country else "??"
                cats = sorted({f.category for f in found})
                flow.marked = ":warning:" if {"prompt", "credential"} & set(cats) else ":large_orange_diamond:"
                flow.comment = f"auditor: {', '.join(cats)} -> {host} ({country})"
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

    def _notify(self, host: str) -> None:
        if self.on_update is None:
            return
        with self._lock:
            d = self.auditor.resolver.by_host.get(host)
            if d is None:
                return
            summary = {
                "host": d.host,
                "owner": d.owner.name if d.owner else None,
                "country": d.owner.country if d.owner else None,
                "categories": sorted(d.data_categories),
                "exchanges": d.exchanges,
                "opaque": d.opaque,
            }
        try:
            self.on_update(summary)
        except Exception:
            log.debug("auditor: update callback failed", exc_info=True)

    # -- the end -------------------------------------------------------------------------
    def drain(self) -> None:
        """Wait until every submitted flow is written and analysed."""
        with suppress(RuntimeError):  # already shut down: then everything is done
            self._executor.submit(lambda: None).result()

    @property
    def capture_path(self) -> Path | None:
        """Where the capture is (elsewhere than ``audit_dir`` if that folder vanished)."""
        return self._capture.path if self._capture is not None else None

    def warnings(self) -> list[str]:
        """What the capture or the analysis lost so far, as the report states it."""
        out = self._capture.warnings() if self._capture is not None else []
        if self.unrecorded:
            out.append(f"live: {self.unrecorded} flow(s) could not be recorded (see the log)")
        if self.errors:
            out.append(f"live: {self.errors} flow(s) could not be analysed (see the log)")
        return out

    def document(self) -> dict[str, Any]:
        if not self._finished:
            self.drain()
        with self._lock:
            doc = self.auditor.document()
        if doc["captures"]:
            if self._capture is not None:
                doc["captures"][0]["path"] = str(self._capture.path)
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
            self.drain()
            self._finished = True
            self._executor.shutdown(wait=True)
            if self._capture is not None:
                self._capture.close()
            doc = self.document()
            if self._capture is not None:
                self._write_reports(doc, self._capture.directory)
            self._doc = doc
            return doc

    def _write_reports(self, doc: dict[str, Any], directory: Path) -> None:
        from .output import parse_formats
        from .renderers import FORMATS, render

        fallback: Path | None = None
        for fmt in parse_formats(self._formats):
            name = f"report{FORMATS[fmt]}"
            try:
                text = render(doc, fmt)
            except Exception as e:
                log.exception("auditor: rendering %s failed", name)
                self.report_errors.append(f"{name}: rendering failed ({e})")
                continue
            try:
                self.report_paths.append(_write_atomic(directory / name, text))
                continue
            except OSError as e:
                first = e
            try:
                fallback = fallback or fallback_dir(directory)
                self.report_paths.append(_write_atomic(fallback / name, text))
                log.warning("auditor: cannot write %s (%s); wrote %s instead", directory / name, first.strerror, fallback / name)
            except OSError as e:
                self.report_errors.append(f"{directory / name}: {first.strerror or first}; fallback: {e.strerror or e}")
                log.error("auditor: the report %s could not be written (%s)", directory / name, first.strerror or first)

    def done(self) -> None:
        try:
            self.finish()
        except Exception:
            log.exception("auditor: writing the reports failed")


def _write_atomic(path: Path, text: str | bytes) -> Path:
    """Write an owner-only file in full or not at all (a failed write leaves no truncated report)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    data = text.encode("utf-8") if isinstance(text, str) else text
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        try:
            os.fchmod(fd, 0o600)
            _write_all(fd, data)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError:
        with suppress(OSError):
            os.unlink(tmp)
        raise
    return path


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


def _in_loop() -> bool:
    try:
        asyncio.get_running_loop()
        return True
    except RuntimeError:
        return False


def write_reports(doc: dict[str, Any], directory: Path, formats: str) -> list[Path]:
    """Write ``report.<ext>`` files for ``formats`` into ``directory`` (owner-only)."""
    from .output import parse_formats, write_private
    from .renderers import FORMATS, render

    out = []
    for fmt in parse_formats(formats):
        path = directory / f"report{FORMATS[fmt]}"
        write_private(path, render(doc, fmt))
        out.append(path)
    return out
