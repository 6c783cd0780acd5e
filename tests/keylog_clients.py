"""Clients for the key-log decryption tests. Each sends the same requests either directly to the
local backend (``direct``: the name resolves to 127.0.0.1, TLS secrets go to a key log) or
through the proxy that ``auditor run`` put in the environment (``proxy``).

    python tests/keylog_clients.py python direct|proxy URL [KEYLOG] [tls12-chacha|tls12-cbc-sha1|tls12-cbc-sha384-mte]
    python tests/keylog_clients.py chromium direct|proxy URL [h3] [SPKI]
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import ssl
import sys
from urllib.parse import urlsplit

PROMPT = {
    "model": "gpt-4o",
    "messages": [{"role": "user", "content": "Write to me at jane.doe@example.org or call +44 20 7946 0958."}],
}


def python_ssl(mode: str, url: str, keylog: str | None, variant: str | None) -> None:
    """http.client over Python's ssl; direct mode logs secrets with SSLContext.keylog_filename."""
    u = urlsplit(url)
    host, port = u.hostname or "", u.port or 443
    if mode == "direct":
        ctx = ssl.create_default_context(cafile=os.environ["BACKEND_CA"])
        if keylog:
            ctx.keylog_filename = keylog
        if variant == "tls12-chacha":
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            ctx.set_ciphers("ECDHE+CHACHA20")
        elif variant == "tls12-cbc-sha1":  # AES-CBC, HMAC-SHA1, Encrypt-then-MAC (OpenSSL's default)
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            ctx.set_ciphers("ECDHE-ECDSA-AES128-SHA")
        elif variant == "tls12-cbc-sha384-mte":  # AES-CBC, HMAC-SHA384, MAC-then-encrypt
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            ctx.set_ciphers("ECDHE-ECDSA-AES256-SHA384")
            ctx.options |= 1 << 19  # SSL_OP_NO_ENCRYPT_THEN_MAC (no name in Python's ssl)

        class Direct(http.client.HTTPSConnection):
            def connect(self) -> None:
                sock = socket.create_connection(("127.0.0.1", port))
                self.sock = ctx.wrap_socket(sock, server_hostname=host)

        conn: http.client.HTTPSConnection = Direct(host, port, context=ctx)
    else:
        ctx = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
        proxy = urlsplit(os.environ["HTTPS_PROXY"])
        conn = http.client.HTTPSConnection(proxy.hostname or "", proxy.port, context=ctx)
        conn.set_tunnel(host, port)
    for method, path, body in (("GET", "/v1/me", None), ("POST", "/v1/chat/completions", json.dumps(PROMPT))):
        headers = {"content-type": "application/json"} if body else {}
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        print(resp.status, resp.read()[:60])
    conn.close()


def chromium(mode: str, url: str, h3: bool, spki: str | None) -> None:
    """Headless Chromium: loads /v1/me, then POSTs a prompt with fetch()."""
    from playwright.sync_api import sync_playwright

    u = urlsplit(url)
    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-sync", "--disable-default-apps",
            "--disable-features=OptimizationHints,MediaRouter,Translate"]
    launch: dict = {}
    if mode == "direct":
        args.append(f"--host-resolver-rules=MAP {u.hostname} 127.0.0.1")
        if spki:
            args.append(f"--ignore-certificate-errors-spki-list={spki}")
        if h3:
            args += ["--enable-quic", f"--origin-to-force-quic-on={u.hostname}:{u.port}"]
        else:
            args.append("--disable-quic")  # the backend's Alt-Svc would start a QUIC attempt
    else:
        launch["proxy"] = {"server": os.environ["HTTPS_PROXY"]}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=args, **launch)
        page = browser.new_context(ignore_https_errors=True).new_page()
        for attempt in (1, 2):
            # A loaded machine can let the first QUIC handshake time out: one more navigation, told
            # on stderr. Failed attempts carry no request, so the capture still holds one of each.
            try:
                page.goto(f"{url}/v1/me", timeout=60_000)
                break
            except Exception as exc:  # playwright's Error/TimeoutError
                print(f"navigation attempt {attempt} failed: {exc}", file=sys.stderr)
                if attempt == 2:
                    raise
        status = page.evaluate(
            """async (body) => {
                const r = await fetch('/v1/chat/completions', {method: 'POST', headers: {'content-type': 'application/json'}, body});
                await r.text();
                return r.status;
            }""",
            json.dumps(PROMPT),
        )
        print(json.dumps({"status": status}))
        browser.close()


if __name__ == "__main__":
    kind, mode, url, *rest = sys.argv[1:]
    if kind == "python":
        python_ssl(mode, url, rest[0] if rest else None, rest[1] if len(rest) > 1 else None)
    else:
        chromium(mode, url, bool(rest) and rest[0] == "h3", rest[1] if len(rest) > 1 else None)
