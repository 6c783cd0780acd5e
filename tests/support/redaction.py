"""What a redacted capture must no longer hold: the values auditor detects in a capture, and where
any of them is still found in a file, in every form the tests look for."""

from __future__ import annotations

import base64
import gzip
import json
import re
from pathlib import Path
from urllib.parse import quote, quote_plus

from auditor.audit.pipeline import AuditOptions, audit_paths
from auditor.io.capture import open_capture


def forms(value: str) -> set[bytes]:
    """Every way the test looks for a value: raw, URL-encoded, JSON-escaped, base64 at each alignment."""
    raw = value.encode()
    out = {raw, quote(value, safe="").encode(), quote_plus(value).encode(), quote(value).encode(), json.dumps(value)[1:-1].encode()}
    if len(raw) >= 4:
        out |= {base64.b64encode(raw).rstrip(b"="), base64.urlsafe_b64encode(raw).rstrip(b"=")}
    if len(raw) >= 9:
        for pad in range(3):
            enc = base64.b64encode(b"\xff" * pad + raw)
            # skip the characters that mix in padding bytes or the bytes after the value
            start = 4 * ((pad + 2) // 3)
            end = 4 * ((pad + len(raw)) // 3)
            core = enc[start:end]
            if len(core) >= 8:
                out |= {core, core.replace(b"+", b"-").replace(b"/", b"_")}
    return out


def decoded_text(path: Path, structure: bool = True) -> bytes:
    """Every exchange of a capture, bodies decoded from their Content-Encoding (``structure``:
    with the Content-Length and Content-Type headers)."""
    cap = open_capture(path)
    chunks = []
    skip = () if structure else ("content-length", "content-type", "content-encoding", "host")
    for ex in cap.exchanges:
        chunks += [ex.url.encode(), ex.request_body, ex.response_body]
        chunks += [f"{k}: {v}".encode() for k, v in ex.request_headers + ex.response_headers if k.lower() not in skip]
        chunks += [m.content for m in ex.websocket]
    return b"\n".join(chunks)


def originals(path: Path) -> list[str]:
    """The detected values; those under 3 characters ("14", "0") cannot be told from other text."""
    doc = audit_paths([path], AuditOptions(reveal=True))
    return sorted({f["value"] for f in doc["findings"] if len(f["value"]) >= 3})


def leftovers(path: Path, values: list[str]) -> list[tuple[str, bytes]]:
    """(value, form) found in the file or its decoded exchanges, destination host names aside
    (they are kept, so the copy has the same destinations: a value such as "google" may be
    part of one). Values under 6 characters ("420") are replaced as whole tokens only, and
    looked for as whole tokens in the decoded exchanges: the file's own numbers (sizes,
    timestamps) would match them by chance."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    decoded = decoded_text(path, structure=False)
    for d in audit_paths([path])["destinations"]:
        data = data.replace(d["host"].encode(), b"")
        decoded = decoded.replace(d["host"].encode(), b"")
    out = []
    for v in values:
        if len(v) < 6:
            if re.search(rb"(?<![A-Za-z0-9])" + re.escape(v.encode()) + rb"(?![A-Za-z0-9])", decoded):
                out.append((v, v.encode()))
            continue
        out += [(v, f) for f in forms(v) if f in data or f in decoded]
    return out
