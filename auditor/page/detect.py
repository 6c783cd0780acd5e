"""What the page did: keylogging, fingerprinting, session replay, third-party cookies, ad pixels.

:func:`analyze` reads the page events of a browse session and the exchanges of its capture and
returns the report's ``page`` section. It is the same function live (``auditor browse``) and
offline (``auditor report`` on ``capture.flows`` with its ``page-events.jsonl``), so both give the
same section. Every detection names its evidence: the script (and the calls it made) or the
request (masked URL, capture and index), the host, its owner, country and party.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlsplit

from auditor.audit.masking import mask_url
from auditor.destinations.owners import normalize_host, registrable_domain
from auditor.extract import walk_exchange
from auditor.models import Exchange
from auditor.page import BEHAVIOURS
from auditor.page.events import PageEvents

FINGERPRINT_KINDS: dict[str, str] = {
    "canvas_fingerprint": "canvas",
    "webgl_fingerprint": "webgl",
    "audio_fingerprint": "audio",
    "font_probe": "fonts",
    "navigator_enumeration": "navigator",
}
CANARY_PREFIX = 6  # characters of the canary that count as a copy of it
PROMPT_PREFIX = 12  # characters of a prompt that count as a copy of it
MAX_JSON = 8 << 20  # bytes of a body parsed to look for replay events
MAX_DETECTIONS = 500  # detections kept per behaviour; the rest are counted


@cache
def signatures() -> dict[str, Any]:
    data = resources.files("auditor").joinpath("data", "page_signatures.json").read_text(encoding="utf-8")
    doc: dict[str, Any] = json.loads(data)
    return doc


def _under(host: str, suffix: str) -> bool:
    return host == suffix or host.endswith("." + suffix)


def _short(url: str, limit: int = 300) -> str:
    return url if len(url) <= limit else url[: limit - 1] + "\u2026"


@dataclass
class _Context:
    site: str
    dests: dict[str, dict[str, Any]]
    secrets: list[str]
    reveal: bool
    out: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {b: [] for b in BEHAVIOURS})
    dropped: dict[str, int] = field(default_factory=dict)
    seen: set[tuple[Any, ...]] = field(default_factory=set)

    def party(self, host: str) -> str:
        d = self.dests.get(host)
        if d and d.get("party") in ("first", "third", "platform"):
            return str(d["party"])
        if not host:
            return "unknown"
        return "first" if self.site and registrable_domain(host) == self.site else "third"

    def url(self, url: str) -> str:
        return _short(url if self.reveal else mask_url(url, self.secrets))

    def add(self, behaviour: str, kind: str, host: str, key: tuple[Any, ...], **evidence: Any) -> None:
        if (behaviour, kind, host, *key) in self.seen:
            return
        self.seen.add((behaviour, kind, host, *key))
        items = self.out[behaviour]
        if len(items) >= MAX_DETECTIONS:
            self.dropped[behaviour] = self.dropped.get(behaviour, 0) + 1
            return
        d = self.dests.get(host) or {}
        owner = d.get("owner") or {}
        items.append(
            {
                "behaviour": behaviour,
                "kind": kind,
                "host": host,
                "owner": owner.get("name"),
                "country": owner.get("country") or owner.get("parent_country"),
                "party": self.party(host),
                **evidence,
            }
        )


def _script_host(url: str) -> str:
    try:
        return normalize_host(urlsplit(url).hostname or "")
    except ValueError:
        return ""


def _site(events: PageEvents, exchanges_first_host: str | None) -> str:
    url = str(events.session().get("url") or "")
    for ev in events.of("navigate"):
        url = url or str(ev.detail.get("url") or "")
    host = _script_host(url) if url else (exchanges_first_host or "")
    return registrable_domain(host) if host else ""


def _texts(ex: Exchange) -> Iterator[str]:
    """What the request carried, decoded: the URL and every field the walker finds."""
    yield unquote_plus(ex.path)
    for f in walk_exchange(ex):
        if f.part.startswith("request.") or f.part == "websocket.client":
            yield f.value


def _json_bodies(ex: Exchange) -> Iterator[Any]:
    body = ex.request_body
    if not body or len(body) > MAX_JSON:
        return
    if body[:2] == b"\x1f\x8b":
        try:
            d = zlib.decompressobj(wbits=47)
            body = d.decompress(body, MAX_JSON)
        except zlib.error:
            return
    head = body.lstrip()[:1]
    if head not in (b"[", b"{"):
        return
    try:
        yield json.loads(body)
    except (ValueError, RecursionError):
        return


def _rrweb_events(value: Any, depth: int = 0) -> int:
    """How many rrweb-style events (``type`` 0-6, numeric ``timestamp``, object ``data``) the
    decoded JSON holds, looking a few levels down (vendors wrap them in their own envelopes)."""
    if depth > 5:
        return 0
    if isinstance(value, list):
        direct = sum(
            1
            for item in value[:1000]
            if isinstance(item, dict)
            and isinstance(item.get("type"), int)
            and 0 <= item["type"] <= 6
            and isinstance(item.get("timestamp"), int | float)
            and isinstance(item.get("data"), dict)
        )
        if direct:
            return direct
        return sum(_rrweb_events(v, depth + 1) for v in value[:50])
    if isinstance(value, dict):
        total = 0
        for v in list(value.values())[:50]:
            if isinstance(v, str) and v[:1] in ("[", "{") and len(v) < MAX_JSON and '"timestamp"' in v:
                try:
                    v = json.loads(v)
                except (ValueError, RecursionError):
                    continue
            total += _rrweb_events(v, depth + 1)
        return total
    return 0


def _exchange_checks(ctx: _Context, ex: Exchange, session: dict[str, Any], submits: list[tuple[float, str]]) -> None:
    host = normalize_host(ex.host)
    ref = {"method": ex.method, "url": ctx.url(ex.url)}
    flow = {"capture": ex.capture, "index": ex.index}
    canary = str(session.get("canary") or "")
    when = ex.timestamp
    texts: list[str] | None = None
    if canary or submits:
        texts = list(_texts(ex))
    # Keylogging: the canary (typed, never submitted) anywhere, or a prompt before its submit.
    if canary and texts is not None and any(canary[:CANARY_PREFIX] in t for t in texts):
        ctx.add(
            "keylogging",
            "canary",
            host,
            (),
            request=ref,
            flow=flow,
            detail="text typed into the chat box and never submitted was sent",
        )
    if when is not None and texts is not None:
        for t_submit, prompt in submits:
            piece = prompt[:PROMPT_PREFIX]
            if when * 1000 < t_submit and len(piece) >= 4 and any(piece in t for t in texts):
                ctx.add(
                    "keylogging",
                    "prompt_before_submit",
                    host,
                    (),
                    request=ref,
                    flow=flow,
                    detail=f"prompt text sent {(t_submit - when * 1000) / 1000:.1f} s before it was submitted",
                )
    # Session replay by payload.
    for body in _json_bodies(ex):
        n = _rrweb_events(body)
        if n:
            ctx.add(
                "session_replay",
                "payload",
                host,
                (),
                request=ref,
                flow=flow,
                detail=f"{n} recorded page and input event{'' if n == 1 else 's'} (rrweb format)",
            )
            break
    # Session replay by script, and scripts by URL.
    url_l = ex.url.lower()
    dest = (ex.request_header("sec-fetch-dest") or "").lower()
    ctype = (ex.response_header("content-type") or "").lower()
    if dest == "script" or "javascript" in ctype or url_l.split("?")[0].endswith(".js"):
        for sig in signatures()["replay_scripts"]:
            if sig["script"].lower() in url_l:
                ctx.add(
                    "session_replay",
                    "script",
                    host,
                    (sig["name"],),
                    script=ctx.url(ex.url),
                    detail=f"{sig['name']} recording script loaded",
                )
                break
    # Ad pixels.
    for sig in signatures()["pixels"]:
        if _under(host, sig["host"]) and ex.path.startswith(sig["path"]):
            event = parse_qs(urlsplit(ex.path).query).get(sig["event_param"], [""])[0][:64]
            ctx.add(
                "pixels",
                sig["kind"],
                host,
                (event,),
                request=ref,
                flow=flow,
                detail=f"{sig['name']} event {event or '(none)'}",
            )
            break
    # Third-party cookies set by responses.
    if ctx.party(host) != "first":
        names = sorted(
            {v.split("=", 1)[0].strip()[:100] for k, v in ex.response_headers if k.lower() == "set-cookie" and "=" in v}
        )
        if names:
            ctx.add(
                "third_party_cookies",
                "set-cookie",
                host,
                tuple(names),
                request=ref,
                flow=flow,
                cookies=names,
                detail=f"{len(names)} cookie{'' if len(names) == 1 else 's'} set by a third-party response",
            )


def _event_checks(ctx: _Context, events: PageEvents) -> None:
    per_script: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for ev in events.events:
        if ev.source != "page":
            continue
        script = ev.script
        host = _script_host(script)
        kind = FINGERPRINT_KINDS.get(ev.type)
        if kind is not None:
            per_script.setdefault((kind, script), []).append(ev.detail)
        elif ev.type == "cookie_write" and ctx.party(host) != "first":
            name = str(ev.detail.get("name") or "")
            ctx.add(
                "third_party_cookies",
                "script",
                host,
                (name,),
                script=ctx.url(script),
                cookies=[name],
                detail=f"cookie {name!r} written by a third-party script",
            )
    for (kind, script), details in per_script.items():
        calls = max(int(d.get("calls") or 1) for d in details)
        what = sorted({str(d.get("api") or d.get("parameter") or "") for d in details} - {""})
        if kind == "fonts":
            what = [f"{max(int(d.get('fonts') or 0) for d in details)} fonts measured"]
        elif kind == "navigator":
            props = sorted({p for d in details for p in d.get("properties") or []})
            what = [f"navigator.{{{', '.join(props)}}}"]
        ctx.add(
            "fingerprinting",
            kind,
            _script_host(script),
            (script,),
            script=ctx.url(script),
            calls=calls,
            detail="; ".join(what) or kind,
        )


def analyze(
    events: PageEvents,
    exchanges: Iterable[Exchange],
    doc: dict[str, Any],
    reveal: bool = False,
) -> dict[str, Any]:
    """The report's ``page`` section for a browse session (see the module docstring)."""
    session = events.session()
    prompts = [str(p) for p in session.get("prompts") or [] if isinstance(p, str)]
    canary = str(session.get("canary") or "")
    secrets = [s for s in (canary, *prompts) if s]
    dests = {str(d.get("host")): d for d in doc.get("destinations") or ()}
    submits: list[tuple[float, str]] = []
    for ev in events.of("submit"):
        i = ev.detail.get("prompt")
        if isinstance(i, int) and 0 <= i < len(prompts):
            submits.append((ev.t, prompts[i]))
    ctx = _Context(site="", dests=dests, secrets=secrets, reveal=reveal)
    first_host = None
    count = 0
    for ex in exchanges:
        if first_host is None:
            first_host = ex.host
            ctx.site = _site(events, first_host)
        _exchange_checks(ctx, ex, session, submits)
        count += 1
    if not ctx.site:
        ctx.site = _site(events, None)
    _event_checks(ctx, events)
    detections = [d for b in BEHAVIOURS for d in ctx.out[b]]
    warnings = list(events.warnings)
    for b, n in sorted(ctx.dropped.items()):
        warnings.append(f"page: {n} more {b.replace('_', ' ')} detection(s) not listed")
    url = str(session.get("url") or "")
    return {
        "url": ctx.url(url) if url else None,
        "site": ctx.site or None,
        "events": len(events.events),
        "exchanges": count,
        "canary": bool(canary),
        "prompts_typed": len(prompts),
        "summary": {b: len(ctx.out[b]) + ctx.dropped.get(b, 0) for b in BEHAVIOURS},
        "detections": detections,
        "warnings": warnings,
    }
