"""Loopback load and fault helpers for the proxy tests: a backend and a mixed-traffic client.

Both run as their own processes (so neither shares an interpreter lock with the proxy):

    python tests/loadgen.py backend --dir DIR
        An aiohttp server on 127.0.0.1 with a TLS port (self-signed certificate made at start)
        and a plain port, and an HTTP/2 server on a third port (as AI APIs speak HTTP/2);
        writes ``DIR/ports.json`` and serves until SIGTERM or SIGINT.
    python tests/loadgen.py client --seconds 60 --connections 200 --out RESULT.json
        Runs through the proxy named by ``HTTPS_PROXY``/``HTTP_PROXY``, trusting ``SSL_CERT_FILE``
        (what ``auditor run`` sets): N workers, each on its own connection, doing HTTP/1.1
        requests, HTTP/2 requests, server-sent event streams, WebSocket chats and cleartext
        HTTP/1.1 requests, each with a unique id in its path. Writes what every exchange ended
        as, and the proxy process's memory over time (``--rss-pid``, default: the parent).
    python tests/loadgen.py requests|faults|peers ...
        Small scripted clients for the fault and connection-reuse tests.

Backend paths (any host): ``POST /api/ID`` answers JSON; ``GET /sse/ID?n=5&ms=20`` streams n
events; ``GET /ws/ID`` echoes WebSocket messages; ``GET /status/CODE/ID`` answers that status
(an error the backend causes); the HTTP/2 port answers every request like ``/api/ID``;
``GET /reset/ID`` resets the connection before answering;
``GET /sse-reset/ID`` sends two events, then resets; ``GET /peer/ID`` answers the port the
request came from (which upstream connection carried it). Nothing here leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import ssl
import struct
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from support.certs import self_signed

LOOPBACK = "127.0.0.1"
TLS_HOST = "api.load.test"
H2_HOST = "h2.load.test"
PLAIN_HOST = "plain.load.test"
KINDS = ("h1", "h2", "sse", "ws", "plain")
PROMPT = "Please draft a reply to my landlord and sign it Jane Doe, jane.doe@example.org."


# --------------------------------------------------------------------------------------------
# Backend
# --------------------------------------------------------------------------------------------


class _H2Server(asyncio.Protocol):
    """A minimal HTTP/2 server (the ``h2`` state machine that mitmproxy itself uses): answers
    every request with JSON naming the last path segment, like ``POST /api/ID``."""

    def __init__(self) -> None:
        import h2.config
        import h2.connection

        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
        self.requests: dict[int, tuple[dict[str, str], bytearray]] = {}
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.conn.initiate_connection()
        transport.write(self.conn.data_to_send())

    def data_received(self, data: bytes) -> None:
        import h2.events
        import h2.exceptions

        assert self.transport is not None
        try:
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError:
            self.transport.close()
            return
        for ev in events:
            if isinstance(ev, h2.events.RequestReceived):
                headers = {str(k): str(v) for k, v in ev.headers or ()}  # str: header_encoding is set
                self.requests[ev.stream_id] = (headers, bytearray())
            elif isinstance(ev, h2.events.DataReceived):
                self.requests[ev.stream_id][1].extend(ev.data)
                self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            elif isinstance(ev, h2.events.StreamEnded):
                headers, body = self.requests.pop(ev.stream_id)
                rid = headers.get(":path", "/").split("?")[0].rsplit("/", 1)[-1]
                answer = json.dumps({"id": rid, "received": len(body), "ok": True}).encode()
                self.conn.send_headers(ev.stream_id, [(":status", "200"), ("content-type", "application/json"),
                                                      ("content-length", str(len(answer)))])
                self.conn.send_data(ev.stream_id, answer, end_stream=True)
            elif isinstance(ev, h2.events.ConnectionTerminated):
                self.transport.close()
        self.transport.write(self.conn.data_to_send())


def _self_signed(directory: Path) -> ssl.SSLContext:
    cert, key = self_signed(directory, "load-backend.invalid")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def _h2_context(directory: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    ctx.set_alpn_protocols(["h2"])
    return ctx


def _reset(request: Any) -> None:
    """Close the request's connection with a TCP reset (SO_LINGER 0)."""
    transport = request.transport
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    if transport is not None:
        transport.abort()


async def _backend(directory: Path) -> None:
    import aiohttp
    from aiohttp import web

    async def api(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        return web.json_response({"id": request.match_info["id"], "received": len(body), "ok": True})

    async def sse(request: web.Request) -> web.StreamResponse:
        n, delay = int(request.query.get("n", "5")), int(request.query.get("ms", "20")) / 1000
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await resp.prepare(request)
        for i in range(n):
            await resp.write(f"data: {json.dumps({'id': request.match_info['id'], 'n': i})}\n\n".encode())
            if i + 1 < n:
                await asyncio.sleep(delay)
        await resp.write_eof()
        return resp

    async def sse_reset(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        for i in range(2):
            await resp.write(f"data: {i}\n\n".encode())
            await asyncio.sleep(0.05)
        _reset(request)
        return resp

    async def ws(request: web.Request) -> web.StreamResponse:
        sock = web.WebSocketResponse(heartbeat=None)
        await sock.prepare(request)
        async for msg in sock:
            if msg.type == aiohttp.WSMsgType.TEXT:
                await sock.send_str(json.dumps({"echo": msg.data}))
        return sock

    async def status(request: web.Request) -> web.StreamResponse:
        code = int(request.match_info["code"])
        return web.json_response({"id": request.match_info["id"], "error": "the backend says no"}, status=code)

    async def peer(request: web.Request) -> web.StreamResponse:
        peername = request.transport.get_extra_info("peername") if request.transport else None
        return web.json_response({"id": request.match_info["id"], "peer_port": peername[1] if peername else 0})

    async def reset(request: web.Request) -> web.StreamResponse:
        _reset(request)
        return web.Response(status=500)

    app = web.Application(client_max_size=64 << 20)
    app.router.add_post("/api/{id}", api)
    app.router.add_get("/sse/{id}", sse)
    app.router.add_get("/sse-reset/{id}", sse_reset)
    app.router.add_get("/ws/{id}", ws)
    app.router.add_get("/status/{code}/{id}", status)
    app.router.add_get("/reset/{id}", reset)
    app.router.add_get("/peer/{id}", peer)
    loop = asyncio.get_running_loop()
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0, handler_cancellation=True)
    await runner.setup()
    tls, plain = socket.socket(), socket.socket()
    for s in (tls, plain):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((LOOPBACK, 0))
    await web.SockSite(runner, tls, ssl_context=_self_signed(directory), backlog=1024).start()
    await web.SockSite(runner, plain, backlog=1024).start()
    h2server = await loop.create_server(_H2Server, LOOPBACK, 0, ssl=_h2_context(directory), backlog=1024)
    ports = {"tls": tls.getsockname()[1], "plain": plain.getsockname()[1], "h2": h2server.sockets[0].getsockname()[1]}
    tmp = directory / "ports.json.tmp"
    tmp.write_text(json.dumps(ports))
    tmp.replace(directory / "ports.json")
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    h2server.close()
    await runner.cleanup()


class Backend:
    """The backend as a subprocess: ``with Backend(tmp) as b:`` then ``b.maps()`` for ``--map``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.proc: Any = None
        self.tls_port = self.plain_port = self.h2_port = 0

    def __enter__(self) -> Backend:
        import subprocess

        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "ports.json").unlink(missing_ok=True)
        log = open(self.directory / "backend.log", "wb")
        self.proc = subprocess.Popen([sys.executable, __file__, "backend", "--dir", str(self.directory)],
                                     stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 30
        ports = self.directory / "ports.json"
        while not ports.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError("the load backend did not start: " + (self.directory / "backend.log").read_text()[-2000:])
            time.sleep(0.05)
        p = json.loads(ports.read_text())
        self.tls_port, self.plain_port, self.h2_port = p["tls"], p["plain"], p["h2"]
        return self

    def __exit__(self, *exc: object) -> None:
        import subprocess

        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def maps(self) -> list[str]:
        return [f"{TLS_HOST}={LOOPBACK}:{self.tls_port}", f"{H2_HOST}={LOOPBACK}:{self.h2_port}",
                f"{PLAIN_HOST}={LOOPBACK}:{self.plain_port}"]


# --------------------------------------------------------------------------------------------
# Client
# --------------------------------------------------------------------------------------------


@dataclass
class Results:
    """What every exchange ended as: ``ok`` (as asked), ``backend`` (an error status the
    backend was asked to give), or ``error`` (anything else: a failure the client saw)."""

    exchanges: list[dict[str, Any]] = field(default_factory=list)
    rss: list[tuple[float, float, float]] = field(default_factory=list)  # (t, proxy MB, analysis MB)
    started: float = 0.0

    def add(self, kind: str, path: str, outcome: str, detail: str = "", **extra: Any) -> None:
        self.exchanges.append({"kind": kind, "path": path, "outcome": outcome, "detail": detail,
                               "t": round(time.monotonic() - self.started, 3)} | extra)


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _children(parent: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rpartition(")")[2].split()[1]) == parent:
                    out.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return out


class _H2First(ssl.SSLContext):
    """A client context that offers h2 before http/1.1 whatever the HTTP library asks (httpcore
    offers http/1.1 first inside a proxy tunnel, and mitmproxy follows the client's order)."""

    def set_alpn_protocols(self, protocols: Any) -> None:
        super().set_alpn_protocols(["h2", "http/1.1"])


def _proxy(scheme: str) -> str | None:
    name = "HTTPS_PROXY" if scheme in ("https", "wss") else "HTTP_PROXY"
    return os.environ.get(name) or os.environ.get(name.lower()) or None


def _body(worker: int, rid: str) -> bytes:
    """A chat request as an app sends it: the same user on every request of a connection, a
    new prompt each time."""
    prompt = f"{PROMPT} This is message {rid}."
    return json.dumps({"model": "load-1", "user": f"user-{worker}", "messages": [{"role": "user", "content": prompt}]}).encode()


async def _h1(worker: int, deadline: float, res: Results, ctx: ssl.SSLContext, host: str, scheme: str, kind: str) -> None:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=1, ssl=ctx)
    timeout = aiohttp.ClientTimeout(total=60)
    proxy = _proxy(scheme)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        seq = 0
        while time.monotonic() < deadline:
            seq += 1
            rid = f"{kind}-{worker}-{seq}"
            failing = seq % 20 == 3  # the 3rd, 23rd... request asks the backend for an error
            path = f"/status/503/{rid}" if failing else f"/api/{rid}"
            try:
                if failing:
                    async with session.get(f"{scheme}://{host}{path}", proxy=proxy) as r:
                        await r.read()
                        outcome = "backend" if r.status == 503 else "error"
                        res.add(kind, path, outcome, f"status {r.status}")
                else:
                    async with session.post(f"{scheme}://{host}{path}", data=_body(worker, rid), proxy=proxy,
                                            headers={"content-type": "application/json"}) as r:
                        data = await r.json()
                        ok = r.status == 200 and data.get("id") == rid
                        res.add(kind, path, "ok" if ok else "error", f"status {r.status}")
            except Exception as e:  # noqa: BLE001  (every failure counts as an error result; none is expected)
                res.add(kind, path, "error", f"{type(e).__name__}: {e}")


async def _h2(worker: int, deadline: float, res: Results, ctx: ssl.SSLContext) -> None:
    import httpx

    h2ctx = _H2First(ssl.PROTOCOL_TLS_CLIENT)
    cafile = os.environ.get("SSL_CERT_FILE")
    h2ctx.load_verify_locations(cafile) if cafile else h2ctx.load_default_certs()
    async with httpx.AsyncClient(http2=True, proxy=_proxy("https"), verify=h2ctx, timeout=60, trust_env=False) as client:
        seq = 0
        while time.monotonic() < deadline:
            seq += 1
            rid = f"h2-{worker}-{seq}"
            path = f"/api/{rid}"
            try:
                r = await client.post(f"https://{H2_HOST}{path}", content=_body(worker, rid),
                                      headers={"content-type": "application/json"})
                ok = r.status_code == 200 and r.json().get("id") == rid and r.http_version == "HTTP/2"
                res.add("h2", path, "ok" if ok else "error", f"status {r.status_code} {r.http_version}")
            except Exception as e:  # noqa: BLE001  (every failure counts as an error result)
                res.add("h2", path, "error", f"{type(e).__name__}: {e}")


async def _sse(worker: int, deadline: float, res: Results, ctx: ssl.SSLContext, events: int) -> None:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=1, ssl=ctx)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
        seq = 0
        while time.monotonic() < deadline:
            seq += 1
            rid = f"sse-{worker}-{seq}"
            path = f"/sse/{rid}"
            try:
                got = 0
                async with session.get(f"https://{TLS_HOST}{path}?n={events}&ms=20", proxy=_proxy("https")) as r:
                    async for line in r.content:
                        got += line.startswith(b"data: ")
                ok = r.status == 200 and got == events
                res.add("sse", path, "ok" if ok else "error", f"status {r.status}, {got} events", events=got)
            except Exception as e:  # noqa: BLE001  (every failure counts as an error result)
                res.add("sse", path, "error", f"{type(e).__name__}: {e}")


async def _ws(worker: int, deadline: float, res: Results, ctx: ssl.SSLContext, messages: int) -> None:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=1, ssl=ctx)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
        seq = 0
        while time.monotonic() < deadline:
            seq += 1
            rid = f"ws-{worker}-{seq}"
            path = f"/ws/{rid}"
            try:
                echoed = 0
                async with session.ws_connect(f"wss://{TLS_HOST}{path}", heartbeat=None, proxy=_proxy("wss")) as sock:
                    for i in range(messages):
                        text = json.dumps({"event": "send", "content": [{"type": "text", "text": f"{PROMPT} ({i})"}]})
                        await sock.send_str(text)
                        reply = await sock.receive(timeout=60)
                        echoed += reply.type == aiohttp.WSMsgType.TEXT and json.loads(reply.data)["echo"] == text
                ok = echoed == messages
                res.add("ws", path, "ok" if ok else "error", f"{echoed} echoes", messages=2 * echoed)
            except Exception as e:  # noqa: BLE001  (every failure counts as an error result)
                res.add("ws", path, "error", f"{type(e).__name__}: {e}")


def plan(connections: int, kinds: Sequence[str] = KINDS) -> list[str]:
    """Which kind each worker does: 40% HTTP/1.1, 20% HTTP/2, 15% SSE, 10% WebSocket,
    15% cleartext HTTP/1.1 (at least one of each of ``kinds``)."""
    weights = {k: w for k, w in {"h1": 40, "h2": 20, "sse": 15, "ws": 10, "plain": 15}.items() if k in kinds}
    counts = {k: max(1, connections * w // 100) for k, w in weights.items()}
    counts[next(iter(counts))] += connections - sum(counts.values())
    return [k for k in KINDS if k in counts for _ in range(counts[k])]


async def _client(seconds: float, connections: int, rss_pid: int, sse_events: int, ws_messages: int,
                  kinds: Sequence[str] = KINDS) -> Results:
    cafile = os.environ.get("SSL_CERT_FILE")
    ctx = ssl.create_default_context(cafile=cafile) if cafile else ssl.create_default_context()
    res = Results(started=time.monotonic())
    deadline = res.started + seconds
    tasks = []
    for worker, kind in enumerate(plan(connections, kinds)):
        if kind == "h1":
            tasks.append(_h1(worker, deadline, res, ctx, TLS_HOST, "https", "h1"))
        elif kind == "plain":
            tasks.append(_h1(worker, deadline, res, ctx, PLAIN_HOST, "http", "plain"))
        elif kind == "h2":
            tasks.append(_h2(worker, deadline, res, ctx))
        elif kind == "sse":
            tasks.append(_sse(worker, deadline, res, ctx, sse_events))
        else:
            tasks.append(_ws(worker, deadline, res, ctx, ws_messages))

    async def sample() -> None:
        while time.monotonic() < deadline:
            # the proxy's process, and its other children (the addon's analysis process)
            others = sum(_rss_mb(pid) for pid in _children(rss_pid) if pid != os.getpid())
            res.rss.append((round(time.monotonic() - res.started, 2), _rss_mb(rss_pid), others))
            await asyncio.sleep(0.5)

    await asyncio.gather(sample(), *tasks)
    return res


async def _peers(requests: int) -> list[int]:
    """``requests`` requests, one after the other, on one keep-alive client connection; the
    backend port each came from (one port: the proxy reused its upstream connection)."""
    import aiohttp

    cafile = os.environ.get("SSL_CERT_FILE")
    ctx = ssl.create_default_context(cafile=cafile) if cafile else ssl.create_default_context()
    ports = []
    connector = aiohttp.TCPConnector(limit=1, ssl=ctx)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=20)) as session:
        for i in range(requests):
            async with session.get(f"https://{TLS_HOST}/peer/reuse-{i}", proxy=_proxy("https")) as r:
                ports.append((await r.json())["peer_port"])
    return ports


def _client_ctx() -> ssl.SSLContext:
    cafile = os.environ.get("SSL_CERT_FILE")
    return ssl.create_default_context(cafile=cafile) if cafile else ssl.create_default_context()


async def _requests(count: int, prefix: str, padding: int) -> list[int]:
    """``count`` POSTs to ``/api/PREFIX-N`` (with ``padding`` extra bytes of body); the statuses."""
    import aiohttp

    statuses = []
    filler = "x" * padding
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=_client_ctx()),
                                     timeout=aiohttp.ClientTimeout(total=30)) as session:
        for i in range(count):
            body = json.dumps({"messages": [{"role": "user", "content": PROMPT}], "padding": filler}).encode()
            try:
                async with session.post(f"https://{TLS_HOST}/api/{prefix}-{i}", data=body, proxy=_proxy("https"),
                                        headers={"content-type": "application/json"}) as r:
                    await r.read()
                    statuses.append(r.status)
            except aiohttp.ClientError:
                statuses.append(0)
    return statuses


async def _faults() -> dict[str, Any]:
    """A client that walks away from a stream, and a backend that resets: what the client saw."""
    import aiohttp

    out: dict[str, Any] = {}
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=_client_ctx(), force_close=True), timeout=timeout) as session:
        # 1. the client disconnects in the middle of a long event stream
        got = 0
        r = await session.get(f"https://{TLS_HOST}/sse/walk-away?n=100&ms=50", proxy=_proxy("https"))
        async for line in r.content:
            got += line.startswith(b"data: ")
            if got == 2:
                break
        r.close()  # drops the connection with the stream still running
        out["walk_away_events"] = got
        await asyncio.sleep(0.5)
        # 2. the backend resets the connection before answering
        async with session.get(f"https://{TLS_HOST}/reset/reset-1", proxy=_proxy("https")) as r:
            out["reset_status"] = r.status
            await r.read()
        # 3. the backend resets in the middle of an event stream
        got = 0
        try:
            async with session.get(f"https://{TLS_HOST}/sse-reset/sse-reset-1", proxy=_proxy("https")) as r:
                out["sse_reset_status"] = r.status
                async for line in r.content:
                    got += line.startswith(b"data: ")
            out["sse_reset_outcome"] = "ended"
        except aiohttp.ClientError as e:
            out["sse_reset_outcome"] = type(e).__name__
        out["sse_reset_events"] = got
    out["after"] = await _requests(5, "after", 0)
    return out


def summarise(exchanges: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts by kind and outcome, and the first few client errors."""
    by = Counter((e["kind"], e["outcome"]) for e in exchanges)
    return {
        "total": len(exchanges),
        "by_kind": {k: {o: by[(k, o)] for o in ("ok", "backend", "error") if by[(k, o)]} for k in KINDS},
        "errors": [e for e in exchanges if e["outcome"] == "error"][:10],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("backend")
    b.add_argument("--dir", type=Path, required=True)
    c = sub.add_parser("client")
    c.add_argument("--seconds", type=float, default=60.0)
    c.add_argument("--connections", type=int, default=200)
    c.add_argument("--out", type=Path, required=True)
    c.add_argument("--rss-pid", type=int, default=0, help="process whose memory to sample (default: the parent)")
    c.add_argument("--sse-events", type=int, default=5)
    c.add_argument("--ws-messages", type=int, default=3)
    c.add_argument("--kinds", default=",".join(KINDS), help="which kinds of traffic (default: all)")
    pe = sub.add_parser("peers")
    pe.add_argument("--requests", type=int, default=12)
    rq = sub.add_parser("requests")
    rq.add_argument("--count", type=int, default=5)
    rq.add_argument("--prefix", default="req")
    rq.add_argument("--padding", type=int, default=0)
    sub.add_parser("faults")
    args = ap.parse_args(argv)
    if args.cmd == "requests":
        print(json.dumps(asyncio.run(_requests(args.count, args.prefix, args.padding))))
        return 0
    if args.cmd == "faults":
        print(json.dumps(asyncio.run(_faults())))
        return 0
    if args.cmd == "backend":
        asyncio.run(_backend(args.dir))
        return 0
    if args.cmd == "peers":
        print(json.dumps(asyncio.run(_peers(args.requests))))
        return 0
    kinds = [k for k in args.kinds.split(",") if k in KINDS] or list(KINDS)
    res = asyncio.run(_client(args.seconds, args.connections, args.rss_pid or os.getppid(), args.sse_events, args.ws_messages,
                              kinds))
    args.out.write_text(json.dumps({"exchanges": res.exchanges, "rss": res.rss, "seconds": args.seconds,
                                    "connections": args.connections}))
    s = summarise(res.exchanges)
    print(json.dumps({"total": s["total"], "by_kind": s["by_kind"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
