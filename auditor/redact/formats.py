"""The two capture formats a copy is written in: HAR and mitmproxy flow files.

Each is read twice, streamed (one entry or flow in memory at a time): a first pass collects the
values to replace, a second writes the copy with the same layout.
"""

from __future__ import annotations

import json
import re
from typing import IO, Any

from auditor.redact.errors import RedactError
from auditor.redact.rewriting import Redactor, Warn

__all__ = ["har_layout", "redact_flows", "redact_har"]


def har_layout(head: bytes) -> tuple[int | None, bool]:
    """The indentation of a HAR file's JSON (None: one line) and whether it escaped non-ASCII."""
    text = head.decode("utf-8", "ignore")
    m = re.search(r"\n( +|\t+)\S", text[:4096])
    indent = len(m.group(1)) if m else None
    return indent, bool(re.search(r"\\u[0-9a-fA-F]{4}", text)) and not re.search(r"[^\x00-\x7f]", text)


def redact_har(r: Redactor, buf: bytes, name: str, out: IO[bytes]) -> None:
    """Two passes over the HAR's entries (streamed: one entry in memory at a time): collect the
    values, then write the copy, each entry re-serialized in place and the bytes between entries
    (the document's other members) substituted as they are."""
    from auditor.io.har import HarError, _Damaged, _exchange_or_reason, _NotStreamable, _Scanner, load_har

    limits = r.limits
    keep = max(1 << 16, limits.max_body)
    indent, ascii_only = har_layout(bytes(buf[:200_000]))
    separators = None if indent else (",", ":")
    try:
        scan = _Scanner(buf, keep)
        index = 0
        for start, end in scan.entries():
            try:
                entry = scan.parse(start, end)
            except (ValueError, RecursionError):
                continue
            ex = _exchange_or_reason(entry, 0, index, limits) if isinstance(entry, dict) else "not an object"
            if not isinstance(ex, str):
                index += 1
                r.collect(ex)
    except (_NotStreamable, _Damaged):
        # not the usual layout, or damaged: parse it whole (bounded by the inflated limit)
        try:
            doc = load_har(bytes(buf))
        except HarError as e:
            raise RedactError(f"{name}: {e}") from None
        r.exchanges = 0
        for i, entry in enumerate(doc["log"]["entries"]):
            ex = _exchange_or_reason(entry, 0, i, limits) if isinstance(entry, dict) else "not an object"
            if not isinstance(ex, str):
                r.collect(ex)
        r.finish_collection()
        new = {k: (r.value(v) if k != "log" else v) for k, v in doc.items()}
        new["log"] = {k: (r.value(v) if k != "entries" else [r.har_entry(e) for e in v]) for k, v in doc["log"].items()}
        if buf[:3] == b"\xef\xbb\xbf":
            out.write(b"\xef\xbb\xbf")
        out.write(
            json.dumps(new, indent=indent, ensure_ascii=ascii_only, separators=separators).encode(
                "utf-8", "surrogatepass"
            )
        )
        if bytes(buf[-1:]) == b"\n":
            out.write(b"\n")
        return
    r.finish_collection()
    scan = _Scanner(buf, keep)
    prev = 0
    for start, end in scan.entries():
        out.write(r.value(bytes(buf[prev:start])))
        try:
            entry = scan.parse(start, end)
        except (ValueError, RecursionError):
            entry = None
        r.cut += len(scan.long)
        if entry is None:  # unreadable: left out (it cannot be checked for values)
            out.write(b"null")
        else:
            text = json.dumps(r.har_entry(entry), indent=indent, ensure_ascii=ascii_only, separators=separators)
            if indent:
                line_start = buf.rfind(b"\n", max(0, start - 4096), start)
                base = bytes(buf[line_start + 1 : start]) if line_start >= 0 else b""
                text = text.replace("\n", "\n" + (base.decode("ascii") if not base.strip(b" \t") else ""))
            out.write(text.encode("utf-8", "surrogatepass"))
        prev = end
    out.write(r.value(bytes(buf[prev:])))


def redact_flows(r: Redactor, buf: bytes, name: str, warn: Warn, out: IO[bytes]) -> None:
    from auditor.io.flowfile import FlowFileError, iter_flow_states, state_to_exchange
    from auditor.live import tnetstring_dumps

    limits = r.limits
    index = 0
    try:
        for state in iter_flow_states(buf, name, lambda m: None, limits):
            c = state.get("client_conn")
            if isinstance(c, dict):
                for k in ("peername", "address"):
                    if isinstance(c.get(k), list) and c[k]:
                        r.client_address(c[k][0])
            try:
                ex = state_to_exchange(state, 0, index, limits)
            except (ValueError, TypeError, KeyError, AttributeError):
                ex = None
            if ex is not None:
                index += 1
                r.collect(ex)
    except FlowFileError as e:
        raise RedactError(f"{name}: {e}") from None
    r.finish_collection()
    for state in iter_flow_states(buf, name, warn, limits):
        r.cut += _count_cut(state)
        out.write(tnetstring_dumps(r.flow_state(state)))


def _count_cut(state: dict[str, Any]) -> int:
    """Bodies and messages of a flow state cut at the body limit by the reader."""
    from auditor.io.flowfile import CutBytes

    n = 0
    for side in ("request", "response"):
        msg = state.get(side)
        if isinstance(msg, dict) and isinstance(msg.get("content"), CutBytes):
            n += 1
    ws = state.get("websocket")
    if isinstance(ws, dict):
        n += sum(
            1
            for m in ws.get("messages") or ()
            if isinstance(m, (list, tuple)) and len(m) > 2 and isinstance(m[2], CutBytes)
        )
    return n
