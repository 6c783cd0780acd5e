"""A real browser session: headless Chromium (Debian's) through ``auditor run``, with ``--map``
sending real-looking hostnames to a local TLS server. The page's site is the first party, and
nothing else is: not the public AI API it calls, not the analytics, ad or CDN hosts, not the
browser's own traffic. The same holds offline for the flows and for the HAR Playwright wrote."""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import ROOT, need

from auditor.audit.pipeline import audit_paths

pytestmark = pytest.mark.e2e

CLIENTS = str(ROOT / "tests" / "live_clients.py")
SITE = "chat.parlochat.com"
HOSTS = [SITE, "static.parlochat.com", "api.openai.com", "www.google-analytics.com", "securepubads.g.doubleclick.net", "cdn.jsdelivr.net"]

PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Parlo chat</title>
<link rel="stylesheet" href="https://static.parlochat.com/app.css">
<script src="https://cdn.jsdelivr.net/npm/marked@12/marked.min.js"></script></head>
<body><form id="f"><input id="prompt" autocomplete="off"></form><div id="answer"></div>
<img src="https://securepubads.g.doubleclick.net/gampad/ads?iu=/1234/chat&sz=300x250" alt="">
<script>
document.getElementById("f").addEventListener("submit", async (e) => {
  e.preventDefault();
  const prompt = document.getElementById("prompt").value;
  navigator.sendBeacon("https://www.google-analytics.com/g/collect?v=2&tid=G-PARLO01&en=send",
                       JSON.stringify({label: prompt}));
  const r = await fetch("https://api.openai.com/v1/chat/completions", {method: "POST",
    headers: {"Content-Type": "application/json", "Authorization": "Bearer sk-proj-parlo0000000000000000000000"},
    body: JSON.stringify({model: "gpt-4o-mini", messages: [{role: "user", content: prompt}]})});
  const data = await r.json();
  document.getElementById("answer").textContent = data.choices[0].message.content;
  document.title = "done";
});
</script></body></html>"""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for k, v in {"Content-Type": ctype, "Content-Length": str(len(body)), **(extra or {})}.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_OPTIONS(self) -> None:  # CORS preflight of the AI API call
        self._send(204, b"", "text/plain", {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": "*",
                                            "Access-Control-Allow-Methods": "POST"})

    def do_GET(self) -> None:
        host = (self.headers.get("Host") or "").split(":")[0]
        if host == SITE:
            self._send(200, PAGE.encode(), "text/html; charset=utf-8")
        elif host == "static.parlochat.com":
            self._send(200, b"body{font-family:sans-serif}", "text/css")
        elif host == "cdn.jsdelivr.net":
            self._send(200, b"window.marked={parse:(s)=>s};", "application/javascript")
        else:
            self._send(200, b"GIF89a", "image/gif")

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        host = (self.headers.get("Host") or "").split(":")[0]
        if host == "api.openai.com":
            body = {"id": "chatcmpl-1", "object": "chat.completion", "choices": [
                {"index": 0, "message": {"role": "assistant", "content": "Here is a reply."}, "finish_reason": "stop"}]}
            self._send(200, json.dumps(body).encode(), "application/json", {"Access-Control-Allow-Origin": "*"})
        else:
            self._send(204, b"", "text/plain", {"Access-Control-Allow-Origin": "*"})


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    sys.path.insert(0, str(ROOT))
    from fixtures.record import _self_signed_context

    context: ssl.SSLContext = _self_signed_context(tmp_path_factory.mktemp("site"))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_address[1]
    httpd.shutdown()


def first_party_hosts(doc: dict) -> list[str]:
    return sorted(d["host"] for d in doc["destinations"] if d["party"] == "first")


def test_browser_session_the_pages_site_is_the_first_party(tmp_path: Path, server: int) -> None:
    need(Path("/usr/bin/chromium").exists(), "Debian's chromium is not installed (apt-get install chromium)")
    maps = [a for h in HOSTS for a in ("--map", f"{h}=127.0.0.1:{server}")]
    har = tmp_path / "session.har"
    p = subprocess.run(
        [sys.executable, "-m", "auditor", "run", "-o", str(tmp_path), "--confdir", str(tmp_path / "conf"), "--upstream-insecure",
         "--block-unmapped", *maps, "--", sys.executable, CLIENTS, "chromium-site", str(har)],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout.strip().splitlines()[-1])["answer"] == "Here is a reply."
    doc = json.loads((tmp_path / "report.json").read_text())
    offline = audit_paths([tmp_path / "capture.flows"])
    from_har = audit_paths([har])
    for report in (doc, offline, from_har):
        party = {d["host"]: d["party"] for d in report["destinations"]}
        assert first_party_hosts(report) == ["chat.parlochat.com", "static.parlochat.com"], party
        for host in ("api.openai.com", "www.google-analytics.com", "securepubads.g.doubleclick.net", "cdn.jsdelivr.net"):
            assert party[host] == "third", (host, party)
        fp = report["first_party"]
        assert (fp["method"], fp["guessed"], fp["sites"]) == ("browser", False, ["parlochat.com"])
    dests = {d["host"]: d for d in doc["destinations"]}
    assert dests["api.openai.com"]["category"] == "ai_provider" and "prompt" in dests["api.openai.com"]["data_categories"]
    assert "prompt" in dests["www.google-analytics.com"]["data_categories"]  # the beacon's copy of the typed prompt
    # whatever the browser sent by itself (blocked: not mapped) is never first
    assert all(d["party"] != "first" for d in doc["destinations"] if d["host"] not in HOSTS)
