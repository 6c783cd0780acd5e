"""No leaks by default: known secrets and personal values in a capture never reach an output.

The capture carries an email, a phone number, API keys (OpenAI, Anthropic, AWS), a JWT, a
password, prompt text, device and advertising ids and a card number (valid Luhn), in bodies,
headers, cookies, query strings, a form, a gzip-compressed Sentry envelope and a WebSocket
message. Every output is collected: ``auditor report`` HTML, JSON and Markdown, ``auditor
check`` JUnit XML, Markdown, JSON and text, the capture ``auditor redact`` writes, and every
command's standard output and error. Each value is searched for in each output plain,
URL-encoded (``quote`` and ``quote_plus``), HTML- and JSON-escaped, and in base64 (standard and
URL-safe, padded or not, at all three alignments, so it is caught inside a longer base64 text).

Without ``--reveal`` none may appear; with ``--reveal`` each one does (so the search can fail).
"""

from __future__ import annotations

import base64
import gzip
import html
import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from hostile import corpus

EMAIL = "jane.leakwood@example.org"
PHONE = "+1 202 555 0143"
OPENAI_KEY = "sk-proj-LeAk0123456789abcdefGHIJKLmnopqrstUV"
ANTHROPIC_KEY = "sk-ant-api03-LeAkAbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
AWS_KEY = "AKIALEAKEXAMPLE12345"
PASSWORD = "Tr0ub4dor&3-leak-pw"
PROMPT = "My landlord Mr Okonkwo keeps my deposit of 2400 euros, what can I do about it?"
DEVICE_ID = "7355608123456789"
AD_ID = "38400000-8cf0-11bd-b23e-10b96e40000d"
CARD = "4539 1488 0343 6467"
JWT_CLAIMS = {"sub": "user-4242", "email": "jwt.holder@example.org", "name": "Jane Leakwood"}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


JWT = ".".join(
    [
        _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()),
        _b64url(json.dumps(JWT_CLAIMS).encode()),
        _b64url(b"leaky-signature-bytes-0123456789"),
    ]
)

SECRETS = {
    "email": EMAIL,
    "phone": PHONE,
    "openai key": OPENAI_KEY,
    "anthropic key": ANTHROPIC_KEY,
    "aws key": AWS_KEY,
    "jwt": JWT,
    "password": PASSWORD,
    "prompt": PROMPT,
    "device id": DEVICE_ID,
    "advertising id": AD_ID,
    "card": CARD,
}


# --------------------------------------------------------------------------------------------
# The search


def _b64_cores(raw: bytes) -> set[str]:
    """Base64 text that encodes ``raw`` wherever it sits in a longer input: for each of the three
    alignments, the characters that depend on ``raw`` alone (standard and URL-safe alphabets)."""
    out: set[str] = set()
    for k in range(3):
        encoded = base64.b64encode(b"\0" * k + raw).decode()
        first = -(-8 * k // 6)  # first character made only of raw's bits
        last = 8 * (k + len(raw)) // 6  # first character reaching past raw
        core = encoded[first:last]
        if len(core) >= 8:
            out.add(core)
            out.add(core.translate(str.maketrans("+/", "-_")))
    return out


def forms(value: str) -> set[str]:
    """Every form of ``value`` searched for."""
    raw = value.encode()
    out = {
        value,
        quote(value),
        quote(value, safe=""),
        quote_plus(value),
        html.escape(value),
        html.escape(value, quote=False),
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        base64.b64encode(raw).decode(),
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
    }
    out |= _b64_cores(raw)
    return {f for f in out if len(f) >= 6}


def leaks(outputs: dict[str, bytes]) -> list[tuple[str, str, str]]:
    """``(output, secret, form)`` for every form of every secret found in an output."""
    found = []
    for name, data in outputs.items():
        text = data.decode("utf-8", "replace")
        for secret, value in SECRETS.items():
            for form in forms(value):
                if form in text:
                    found.append((name, secret, form))
    return found


def test_the_search_finds_every_encoding() -> None:
    """The search itself: each form, inside other text, is found."""
    value = PROMPT
    hidden = {
        "plain": f"x{value}y",
        "url": "q=" + quote_plus(value),
        "json": json.dumps({"a": value}),
        "html": f"<td>{html.escape(value)}</td>",
        **{f"b64-{k}": "zz" + base64.b64encode(b"abc"[:k] + value.encode() + b"tail").decode() for k in range(3)},
        **{f"b64url-{k}": _b64url(b"xy"[:k] + value.encode()) for k in range(3)},
    }
    for name, text in hidden.items():
        assert leaks({name: text.encode()}), name
    assert not leaks({"masked": b"My *** (78 chars) ja***@ex***.org +* *** *** **43 sk-***"})


# --------------------------------------------------------------------------------------------
# The capture and the outputs


def leak_capture(path: Path) -> Path:
    """A flow file with every secret, in the places and encodings apps send them."""
    s = corpus.flow_state
    chat = json.dumps(
        {"model": "gpt-4o", "messages": [{"role": "user", "content": PROMPT}], "user": EMAIL, "card_note": f"pay with {CARD}"}
    ).encode()
    analytics = json.dumps(
        {
            "header": {"device_id": DEVICE_ID, "advertising_id": AD_ID, "phone": PHONE},
            "event_v3": [{"event": "send_message", "params": json.dumps({"prompt_text": PROMPT})}],
        }
    ).encode()
    envelope = "\n".join(
        [json.dumps({"event_id": "0" * 32}), json.dumps({"type": "event"}),
         json.dumps({"user": {"email": EMAIL}, "message": f"crash for {EMAIL} card {CARD}"})]
    ).encode()
    form = f"email={quote_plus(EMAIL)}&password={quote_plus(PASSWORD)}&phone={quote_plus(PHONE)}".encode()
    states = [
        s(0, host="api.openai.com", path="/v1/chat/completions", body=chat,
          headers=((b"content-type", b"application/json"), (b"authorization", f"Bearer {OPENAI_KEY}".encode()))),
        s(1, host="mcs.volceapplog.com", path="/list", body=analytics, headers=corpus.JSON),
        s(2, host="chat.example.com", path="/api/login", body=form,
          headers=((b"content-type", b"application/x-www-form-urlencoded"),)),
        s(3, host="chat.example.com", method=b"GET", path=f"/api/me?email={quote(EMAIL, safe='')}&phone={quote_plus(PHONE)}",
          headers=((b"cookie", f"session={JWT}; theme=dark".encode()), (b"x-device-id", DEVICE_ID.encode()))),
        s(4, host="o450.ingest.sentry.io", path="/api/1/envelope/", body=gzip.compress(envelope, mtime=0),
          headers=((b"content-encoding", b"gzip"), (b"content-type", b"application/x-sentry-envelope"))),
        s(5, host="api.anthropic.com", path="/v1/messages",
          body=json.dumps({"model": "claude", "messages": [{"role": "user", "content": PROMPT}],
                           "metadata": {"aws_access_key_id": AWS_KEY}}).encode(),
          headers=((b"content-type", b"application/json"), (b"x-api-key", ANTHROPIC_KEY.encode()))),
        s(6, host="ws.example.com", path="/chat", scheme=b"https",
          websocket=[(1, True, json.dumps({"prompt_text": PROMPT, "email": EMAIL}).encode(), 1.0),
                     (1, True, base64.b64encode(json.dumps({"prompt": PROMPT, "token": JWT}).encode()), 2.0)]),
    ]
    return corpus.write_flows(path, states)


POLICY = """version: 1
rules:
  - id: no-prompts-to-analytics
    description: Prompts stay with the app.
    deny: {categories: [prompt], services: [analytics]}
  - id: no-credentials-anywhere
    description: Credentials are reported.
    severity: warning
    deny: {categories: [credential]}
  - id: note-emails
    severity: info
    deny: {categories: [email]}
"""


def auditor(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "auditor", *args], capture_output=True, cwd=cwd, timeout=300)


def commands() -> set[str]:
    out = subprocess.run([sys.executable, "-m", "auditor", "--help"], capture_output=True, text=True, timeout=60).stdout
    return {line.split()[0] for line in out.splitlines() if line.startswith("  ") and line.split()}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Every output of every command on the leak capture, without ``--reveal``."""
    tmp = tmp_path_factory.mktemp("leaks")
    capture = leak_capture(tmp / "session.flows")
    out: dict[str, bytes] = {}

    def record(name: str, p: subprocess.CompletedProcess[bytes]) -> None:
        assert b"Traceback" not in p.stderr, p.stderr
        out[f"{name} stdout"] = p.stdout
        out[f"{name} stderr"] = p.stderr

    p = auditor("report", str(capture), "-o", str(tmp / "report"), "-f", "html,json,md", cwd=tmp)
    assert p.returncode == 0, p.stderr
    record("report", p)
    for ext in ("html", "json", "md"):
        out[f"report.{ext}"] = (tmp / f"report.{ext}").read_bytes()
    for fmt in ("json", "md"):
        p = auditor("report", str(capture), "-o", "-", "-f", fmt, cwd=tmp)
        record(f"report -o - -f {fmt}", p)
    available = commands()
    if "check" in available:
        (tmp / "policy.yaml").write_text(POLICY)
        p = auditor("check", str(capture), "--policy", str(tmp / "policy.yaml"), "--junit", str(tmp / "check.xml"),
                    "--markdown", str(tmp / "check.md"), "--json", str(tmp / "check.json"), cwd=tmp)
        assert p.returncode in (0, 1), p.stderr
        record("check", p)
        for name in ("check.xml", "check.md", "check.json"):
            out[name] = (tmp / name).read_bytes()
    if "redact" in available:
        p = auditor("redact", str(capture), "-o", str(tmp / "redacted.flows"), cwd=tmp)
        assert p.returncode == 0, p.stderr
        record("redact", p)
        out["redacted.flows"] = (tmp / "redacted.flows").read_bytes()
        p = auditor("report", str(tmp / "redacted.flows"), "-o", str(tmp / "redacted-report"), "-f", "json", "--reveal", cwd=tmp)
        assert p.returncode == 0, p.stderr
        out["report --reveal of the redacted copy"] = (tmp / "redacted-report.json").read_bytes()
    return out


@pytest.mark.e2e
def test_no_secret_in_any_output_by_default(outputs: dict[str, bytes]) -> None:
    assert {"report.html", "report.json", "report.md", "report stderr"} <= outputs.keys()
    found = leaks(outputs)
    assert found == [], "\n".join(f"{o}: {s} as {f!r}" for o, s, f in found)


@pytest.mark.e2e
def test_every_output_command_ran(outputs: dict[str, bytes]) -> None:
    available = commands()
    missing = [c for c in ("check", "redact") if c not in available]
    if missing:
        pytest.skip(f"auditor has no {' or '.join(missing)} command yet: those outputs were not searched")
    assert {"check.xml", "check.md", "check.json", "redacted.flows"} <= outputs.keys()
    assert b"<testsuites" in outputs["check.xml"] and b"no-prompts-to-analytics" in outputs["check.xml"]
    check = json.loads(outputs["check.json"])
    assert check["summary"]["findings"] > 10 and "check" in check


@pytest.mark.e2e
def test_reveal_shows_every_secret(tmp_path: Path) -> None:
    """The same search finds each value once the user asks to reveal them: the test can fail."""
    capture = leak_capture(tmp_path / "session.flows")
    p = auditor("report", str(capture), "-o", str(tmp_path / "r"), "-f", "html,json,md", "--reveal", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    revealed = {ext: (tmp_path / f"r.{ext}").read_bytes() for ext in ("json", "html")}
    shown = {secret for _, secret, _ in leaks(revealed)}
    assert shown == set(SECRETS), sorted(set(SECRETS) - shown)
    doc = json.loads(revealed["json"])
    assert doc["revealed"] is True and doc["summary"]["findings"] > 10
