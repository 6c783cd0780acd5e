"""A local HTTPS backend for the key-log decryption tests: HTTP/1.1, HTTP/2 and HTTP/3 on loopback.

``TlsBackend`` makes a test CA and a server certificate for the given hostnames, then runs
hypercorn (TCP for HTTP/1.1 and HTTP/2, QUIC for HTTP/3) in a child process serving ``app``: an
ASGI app that answers a chat-style API with a user profile, so both directions carry personal
data. Also runnable as ``python tests/tls_backend.py CERT KEY PORT`` (TCP and UDP on PORT);
its certificates come from ``support.certs``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from support.certs import make_certs
from support.ports import free_tcp_and_udp_port

PROFILE = {
    "user": {"email": "jane.doe@example.org", "phone": "+44 20 7946 0958", "name": "Jane Doe"},
    "ok": True,
}


def dns_answer(query: bytes) -> bytes:
    """The DNS answer to ``query``: its one question, answered with 127.0.0.1 for type A and with
    no record for other types (AAAA, HTTPS)."""
    end = 12
    while query[end]:
        end += query[end] + 1
    question = query[12 : end + 5]
    qtype = int.from_bytes(query[end + 1 : end + 3], "big")
    answers = b"\xc0\x0c" + b"\x00\x01\x00\x01" + (60).to_bytes(4, "big") + b"\x00\x04\x7f\x00\x00\x01" if qtype == 1 else b""
    header = query[:2] + b"\x81\x80" + b"\x00\x01" + (b"\x00\x01" if answers else b"\x00\x00") + b"\x00\x00\x00\x00"
    return header + question + answers


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Echo-free JSON answers: a profile for /v1/me, a chat answer for everything else."""
    if scope["type"] != "http":
        return
    if scope["path"] == "/favicon.ico":
        await send({"type": "http.response.start", "status": 404, "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})
        return
    request = b""
    more = True
    while more:
        msg = await receive()
        request += msg.get("body", b"")
        more = msg.get("more_body", False)
    if scope["path"] == "/dns-query":  # DNS over HTTPS (RFC 8484 POST): every name is 127.0.0.1
        answer = dns_answer(request)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/dns-message"),
                                (b"content-length", str(len(answer)).encode())]})
        await send({"type": "http.response.body", "body": answer})
        return
    body = PROFILE if scope["path"].startswith("/v1/me") else {
        "id": "chatcmpl-1", "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello Jane."}}],
    }
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})


class TlsBackend:
    """hypercorn in a child process on loopback: ``port`` (TCP, h1/h2) and the same port over UDP (h3)."""

    def __init__(self, directory: Path, hosts: list[str]) -> None:
        self.dir = directory
        self.hosts = hosts
        self.ca, self.cert, self.key = make_certs(directory, hosts)
        self.port = free_tcp_and_udp_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> TlsBackend:
        env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent))
        self.proc = subprocess.Popen(
            [sys.executable, __file__, str(self.cert), str(self.key), str(self.port)],
            env=env, stdout=subprocess.DEVNULL, stderr=open(self.dir / "server.log", "wb"),
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                time.sleep(0.3)  # the QUIC listener starts with the TCP one
                return self
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.1)
        raise RuntimeError(f"test backend did not start: {(self.dir / 'server.log').read_text()[-2000:]}")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)


def _serve(cert: str, key: str, port: int) -> None:
    import asyncio

    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    config = Config()
    config.certfile, config.keyfile = cert, key
    config.bind = [f"127.0.0.1:{port}"]
    config.quic_bind = [f"127.0.0.1:{port}"]
    config.alpn_protocols = ["h2", "http/1.1"]
    config.ciphers = "ECDHE+AESGCM:ECDHE+CHACHA20:ECDHE+AES"  # then the CBC suites, for the TLS 1.2 CBC tests
    config.loglevel = "WARNING"
    asyncio.run(serve(app, config))  # type: ignore[arg-type]


if __name__ == "__main__":
    _serve(sys.argv[1], sys.argv[2], int(sys.argv[3]))
