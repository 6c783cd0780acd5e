"""A catch-all HTTPS backend for the real-SDK corpus: it answers every SDK plausibly.

One TLS port (a self-signed certificate made at start; ``auditor run --upstream-insecure``
accepts it) and ``auditor run --map HOST=127.0.0.1:PORT`` for every host an SDK calls. The
answer is chosen from the ``Host`` header and the path: OpenAI-style chat completions,
Anthropic messages, Gemini ``generateContent``, Cohere v2 chat, DashScope generation, Zhipu,
Ark and Qianfan (OpenAI-style), analytics ``200 OK``, Sentry envelopes with an id, and the chat
page and its bundles for the browser SDKs. The answers hold no planted value.

Run alone: ``python backend.py --port 8443 --static DIR`` (prints the port it listens on).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import mimetypes
import re
import ssl
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

ANSWER = "Here is a short answer from the test backend."
Reply = tuple[int, str, bytes]


def _json(obj: Any, status: int = 200) -> Reply:
    return status, "application/json", json.dumps(obj).encode()


def _model(body: dict[str, Any], default: str) -> str:
    model = body.get("model")
    return model if isinstance(model, str) and model else default


def openai_chat(body: dict[str, Any], path: str) -> Reply:
    return _json({
        "id": "chatcmpl-backend0001",
        "object": "chat.completion",
        "created": 1790000000,
        "model": _model(body, "gpt-4o-mini"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": ANSWER}, "finish_reason": "stop", "logprobs": None}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 10, "total_tokens": 22},
    })


def anthropic_messages(body: dict[str, Any], path: str) -> Reply:
    return _json({
        "id": "msg_backend0001",
        "type": "message",
        "role": "assistant",
        "model": _model(body, "claude-sonnet-4-5"),
        "content": [{"type": "text", "text": ANSWER}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 12, "output_tokens": 10},
    })


def gemini(body: dict[str, Any], path: str) -> Reply:
    return _json({
        "candidates": [{"content": {"role": "model", "parts": [{"text": ANSWER}]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 10, "totalTokenCount": 22},
        "modelVersion": "gemini-2.5-flash",
        "responseId": "backend0001",
    })


def cohere_chat(body: dict[str, Any], path: str) -> Reply:
    if path.startswith("/v1/"):
        return _json({"response_id": "backend0001", "text": ANSWER, "generation_id": "backend0002", "finish_reason": "COMPLETE",
                      "chat_history": [], "meta": {"billed_units": {"input_tokens": 12, "output_tokens": 10}}})
    return _json({
        "id": "backend0001",
        "finish_reason": "COMPLETE",
        "message": {"role": "assistant", "content": [{"type": "text", "text": ANSWER}]},
        "usage": {"billed_units": {"input_tokens": 12, "output_tokens": 10}, "tokens": {"input_tokens": 12, "output_tokens": 10}},
    })


def dashscope(body: dict[str, Any], path: str) -> Reply:
    if (body.get("parameters") or {}).get("result_format") == "message":
        output: dict[str, Any] = {"choices": [{"finish_reason": "stop", "message": {"role": "assistant", "content": ANSWER}}]}
    else:
        output = {"text": ANSWER, "finish_reason": "stop"}
    return _json({"status_code": 200, "request_id": "backend-0001", "code": "", "message": "", "output": output,
                  "usage": {"input_tokens": 12, "output_tokens": 10, "total_tokens": 22}})


def qianfan_token(body: dict[str, Any], path: str) -> Reply:
    return _json({"access_token": "24.backend0001", "expires_in": 2592000, "scope": "public"})


def posthog(body: dict[str, Any], path: str) -> Reply:
    if path.endswith(".js"):  # remote config script, lazily loaded extensions: none here
        return 200, "application/javascript", b"/* none */"
    if path.startswith(("/decide", "/flags")):
        return _json({
            "featureFlags": {}, "featureFlagPayloads": {}, "flags": {}, "errorsWhileComputingFlags": False,
            "config": {"enable_collect_everything": True}, "autocapture_opt_out": False, "capturePerformance": False,
            "sessionRecording": {"endpoint": "/s/", "recorderVersion": "v2", "consoleLogRecordingEnabled": False,
                                 "sampleRate": None, "minimumDurationMilliseconds": None},
            "supportedCompression": ["gzip", "gzip-js"], "siteApps": [], "surveys": False, "heatmaps": False,
            "toolbarParams": {}, "isAuthenticated": False, "editorParams": {},
        })
    if "/array/" in path and path.endswith("/config"):
        return _json({"sessionRecording": {"endpoint": "/s/"}, "supportedCompression": ["gzip", "gzip-js"], "siteApps": []})
    return _json({"status": 1})


def mixpanel(body: dict[str, Any], path: str) -> Reply:
    return _json({"status": 1, "error": None})


def segment(body: dict[str, Any], path: str) -> Reply:
    return _json({"success": True})


def segment_settings(body: dict[str, Any], path: str) -> Reply:
    return _json({
        "integrations": {"Segment.io": {"apiHost": "api.segment.io/v1",
                                         "addBundledMetadata": True, "versionSettings": {"version": "4.4.7", "componentTypes": ["browser"]}}},
        "plan": {"track": {"__default": {"enabled": True, "integrations": {}}}, "identify": {"__default": {"enabled": True}},
                 "group": {"__default": {"enabled": True}}},
        "enabledMiddleware": {}, "metrics": {"sampleRate": 0.0}, "remotePlugins": [],
    })


def amplitude(body: dict[str, Any], path: str) -> Reply:
    events = body.get("events") if isinstance(body.get("events"), list) else []
    return _json({"code": 200, "events_ingested": len(events), "payload_size_bytes": 100, "server_upload_time": 1790000000000})


def sentry(body: dict[str, Any], path: str) -> Reply:
    return _json({"id": uuid.UUID(int=0x5E).hex})


def ok(body: dict[str, Any], path: str) -> Reply:
    return _json({"ok": True})


# (host pattern, path pattern, handler): the first match answers.
ROUTES: list[tuple[str, str, Callable[[dict[str, Any], str], Reply]]] = [
    (r"api\.anthropic\.com", r"/v1/messages", anthropic_messages),
    (r"generativelanguage\.googleapis\.com", r".*:(stream)?generateContent", gemini),
    (r"api\.cohere\.(com|ai)", r"/v\d/chat", cohere_chat),
    (r"dashscope\.aliyuncs\.com", r"/api/v1/services/aigc/.*", dashscope),
    (r"aip\.baidubce\.com", r"/oauth/2\.0/token", qianfan_token),
    (r".*", r"/(v1|v2|v3|v4|api/paas/v4|api/v3|compatible-mode/v1)/chat/completions", openai_chat),
    (r".*", r".*/chat/completions", openai_chat),
    (r".*posthog\.com", r".*", posthog),
    (r".*mixpanel\.com", r".*", mixpanel),
    (r"cdn\.segment\.com", r"/v1/projects/.*/settings", segment_settings),
    (r".*segment\.(io|com)", r".*", segment),
    (r".*amplitude\.com", r".*", amplitude),
    (r".*sentry\.io", r"/api/.*", sentry),
]


def answer(host: str, path: str, body: bytes) -> Reply:
    """The reply to a request for ``host`` and ``path`` with this body."""
    try:
        parsed = json.loads(body) if body[:1] in (b"{", b"[") else {}
    except ValueError:
        parsed = {}
    if not isinstance(parsed, dict):
        parsed = {}
    bare = path.split("?", 1)[0]
    for host_re, path_re, handler in ROUTES:
        if re.fullmatch(host_re, host) and re.fullmatch(path_re, bare):
            return handler(parsed, bare)
    return ok(parsed, bare)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    static: Path | None = None
    static_host = ""
    log: ClassVar[list[str]] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _body(self) -> bytes:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("content-length") or 0))

    def _handle(self) -> None:
        body = self._body()
        host = (self.headers.get("host") or "").split(":")[0].lower()
        Handler.log.append(f"{self.command} {host}{self.path}")
        if self.command == "OPTIONS":
            self._send(204, "text/plain", b"")
            return
        if self.static is not None and host == self.static_host and self.command == "GET":
            name = self.path.split("?", 1)[0].lstrip("/") or "index.html"
            file = (self.static / name).resolve()
            if file.is_file() and file.is_relative_to(self.static.resolve()):
                data = file.read_bytes()
                encoding = ""
                if "gzip" in (self.headers.get("accept-encoding") or ""):  # keeps the captures small
                    data, encoding = gzip.compress(data, 9, mtime=0), "gzip"
                self._send(200, mimetypes.guess_type(file.name)[0] or "application/octet-stream", data, encoding)
            else:
                self._send(404, "text/plain", b"not found")
            return
        status, ctype, data = answer(host, self.path, body)
        self._send(status, ctype, data)

    def _send(self, status: int, ctype: str, data: bytes, encoding: str = "") -> None:
        self.send_response(status)
        self.send_header("content-type", ctype)
        if encoding:
            self.send_header("content-encoding", encoding)
        self.send_header("content-length", str(len(data)))
        origin = self.headers.get("origin")
        if origin:
            self.send_header("access-control-allow-origin", origin)
            self.send_header("access-control-allow-credentials", "true")
            self.send_header("access-control-allow-headers", self.headers.get("access-control-request-headers") or "*")
            self.send_header("access-control-allow-methods", "GET, POST, PUT, OPTIONS")
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_OPTIONS = do_PATCH = do_DELETE = _handle


def tls_context(directory: Path) -> ssl.SSLContext:
    """A server context with a certificate from a fresh throwaway CA (mitmproxy's certificate
    store; ``--upstream-insecure`` accepts it)."""
    from cryptography.hazmat.primitives import serialization
    from mitmproxy.certs import CertStore

    entry = CertStore.from_store(directory, "corpus-backend", 2048).get_cert("corpus-backend.invalid", [])
    (directory / "cert.pem").write_bytes(entry.cert.to_pem())
    (directory / "key.pem").write_bytes(
        entry.privatekey.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    context.set_alpn_protocols(["http/1.1"])
    return context


class Backend:
    """The backend in a thread: ``with Backend(static, host) as b: b.port``."""

    def __init__(self, static: Path | None = None, static_host: str = "", port: int = 0) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="corpus-backend-")
        handler = type("BoundHandler", (Handler,), {"static": static, "static_host": static_host, "log": []})
        self.handler = handler
        self.server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.server.daemon_threads = True
        self.server.socket = tls_context(Path(self._tmp.name)).wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Backend:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._tmp.cleanup()

    @property
    def requests(self) -> list[str]:
        return list(self.handler.log)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--static", type=Path)
    ap.add_argument("--static-host", default="")
    args = ap.parse_args()
    with Backend(args.static, args.static_host, args.port) as b:
        print(b.port, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
