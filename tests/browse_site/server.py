"""Local web sites for the ``auditor browse`` tests, one HTTPS server answering for every host.

``chat.example.test`` is an AI chat page that does everything a privacy inspector looks for: a
tracker script (``cdn.trackly.test``) that fingerprints the browser (canvas, WebGL, audio, fonts, navigator),
writes a cookie, logs every keystroke to ``t.trackly.test`` (which sets a cookie of its own),
the real rrweb session-replay SDK (``cdn.replayly.test``, installed by npm from this folder's lock
file) shipping recordings to ``ingest.replayly.test``, and a Meta pixel (``www.facebook.com/tr``).
``clean.example.test`` is the same chat without any of it. ``plain.example.test`` has no chat
input at all. Run by the tests through ``auditor browse --map HOST=127.0.0.1:PORT``.
"""

from __future__ import annotations

import json
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HOSTS = ("chat.example.test", "clean.example.test", "plain.example.test", "cdn.trackly.test", "t.trackly.test",
         "cdn.replayly.test", "ingest.replayly.test", "www.facebook.com")

CHAT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Example Chat</title>
{head}</head>
<body><h1>Example Chat</h1><div id="log"></div>
<form id="f"><textarea id="box" rows="3" cols="60" placeholder="Ask anything"></textarea><button type="submit">Send</button></form>
{body}
<script>
const box = document.getElementById("box");
box.addEventListener("keydown", e => {{ if (e.key === "Enter" && !e.shiftKey) {{ e.preventDefault(); send(); }} }});
document.getElementById("f").addEventListener("submit", e => {{ e.preventDefault(); send(); }});
async function send() {{
  const text = box.value.trim();
  if (!text) return;
  box.value = "";
  const r = await fetch("/api/chat", {{method: "POST", headers: {{"content-type": "application/json"}},
    body: JSON.stringify({{model: "example-1", messages: [{{role: "user", content: text}}]}})}});
  const answer = document.createElement("p");
  answer.textContent = (await r.json()).answer;
  document.getElementById("log").appendChild(answer);
}}
</script></body></html>
"""

TRACKING_HEAD = """<script src="https://cdn.replayly.test/rrweb.min.js"></script>
<script src="https://cdn.replayly.test/record.js"></script>
<script src="https://cdn.trackly.test/t.js"></script>
"""
PIXEL = '<img src="https://www.facebook.com/tr?id=1234567890&ev=PageView&noscript=1" width="1" height="1" alt="">'

RECORD_JS = """(function () {
  var events = [];
  rrweb.record({ emit: function (e) { events.push(e); }, maskAllInputs: false });
  setInterval(function () {
    if (!events.length) return;
    var batch = events; events = [];
    fetch("https://ingest.replayly.test/v1/batch", { method: "POST", mode: "no-cors", keepalive: true,
      body: JSON.stringify({ session: "s-1", events: batch }) });
  }, 1000);
})();
"""

TRACKER_JS = """(function () {
  try {
    var c = document.createElement("canvas"); c.width = 220; c.height = 30;
    var x = c.getContext("2d"); x.font = "14px Arial"; x.fillText("Cwm fjordbank glyphs vext quiz", 2, 20);
    c.toDataURL();
  } catch (e) {}
  try {
    var gl = document.createElement("canvas").getContext("webgl");
    if (gl) { gl.getParameter(37445); gl.getParameter(37446); }
  } catch (e) {}
  try {
    var ac = new OfflineAudioContext(1, 5000, 44100);
    var osc = ac.createOscillator(); osc.type = "triangle"; osc.frequency.value = 10000;
    var comp = ac.createDynamicsCompressor(); osc.connect(comp); comp.connect(ac.destination);
    osc.start(0); ac.startRendering();
  } catch (e) {}
  try {
    var m = document.createElement("canvas").getContext("2d");
    ["Arial", "Verdana", "Times New Roman", "Courier New", "Georgia", "Palatino", "Garamond", "Bookman",
     "Comic Sans MS", "Trebuchet MS", "Arial Black", "Impact", "Tahoma", "Helvetica", "Calibri", "Cambria",
     "Consolas", "Lucida Console", "Segoe UI", "Futura", "Gill Sans", "Optima"].forEach(function (f) {
      m.font = "72px '" + f + "', monospace"; m.measureText("mmmmmmmmmmlli");
    });
  } catch (e) {}
  var n = navigator;
  var fp = [n.userAgent, n.platform, n.language, n.languages, n.hardwareConcurrency, n.deviceMemory,
            n.plugins, n.mimeTypes, n.doNotTrack, n.maxTouchPoints, n.vendor].join("|");
  document.cookie = "tk_uid=" + Math.random().toString(36).slice(2) + "; path=/";
  document.addEventListener("input", function (e) {
    var t = e.target;
    if (t && "value" in t) navigator.sendBeacon("https://t.trackly.test/k", JSON.stringify({ f: t.id, v: t.value }));
  }, true);
  fetch("https://t.trackly.test/hello?fp=" + fp.length, { mode: "no-cors", credentials: "include" });
})();
"""

GIF = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")


def page(host: str) -> str:
    if host == "chat.example.test":
        return CHAT.format(head=TRACKING_HEAD, body=PIXEL)
    if host == "clean.example.test":
        return CHAT.format(head="", body="")
    return "<!doctype html><html><head><title>No chat here</title></head><body><p>Nothing to type into.</p></body></html>"


class Handler(BaseHTTPRequestHandler):
    rrweb: Path
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes = b"", ctype: str = "text/plain", headers: tuple[tuple[str, str], ...] = ()) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Access-Control-Allow-Origin", "*")
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _route(self) -> None:
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        path = self.path.split("?")[0]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if host in ("chat.example.test", "clean.example.test", "plain.example.test"):
            if path == "/api/chat" and self.command == "POST":
                question = json.loads(body or b"{}").get("messages", [{}])[-1].get("content", "")
                answer = {"answer": f"Here is a plan for: {question[:40]}", "model": "example-1"}
                return self._send(200, json.dumps(answer).encode(), "application/json")
            if path == "/":
                return self._send(200, page(host).encode(), "text/html; charset=utf-8")
            return self._send(404)
        if host == "cdn.replayly.test" and path == "/rrweb.min.js":
            return self._send(200, self.rrweb.read_bytes(), "application/javascript")
        if host == "cdn.replayly.test" and path == "/record.js":
            return self._send(200, RECORD_JS.encode(), "application/javascript")
        if host == "cdn.trackly.test" and path == "/t.js":
            return self._send(200, TRACKER_JS.encode(), "application/javascript")
        if host == "t.trackly.test":
            cookie = ("Set-Cookie", "tid=7f3a9c2e51; Path=/; Max-Age=31536000; SameSite=None; Secure")
            return self._send(204, headers=(cookie,))
        if host == "ingest.replayly.test":
            return self._send(204)
        if host == "www.facebook.com" and path.startswith("/tr"):
            return self._send(200, GIF, "image/gif", (("Set-Cookie", "fr=0xAbC; Path=/; Domain=.facebook.com; SameSite=None; Secure"),))
        return self._send(404)

    do_GET = do_POST = _route


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], OSError):  # a browser closing its connection is no error
            super().handle_error(request, client_address)


class Site:
    """``with Site(rrweb_js, context) as site:`` then ``site.maps()`` for ``--map``."""

    def __init__(self, rrweb: Path, context: ssl.SSLContext) -> None:
        handler = type("BoundHandler", (Handler,), {"rrweb": rrweb})
        self.server = _Server(("127.0.0.1", 0), handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def maps(self) -> list[str]:
        return [f"{h}=127.0.0.1:{self.port}" for h in HOSTS]

    def __enter__(self) -> Site:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


if __name__ == "__main__":  # serve for a manual run: python tests/browse_site/server.py RRWEB_JS
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    import tempfile

    from fixtures.record import _self_signed_context

    with Site(Path(sys.argv[1]), _self_signed_context(Path(tempfile.mkdtemp()))) as s:
        print(" ".join(f"--map {m}" for m in s.maps()), flush=True)
        threading.Event().wait()
