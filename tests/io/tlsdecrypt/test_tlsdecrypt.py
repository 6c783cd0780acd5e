"""TLS key-log decryption of network captures, with real clients, real TLS and tcpdump on loopback.

Each client sends the same requests twice: once through the auditing proxy (``auditor run``) and
once directly to the local backend with its TLS secrets in a key log while tcpdump records
loopback. The decrypted capture must audit the same: same findings by category and host. What
is extracted is compared with tshark's own decryption of the same capture, at test time.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ROOT, need
from support.backends import tls_backend

from auditor.audit.pipeline import AuditOptions, audit_paths
from auditor.io.tlsdecrypt import KeyLog, decrypt_capture, load_keylog

pytestmark = pytest.mark.e2e

CLIENTS = str(ROOT / "tests" / "keylog_clients.py")
HOSTS = ["api.openai.com", "chat.deepseek.com"]
PROMPT = json.dumps({
    "model": "gpt-4o",
    "messages": [{"role": "user", "content": "Write to me at jane.doe@example.org or call +44 20 7946 0958."}],
})


backend = tls_backend(HOSTS, tools=("tcpdump", "tshark"))


@pytest.fixture(scope="module")
def confdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mitmproxy-conf")


def captured(tmp: Path, port: int, run: Callable[[dict[str, str]], None], *tcpdump: str) -> tuple[Path, Path]:
    """Run ``run(env)`` under tcpdump on loopback (or the interface ``tcpdump``'s options name);
    return (capture, key log)."""
    pcap, keys = tmp / "capture.pcap", tmp / "keys.log"
    interface = () if "-i" in tcpdump else ("-i", "lo")
    dump = subprocess.Popen(["tcpdump", *interface, *tcpdump, "-U", "--immediate-mode", "-n", "-w", str(pcap),
                             f"port {port}"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert dump.stderr is not None
    lines = [dump.stderr.readline()]  # "listening on lo, ..." once the capture runs
    while lines[-1] and "listening" not in lines[-1] and len(lines) < 5:  # after "data link type ..."
        lines.append(dump.stderr.readline())
    assert "listening" in lines[-1], lines
    time.sleep(1.0)  # the filter is attached a moment after tcpdump says it listens
    try:
        run(dict(os.environ, SSLKEYLOGFILE=str(keys)))
        time.sleep(1.0)  # tcpdump writes the last packets (a loaded machine may schedule it late)
    finally:
        dump.terminate()  # SIGTERM: tcpdump flushes and exits (SIGINT may be ignored in the background)
        dump.wait(10)
    assert pcap.stat().st_size > 24 and keys.is_file()
    return pcap, keys


def client(cmd: list[str], env: dict[str, str], timeout: float = 60) -> None:
    """Run a client under capture; on failure the assertion shows the client's own stderr."""
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, f"{cmd[:3]} exited {p.returncode}: {p.stderr[-3000:]}"


def via_proxy(tmp: Path, confdir: Path, backend: object, *cmd: str, env: dict[str, str] | None = None) -> dict:
    maps = [a for h in HOSTS for a in ("--map", f"{h}=127.0.0.1:{backend.port}")]  # type: ignore[attr-defined]
    p = subprocess.run(
        [sys.executable, "-m", "auditor", "run", "-o", str(tmp), "--confdir", str(confdir), "--upstream-insecure",
         "--block-unmapped", "-f", "json", *maps, "--", *cmd],
        capture_output=True, text=True, timeout=180, env=env,
    )
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads((tmp / "report.json").read_text())


def via_reverse_proxy_h3(tmp: Path, confdir: Path, backend: object, host: str) -> tuple[dict, set[str]]:
    """Chromium over HTTP/3 to the auditing proxy in reverse mode (``auditor capture --mode
    reverse:http3://...``), which forwards to the backend: the same session as the direct one,
    HTTP/3 on both legs. Returns the report and the HTTP versions of the captured flows."""
    import signal
    import socket

    from mitmproxy.io import FlowReader
    from support.certs import spki_hash
    from support.ports import free_port

    port = backend.port  # type: ignore[attr-defined]
    listen = free_port(kind=socket.SOCK_DGRAM)
    cap = subprocess.Popen(
        [sys.executable, "-m", "auditor", "capture", "-o", str(tmp), "--confdir", str(confdir), "--upstream-insecure",
         "--listen", f"127.0.0.1:{free_port()}", "--mode", f"reverse:http3://{host}:{port}@127.0.0.1:{listen}",
         "--map", f"{host}=127.0.0.1:{port}", "-f", "json"],
        stderr=subprocess.PIPE, text=True,
    )
    try:
        assert cap.stderr is not None
        started = [cap.stderr.readline() for _ in range(2)]
        assert "auditing proxy on" in started[0], started
        client([sys.executable, CLIENTS, "chromium", "direct", f"https://{host}:{listen}", "h3",
                spki_hash(confdir / "mitmproxy-ca-cert.pem")], dict(os.environ), timeout=120)
    finally:
        cap.send_signal(signal.SIGINT)
        _, err = cap.communicate(timeout=60)
    assert cap.returncode == 0, err[-3000:]
    with open(tmp / "capture.flows", "rb") as fh:
        versions = {f.request.http_version for f in FlowReader(fh).stream() if hasattr(f, "request")}
    return json.loads((tmp / "report.json").read_text()), versions


def decrypted_audit(pcap: Path, keys: Path) -> dict:
    return audit_paths([pcap], AuditOptions(keylog=load_keylog(keys)))


def by_category_and_host(doc: dict) -> Counter[tuple[str, str]]:
    """Findings counted by (host, category), for the backend's hosts: the capture records only the
    backend's port, while the proxy also sees the client's own background traffic (Chromium's
    component updater)."""
    return Counter((f["host"], f["category"]) for f in doc["findings"] if f["host"] in HOSTS)


def assert_same_audit(decrypted: dict, proxied: dict) -> None:
    got = by_category_and_host(decrypted)
    assert got, "no findings in the decrypted capture"
    assert got == by_category_and_host(proxied)
    assert_fully_decrypted(decrypted)


def assert_fully_decrypted(decrypted: dict) -> None:
    cov = decrypted["captures"][0]["decryption"]
    assert cov["connection_share"] == 1.0 and cov["not_decrypted"] == [], cov
    for d in decrypted["destinations"]:
        if d["host"] in HOSTS and d["exchanges"]:
            assert "decrypted" in d["seen"] and {"sni", "quic"} & set(d["seen"]), d


def tshark(pcap: Path, keys: Path, *args: str) -> list[list[str]]:
    out = subprocess.run(["tshark", "-r", str(pcap), "-o", f"tls.keylog_file:{keys}", *args],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return [line.split("\t") for line in out.stdout.splitlines() if line.strip()]


def encrypt_then_mac(pcap: Path) -> list[bool]:
    """Per TLS connection of the capture (tshark's reading): whether both hellos carry the
    encrypt_then_mac extension (type 22, RFC 7366)."""
    rows = tshark(pcap, Path("/dev/null"), "-Y", "tls.handshake.type == 1 || tls.handshake.type == 2", "-T", "fields",
                  "-e", "tcp.stream", "-e", "tls.handshake.type", "-e", "tls.handshake.extension.type")
    offered: dict[str, list[bool]] = {}
    for stream, types, extensions in rows:
        if types.split(",")[0] in ("1", "2"):
            offered.setdefault(stream, []).append("22" in extensions.split(","))
    return [all(v) and len(v) == 2 for _, v in sorted(offered.items(), key=lambda kv: int(kv[0]))]


def tshark_requests(pcap: Path, keys: Path, version: str) -> list[tuple[str, str, str]]:
    """(method, host, path) of every request tshark decrypts, over HTTP/2 or HTTP/1.1."""
    if version == "--http2":
        rows = tshark(pcap, keys, "-Y", "http2.type == 1", "-T", "fields", "-e", "http2.headers.method",
                      "-e", "http2.headers.authority", "-e", "http2.headers.path")
        return sorted((m, a.split(":")[0], p) for m, a, p in rows if m)
    rows = tshark(pcap, keys, "-Y", "http.request", "-T", "fields", "-e", "http.request.method",
                  "-e", "http.host", "-e", "http.request.uri")
    return sorted((m, h.split(":")[0], u) for m, h, u in rows)


def requests_of(pcap: Path, keys: Path) -> list[tuple[str, str, str]]:
    res = decrypt_capture(pcap, load_keylog(keys))
    return sorted((e.method, e.host, e.path) for e in res.exchanges)


# --------------------------------------------------------------------------------------------
# curl: HTTP/1.1 and HTTP/2


def curl(backend: object, version: str, *extra: str, direct: bool = True) -> list[str]:
    port = backend.port  # type: ignore[attr-defined]
    base = f"https://api.openai.com:{port}"
    args = ["-sS", "-f", version, *extra]
    if direct:
        args += ["--cacert", str(backend.ca), "--resolve", f"api.openai.com:{port}:127.0.0.1"]  # type: ignore[attr-defined]
    return ["curl", *args, f"{base}/v1/me", "--next", *args, "-H", "content-type: application/json",
            "--data", PROMPT, f"{base}/v1/chat/completions"]


@pytest.mark.parametrize("version", ["--http1.1", "--http2"])
def test_curl_decrypted_audits_the_same_as_through_the_proxy(
    tmp_path: Path, confdir: Path, backend: object, version: str
) -> None:
    need(shutil.which("curl") is not None, "curl is not installed")
    pcap, keys = captured(tmp_path, backend.port, lambda env: client(curl(backend, version), env))  # type: ignore[attr-defined]
    decrypted = decrypted_audit(pcap, keys)
    # Every packet decrypts and parses: no "decryption failed" warning (HTTP/1.1 once raised on
    # each message, its parser handing DoH candidates to a sink that had no place for them).
    assert not [w for c in decrypted["captures"] for w in c["warnings"] if "failed" in w]
    proxied = via_proxy(tmp_path / "proxy", confdir, backend, *curl(backend, version, direct=False))
    assert_same_audit(decrypted, proxied)
    assert by_category_and_host(decrypted).keys() >= {("api.openai.com", "email"), ("api.openai.com", "prompt")}
    # tshark decrypts the same requests.
    theirs = tshark_requests(pcap, keys, version)
    assert requests_of(pcap, keys) == theirs
    assert len(theirs) == 2


# --------------------------------------------------------------------------------------------
# Python's ssl (keylog_filename), TLS 1.3, TLS 1.2 ChaCha20-Poly1305 and AES-CBC

PYTHON_TLS12 = {
    "tls12-chacha": ("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", None),
    "tls12-cbc-sha1": ("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", True),
    "tls12-cbc-sha384-mte": ("TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", False),
}


@pytest.mark.parametrize("variant", ["tls13", "tls12-chacha", "tls12-cbc-sha1", "tls12-cbc-sha384-mte"])
def test_python_ssl_decrypted_audits_the_same_as_through_the_proxy(
    tmp_path: Path, confdir: Path, backend: object, variant: str
) -> None:
    url = f"https://api.openai.com:{backend.port}"  # type: ignore[attr-defined]
    keylog = tmp_path / "keys.log"

    def run(env: dict[str, str]) -> None:
        env = dict(env, BACKEND_CA=str(backend.ca))  # type: ignore[attr-defined]
        env.pop("SSLKEYLOGFILE")  # Python's ssl writes only where keylog_filename says
        client([sys.executable, CLIENTS, "python", "direct", url, str(keylog), variant], env)

    pcap, keys = captured(tmp_path, backend.port, run)  # type: ignore[attr-defined]
    decrypted = decrypted_audit(pcap, keys)
    proxied = via_proxy(tmp_path / "proxy", confdir, backend, sys.executable, CLIENTS, "python", "proxy", url)
    assert_same_audit(decrypted, proxied)
    res = decrypt_capture(pcap, load_keylog(keys))
    ciphers = {e.tls.cipher for e in res.exchanges if e.tls}
    versions = {e.tls.version for e in res.exchanges if e.tls}
    if variant in PYTHON_TLS12:
        cipher, etm = PYTHON_TLS12[variant]
        assert ciphers == {cipher} and versions == {"TLSv1.2"}
        if etm is not None:  # what tshark sees in the hellos: Encrypt-then-MAC negotiated or not
            assert encrypt_then_mac(pcap) == [etm]
    else:
        assert versions == {"TLSv1.3"}
    rows = tshark(pcap, keys, "-Y", "http.request", "-T", "fields", "-e", "http.request.method",
                  "-e", "http.host", "-e", "http.request.uri")
    assert requests_of(pcap, keys) == sorted((m, h.split(":")[0], u) for m, h, u in rows)


@pytest.mark.parametrize(("linktype", "tcpdump"), [(276, ()), (113, ("-y", "LINUX_SLL"))], ids=["sll2", "sll"])
def test_capture_of_every_interface_decrypts(
    tmp_path: Path, confdir: Path, backend: object, linktype: int, tcpdump: tuple[str, ...]
) -> None:
    """``tcpdump -i any`` writes Linux cooked captures (SLL2 by default, SLL when asked): decryption
    reads their link layer with the capture reader's own decoder."""
    need(shutil.which("curl") is not None, "curl is not installed")
    cmd = curl(backend, "--http2")
    pcap, keys = captured(tmp_path, backend.port, lambda env: client(cmd, env), "-i", "any", *tcpdump)  # type: ignore[attr-defined]
    head = pcap.read_bytes()[:24]  # the pcap header, in the byte order of the host that wrote it
    order = "little" if head[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else "big"
    assert int.from_bytes(head[20:24], order) == linktype
    decrypted = decrypted_audit(pcap, keys)
    proxied = via_proxy(tmp_path / "proxy", confdir, backend, *curl(backend, "--http2", direct=False))
    assert_same_audit(decrypted, proxied)
    rows = tshark(pcap, keys, "-Y", "http2.type == 1", "-T", "fields", "-e", "http2.headers.method",
                  "-e", "http2.headers.authority", "-e", "http2.headers.path")
    theirs = sorted((m, a.split(":")[0], p) for m, a, p in rows if m)
    assert requests_of(pcap, keys) == theirs and len(theirs) == 2


# --------------------------------------------------------------------------------------------
# curl: TLS 1.2 AES-CBC suites, with and without Encrypt-then-MAC

CBC_SUITES = {
    "ECDHE-ECDSA-AES128-SHA": "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "ECDHE-ECDSA-AES128-SHA256": "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    "ECDHE-ECDSA-AES256-SHA384": "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
}
# OpenSSL's configuration for every context curl makes: no Encrypt-then-MAC extension in its hellos.
NO_ETM_CONF = """openssl_conf = default_conf
[default_conf]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
Options = -EncryptThenMac
"""


@pytest.mark.parametrize(("version", "etm"), [("--http2", True), ("--http1.1", False)],
                         ids=["h2-encrypt-then-mac", "http1.1-mac-then-encrypt"])
def test_curl_cbc_suites_decrypt_and_audit_the_same_as_through_the_proxy(
    tmp_path: Path, confdir: Path, backend: object, version: str, etm: bool
) -> None:
    """One curl run, one connection per CBC suite (HMAC-SHA1, -SHA256, -SHA384), each with a
    GET and a POST; OpenSSL negotiates Encrypt-then-MAC unless its configuration turns it off."""
    need(shutil.which("curl") is not None, "curl is not installed")

    def chain(direct: bool) -> list[str]:
        cmd = ["curl"]
        for name in CBC_SUITES:
            extra = ("--tls-max", "1.2", "--ciphers", name) if direct else ()
            cmd += [*(["--next"] if len(cmd) > 1 else []), *curl(backend, version, *extra, direct=direct)[1:]]
        return cmd

    env: dict[str, str] = {}
    if not etm:
        conf = tmp_path / "no-etm.cnf"
        conf.write_text(NO_ETM_CONF)
        env["OPENSSL_CONF"] = str(conf)
    pcap, keys = captured(tmp_path, backend.port, lambda e: client(chain(True), dict(e, **env)))  # type: ignore[attr-defined]
    assert encrypt_then_mac(pcap) == [etm] * len(CBC_SUITES)
    res = decrypt_capture(pcap, load_keylog(keys))
    assert sorted({(e.tls.version, e.tls.cipher) for e in res.exchanges if e.tls}) == sorted(
        ("TLSv1.2", s) for s in CBC_SUITES.values()), json.dumps(res.coverage())
    assert (res.connections, res.decrypted, res.failed_records) == (3, 3, 0)
    assert [json.loads(e.request_body) for e in res.exchanges if e.method == "POST"] == [json.loads(PROMPT)] * 3
    decrypted = decrypted_audit(pcap, keys)
    assert not [w for c in decrypted["captures"] for w in c["warnings"] if "failed" in w]
    proxied = via_proxy(tmp_path / "proxy", confdir, backend, *chain(False))
    assert_same_audit(decrypted, proxied)
    assert by_category_and_host(decrypted)[("api.openai.com", "email")] >= 3
    # tshark decrypts the same requests.
    theirs = tshark_requests(pcap, keys, version)
    assert requests_of(pcap, keys) == theirs
    assert len(theirs) == 6


# --------------------------------------------------------------------------------------------
# Chromium: HTTP/2 over TLS and HTTP/3 over QUIC


def _chromium_available() -> None:
    need(Path("/usr/bin/chromium").exists(), "Debian's chromium is not installed")
    try:
        import playwright  # noqa: F401
    except ImportError:
        need(False, "playwright is not installed")


@pytest.mark.parametrize("protocol", ["h2", "h3"])
def test_chromium_decrypted_audits_the_same_as_through_the_proxy(
    tmp_path: Path, confdir: Path, backend: object, protocol: str
) -> None:
    _chromium_available()
    from support.certs import spki_hash

    url = f"https://api.openai.com:{backend.port}"  # type: ignore[attr-defined]
    spki = spki_hash(backend.cert)  # type: ignore[attr-defined]
    pcap, keys = captured(tmp_path, backend.port, lambda env: client(  # type: ignore[attr-defined]
        [sys.executable, CLIENTS, "chromium", "direct", url, protocol, spki], env, timeout=120))
    res = decrypt_capture(pcap, load_keylog(keys))
    assert {e.http_version for e in res.exchanges} == {"HTTP/3" if protocol == "h3" else "HTTP/2.0"}, (
        json.dumps(res.coverage()), keys.read_text().count("\n"), pcap.stat().st_size)
    decrypted = decrypted_audit(pcap, keys)
    if protocol == "h3":
        # A browser does not speak QUIC to a forward proxy: the proxy runs in reverse mode, as the
        # origin, and carries HTTP/3 on both legs.
        proxied, versions = via_reverse_proxy_h3(tmp_path / "proxy", confdir, backend, "api.openai.com")
        assert versions == {"HTTP/3"}
        # Chromium may send a request again over a new QUIC connection when the first attempt
        # stalls (a loaded machine), and the proxy records each attempt: the same findings, counted
        # once per request sent.
        assert by_category_and_host(decrypted), "no findings in the decrypted capture"
        assert set(by_category_and_host(decrypted)) == set(by_category_and_host(proxied))
        assert_fully_decrypted(decrypted)
    else:
        proxied = via_proxy(tmp_path / "proxy", confdir, backend, sys.executable, CLIENTS, "chromium", "proxy", url)
        assert_same_audit(decrypted, proxied)
    if protocol == "h3":
        # tshark 4.0 decrypts QUIC but does not decode QPACK: compare the request streams.
        rows = tshark(pcap, keys, "-Y", "http3.frame_type == 1", "-T", "fields", "-e", "quic.stream.stream_id")
        client_streams = {int(s) for r in rows for s in r[0].split(",") if s and int(s) % 4 == 0}
        assert len(res.exchanges) == len(client_streams) >= 2
    else:
        rows = tshark(pcap, keys, "-Y", "http2.type == 1", "-T", "fields", "-e", "http2.headers.method",
                      "-e", "http2.headers.authority", "-e", "http2.headers.path")
        assert requests_of(pcap, keys) == sorted((m, a.split(":")[0], p) for m, a, p in rows if m)


# --------------------------------------------------------------------------------------------
# Cipher suites, embedded key logs, coverage and errors


@pytest.fixture(scope="module")
def suites_capture(tmp_path_factory: pytest.TempPathFactory, backend: object) -> tuple[Path, Path]:
    """One capture with a curl request per cipher suite (TLS 1.3 and TLS 1.2)."""
    need(shutil.which("curl") is not None, "curl is not installed")
    tmp = tmp_path_factory.mktemp("suites")
    port = backend.port  # type: ignore[attr-defined]
    runs = [["--tls13-ciphers", s] for s in ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256")]
    runs += [["--tls-max", "1.2", "--ciphers", s] for s in
             ("ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305")]

    def run(env: dict[str, str]) -> None:
        for extra in runs:
            client(["curl", "-sS", "-f", "--http2", *extra, "--cacert", str(backend.ca),  # type: ignore[attr-defined]
                    "--resolve", f"api.openai.com:{port}:127.0.0.1", "-H", "content-type: application/json",
                    "--data", PROMPT, f"https://api.openai.com:{port}/v1/chat/completions"], env)

    return captured(tmp, port, run)


def test_every_supported_cipher_suite_decrypts(suites_capture: tuple[Path, Path]) -> None:
    pcap, keys = suites_capture
    res = decrypt_capture(pcap, load_keylog(keys))
    assert sorted((e.tls.version, e.tls.cipher) for e in res.exchanges if e.tls) == [
        ("TLSv1.2", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
        ("TLSv1.2", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
        ("TLSv1.2", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
        ("TLSv1.3", "TLS_AES_128_GCM_SHA256"),
        ("TLSv1.3", "TLS_AES_256_GCM_SHA384"),
        ("TLSv1.3", "TLS_CHACHA20_POLY1305_SHA256"),
    ]
    assert all(json.loads(e.request_body) == json.loads(PROMPT) for e in res.exchanges)
    assert all(json.loads(e.response_body)["choices"][0]["message"]["content"] == "Hello Jane." for e in res.exchanges)
    assert (res.connections, res.decrypted, res.decrypted_bytes) == (6, 6, res.bytes)


def test_key_log_embedded_in_pcapng_needs_no_flag(tmp_path: Path, suites_capture: tuple[Path, Path]) -> None:
    need(shutil.which("editcap") is not None, "editcap (package tshark) is not installed")
    pcap, keys = suites_capture
    out = tmp_path / "with-secrets.pcapng"
    subprocess.run(["editcap", "--inject-secrets", f"tls,{keys}", str(pcap), str(out)], check=True)
    embedded = audit_paths([out])
    given = audit_paths([pcap], AuditOptions(keylog=load_keylog(keys)))
    assert embedded["summary"]["exchanges"] == given["summary"]["exchanges"] == 6
    assert by_category_and_host(embedded) == by_category_and_host(given)
    assert embedded["captures"][0]["decryption"]["connection_share"] == 1.0
    assert audit_paths([pcap])["summary"]["exchanges"] == 0  # and without any key log, nothing


def test_check_takes_the_key_log_too(tmp_path: Path, suites_capture: tuple[Path, Path]) -> None:
    pcap, keys = suites_capture
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nrules:\n  - id: no-email-to-openai\n    deny: {categories: [email], hosts: [api.openai.com]}\n")
    base = [sys.executable, "-m", "auditor", "check", str(pcap), "--policy", str(policy), "-q"]
    assert subprocess.run(base, capture_output=True, text=True).returncode == 0  # nothing to see without keys
    p = subprocess.run([*base, "--keylog", str(keys)], capture_output=True, text=True)
    assert p.returncode == 1, p.stdout + p.stderr
    bad = subprocess.run([*base, "--keylog", str(tmp_path / "missing.log")], capture_output=True, text=True)
    assert bad.returncode == 2 and "no such key log file" in bad.stderr


def test_partial_key_log_states_coverage_and_keeps_the_rest_name_only(
    tmp_path: Path, suites_capture: tuple[Path, Path]
) -> None:
    pcap, keys = suites_capture
    lines = keys.read_text().splitlines()
    randoms = list(dict.fromkeys(line.split()[1] for line in lines if line.strip()))
    dropped = randoms[0]
    partial = tmp_path / "partial.log"
    partial.write_text(
        "\n".join(line for line in lines if dropped not in line)
        + "\nthis is not a key log line\n"
        + f"CLIENT_RANDOM {'ab' * 32} {'cd' * 48}\n"
    )
    p = subprocess.run([sys.executable, "-m", "auditor", "report", str(pcap), "--keylog", str(partial),
                        "-o", str(tmp_path / "r"), "-f", "json,md,html"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    bad_line = len(lines) - sum(dropped in line for line in lines) + 1
    assert f"partial.log: 1 malformed key log line(s) ignored (line {bad_line})" in p.stderr
    assert "key log secrets for 1 TLS connection(s) matched no connection in the capture" in p.stderr
    doc = json.loads((tmp_path / "r.json").read_text())
    cov = doc["captures"][0]["decryption"]
    assert (cov["connections"], cov["decrypted_connections"]) == (6, 5)
    assert cov["connection_share"] == round(5 / 6, 4) and 0 < cov["byte_share"] < 1
    [missing] = cov["not_decrypted"]
    assert missing["sni"] == "api.openai.com" and missing["transport"] == "tcp"
    assert missing["reason"] == "no secret for this connection in the key log"
    assert doc["summary"]["exchanges"] == 5
    md = (tmp_path / "r.md").read_text()
    assert "Decrypted with the key log: 5 of 6 TLS/QUIC connections" in md
    html = (tmp_path / "r.html").read_text()
    assert "Decrypted with the key log: 5 of 6 TLS/QUIC connections" in html
    import jsonschema

    schema = json.loads((ROOT / "auditor" / "schema" / "audit-v1.schema.json").read_text())
    jsonschema.validate(doc, schema)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such key log file"),
        (b"", "no TLS secrets in it"),
        (b"\x00\x01binary", "binary data, not an NSS key log"),
        (b"CLIENT_RANDOM zz\n", "no TLS secrets in it"),
    ],
)
def test_unusable_key_log_is_one_line_and_exit_2(tmp_path: Path, content: bytes | None, message: str) -> None:
    keys = tmp_path / "keys.log"
    if content is not None:
        keys.write_bytes(content)
    pcap = ROOT / "tests" / "data" / "pcap" / "cleartext-http.pcap"
    if not pcap.exists():
        pcap = tmp_path / "empty.pcap"
        pcap.write_bytes(bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000"))
    p = subprocess.run([sys.executable, "-m", "auditor", "report", str(pcap), "--keylog", str(keys), "-o", "-", "-f", "json"],
                       capture_output=True, text=True)
    assert p.returncode == 2
    assert p.stderr.strip().count("\n") == 0 and message in p.stderr, p.stderr
    assert "Traceback" not in p.stderr


def test_keylog_parsing_reports_line_numbers() -> None:
    warnings: list[str] = []
    log = KeyLog()
    text = "# comment\n\nCLIENT_RANDOM " + "11" * 32 + " " + "22" * 48 + "\nbroken\nCLIENT_TRAFFIC_SECRET_0 xx yy\n"
    assert log.add_text(text, "k.log", warnings.append) == 1
    assert warnings == ["k.log: 2 malformed key log line(s) ignored (line 4, 5)"]
    assert log.lookup(bytes.fromhex("11" * 32)) == {"CLIENT_RANDOM": bytes.fromhex("22" * 48)}
    assert log.unused == 0


# --------------------------------------------------------------------------------------------
# DNS over HTTPS inside decrypted traffic


def test_dns_over_https_inside_decrypted_traffic_names_destinations(tmp_path: Path, backend: object) -> None:
    """curl resolves chat.deepseek.com over DoH (api.openai.com/dns-query, inside TLS): with the key
    log the lookup is read like cleartext DNS (the destination was looked up, answered); without
    it, nothing of it is seen."""
    need(shutil.which("curl") is not None, "curl is not installed")
    port = backend.port  # type: ignore[attr-defined]
    cmd = ["curl", "-sS", "-f", "--cacert", str(backend.ca),  # type: ignore[attr-defined]
           "--resolve", f"api.openai.com:{port}:127.0.0.1", "--doh-url", f"https://api.openai.com:{port}/dns-query",
           f"https://chat.deepseek.com:{port}/v1/me"]
    pcap, keys = captured(tmp_path, port, lambda env: client(cmd, env))
    res = decrypt_capture(pcap, load_keylog(keys))
    assert res.dns_messages, [e.path for e in res.exchanges]
    decrypted = {d["host"]: d for d in decrypted_audit(pcap, keys)["destinations"]}
    assert "dns" in decrypted["chat.deepseek.com"]["seen"]
    assert decrypted["chat.deepseek.com"]["dns_lookup"] == "answered"
    opaque = {d["host"]: d for d in audit_paths([pcap])["destinations"]}
    # Without the key log the lookup is not seen: the host is known from its TLS server name
    # alone, or not at all when curl sent its request on the connection it already had.
    assert "dns" not in opaque.get("chat.deepseek.com", {}).get("seen", [])
