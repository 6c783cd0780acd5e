"""The analysis of a live audit, and the process it runs in.

:class:`Analysis` writes each finished flow to ``capture.flows`` and audits it with the same
code that reads saved captures (:func:`auditor.io.flowfile.state_to_exchange`,
:class:`auditor.audit.pipeline.Auditor`), so the same traffic gives the same findings live and offline.

By default it runs in a child process (``python -m auditor.worker``), so that the proxy's own
process, which serves the app's traffic on one core under one interpreter lock, only takes a
snapshot of each flow and hands it over. :class:`ProcessEngine` is the proxy's side of that:
a sender thread batches flow states onto the child's standard input, a reader thread takes
the results back (acknowledgements, how to mark each flow, destination updates). Both sides
speak length-prefixed :mod:`marshal` frames of plain values (flow states are dicts of bytes,
strings, numbers and lists); the channel is a private pipe between the two processes.

If the child dies, a new one takes over (appending to the same capture) and the report is
rebuilt from ``capture.flows`` at the end, with a warning; see :meth:`ProcessEngine.close`.
"""

from __future__ import annotations

import collections
import logging
import marshal
import os
import signal
import struct
import subprocess
import sys
import threading
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

#: ``(index, marked, comment)``: how to mark the flow submitted as ``index``.
Mark = tuple[int, str, str]
#: Called with the marks and destination summaries of a batch, from the engine's thread.
Results = Callable[[list[Mark], list[dict[str, Any]]], None]

_HEADER = struct.Struct("<I")
#: How many times a dead analysis process is replaced before flows are left unanalysed.
MAX_RESTARTS = 3


# --------------------------------------------------------------------------------------------
# The analysis itself (the same in a thread or in the child process)
# --------------------------------------------------------------------------------------------


class Analysis:
    """``capture.flows`` and the audit of one live session."""

    def __init__(self, capture_path: str | None = None, append: bool = False) -> None:
        # (imported here: the proxy's process, which only hands flows over, never loads them)
        from auditor.audit.pipeline import Auditor
        from auditor.live import CaptureFile
        from auditor.models import CaptureInfo

        self.auditor = Auditor()
        self.capture = CaptureFile(Path(capture_path), append=append) if capture_path else None
        self.auditor.captures.append(CaptureInfo(path=capture_path or "live", format="mitmproxy"))
        self.reported: dict[str, set[str]] = {}
        self.errors = 0

    def configure(self, reveal: bool, first_party: list[str] | tuple[str, ...]) -> None:
        self.auditor.options = _options(reveal, first_party)

    def add(self, index: int, state: dict[str, Any]) -> tuple[Mark | None, list[dict[str, Any]]]:
        """Record and audit one flow state: how to mark the flow (None: no findings) and the
        destination summaries that changed (a new destination, or new data categories)."""
        from auditor.io.flowfile import state_to_exchange
        from auditor.live import tnetstring_dumps

        if self.capture is not None:
            # A flow that cannot be written is counted (and said in the report), and still analysed.
            try:
                data = tnetstring_dumps(state)
            except Exception as e:  # noqa: BLE001 - whatever it is, the flow is counted and analysed
                self.capture.lose(f"not serialisable: {e}")
            else:
                self.capture.write(data)
        try:
            ex = state_to_exchange(state, 0, index)
            if ex is None:
                return None, []
            found = self.auditor.add_exchange(ex)
            self.auditor.captures[0].exchanges += 1
            host = ex.host
            cats = {f.category for f in found}
            updates = []
            reported = self.reported.get(host)
            if reported is None or cats - reported:
                self.reported.setdefault(host, set()).update(cats)
                updates = self._summary(host)
            if self.auditor.traced_back:  # values seen now, found in earlier exchanges to these hosts
                for other in sorted(self.auditor.traced_back - {host}):
                    updates += self._summary(other)
                self.auditor.traced_back.clear()
            if not found:
                return None, updates
            dest = self.auditor.resolver.by_host.get(host)
            names = sorted(cats)
            marked = ":warning:" if {"prompt", "credential"} & cats else ":large_orange_diamond:"
            return (index, marked, f"auditor: {', '.join(names)} -> {host} {_where(dest)}"), updates
        except Exception:
            self.errors += 1
            log.exception("auditor: analysis of flow %s failed; the flow is unaffected", state.get("id"))
            return None, []

    def add_batch(self, flows: list[Any]) -> tuple[list[Mark], list[dict[str, Any]], int]:
        """``add`` for each ``(index, state, size)``: the marks, the summaries, the sizes' sum."""
        marks: list[Mark] = []
        updates: list[dict[str, Any]] = []
        size = 0
        for index, state, nbytes in flows:
            mark, changed = self.add(index, state)
            if mark is not None:
                marks.append(mark)
            updates.extend(changed)
            size += nbytes
        return marks, updates, size

    def opaque(self, host: str, reason: str, state: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """A connection the proxy could not see into (the client refused its certificate);
        ``state``, its flow state, is written to the capture so an offline audit finds it too."""
        if self.capture is not None and state is not None:
            from auditor.live import tnetstring_dumps

            try:
                self.capture.write(tnetstring_dumps(state))
            except Exception as e:  # noqa: BLE001 - counted, like any flow that cannot be written
                self.capture.lose(f"not serialisable: {e}")
        new = host not in self.auditor.resolver.by_host
        self.auditor.resolver.add_opaque(host, reason)
        return self._summary(host) if new else []

    def _summary(self, host: str) -> list[dict[str, Any]]:
        d = self.auditor.resolver.by_host.get(host)
        if d is None:
            return []
        return [
            {
                "host": d.host,
                "owner": d.owner.name if d.owner else None,
                "country": d.owner.country if d.owner else None,
                "categories": sorted(d.data_categories),
                "exchanges": d.exchanges,
                "opaque": d.opaque,
            }
        ]

    def warnings(self) -> list[str]:
        out = self.capture.warnings() if self.capture is not None else []
        if self.errors:
            out.append(f"live: {self.errors} flow(s) could not be analysed (see the log)")
        return out

    def document(self) -> dict[str, Any]:
        from dataclasses import replace

        from auditor.destinations.parties import FirstPartyError

        try:
            doc = self.auditor.document()
        except FirstPartyError as e:  # a live session still gets its report: the name is left out
            self.auditor.options = replace(self.auditor.options, first_party=())
            doc = self.auditor.document()
            doc["captures"][0]["warnings"].append(f"{e}; it was ignored")
        if doc["captures"]:
            if self.capture is not None:
                doc["captures"][0]["path"] = str(self.capture.path)
            doc["captures"][0]["warnings"].extend(self.warnings())
        return doc

    def close(self) -> None:
        if self.capture is not None:
            self.capture.close()


def _where(dest: Any) -> str:
    """``"(CN)"`` for a destination whose owner's country is known; otherwise what is missing,
    in words (mitmweb shows this in the flow's comment)."""
    owner = dest.owner if dest is not None else None
    if owner is not None and owner.country:
        return f"({owner.country})"
    if owner is not None:
        return f"({owner.name}: country not in auditor's data)"
    return "(owner unknown: not in auditor's data; run auditor explain on the host)"


def _options(reveal: bool, first_party: list[str] | tuple[str, ...]) -> Any:
    from auditor.audit.pipeline import AuditOptions

    return AuditOptions(reveal=reveal, first_party=tuple(first_party))


# --------------------------------------------------------------------------------------------
# Frames
# --------------------------------------------------------------------------------------------


def _encodable(value: Any) -> bool:
    try:
        marshal.dumps(value)
        return True
    except ValueError:
        return False


def _without_odd_metadata(item: tuple[int, dict[str, Any], int]) -> tuple[int, dict[str, Any], int]:
    """The flow without the metadata values that are not plain data (mitmproxy's own capture
    format cannot store them either)."""
    index, state, size = item
    metadata = {k: v for k, v in (state.get("metadata") or {}).items() if _encodable(k) and _encodable(v)}
    return index, {**state, "metadata": metadata}, size


def write_frame(out: IO[bytes], message: Any) -> None:
    data = marshal.dumps(message)
    out.write(_HEADER.pack(len(data)) + data)
    out.flush()


def read_frame(inp: IO[bytes]) -> Any | None:
    """The next message, or None at the end of the stream (or a cut-off frame)."""
    head = inp.read(_HEADER.size)
    if len(head) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(head)
    data = inp.read(size)
    if len(data) < size:
        return None
    return marshal.loads(data)


# --------------------------------------------------------------------------------------------
# The child process
# --------------------------------------------------------------------------------------------


def serve(inp: IO[bytes], out: IO[bytes]) -> int:
    """Answer the proxy's messages until ``close`` or the end of the input (the proxy is gone)."""
    analysis: Analysis | None = None
    while True:
        message = read_frame(inp)
        if message is None:
            if analysis is not None:
                analysis.close()  # the proxy died: keep what the capture has
            return 0
        kind, payload = message
        if kind == "start":
            analysis = Analysis(payload["capture"], payload["append"])
            analysis.configure(payload["reveal"], payload["first_party"])
            continue
        if analysis is None:
            raise ValueError(f"the first message must be 'start', not {kind!r}")
        reply = answer(analysis, kind, payload)
        if reply is not None:
            write_frame(out, reply)
        if kind == "close":
            return 0


def answer(analysis: Analysis, kind: str, payload: Any) -> tuple[str, Any] | None:
    """Do what one message from the proxy asks; the message to send back (None: nothing)."""
    if kind == "flows":
        marks, updates, size = analysis.add_batch(payload)
        return "done", (len(payload), size, marks, updates)
    if kind == "opaque":
        return "done", (0, 0, [], analysis.opaque(*payload))
    if kind == "config":
        analysis.configure(payload["reveal"], payload["first_party"])
        return None
    if kind == "sync":
        return "reply", (payload, None)
    if kind == "document":
        return "reply", (payload, analysis.document())
    if kind == "close":
        analysis.close()
        return "reply", (payload, analysis.document())
    raise ValueError(f"unknown message {kind!r}")


def main() -> int:
    from auditor.live import ignore_file_size_signal

    # Ctrl-C in a terminal goes to the proxy, which then asks for the document; the child
    # ends with its input (so it never outlives the proxy).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    ignore_file_size_signal()
    logging.basicConfig(level=logging.WARNING, format="auditor analysis: %(message)s", stream=sys.stderr)
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing else may write into the channel
    try:
        return serve(inp, out)
    except (ValueError, EOFError, TypeError, KeyError) as e:
        # (run by hand, or fed something else than the addon's frames)
        sys.stderr.write(f"auditor analysis: error: not a message from the auditor addon ({e})\n")
        return 2


# --------------------------------------------------------------------------------------------
# The proxy's side
# --------------------------------------------------------------------------------------------


REQUESTS = ("sync", "document", "close")


class _Child:
    """One analysis process and what was handed to it."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.sent = self.sent_bytes = 0  # flows written to it
        self.acked = self.acked_bytes = 0  # flows it answered for
        self.tokens: dict[int, str] = {}  # requests it has not answered yet
        self.closing = False
        self.dead = False


class ProcessEngine:
    """Runs :class:`Analysis` in a child process; see the module's documentation.

    ``submit`` is called on the proxy's event loop and only appends to a queue; everything
    else (encoding, writing to the pipe, reading the answers) happens in two threads that
    spend most of their time in system calls, outside the interpreter lock.

    If the process dies, the flows it had not answered for are counted as lost (the capture
    usually has them) and a new process takes over, appending to the capture; after
    :data:`MAX_RESTARTS` deaths the analysis continues in this process (in the sender thread).
    """

    #: How often (seconds) the sender hands the queued flows over. Each hand-over takes the
    #: interpreter lock from the proxy's event loop for a moment; measured at half load with
    #: the proxy pinned to one core, 20 ms between them added about 1 ms to the median latency,
    #: 100 ms about 0.5 ms, 250 ms nothing measurable. Findings and marks come back this late.
    batch_interval = 0.25

    def __init__(
        self, capture_path: str | None, on_result: Results, reveal: bool = False, first_party: tuple[str, ...] = ()
    ) -> None:
        self.capture_path = capture_path
        self.on_result = on_result
        self._config: dict[str, Any] = {"reveal": reveal, "first_party": list(first_party)}
        self._queue: collections.deque[tuple[str, Any]] = collections.deque()
        self._wake = threading.Event()
        self._lock = threading.Lock()  # the current child and the counters (never held while blocking)
        self._replies: dict[int, Any] = {}
        self._replied = threading.Condition()
        self._token = 0
        self.submitted = self.submitted_bytes = 0
        self.acked = self.acked_bytes = 0
        self.lost = self.lost_bytes = 0  # handed to a process that died before answering for them
        self.deaths: list[str] = []
        self._fallback: Analysis | None = None
        self._closed = False
        self._child = self._spawn(append=False)
        self._sender = threading.Thread(target=self._send_loop, name="auditor-send", daemon=True)
        self._sender.start()

    @property
    def pid(self) -> int | None:
        """The analysis process (None once the analysis runs in this process)."""
        return None if self._fallback is not None else self._child.proc.pid

    # -- the proxy's calls -------------------------------------------------------------------
    def submit(self, index: int, state: dict[str, Any], size: int) -> None:
        self.submitted += 1
        self.submitted_bytes += size
        self._queue.append(("flow", (index, state, size)))  # (the sender looks every batch_interval)

    def opaque(self, host: str, reason: str, state: dict[str, Any] | None = None) -> None:
        self._post("opaque", (host, reason, state))

    def configure(self, reveal: bool, first_party: tuple[str, ...]) -> None:
        self._config = {"reveal": reveal, "first_party": list(first_party)}
        self._post("config", self._config)

    def backlog(self) -> tuple[int, int]:
        """Flows (and their bytes) handed over and not yet written and analysed."""
        return (
            self.submitted - self.acked - self.lost,
            self.submitted_bytes - self.acked_bytes - self.lost_bytes,
        )

    def drain(self) -> None:
        """Wait until everything submitted so far is written and analysed (or lost)."""
        self._request("sync")

    def document(self) -> dict[str, Any]:
        return self._finish(self._request("document"))

    def close(self) -> dict[str, Any]:
        """Drain, close the capture, end the process; the report document."""
        doc = self._request("close")
        self._closed = True
        self._wake.set()
        proc = self._child.proc
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        return self._finish(doc)

    def warnings(self) -> list[str]:
        if not self.deaths:
            return []
        lost = f"{self.lost} flow(s) in its hands were not analysed live" if self.lost else "no flow was lost"
        return [f"live: the analysis process stopped {len(self.deaths)} time(s) ({', '.join(self.deaths)}); {lost}"]

    # -- internals ---------------------------------------------------------------------------
    def _spawn(self, append: bool) -> _Child:
        env = dict(os.environ)
        here = str(Path(__file__).resolve().parent.parent)  # the same auditor package as this one
        env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH")) if p)
        proc = subprocess.Popen(
            [sys.executable, "-m", "auditor.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            start_new_session=True,  # terminal signals go to the proxy, which then ends the child
            close_fds=True,
        )
        child = _Child(proc)
        assert proc.stdin is not None
        with suppress(OSError):  # (if it died already, the reader sees it)
            write_frame(proc.stdin, ("start", {"capture": self.capture_path, "append": append, **self._config}))
        threading.Thread(target=self._read_loop, args=(child,), name="auditor-read", daemon=True).start()
        return child

    def _post(self, kind: str, payload: Any) -> None:
        self._queue.append((kind, payload))
        self._wake.set()

    def _request(self, kind: str) -> Any:
        if self._closed:
            raise RuntimeError("the analysis is closed")
        with self._replied:
            self._token += 1
            token = self._token
        self._post(kind, token)
        with self._replied:
            while token not in self._replies:
                self._replied.wait()
            return self._replies.pop(token)

    def _reply(self, token: int, value: Any) -> None:
        with self._replied:
            self._replies[token] = value
            self._replied.notify_all()

    def _send_loop(self) -> None:
        while not self._closed:
            # Flows are picked up every batch_interval: the proxy's event loop only appends to
            # the queue, never wakes this thread (waking it would hand the interpreter lock over
            # in the middle of the proxy's work); other messages wake it at once.
            self._wake.wait(self.batch_interval)
            self._wake.clear()
            while self._queue and not self._closed:
                flows: list[Any] = []
                message: tuple[str, Any] | None = None
                while self._queue and len(flows) < 256:
                    kind, payload = self._queue.popleft()
                    if kind == "flow":
                        flows.append(payload)
                    else:
                        message = (kind, payload)
                        break
                if flows:
                    self._send_flows(flows)
                if message is not None:
                    try:
                        self._send(*message)
                    except Exception:  # the sender must not die, and nobody may wait forever
                        log.exception("auditor: %s could not be handed to the analysis", message[0])
                        if message[0] in REQUESTS:
                            self._reply(message[1], None)

    def _send_flows(self, flows: list[Any]) -> None:
        try:
            try:
                self._send("flows", flows, len(flows), sum(f[2] for f in flows))
                return
            except ValueError:  # a value marshal cannot encode (another addon's metadata?)
                flows = [f if _encodable(f) else _without_odd_metadata(f) for f in flows]
                good = [f for f in flows if _encodable(f)]
            bad = [f for f in flows if not _encodable(f)]
            if bad:
                log.error("auditor: %d flow(s) could not be handed to the analysis (unexpected values)", len(bad))
                self._count_lost(bad)
            if good:
                self._send("flows", good, len(good), sum(f[2] for f in good))
        except Exception:  # the sender must not die: count what it could not hand over
            log.exception("auditor: handing flows to the analysis failed")
            self._count_lost(flows)

    def _count_lost(self, flows: list[Any]) -> None:
        with self._lock:
            self.lost += len(flows)
            self.lost_bytes += sum(f[2] for f in flows)

    def _send(self, kind: str, payload: Any, flows: int = 0, nbytes: int = 0) -> None:
        if self._fallback is None:
            data = marshal.dumps((kind, payload))
            frame = _HEADER.pack(len(data)) + data
            while True:
                with self._lock:
                    child = self._child
                    if child.dead:
                        if len(self.deaths) > MAX_RESTARTS:
                            break
                        try:
                            child = self._child = self._spawn(append=True)
                        except OSError as e:
                            log.error("auditor: cannot start the analysis process: %s", e)
                            break
                    if kind in REQUESTS:
                        child.tokens[payload] = kind
                        child.closing = child.closing or kind == "close"
                # not under the lock: the write waits while the child is busy, and the child
                # may be waiting for the reader, which takes the lock
                try:
                    assert child.proc.stdin is not None
                    child.proc.stdin.write(frame)
                    child.proc.stdin.flush()
                except (OSError, ValueError):
                    with self._lock:
                        if kind in REQUESTS:
                            child.tokens.pop(payload, None)
                    self._died(child)
                    continue
                with self._lock:
                    if child.dead:  # it died while this was written: not counted by _died
                        self.lost += flows
                        self.lost_bytes += nbytes
                    else:
                        child.sent += flows
                        child.sent_bytes += nbytes
                return
            log.error("auditor: the analysis continues inside the proxy's process")
            self._fallback = Analysis(self.capture_path, append=True)
            self._fallback.configure(self._config["reveal"], self._config["first_party"])
        self._local(kind, payload)

    def _local(self, kind: str, payload: Any) -> None:
        """The fallback: what the child would do, done here."""
        assert self._fallback is not None
        reply = answer(self._fallback, kind, payload)
        if reply is not None:
            self._receive(None, reply)

    def _results(self, marks: list[Mark], updates: list[dict[str, Any]]) -> None:
        if marks or updates:
            try:
                self.on_result(marks, updates)
            except Exception:
                log.debug("auditor: result callback failed", exc_info=True)

    def _read_loop(self, child: _Child) -> None:
        assert child.proc.stdout is not None
        while True:
            try:
                message = read_frame(child.proc.stdout)
            except (OSError, ValueError, EOFError):
                message = None
            if message is None:
                break
            self._receive(child, message)
        code = child.proc.wait()
        if code == 0 and child.closing and not child.tokens:
            return  # asked to close, and did
        self._died(child, code)

    def _receive(self, child: _Child | None, message: tuple[str, Any]) -> None:
        """An answer of the analysis (``child`` None: of the fallback in this process)."""
        kind, payload = message
        if kind == "done":
            n, size, marks, updates = payload
            with self._lock:
                if child is not None:
                    child.acked += n
                    child.acked_bytes += size
                self.acked += n
                self.acked_bytes += size
            self._results(marks, updates)
        elif kind == "reply":
            token, value = payload
            if child is not None:
                with self._lock:
                    child.tokens.pop(token, None)
            self._reply(token, value)

    def _died(self, child: _Child, code: int | None = None) -> None:
        with self._lock:
            if child.dead:
                return
            child.dead = True
            lost, lost_bytes = child.sent - child.acked, child.sent_bytes - child.acked_bytes
            self.lost += lost
            self.lost_bytes += lost_bytes
            self.deaths.append("?")
            which = len(self.deaths) - 1
            tokens, child.tokens = child.tokens, {}
        if code is None:
            try:
                code = child.proc.wait(5)
            except subprocess.TimeoutExpired:
                child.proc.kill()
                code = child.proc.wait()
        self.deaths[which] = f"exit status {code}" if code >= 0 else f"signal {-code}"
        log.error("auditor: the analysis process stopped (%s) with %d flow(s) in its hands", self.deaths[which], lost)
        for token, kind in tokens.items():  # its unanswered requests go to whatever takes over
            if kind == "sync":
                self._reply(token, None)  # what was before it is lost with the process
            else:
                self._post(kind, token)
        self._wake.set()

    def _finish(self, doc: dict[str, Any] | None) -> dict[str, Any]:
        if doc is None:
            doc = {}
        if not self.deaths:
            return doc
        from auditor.audit.pipeline import audit_paths
        from auditor.io.capture import CaptureError

        path = (doc.get("captures") or [{}])[0].get("path") or self.capture_path
        if path and Path(path).is_file():
            try:
                rebuilt = audit_paths([path], _options(self._config["reveal"], self._config["first_party"]))
            except CaptureError as e:
                log.error("auditor: cannot rebuild the report from %s: %s", path, e)
            else:
                rebuilt["captures"][0]["warnings"].append(
                    "live: the report was rebuilt from the capture after the analysis process stopped "
                    "(connections the proxy could not see into are not in the capture)"
                )
                doc = rebuilt
        if doc.get("captures"):
            doc["captures"][0]["warnings"].extend(self.warnings())
        return doc


if __name__ == "__main__":
    sys.exit(main())
