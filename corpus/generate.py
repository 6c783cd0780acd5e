"""Generate the labeled evaluation corpus: ``corpus.har`` and ``labels.json``.

Synthetic traffic of AI chat apps and the SDKs they embed, built from the request formats
documented by each provider or seen in public analyses of their clients (see ``README.md``).
Every personal value is planted through :class:`L` (or a marker that wraps it), which records
its label (category, part, path) at the moment the value is placed; the labels never come from
running the classifiers. Decoys (request and trace ids, hashes, timestamps, build numbers,
versions, Luhn-failing order numbers, sampling rates, model parameters, numeric series) are
placed unlabeled. The output is deterministic (seeded).

    python corpus/generate.py            # writes corpus/corpus.har and corpus/labels.json
    python corpus/generate.py --out DIR  # writes DIR/corpus.har and DIR/labels.json
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import random
import string
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
START = 1793614500  # 2026-11-02T10:15:00Z
UA_CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36"
UA_SAFARI = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
UA_OKHTTP = "okhttp/4.12.0"


# ---------------------------------------------------------------------------------------------
# markers: a planted value and how it is wrapped


@dataclass
class L:
    """A planted personal value with its categories (one or several)."""

    cats: str | tuple[str, ...]
    value: Any

    @property
    def categories(self) -> tuple[str, ...]:
        return (self.cats,) if isinstance(self.cats, str) else self.cats


@dataclass
class J:
    """A JSON document serialized into a string value (walked in place by the reader)."""

    obj: Any


@dataclass
class B64J:
    """A JSON document, base64-encoded into a string value (walked under ``@base64``)."""

    obj: Any
    urlsafe: bool = False


@dataclass
class JWT:
    """A signed JWT; its claims are walked under ``@jwt``; the token itself is a credential."""

    claims: dict[str, Any]
    label: bool = True


def is_ident(key: str) -> bool:
    return key.isascii() and key[:1] != "-" and key.replace("-", "_").isidentifier()


def key_path(prefix: str, key: str) -> str:
    if is_ident(key):
        return f"{prefix}.{key}" if prefix else key
    return f"{prefix}[{json.dumps(key, ensure_ascii=False)}]"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def render(obj: Any, path: str, labels: list[tuple[str, str, str]]) -> Any:
    """The plain value of ``obj`` at ``path``, collecting ``(category, path, value)`` labels."""
    if isinstance(obj, L):
        inner = render(obj.value, path, labels)
        for c in obj.categories:
            labels.append((c, path, str(inner) if not isinstance(inner, float) else float.__repr__(inner)))
        return inner
    if isinstance(obj, J):
        return json.dumps(render(obj.obj, path, labels), ensure_ascii=False, separators=(",", ":"))
    if isinstance(obj, B64J):
        text = json.dumps(render(obj.obj, f"{path}.@base64", labels), separators=(",", ":")).encode()
        return (base64.urlsafe_b64encode(text) if obj.urlsafe else base64.b64encode(text)).decode()
    if isinstance(obj, JWT):
        header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
        payload = b64url(json.dumps(render(obj.claims, f"{path}.@jwt", labels), separators=(",", ":")).encode())
        sig = b64url(hmac.new(b"synthetic-corpus-secret", f"{header}.{payload}".encode(), hashlib.sha256).digest())
        token = f"{header}.{payload}.{sig}"
        if obj.label:
            labels.append(("credential", path, token))
        return token
    if isinstance(obj, dict):
        return {k: render(v, key_path(path, k), labels) for k, v in obj.items()}
    if isinstance(obj, list):
        return [render(v, f"{path}[{i}]", labels) for i, v in enumerate(obj)]
    return obj


# ---------------------------------------------------------------------------------------------
# the corpus builder


@dataclass
class Corpus:
    entries: list[dict[str, Any]] = field(default_factory=list)
    labels: list[dict[str, Any]] = field(default_factory=list)
    clock: float = START

    def add(
        self,
        method: str,
        url: str,
        *,
        query: list[tuple[str, Any]] | None = None,
        headers: list[tuple[str, Any]] | None = None,
        cookies: list[tuple[str, Any]] | None = None,
        json_body: Any = None,
        form: list[tuple[str, Any]] | None = None,
        multipart: list[tuple[str, Any, str | None, bytes | None]] | None = None,
        raw: tuple[bytes, str] | None = None,
        text: tuple[Any, str] | None = None,
        ws: list[tuple[bool, Any]] | None = None,
        path_labels: list[tuple[int, str, str]] | None = None,
        response: tuple[str, str] = ("application/json", "{}"),
        note: str = "",
    ) -> int:
        """Add one exchange; returns its index. Values may be markers (:class:`L`...)."""
        labs: list[tuple[str, str, str, str]] = []  # category, part, path, value

        def plain(part: str, path: str, value: Any) -> str:
            got: list[tuple[str, str, str]] = []
            out = render(value, path, got)
            labs.extend((c, part, p, v) for c, p, v in got)
            return str(out) if not isinstance(out, float) else float.__repr__(out)

        qs = [(k, plain("request.query", k, v)) for k, v in (query or [])]
        if qs:
            url = f"{url}?{urlencode(qs)}"
        hdrs: list[dict[str, str]] = []
        for k, v in headers or []:
            lower = k.lower()
            if lower in ("authorization", "proxy-authorization") and isinstance(v, tuple):
                scheme, token = v
                value = plain("request.header", f"{lower}.{scheme.lower()}", token)
                hdrs.append({"name": k, "value": f"{scheme} {value}"})
            else:
                hdrs.append({"name": k, "value": plain("request.header", lower, v)})
        if cookies:
            pairs = [f"{k}={plain('request.cookie', k, v)}" for k, v in cookies]
            hdrs.append({"name": "Cookie", "value": "; ".join(pairs)})
        post: dict[str, Any] | None = None
        if json_body is not None:
            body = json.dumps(render_labels(json_body, "", labs, "request.body"), ensure_ascii=False, separators=(",", ":"))
            post = {"mimeType": "application/json", "text": body}
        elif form is not None:
            pairs = [(k, plain("request.body", k, v)) for k, v in form]
            post = {"mimeType": "application/x-www-form-urlencoded", "text": urlencode(pairs)}
        elif multipart is not None:
            boundary = "----corpusBoundary" + hashlib.md5(url.encode()).hexdigest()[:16]
            chunks: list[bytes] = []
            for name, value, filename, content in multipart:
                head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"'
                if filename is not None:
                    fname = plain("request.body", name, value) if isinstance(value, L) else filename
                    head += f'; filename="{fname}"\r\nContent-Type: {filename_type(fname)}\r\n\r\n'
                    chunks.append(head.encode() + (content or b"") + b"\r\n")
                else:
                    chunks.append((head + "\r\n\r\n" + plain("request.body", name, value) + "\r\n").encode())
            chunks.append(f"--{boundary}--\r\n".encode())
            data = b"".join(chunks)
            post = {"mimeType": f"multipart/form-data; boundary={boundary}", "text": base64.b64encode(data).decode(), "encoding": "base64"}
        elif raw is not None:
            data, mime = raw
            post = {"mimeType": mime, "text": base64.b64encode(data).decode(), "encoding": "base64"}
        elif text is not None:
            value, mime = text
            post = {"mimeType": mime, "text": plain("request.body", "", value)}
        if post is not None:
            hdrs.append({"name": "Content-Type", "value": post["mimeType"]})
        messages = []
        for i, (from_client, msg) in enumerate(ws or []):
            got: list[tuple[str, str, str]] = []
            data = json.dumps(render(msg, f"[{i}]", got), ensure_ascii=False, separators=(",", ":"))
            if from_client:
                labs.extend((c, "websocket.client", p, v) for c, p, v in got)
            messages.append({"type": "send" if from_client else "receive", "time": self.clock + i * 0.2, "opcode": 1, "data": data})
        for seg, cat, value in path_labels or []:
            labs.append((cat, "request.url", f"path[{seg}]", value))
        rtype, rtext = response
        entry: dict[str, Any] = {
            "startedDateTime": _iso(self.clock),
            "time": 120,
            "request": {
                "method": method,
                "url": url,
                "httpVersion": "HTTP/2.0",
                "headers": hdrs,
                "queryString": [{"name": k, "value": v} for k, v in qs],
                "cookies": [],
                "headersSize": -1,
                "bodySize": len(post["text"]) if post else 0,
            },
            "response": {
                "status": 101 if ws else 200,
                "statusText": "",
                "httpVersion": "HTTP/2.0",
                "headers": [{"name": "content-type", "value": rtype}],
                "cookies": [],
                "content": {"size": len(rtext), "mimeType": rtype, "text": rtext},
                "redirectURL": "",
                "headersSize": -1,
                "bodySize": len(rtext),
            },
            "cache": {},
            "timings": {"send": 1, "wait": 100, "receive": 19},
            "serverIPAddress": "203.0.113.10",
        }
        if post is not None:
            entry["request"]["postData"] = post
        if ws:
            entry["_resourceType"] = "websocket"
            entry["_webSocketMessages"] = messages
        index = len(self.entries)
        self.entries.append(entry)
        seen = set()
        uniq = []
        for c, part, p, v in labs:
            if (c, part, p) not in seen:
                seen.add((c, part, p))
                uniq.append({"category": c, "part": part, "path": p, "value": v})
        self.labels.append({"index": index, "url": url.split("?")[0], "note": note, "labels": uniq})
        self.clock += 2.5
        return index

    def har(self) -> dict[str, Any]:
        return {"log": {"version": "1.2", "creator": {"name": "auditor corpus generator", "version": "1"}, "entries": self.entries}}


def render_labels(obj: Any, path: str, labs: list[tuple[str, str, str, str]], part: str) -> Any:
    got: list[tuple[str, str, str]] = []
    out = render(obj, path, got)
    labs.extend((c, part, p, v) for c, p, v in got)
    return out


def filename_type(name: str) -> str:
    ext = name.rsplit(".", 1)[-1].lower()
    return {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "pdf": "application/pdf", "m4a": "audio/mp4",
            "wav": "audio/wav", "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}.get(ext, "application/octet-stream")


def _iso(t: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(t, dt.UTC).isoformat().replace("+00:00", "Z")


# ---------------------------------------------------------------------------------------------
# synthetic identities and values


def luhn_digit(body: str) -> str:
    total = 0
    for i, c in enumerate(reversed(body)):
        d = int(c)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_ok(digits: str) -> bool:
    return luhn_digit(digits[:-1]) == digits[-1]


def imei(rnd: random.Random) -> str:
    body = "35" + "".join(rnd.choice(string.digits) for _ in range(12))
    return body + luhn_digit(body)


def cn_id(region: str, birth: str, seq: str) -> str:
    body = region + birth + seq
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=False)) % 11]


def fr_nir(body13: str) -> str:
    return body13 + f"{97 - int(body13) % 97:02d}"


def order_number(rnd: random.Random) -> str:
    """A 16-digit order number that fails the Luhn check (a decoy)."""
    while True:
        n = rnd.choice("456") + "".join(rnd.choice(string.digits) for _ in range(15))
        if not luhn_ok(n):
            return n


def hexid(rnd: random.Random, n: int) -> str:
    return "".join(rnd.choice("0123456789abcdef") for _ in range(n))


def uid(rnd: random.Random) -> str:
    return str(uuid.UUID(int=rnd.getrandbits(128), version=4))


def digits(rnd: random.Random, n: int) -> str:
    return rnd.choice("123456789") + "".join(rnd.choice(string.digits) for _ in range(n - 1))


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def traceparent(rnd: random.Random) -> str:
    return f"00-{hexid(rnd, 32)}-{hexid(rnd, 16)}-01"


# Minimal valid files (signatures and structure) for uploads.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffdb004300") + bytes(range(64)) + bytes.fromhex("ffd9")
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
WAV = b"RIFF" + (36 + 64).to_bytes(4, "little") + b"WAVEfmt " + (16).to_bytes(4, "little") + bytes.fromhex("01000100401f0000803e000002001000") + b"data" + (64).to_bytes(4, "little") + bytes(64)


@dataclass
class Person:
    first: str
    last: str
    email: str
    phone: str  # as typed in forms
    phone_e164: str
    dob: str
    street: str
    city: str
    postcode: str
    region: str
    country: str
    tz: str
    lat: float
    lng: float
    iban: str | None = None
    gov_id: str | None = None
    gov_key: str = "national_id"

    @property
    def full(self) -> str:
        return f"{self.first} {self.last}"


PEOPLE = [
    Person("Jane", "Doe", "jane.doe@example.org", "+1 202 555 0143", "+12025550143", "1990-03-14", "1600 Example Ave NW, Apt 4",
           "Washington", "20500", "District of Columbia", "US", "America/New_York", 38.89768, -77.03653, gov_id="536-22-8841", gov_key="ssn"),
    Person("Marie", "Dupont", "marie.dupont@example.fr", "06 12 34 56 78", "+33612345678", "1984-12-02", "12 rue de l'Exemple",
           "Paris", "75011", "Île-de-France", "FR", "Europe/Paris", 48.85661, 2.35222, iban="FR1420041010050500013M02606",
           gov_id=fr_nir("2841275108125"), gov_key="nir"),
    Person("Tom", "Baker", "tom.baker@example.co.uk", "07911 123456", "+447911123456", "1979-07-21", "Flat 3, 10 Example Road",
           "London", "SW1A 1AA", "England", "GB", "Europe/London", 51.50735, -0.12776, iban="GB82WEST12345698765432",
           gov_id="AB123456C", gov_key="nino"),
    Person("Hans", "Müller", "hans.mueller@example.de", "+49 1512 3456789", "+4915123456789", "1988-01-30", "Beispielstraße 5",
           "Berlin", "10115", "Berlin", "DE", "Europe/Berlin", 52.52001, 13.40495, iban="DE89370400440532013000",
           gov_id="C01X00T47", gov_key="passport_number"),
    Person("雷", "李", "lilei@example.cn", "13800138000", "+8613800138000", "1994-05-18", "朝阳区示例路88号",
           "北京", "100020", "北京市", "CN", "Asia/Shanghai", 39.92150, 116.44330,
           gov_id=cn_id("110105", "19940518", "002"), gov_key="id_card_no"),
    Person("Priya", "Sharma", "priya.sharma@example.in", "+91 98765 43210", "+919876543210", "1996-10-05", "42 Example Layout, 2nd Cross",
           "Bengaluru", "560001", "Karnataka", "IN", "Asia/Kolkata", 12.97160, 77.59456),
    Person("Kenji", "Sato", "kenji.sato@example.jp", "+81 90-1234-5678", "+819012345678", "1985-02-11", "1-2-3 Example-cho",
           "Tokyo", "100-0001", "Tokyo", "JP", "Asia/Tokyo", 35.68124, 139.76712),
]

PROMPTS = [
    "How do I appeal a parking ticket I got outside my own flat?",
    "Write a polite email to my landlord about the broken boiler, it has been cold for a week",
    "My son has a fever of 39.2 and a rash on his chest, should I take him to the emergency room tonight?",
    "Summarise this contract clause for me: the tenant shall pay all repairs above 200 euros",
    "What are the side effects of sertraline when combined with ibuprofen?",
    "Help me plan a budget, I earn 3100 a month after tax and my rent is 1250",
    "Translate into German: I would like to cancel my gym membership from next month",
    "Is it normal to feel this anxious before a job interview? I can't sleep",
    "Draft a cover letter for a junior data analyst role at a hospital",
    "Explain the difference between a Roth IRA and a traditional IRA like I'm five",
    "Rewrite my dating profile so it sounds less awkward: I like hiking and board games",
    "Which documents do I need to renew my passport if my name changed after marriage?",
    "帮我写一封给房东的信，说明暖气坏了一个星期了",  # noqa: RUF001  (Chinese punctuation / report symbols, on purpose)
    "我最近总是失眠，有什么办法可以改善睡眠质量？",  # noqa: RUF001  (Chinese punctuation / report symbols, on purpose)
    "Give me a 3-day itinerary for Kyoto with a toddler",
    "Can my employer read my private messages on a work laptop?",
]


# ---------------------------------------------------------------------------------------------
# scenarios


def chatgpt_web(c: Corpus, rnd: random.Random, p: Person, prompts: list[str]) -> None:
    account = "user-" + "".join(rnd.choice(string.ascii_letters + string.digits) for _ in range(24))
    did = uid(rnd)
    conv = uid(rnd)
    session = JWT({"sub": L("account_id", account), "email": L("email", p.email), "iat": START, "exp": START + 864000,
                   "https://api.openai.com/auth": {"user_id": L("account_id", account), "poid": "org-" + hexid(rnd, 24)}})
    cookies = [("oai-did", L("device_id", did)), ("__Secure-next-auth.session-token", L("credential", "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0.." + b64url(rnd.randbytes(60)))),
               ("oai-sc", "0gAAAAAB" + b64url(rnd.randbytes(24))), ("_cfuvid", hexid(rnd, 40) + "-" + str(START) + "000-0.0.1.1-604800000")]
    base_headers = [("User-Agent", UA_CHROME), ("Accept-Language", "en-US,en;q=0.9"), ("sec-ch-ua-platform", '"Windows"'),
                    ("oai-device-id", L("device_id", did)), ("oai-language", "en-US"), ("Authorization", ("Bearer", session))]
    c.add("GET", "https://chatgpt.com/backend-api/me", headers=[*base_headers, ("x-request-id", uid(rnd))], cookies=cookies, note="ChatGPT web: current user")
    history: list[dict[str, Any]] = []
    parent = uid(rnd)
    for i, text in enumerate(prompts):
        msg_id = uid(rnd)
        body = {
            "action": "next",
            "messages": [{"id": msg_id, "author": {"role": "user"}, "create_time": START + i * 60.5,
                          "content": {"content_type": "text", "parts": [L("prompt", text)]}, "metadata": {"serialization_metadata": {"custom_symbol_offsets": []}}}],
            "conversation_id": L("conversation_id", conv) if i else None,
            "parent_message_id": parent,
            "model": "auto",
            "timezone_offset_min": L("device_info", -60 if p.country != "US" else 300),
            "timezone": L("device_info", p.tz),
            "history_and_training_disabled": False,
            "conversation_mode": {"kind": "primary_assistant"},
            "force_paragen": False,
            "system_hints": [],
            "supports_buffering": True,
            "client_contextual_info": {"is_dark_mode": True, "time_since_loaded": 41 + i, "page_height": 1207, "page_width": 1920, "pixel_ratio": L("device_info", 1.5), "screen_height": L("device_info", 1440), "screen_width": L("device_info", 2560)},
        }
        hdrs = [*base_headers, ("referer", L("conversation_id", f"https://chatgpt.com/c/{conv}") if i else "https://chatgpt.com/"), ("openai-sentinel-chat-requirements-token", "gAAAAAB" + b64url(rnd.randbytes(90))), ("traceparent", traceparent(rnd))]
        c.add("POST", "https://chatgpt.com/backend-api/conversation", headers=hdrs, cookies=cookies, json_body=body,
              response=("text/event-stream", 'data: {"message": {"content": {"parts": ["..."]}}}\n\ndata: [DONE]\n\n'), note="ChatGPT web: send a prompt")
        parent = msg_id
        history.append(body)
    c.add("GET", f"https://chatgpt.com/backend-api/conversation/{conv}", headers=base_headers, cookies=cookies,
          path_labels=[(2, "conversation_id", conv)], note="ChatGPT web: load a conversation")
    # analytics proxied through the first party (Segment-like)
    anon = uid(rnd)
    c.add("POST", "https://chatgpt.com/ces/v1/t", headers=[("User-Agent", UA_CHROME), ("referer", L("conversation_id", f"https://chatgpt.com/c/{conv}"))], json_body={
        "timestamp": _iso(c.clock), "integrations": {}, "event": L("usage_event", "Send Message"), "type": "track",
        "properties": {"conversation_id": L("conversation_id", conv), "model_slug": "gpt-4o", "message_length": len(prompts[-1]), "is_retry": False},
        "context": {"page": {"path": L("conversation_id", f"/c/{conv}"), "referrer": "", "title": "ChatGPT", "url": L("conversation_id", f"https://chatgpt.com/c/{conv}")},
                    "userAgent": UA_CHROME, "locale": "en-US", "library": {"name": "analytics.js", "version": "next-1.77.0"}},
        "messageId": "ajs-next-" + hexid(rnd, 32), "anonymousId": L("device_id", anon), "userId": L("account_id", account), "writeKey": L("credential", b64url(rnd.randbytes(24))), "sentAt": _iso(c.clock),
    }, note="ChatGPT web: product analytics")
    # Statsig on ab.chatgpt.com
    c.add("POST", "https://ab.chatgpt.com/v1/rgstr", headers=[("statsig-api-key", L("credential", "client-" + b64url(rnd.randbytes(30)))), ("statsig-sdk-type", "javascript-client"), ("statsig-sdk-version", "3.12.1"), ("statsig-client-time", str(START * 1000)), ("User-Agent", UA_CHROME)],
          json_body={"events": [{"eventName": L("usage_event", "statsig::gate_exposure"), "user": {"userID": L("account_id", account), "email": L("email", p.email), "customIDs": {"stableID": L("device_id", did), "WebAnonymousCookieID": L("device_id", did)}, "country": p.country, "statsigEnvironment": {"tier": "production"}},
                                 "time": START * 1000 + 1234, "metadata": {"gate": "new_model_picker", "gateValue": "true", "ruleID": "3Jt0yGCK" + hexid(rnd, 6)}}],
                     "statsigMetadata": {"sdkType": "javascript-client", "sdkVersion": "3.12.1", "stableID": L("device_id", did), "sessionID": uid(rnd)}}, note="Statsig exposure log")
    # file upload: create, then PUT the bytes
    fid = "file-" + b64url(rnd.randbytes(16))
    c.add("POST", "https://chatgpt.com/backend-api/files", headers=base_headers, cookies=cookies,
          json_body={"file_name": "blood-test-results.pdf", "file_size": len(PDF), "use_case": "my_files", "timezone_offset_min": L("device_info", -60 if p.country != "US" else 300), "reset_rate_limits": False}, note="ChatGPT web: create an upload")
    i = c.add("PUT", f"https://files.oaiusercontent.com/{fid}", query=[("se", "2026-11-02T10:20:00Z"), ("sp", "cw"), ("sv", "2024-08-04"), ("sr", "b"), ("sig", b64url(rnd.randbytes(32)))],
              headers=[("x-ms-blob-type", "BlockBlob"), ("x-ms-version", "2020-04-08")], raw=(PDF, "application/pdf"), note="upload of a PDF to blob storage")
    c.labels[i]["labels"].append({"category": "user_file", "part": "request.body", "path": "", "value": "application/pdf"})


def openai_api(c: Corpus, rnd: random.Random, p: Person, prompt: str, key: str, end_user: str) -> None:
    stainless = [("x-stainless-os", L("device_info", rnd.choice(["MacOS", "Linux", "Windows"]))), ("x-stainless-arch", L("device_info", rnd.choice(["arm64", "x64"]))),
                 ("x-stainless-lang", "python"), ("x-stainless-package-version", "1.99.1"), ("x-stainless-runtime", "CPython"), ("x-stainless-runtime-version", "3.12.7"),
                 ("x-stainless-retry-count", "0"), ("User-Agent", "OpenAI/Python 1.99.1"), ("Authorization", ("Bearer", L("credential", key)))]
    c.add("POST", "https://api.openai.com/v1/chat/completions", headers=[*stainless, ("x-request-id", uid(rnd))], json_body={
        "model": "gpt-4o-mini",
        "messages": [{"role": "system", "content": "You are a concise assistant for a personal finance app. Never give legal advice."},
                     {"role": "user", "content": L("prompt", PROMPTS[5])},
                     {"role": "assistant", "content": "Here is a simple 50/30/20 budget for your income..."},
                     {"role": "user", "content": L("prompt", prompt)}],
        "temperature": 0.7, "top_p": 0.95, "frequency_penalty": 0.2, "presence_penalty": 0.0, "max_tokens": 1024, "seed": 424242, "n": 1,
        "user": L("account_id", end_user), "stream": True, "stream_options": {"include_usage": True},
    }, response=("text/event-stream", "data: [DONE]\n\n"), note="OpenAI chat completions with history")
    c.add("POST", "https://api.openai.com/v1/chat/completions", headers=stainless, json_body={
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": [{"type": "text", "text": L("prompt", "What does this rash look like to you? It appeared two days ago.")},
                                                  {"type": "image_url", "image_url": {"url": L("user_file", "data:image/jpeg;base64," + base64.b64encode(JPEG).decode()), "detail": "auto"}}]}],
        "temperature": 0.2, "safety_identifier": L("account_id", sha256(end_user)[:32]),
    }, note="OpenAI chat completions with an image")
    c.add("POST", "https://api.openai.com/v1/responses", headers=stainless, json_body={
        "model": "gpt-4.1", "input": L("prompt", prompt), "instructions": "Answer in two sentences.", "temperature": 1.0, "top_p": 1.0,
        "metadata": {"request_source": "mobile", "build": "2026.11.03.1842"}, "safety_identifier": L("account_id", sha256(end_user)[:32]), "store": False,
    }, note="OpenAI Responses API, string input")
    c.add("POST", "https://api.openai.com/v1/responses", headers=stainless, json_body={
        "model": "gpt-4o-audio-preview",
        "input": [{"role": "developer", "content": "Transcribe and summarise."},
                  {"role": "user", "content": [{"type": "input_text", "text": L("prompt", "Summarise the voice note I recorded for my doctor")},
                                               {"type": "input_audio", "input_audio": {"data": L("user_file", base64.b64encode(WAV).decode()), "format": "wav"}}]}],
        "max_output_tokens": 500,
    }, note="OpenAI Responses API, input items with audio")


def anthropic_api(c: Corpus, rnd: random.Random, p: Person, prompt: str) -> None:
    key = "sk-ant-api03-" + b64url(rnd.randbytes(66))
    user_id = hexid(rnd, 32)
    c.add("POST", "https://api.anthropic.com/v1/messages", headers=[("x-api-key", L("credential", key)), ("anthropic-version", "2023-06-01"), ("anthropic-beta", "prompt-caching-2024-07-31"), ("User-Agent", "Anthropic/Python 0.69.0")], json_body={
        "model": "claude-sonnet-4-5", "max_tokens": 1024, "temperature": 0.5, "top_k": 40,
        "system": [{"type": "text", "text": "You are the assistant of a tenant-rights app. Be factual.", "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": [{"type": "text", "text": L("prompt", prompt)},
                                                  {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": L("user_file", base64.b64encode(PNG).decode())}}]},
                     {"role": "assistant", "content": [{"type": "text", "text": "I can see a letter from your landlord."}]},
                     {"role": "user", "content": L("prompt", f"My email is {p.email}, can you draft the answer and sign it for me?")}],
        "metadata": {"user_id": L("account_id", user_id)},
    }, note="Anthropic Messages API")
    labels = c.labels[-1]["labels"]
    labels.append({"category": "email", "part": "request.body", "path": "messages[2].content", "value": p.email})
    org, conv = uid(rnd), uid(rnd)
    c.add("POST", f"https://claude.ai/api/organizations/{org}/chat_conversations/{conv}/completion", headers=[("User-Agent", UA_CHROME), ("anthropic-client-platform", "web_claude_ai"), ("anthropic-device-id", L("device_id", uid(rnd))), ("referer", L("conversation_id", f"https://claude.ai/chat/{conv}"))],
          cookies=[("sessionKey", L("credential", "sk-ant-sid01-" + b64url(rnd.randbytes(70)))), ("lastActiveOrg", org)],
          json_body={"prompt": L("prompt", PROMPTS[rnd.randrange(len(PROMPTS))]), "parent_message_uuid": uid(rnd), "timezone": L("device_info", p.tz), "personalized_styles": [], "locale": "en-US", "tools": [], "attachments": [], "files": [], "sync_sources": [], "rendering_mode": "messages"},
          path_labels=[(4, "conversation_id", conv)], response=("text/event-stream", "event: completion\ndata: {}\n\n"), note="claude.ai web completion")


def gemini(c: Corpus, rnd: random.Random, p: Person, prompt: str) -> None:
    key = "AIza" + "".join(rnd.choice(string.ascii_letters + string.digits + "_-") for _ in range(35))
    c.add("POST", "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent", query=[("key", L("credential", key))], headers=[("x-goog-api-client", "genai-js/1.20.0 gl-node/22.11.0"), ("User-Agent", UA_OKHTTP)], json_body={
        "contents": [{"role": "user", "parts": [{"text": L("prompt", prompt)}, {"inlineData": {"mimeType": "image/jpeg", "data": L("user_file", base64.b64encode(JPEG).decode())}}]},
                     {"role": "model", "parts": [{"text": "This looks like a receipt from a pharmacy."}]},
                     {"role": "user", "parts": [{"text": L("prompt", "Can I claim it back from my insurer?")}]}],
        "systemInstruction": {"parts": [{"text": "You help users with insurance claims."}]},
        "generationConfig": {"temperature": 0.9, "topP": 0.95, "topK": 64, "maxOutputTokens": 2048, "candidateCount": 1},
        "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_MEDIUM_AND_ABOVE"}],
    }, note="Gemini API generateContent, multi-turn")
    c.add("POST", "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:streamGenerateContent", query=[("alt", "sse")], headers=[("x-goog-api-key", L("credential", key)), ("User-Agent", "google-genai-sdk/1.38.0 gl-python/3.12.7")], json_body={
        "contents": [{"parts": [{"text": L("prompt", PROMPTS[rnd.randrange(len(PROMPTS))])}]}], "generationConfig": {"temperature": 0.4, "thinkingConfig": {"thinkingBudget": 1024}},
    }, response=("text/event-stream", "data: {}\n\n"), note="Gemini API single turn without a role")
    conv = "c_" + hexid(rnd, 16)
    inner = [[L("prompt", prompt), 0, None, None, None, None, 0], ["en"], [L("conversation_id", conv), "r_" + hexid(rnd, 16), "rc_" + hexid(rnd, 16), None, None, None, None, None, None, ""], "!" + b64url(rnd.randbytes(40)), hexid(rnd, 32)]
    c.add("POST", "https://gemini.google.com/_/BardChatUi/data/assistant.lamda.BardFrontendService/StreamGenerate",
          query=[("bl", "boq_assistant-bard-web-server_20251104.06_p0"), ("f.sid", "-" + digits(rnd, 19)), ("hl", "en"), ("_reqid", digits(rnd, 7)), ("rt", "c")],
          headers=[("User-Agent", UA_CHROME), ("x-same-domain", "1"), ("referer", L("conversation_id", f"https://gemini.google.com/app/{conv[2:]}"))],
          cookies=[("__Secure-1PSID", L("credential", "g." + b64url(rnd.randbytes(90)))), ("NID", "525=" + b64url(rnd.randbytes(60)))],
          form=[("f.req", J([None, J(inner)])), ("at", "AJvLN6" + b64url(rnd.randbytes(30)) + ":" + str(START * 1000))],
          response=("application/json", ")]}'\n\n[]"), note="Gemini web StreamGenerate")


def deepseek_app(c: Corpus, rnd: random.Random, p: Person, prompts: list[str], cn: bool) -> None:
    did, install, openudid = uid(rnd), digits(rnd, 19), hexid(rnd, 16)
    oaid = uid(rnd)
    app_headers = [("User-Agent", "DeepSeek/1.5.4 Android/14"), ("x-client-platform", "android"), ("x-client-version", "1.5.4"), ("x-app-version", "20261030"), ("x-client-locale", "zh_CN" if cn else "en_US"), ("accept-language", "zh-CN" if cn else "en-US")]
    login = {"mobile": L("phone", p.phone), "area_code": "+86"} if cn else {"email": L("email", p.email)}
    token = b64url(rnd.randbytes(48))
    c.add("POST", "https://chat.deepseek.com/api/v0/users/login", headers=app_headers, json_body={**login, "password": L("credential", "Synth-" + b64url(rnd.randbytes(9))), "device_id": L("device_id", did), "os": L("device_info", "android")}, note="DeepSeek app login")
    auth = [("Authorization", ("Bearer", L("credential", token)))]
    if cn:
        c.add("POST", "https://chat.deepseek.com/api/v0/users/real_name_auth", headers=app_headers + auth,
              json_body={"real_name": L("person_name", p.last + p.first), "id_card_no": L("government_id", p.gov_id), "mobile": L("phone", p.phone)}, note="real-name verification")
    c.add("POST", "https://chat.deepseek.com/api/v0/chat_session/create", headers=app_headers + auth, json_body={"agent": "chat"}, note="DeepSeek new chat session")
    session = uid(rnd)
    for text in prompts:
        pow_ = B64J({"algorithm": "DeepSeekHashV1", "challenge": hexid(rnd, 64), "salt": hexid(rnd, 20), "answer": rnd.randrange(10**5), "signature": hexid(rnd, 64), "target_path": "/api/v0/chat/completion"})
        c.add("POST", "https://chat.deepseek.com/api/v0/chat/completion", headers=app_headers + auth + [("x-ds-pow-response", pow_)],
              json_body={"chat_session_id": L("conversation_id", session), "parent_message_id": rnd.choice([None, rnd.randrange(1, 9)]), "prompt": L("prompt", text), "ref_file_ids": [], "thinking_enabled": rnd.random() < 0.5, "search_enabled": False},
              response=("text/event-stream", 'data: {"v": "ok"}\n\n'), note="DeepSeek chat completion")
    # Volcengine applog with the prompt copied into an event
    header = {"aid": 20001731, "app_name": "deepseek_chat", "app_version": "1.5.4", "version_code": 154, "channel": "google_play", "device_id": L("device_id", did), "install_id": L("device_id", install),
              "openudid": L("device_id", openudid), "clientudid": L("device_id", uid(rnd)), "oaid": L("advertising_id", oaid), "os": L("device_info", "Android"), "os_version": L("device_info", "14"), "os_api": L("device_info", 34),
              "device_model": L("device_info", rnd.choice(["Pixel 8", "SM-S918B", "2312DRAABC"])), "device_brand": L("device_info", rnd.choice(["google", "samsung", "Xiaomi"])), "device_manufacturer": L("device_info", "Google"),
              "resolution": L("device_info", "1080*2400"), "density_dpi": L("device_info", 420), "carrier": L("device_info", "中国移动" if cn else "EE"), "mcc_mnc": L("device_info", "46000" if cn else "23430"), "access": L("device_info", "wifi"),
              "timezone": L("device_info", 8 if cn else 0), "tz_name": L("device_info", p.tz), "language": "zh" if cn else "en", "region": p.country, "sdk_version": "6.16.3", "sdk_lib": "android", "ab_sdk_version": "90012345,90023456"}
    c.add("POST", "https://mcs.volceapplog.com/service/2/app_log/", query=[("aid", "20001731"), ("device_platform", "android"), ("sdk_version", "6.16.3")], headers=[("User-Agent", UA_OKHTTP)], json_body={
        "magic_tag": "ss_app_log", "header": header, "user": {"user_unique_id": L("account_id", "7" + digits(rnd, 17)), "web_id": L("device_id", digits(rnd, 19))},
        "event_v3": [{"event": L("usage_event", "chat_send_message"), "params": J({"prompt_text": L("prompt", prompts[0]), "chat_session_id": L("conversation_id", session), "model_type": "default", "entrance": "home_input", "ref_file_count": 0}),
                      "local_time_ms": START * 1000 + rnd.randrange(10**6), "session_id": uid(rnd), "tea_event_index": rnd.randrange(1000)},
                     {"event": L("usage_event", "chat_receive_message"), "params": J({"chat_session_id": L("conversation_id", session), "duration_ms": rnd.randrange(300, 4000), "first_token_ms": rnd.randrange(100, 900)}),
                      "local_time_ms": START * 1000 + rnd.randrange(10**6), "session_id": uid(rnd)}],
    }, note="Volcengine applog: the prompt copied into an analytics event")
    # Umeng, cleartext, form-encoded
    mac = ":".join(hexid(rnd, 2) for _ in range(6))
    the_imei = imei(rnd)
    form = [("appkey", hexid(rnd, 24)), ("channel", "huawei" if cn else "google_play"), ("device_model", L("device_info", "ELS-AN00" if cn else "Pixel 8")), ("os", L("device_info", "Android")), ("os_version", L("device_info", "14")),
            ("android_id", L("device_id", hexid(rnd, 16))), ("mc", L("device_id", mac)), ("imei", L("device_id", the_imei)), ("idmd5", L("device_id", hashlib.md5(the_imei.encode()).hexdigest())),
            ("imsi", L("device_info", "460001234567890" if cn else "234301234567890")), ("resolution", L("device_info", "1080*2400")), ("carrier", L("device_info", "中国移动" if cn else "EE")), ("access", L("device_info", "4G")),
            ("timezone", L("device_info", 8 if cn else 0)), ("app_version", "1.5.4"), ("sdk_version", "9.6.8"), ("session_id", hexid(rnd, 32).upper()), ("ts", str(START * 1000))]
    c.add("POST", "http://alog.umeng.com/app_logs", form=form, headers=[("User-Agent", "DeepSeek/1.5.4 Android/14 (Pixel 8; Build/AP2A.240905.003)")], note="Umeng, cleartext HTTP")


def mistral(c: Corpus, rnd: random.Random, p: Person, prompt: str) -> None:
    chat = uid(rnd)
    c.add("POST", "https://chat.mistral.ai/api/chat", headers=[("User-Agent", UA_CHROME), ("referer", L("conversation_id", f"https://chat.mistral.ai/chat/{chat}"))],
          cookies=[("ory_session_coolcurranf83m3srkfl", L("credential", "MTc5MzYx" + b64url(rnd.randbytes(80))))],
          json_body={"chatId": L("conversation_id", chat), "mode": "append", "model": "mistral-medium-2508", "messageInput": [{"type": "text", "text": L("prompt", prompt)}], "messageId": uid(rnd), "features": ["beta-code-interpreter"], "clientPromptData": {"currentDate": "2026-11-02", "userTimezone": L("device_info", p.tz)}},
          response=("text/event-stream", "data: {}\n\n"), note="Mistral Le Chat")
    c.add("POST", "https://api.mistral.ai/v1/chat/completions", headers=[("Authorization", ("Bearer", L("credential", "".join(rnd.choice(string.ascii_letters + string.digits) for _ in range(32)))))],
          json_body={"model": "mistral-small-latest", "messages": [{"role": "system", "content": "Reply in French."}, {"role": "user", "content": L("prompt", PROMPTS[6])}], "temperature": 0.3, "top_p": 1, "random_seed": 1337, "safe_prompt": False}, note="Mistral API")


def perplexity(c: Corpus, rnd: random.Random, p: Person, prompt: str) -> None:
    visitor = uid(rnd)
    c.add("POST", "https://www.perplexity.ai/rest/sse/perplexity_ask", headers=[("User-Agent", UA_SAFARI), ("x-perplexity-request-reason", "perplexity-query-state-provider")],
          cookies=[("__Secure-next-auth.session-token", L("credential", "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0.." + b64url(rnd.randbytes(80)))), ("pplx.visitor-id", L("device_id", visitor))],
          json_body={"params": {"attachments": [], "language": "en-US", "timezone": L("device_info", p.tz), "search_focus": "internet", "sources": ["web"], "frontend_uuid": uid(rnd), "mode": "concise", "model_preference": "turbo", "is_related_query": False, "is_sponsored": False,
                                "visitor_id": L("device_id", visitor), "prompt_source": "user", "query_source": "home", "is_incognito": False, "version": "2.18", "dsl_query": L("prompt", prompt)}, "query_str": L("prompt", prompt)},
          response=("text/event-stream", "event: message\ndata: {}\n\n"), note="Perplexity ask")
    c.add("GET", "https://www.perplexity.ai/search", query=[("q", L("prompt", PROMPTS[rnd.randrange(len(PROMPTS))])), ("copilot", "false"), ("s", "o")], headers=[("User-Agent", UA_SAFARI)], response=("text/html", "<html></html>"), note="Perplexity search URL with the query")


def copilot(c: Corpus, rnd: random.Random, p: Person, prompt: str) -> None:
    conv = "".join(rnd.choice(string.ascii_letters + string.digits) for _ in range(24))
    c.add("GET", "https://copilot.microsoft.com/c/api/chat", query=[("api-version", "2"), ("clientSessionId", uid(rnd)), ("accessToken", L("credential", "eyJ0eXAiOiJKV1QifQ." + b64url(rnd.randbytes(40)) + "." + b64url(rnd.randbytes(32))))],
          headers=[("User-Agent", UA_CHROME), ("Origin", "https://copilot.microsoft.com")],
          ws=[(True, {"event": "setOptions", "supportedCards": ["weather", "local"], "ads": {"supportedTypes": ["text"]}}),
              (False, {"event": "received"}),
              (True, {"event": "send", "conversationId": L("conversation_id", conv), "content": [{"type": "text", "text": L("prompt", prompt)}], "mode": "chat", "context": {"timezone": L("device_info", p.tz)}}),
              (False, {"event": "appendText", "text": "Sure"}), (False, {"event": "done"})],
          response=("text/plain", ""), note="Copilot WebSocket chat")


def kimi(c: Corpus, rnd: random.Random, p: Person, prompt: str) -> None:
    chat = "c" + hexid(rnd, 19)
    did = digits(rnd, 19)
    account = "c" + hexid(rnd, 19)
    tok = JWT({"iss": "user-center", "exp": START + 2592000, "iat": START, "jti": hexid(rnd, 20), "typ": "access", "app_id": "kimi", "sub": L("account_id", account), "space_id": hexid(rnd, 20), "abstract_user_id": hexid(rnd, 20)})
    c.add("POST", f"https://www.kimi.com/api/chat/{chat}/completion/stream", headers=[("Authorization", ("Bearer", tok)), ("x-msh-device-id", L("device_id", did)), ("x-msh-platform", "web"), ("x-msh-session-id", digits(rnd, 19)), ("x-traffic-id", L("account_id", account)), ("User-Agent", UA_CHROME), ("referer", L("conversation_id", f"https://www.kimi.com/chat/{chat}"))],
          json_body={"kimiplus_id": "kimi", "extend": {"sidebar": True}, "model": "k2", "use_search": True, "messages": [{"role": "user", "content": L("prompt", prompt)}], "refs": [], "history": [], "scene_labels": [], "use_semantic_memory": False, "use_deep_research": False},
          path_labels=[(2, "conversation_id", chat)], response=("text/event-stream", "data: {}\n\n"), note="Kimi web chat")
    c.add("POST", "https://api.moonshot.cn/v1/chat/completions", headers=[("Authorization", ("Bearer", L("credential", "sk-" + "".join(rnd.choice(string.ascii_letters + string.digits) for _ in range(48)))))],
          json_body={"model": "kimi-k2-0905-preview", "messages": [{"role": "system", "content": "你是 Kimi，由 Moonshot AI 提供的人工智能助手。"}, {"role": "user", "content": L("prompt", PROMPTS[13])}], "temperature": 0.6}, note="Moonshot API")  # noqa: RUF001  (Chinese punctuation / report symbols, on purpose)


def qwen(c: Corpus, rnd: random.Random, p: Person, prompt: str) -> None:
    chat = uid(rnd)
    tok = JWT({"id": L("account_id", uid(rnd)), "last_password_change": START - 86400 * 90, "exp": START + 86400 * 30})
    c.add("POST", "https://chat.qwen.ai/api/v2/chat/completions", query=[("chat_id", L("conversation_id", chat))], headers=[("User-Agent", UA_CHROME), ("source", "web"), ("x-request-id", uid(rnd)), ("bx-v", "2.5.31"), ("referer", L("conversation_id", f"https://chat.qwen.ai/c/{chat}"))],
          cookies=[("token", tok), ("cna", L("device_id", b64url(rnd.randbytes(18))))],
          json_body={"stream": True, "incremental_output": True, "chat_id": L("conversation_id", chat), "chat_mode": "normal", "model": "qwen3-max", "parent_id": None,
                     "messages": [{"fid": uid(rnd), "parentId": None, "childrenIds": [uid(rnd)], "role": "user", "content": L("prompt", prompt), "user_action": "chat", "files": [], "timestamp": START + 10, "models": ["qwen3-max"], "chat_type": "t2t",
                                   "feature_config": {"thinking_enabled": False, "output_schema": "phase"}, "extra": {"meta": {"subChatType": "t2t"}}, "sub_chat_type": "t2t", "parent_id": None}],
                     "timestamp": START + 11}, response=("text/event-stream", "data: {}\n\n"), note="Qwen web chat")
    c.add("POST", "https://dashscope.aliyuncs.com/api/v1/services/aigc/text-generation/generation", headers=[("Authorization", ("Bearer", L("credential", "sk-" + hexid(rnd, 32)))), ("X-DashScope-SSE", "disable")],
          json_body={"model": "qwen-plus", "input": {"messages": [{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": L("prompt", PROMPTS[14])}]}, "parameters": {"temperature": 0.8, "top_p": 0.9, "seed": 1234, "result_format": "message"}},
          note="DashScope native API")


def doubao(c: Corpus, rnd: random.Random, p: Person, prompt: str) -> None:
    web_id, tea = digits(rnd, 19), digits(rnd, 19)
    c.add("POST", "https://www.doubao.com/samantha/chat/completion",
          query=[("aid", "497858"), ("device_platform", "web"), ("language", "zh"), ("pc_version", "2.24.2"), ("pkg_type", "release_version"), ("real_aid", "497858"), ("region", "CN"), ("samantha_web", "1"), ("sys_region", "CN"),
                 ("tea_uuid", L("device_id", tea)), ("use-olympus-account", "1"), ("version_code", "20800"), ("web_id", L("device_id", web_id)), ("msToken", L("credential", b64url(rnd.randbytes(96)))), ("a_bogus", b64url(rnd.randbytes(60)))],
          headers=[("User-Agent", UA_CHROME), ("agw-js-conv", "str")], cookies=[("sessionid", L("credential", hexid(rnd, 32))), ("s_v_web_id", "verify_" + hexid(rnd, 8) + "_" + b64url(rnd.randbytes(12)))],
          json_body={"messages": [{"content": J({"text": L("prompt", prompt)}), "content_type": 2001, "attachments": [], "references": []}],
                     "completion_option": {"is_regen": False, "with_suggest": True, "need_create_conversation": True, "launch_stage": 1, "is_replace": False, "is_delete": False, "message_from": 0, "event_id": "0"},
                     "conversation_id": "0", "local_conversation_id": L("conversation_id", f"local_{digits(rnd, 16)}"), "local_message_id": uid(rnd)},
          response=("text/event-stream", "data: {}\n\n"), note="Doubao web chat")


def ernie(c: Corpus, rnd: random.Random, p: Person, prompt: str) -> None:
    session = digits(rnd, 19)
    c.add("POST", "https://yiyan.baidu.com/eb/chat/conversation/v2", headers=[("User-Agent", UA_CHROME), ("Acs-Token", b64url(rnd.randbytes(120)))],
          cookies=[("BAIDUID", L("device_id", hexid(rnd, 32).upper() + ":FG=1")), ("BDUSS", L("credential", b64url(rnd.randbytes(140))))],
          json_body={"sessionId": L("conversation_id", session), "text": L("prompt", prompt), "parentChatId": "0", "type": 10, "timestamp": START * 1000 + 5, "deviceType": L("device_info", "pc"), "code": 0, "pluginInfo": "", "jt": "$" + b64url(rnd.randbytes(40)), "sign": hexid(rnd, 32), "model": "EB45T"},
          response=("text/event-stream", "data: {}\n\n"), note="Ernie Bot web")
    c.add("POST", "https://qianfan.baidubce.com/v2/chat/completions", headers=[("Authorization", ("Bearer", L("credential", "bce-v3/ALTAK-" + b64url(rnd.randbytes(18)) + "/" + hexid(rnd, 40))))],
          json_body={"model": "ernie-4.5-turbo-32k", "messages": [{"role": "user", "content": L("prompt", PROMPTS[12])}], "temperature": 0.8, "top_p": 0.8, "penalty_score": 1.0, "user_id": L("account_id", "u" + digits(rnd, 9))}, note="Qianfan chat API")


def unknown_formats(c: Corpus, rnd: random.Random, p: Person) -> None:
    c.add("POST", "https://api.tutorbot.example/v2/assist", headers=[("Authorization", ("Bearer", L("credential", b64url(rnd.randbytes(32)))))],
          json_body={"session": uid(rnd), "history": [{"speaker": "user", "text": L("prompt", "I failed my driving test twice, how do I stop panicking?")}, {"speaker": "bot", "text": "Many people feel that way. Let's practise."}],
                     "input": {"sender": "user", "message": L("prompt", "Can you give me a breathing exercise for the test day?")}, "options": {"temperature": 0.6, "max_len": 400}}, note="unknown AI format: speaker/sender")
    c.add("POST", "https://assistant.notes-app.example/api/generate", json_body={"conversation": {"turns": [{"role": "human", "content": L("prompt", "Turn my notes into a to-do list: call mum, pay rent, book dentist")},
                                                                                                        {"role": "ai", "content": "1. Call mum 2. Pay rent 3. Book dentist"}]}, "settings": {"temperature": 0.2, "top_p": 0.9}, "client": {"build": "4127", "version": "3.2.0"}},
          note="unknown AI format: human/ai turns")


def third_parties(c: Corpus, rnd: random.Random, p: Person, prompt: str, conv_url: str, conv_id: str, account: str, did: str) -> None:
    # Google Analytics gtag (query only)
    cid = f"{digits(rnd, 10)}.{START - rnd.randrange(10**6)}"
    c.add("POST", "https://www.google-analytics.com/g/collect", query=[("v", "2"), ("tid", "G-" + "".join(rnd.choice(string.ascii_uppercase + string.digits) for _ in range(10))), ("gtm", "45je5at0v9171234567za200"), ("_p", str(START * 1000 + 4567)),
                                                                       ("cid", L("device_id", cid)), ("uid", L("account_id", account)), ("ul", "en-us"), ("sr", L("device_info", "1920x1080")), ("_s", "3"), ("sid", str(START)), ("sct", "4"), ("seg", "1"),
                                                                       ("dl", L("conversation_id", conv_url)), ("dr", "https://www.google.com/"), ("dt", "New chat"), ("en", L("usage_event", "page_view")), ("tfd", "3412")],
          headers=[("User-Agent", UA_CHROME), ("referer", L("conversation_id", conv_url))], cookies=[("_ga", L("device_id", "GA1.1." + cid))], text=("", "text/plain"), note="GA4 gtag hit with the chat URL")
    # GA4 measurement protocol from an app
    c.add("POST", "https://www.google-analytics.com/mp/collect", query=[("measurement_id", "G-" + hexid(rnd, 10).upper()), ("api_secret", L("credential", b64url(rnd.randbytes(16))))],
          json_body={"client_id": L("device_id", cid), "user_id": L("account_id", account), "timestamp_micros": START * 10**6, "events": [{"name": L("usage_event", "generate_answer"), "params": {"engagement_time_msec": 1200, "session_id": str(START), "model": "default", "tokens": 512}}]}, note="GA4 Measurement Protocol")
    # Meta pixel with hashed identity
    c.add("GET", "https://www.facebook.com/tr/", query=[("id", digits(rnd, 15)), ("ev", L("usage_event", "Subscribe")), ("dl", "https://app.example-ai.com/pricing"), ("rl", "https://app.example-ai.com/"), ("if", "false"), ("ts", str(START * 1000)),
                                                       ("cd[value]", "19.99"), ("cd[currency]", "USD"), ("ud[em]", L("email", sha256(p.email.lower()))), ("ud[ph]", L("phone", sha256(p.phone_e164[1:]))),
                                                       ("ud[fn]", L("person_name", sha256(p.first.lower()))), ("ud[ln]", L("person_name", sha256(p.last.lower()))), ("sw", L("device_info", "1920")), ("sh", L("device_info", "1080")),
                                                       ("v", "2.9.178"), ("r", "stable"), ("ec", "0"), ("o", "4124"), ("fbp", L("device_id", f"fb.1.{START * 1000}.{digits(rnd, 10)}")), ("it", str(START * 1000))],
          headers=[("User-Agent", UA_CHROME)], response=("image/gif", ""), note="Meta Pixel with hashed email, phone and name")
    # TikTok events API
    c.add("POST", "https://analytics.tiktok.com/api/v2/pixel", json_body={"event": L("usage_event", "CompletePayment"), "event_id": uid(rnd), "timestamp": _iso(c.clock), "pixel_code": "C" + hexid(rnd, 19).upper(),
                                                                          "context": {"user": {"email": L("email", sha256(p.email.lower())), "phone_number": L("phone", sha256(p.phone_e164)), "external_id": L("account_id", sha256(account))},
                                                                                      "page": {"url": "https://app.example-ai.com/checkout", "referrer": "https://app.example-ai.com/pricing"}, "ip": L("ip_address", "198.51.100.23"), "user_agent": UA_CHROME},
                                                                          "properties": {"value": 19.99, "currency": "USD", "content_type": "product"}}, note="TikTok pixel with hashed email and phone")
    # Google Ads enhanced conversions
    c.add("GET", "https://googleads.g.doubleclick.net/pagead/conversion/1068" + digits(rnd, 6) + "/", query=[("random", digits(rnd, 10)), ("cv", "11"), ("fst", str(START * 1000)), ("num", "1"), ("value", "19.99"), ("currency_code", "USD"), ("label", b64url(rnd.randbytes(12))),
                                                                                                     ("em", L("email", "tv.1~em." + b64url(hashlib.sha256(p.email.lower().encode()).digest()))), ("u_w", L("device_info", "1920")), ("u_h", L("device_info", "1080")), ("url", "https://app.example-ai.com/welcome")],
          headers=[("User-Agent", UA_CHROME)], response=("image/gif", ""), note="Google Ads enhanced conversion (hashed email)")
    # Amplitude
    c.add("POST", "https://api2.amplitude.com/2/httpapi", json_body={"api_key": L("credential", hexid(rnd, 32)), "events": [{
        "user_id": L("account_id", account), "device_id": L("device_id", did), "event_type": L("usage_event", "prompt_submitted"), "time": START * 1000 + 77, "session_id": START * 1000, "insert_id": uid(rnd),
        "platform": "iOS", "os_name": L("device_info", "iOS"), "os_version": L("device_info", "18.1"), "device_brand": L("device_info", "Apple"), "device_model": L("device_info", "iPhone16,2"), "carrier": L("device_info", "Verizon"),
        "country": p.country, "region": L("coarse_location", p.region), "city": L("coarse_location", p.city), "location_lat": L("precise_location", p.lat), "location_lng": L("precise_location", p.lng), "ip": L("ip_address", "203.0.113.77"),
        "idfa": L("advertising_id", uid(rnd).upper()), "idfv": L("device_id", uid(rnd).upper()), "language": "English", "app_version": "4.12.0",
        "event_properties": {"prompt_length": len(prompt), "model": "default", "latency_ms": [312, 298, 305]}, "user_properties": {"plan": "plus", "signup_week": "2026-44"}}]}, note="Amplitude HTTP API v2")
    # Mixpanel, base64 payload, truncated prompt copy
    truncated = prompt[:48].rstrip() + "…"
    c.add("POST", "https://api-js.mixpanel.com/track/", query=[("verbose", "1"), ("ip", "1"), ("_", str(START * 1000))],
          form=[("data", B64J({"event": L("usage_event", "Message Sent"), "properties": {"token": L("credential", hexid(rnd, 32)), "distinct_id": L("account_id", account), "$device_id": L("device_id", did), "$user_id": L("account_id", account),
                                                                                          "$os": L("device_info", "Windows"), "$browser": "Chrome", "$screen_height": L("device_info", 1080), "$screen_width": L("device_info", 1920), "$current_url": L("conversation_id", conv_url),
                                                                                          "text_preview": L("prompt", truncated), "mp_lib": "web", "$lib_version": "2.65.0", "$insert_id": b64url(rnd.randbytes(12)), "time": START + 0.123}}))],
          headers=[("User-Agent", UA_CHROME)], note="Mixpanel track, base64 JSON, truncated prompt")
    # Segment with the prompt
    c.add("POST", "https://api.segment.io/v1/t", headers=[("User-Agent", UA_CHROME)], json_body={
        "event": L("usage_event", "Prompt Submitted"), "type": "track", "userId": L("account_id", account), "anonymousId": L("device_id", did),
        "properties": {"prompt": L("prompt", prompt), "conversation_id": L("conversation_id", conv_id), "source": "composer"}, "context": {"locale": "en-US", "page": {"url": L("conversation_id", conv_url)}, "library": {"name": "analytics.js", "version": "5.2.0"}},
        "writeKey": L("credential", b64url(rnd.randbytes(24))), "messageId": "ajs-" + hexid(rnd, 32), "timestamp": _iso(c.clock)}, note="Segment track with the prompt")
    # Sentry envelope with user, IP, contexts and the prompt in a breadcrumb
    env = "\n".join([
        json.dumps({"event_id": hexid(rnd, 32), "sent_at": _iso(c.clock), "dsn": f"https://{hexid(rnd, 32)}@o450.ingest.sentry.io/4504"}),
        json.dumps({"type": "event", "content_type": "application/json"}),
        "__EVENT__",
    ])
    event = {"event_id": hexid(rnd, 32), "timestamp": START + 95.25, "platform": "javascript", "level": "error", "release": "web@2026.11.03-1842", "environment": "production",
             "user": {"id": L("account_id", account), "email": L("email", p.email), "ip_address": L("ip_address", "203.0.113.54")},
             "contexts": {"os": {"name": L("device_info", "Windows"), "version": L("device_info", "10")}, "browser": {"name": "Chrome", "version": "142.0.0"}, "trace": {"trace_id": hexid(rnd, 32), "span_id": hexid(rnd, 16), "sample_rate": 0.25}},
             "breadcrumbs": {"values": [{"category": "ui.input", "message": L("prompt", f"composer submit: {prompt}"), "timestamp": START + 90.1}, {"category": "navigation", "data": {"from": "/", "to": L("conversation_id", conv_url)}}]},
             "exception": {"values": [{"type": "TypeError", "value": "Cannot read properties of undefined (reading 'parts')"}]}, "tags": {"model": "default", "build": "5123"}}
    ev_labels: list[tuple[str, str, str]] = []
    ev_plain = render(event, "[2]", ev_labels)
    i = c.add("POST", "https://o450.ingest.sentry.io/api/4504/envelope/", headers=[("User-Agent", UA_CHROME), ("x-sentry-auth", f"Sentry sentry_version=7, sentry_key={hexid(rnd, 32)}, sentry_client=sentry.javascript.react/8.40.0")],
              text=(env.replace("__EVENT__", json.dumps(ev_plain, ensure_ascii=False)), "application/x-sentry-envelope"), note="Sentry envelope")
    c.labels[i]["labels"].extend({"category": cat, "part": "request.body", "path": path, "value": value} for cat, path, value in ev_labels)
    # Datadog RUM
    c.add("POST", "https://browser-intake-datadoghq.com/api/v2/rum", query=[("ddsource", "browser"), ("ddtags", "sdk_version:5.28.0,env:prod,service:web"), ("dd-api-key", L("credential", "pub" + hexid(rnd, 32))), ("dd-evp-origin", "browser"), ("dd-request-id", uid(rnd))],
          text=(json.dumps({"date": START * 1000, "application": {"id": uid(rnd)}, "session": {"id": uid(rnd), "type": "user", "sampled_for_replay": False}, "view": {"id": uid(rnd), "url": "__URL__", "referrer": "", "loading_time": 812000000},
                            "usr": {"id": "__UID__"}, "display": {"viewport": {"width": 1440, "height": 900}}, "type": "view", "_dd": {"format_version": 2, "sdk_name": "rum"}}).replace("__URL__", conv_url).replace("__UID__", account), "text/plain;charset=UTF-8"),
          note="Datadog RUM view event")
    c.labels[-1]["labels"].extend([{"category": "conversation_id", "part": "request.body", "path": "view.url", "value": conv_url},
                                   {"category": "account_id", "part": "request.body", "path": "usr.id", "value": account},
                                   {"category": "device_info", "part": "request.body", "path": "display.viewport.width", "value": "1440"},
                                   {"category": "device_info", "part": "request.body", "path": "display.viewport.height", "value": "900"}])


def mobile_sdks(c: Corpus, rnd: random.Random, p: Person, android_id: str) -> None:
    gaid = uid(rnd)
    c.add("POST", "https://app.adjust.com/session", headers=[("User-Agent", "Dalvik/2.1.0 (Linux; U; Android 14; Pixel 8 Build/AP2A.240905.003)"), ("Client-SDK", "android4.38.2")], form=[
        ("app_token", "abc123" + hexid(rnd, 6)), ("gps_adid", L("advertising_id", gaid)), ("android_uuid", L("device_id", uid(rnd))), ("adid", L("device_id", hexid(rnd, 32))), ("os_name", L("device_info", "android")), ("os_version", L("device_info", "14")),
        ("device_type", L("device_info", "phone")), ("device_name", L("device_info", "Pixel 8")), ("device_manufacturer", L("device_info", "Google")), ("cpu_type", L("device_info", "arm64-v8a")), ("screen_size", L("device_info", "normal")), ("screen_density", L("device_info", "high")),
        ("display_width", L("device_info", "1080")), ("display_height", L("device_info", "2400")), ("language", "en"), ("country", p.country), ("created_at", "2026-11-02T10:15:02.123Z+0000"), ("sent_at", "2026-11-02T10:15:02.456Z+0000"), ("environment", "production"), ("attribution_deeplink", "1"), ("session_count", "12")],
          note="Adjust session")
    af_uid = f"{START * 1000}-{digits(rnd, 19)}"
    c.add("POST", "https://launches.appsflyer.com/api/v6.15/androidevent", query=[("app_id", "com.example.aichat"), ("buildnumber", "6.15.2")], json_body={
        "advertiserId": L("advertising_id", gaid), "uid": L("device_id", af_uid), "android_id": L("device_id", android_id), "customer_user_id": L("account_id", "u_" + digits(rnd, 8)), "eventName": L("usage_event", "af_subscribe"),
        "deviceData": {"brand": L("device_info", "google"), "model": L("device_info", "Pixel 8"), "cpu_abi": L("device_info", "arm64-v8a"), "dim": {"x_px": "1080", "y_px": "2400", "d_dpi": "420"}, "arch": L("device_info", "aarch64")},
        "operator": L("device_info", "T-Mobile"), "network": L("device_info", "WIFI"), "lang": "English", "country": p.country, "date1": "2026-10-30_101502+0000", "af_timestamp": str(START * 1000), "counter": "7", "iaecounter": "2", "isFirstCall": "false"},
          note="AppsFlyer in-app event")
    c.labels[-1]["labels"].extend([{"category": "device_info", "part": "request.body", "path": f"deviceData.dim.{k}", "value": v} for k, v in (("x_px", "1080"), ("y_px", "2400"), ("d_dpi", "420"))])
    # OpenRTB bid request from an ad SDK
    c.add("POST", "https://bid.adnet.example/openrtb2/auction", headers=[("x-openrtb-version", "2.6"), ("User-Agent", UA_OKHTTP)], json_body={
        "id": uid(rnd), "imp": [{"id": "1", "banner": {"w": 320, "h": 50}, "bidfloor": 0.15, "bidfloorcur": "USD"}], "app": {"bundle": "com.example.aichat", "ver": "4.12.0", "publisher": {"id": digits(rnd, 6)}},
        "device": {"ua": UA_OKHTTP, "ip": L("ip_address", "198.51.100.77"), "ifa": L("advertising_id", gaid), "make": L("device_info", "Google"), "model": L("device_info", "Pixel 8"), "os": L("device_info", "Android"), "osv": L("device_info", "14"),
                   "hwv": L("device_info", "shiba"), "w": L("device_info", 1080), "h": L("device_info", 2400), "ppi": L("device_info", 420), "pxratio": L("device_info", 2.625), "connectiontype": L("device_info", 2), "carrier": L("device_info", "T-Mobile"), "lmt": 0,
                   "geo": {"lat": L("precise_location", p.lat), "lon": L("precise_location", p.lng), "city": L("coarse_location", p.city), "zip": L("coarse_location", p.postcode), "region": L("coarse_location", p.region), "country": p.country, "type": 1}},
        "user": {"id": L("account_id", hexid(rnd, 16)), "yob": L("date_of_birth", int(p.dob[:4]))}, "at": 1, "tmax": 250, "source": {"tid": uid(rnd)}, "regs": {"coppa": 0}}, note="OpenRTB bid request")
    zero_ifa = "00000000-0000-0000-0000-000000000000"
    c.add("GET", "https://ads.adnet.example/v1/ad", query=[("ifa", zero_ifa), ("lmt", "1"), ("placement", "chat_banner"), ("sdk", "7.4.1"), ("build", "20261030"), ("sr", "0.05")], headers=[("User-Agent", UA_OKHTTP)], response=("application/json", "{}"), note="ad request with a zeroed IFA (limit ad tracking)")
    # anti-fraud SDK: the device id under an unknown header, plus keystroke dynamics
    c.add("POST", "https://api.fraudshield.example/v3/collect", headers=[("x-device-fingerprint", L("device_id", android_id)), ("x-sdk-version", "3.2.1"), ("x-request-id", uid(rnd))], json_body={
        "sid": uid(rnd), "form": "login",
        "typing": {"key_intervals": L("keystroke_dynamics", [rnd.randrange(60, 300) for _ in range(8)]), "hold_times": L("keystroke_dynamics", [rnd.randrange(40, 140) for _ in range(8)]), "typing_speed": L("keystroke_dynamics", round(rnd.uniform(2, 7), 2))},
        "pointer": {"moves": rnd.randrange(50, 400), "clicks": 3}, "perf": {"latencies_ms": [rnd.randrange(8, 40) for _ in range(6)], "fps": [60, 59, 60, 58], "sample_rate": 0.1},
        "env": {"emulator": L("device_info", False), "rooted": L("device_info", False), "battery_level": L("device_info", 0.73), "charging": L("device_info", True), "total_memory": L("device_info", 8589934592)}}, note="anti-fraud SDK: keystroke dynamics, device id in a custom header")
    fix_keystroke_labels(c)


def fix_keystroke_labels(c: Corpus) -> None:
    """A keystroke array is labeled once, at the array's path (its elements are one measurement)."""
    labs = c.labels[-1]["labels"]
    out, seen = [], set()
    for lab in labs:
        if lab["category"] == "keystroke_dynamics" and lab["path"].endswith("]"):
            lab = dict(lab, path=lab["path"].rsplit("[", 1)[0])
        if (lab["category"], lab["part"], lab["path"]) not in seen:
            seen.add((lab["category"], lab["part"], lab["path"]))
            out.append(lab)
    c.labels[-1]["labels"] = out


def first_party_forms(c: Corpus, rnd: random.Random, p: Person, host: str, token: str) -> None:
    auth = [("Authorization", ("Bearer", L("credential", token))), ("User-Agent", UA_CHROME)]
    c.add("PATCH", f"https://{host}/api/v1/me", headers=[*auth, ("x-request-id", uid(rnd)), ("idempotency-key", uid(rnd))], json_body={
        "first_name": L("person_name", p.first), "last_name": L("person_name", p.last), "birthday": L("date_of_birth", p.dob), "phone": L("phone", p.phone),
        "address": {"line1": L("postal_address", p.street), "city": L("postal_address", p.city), "postal_code": L("postal_address", p.postcode), "state": L("postal_address", p.region), "country": L("postal_address", p.country)},
        "preferences": {"newsletter": False, "birthday_reminder": True, "theme": "dark", "temperature_unit": "celsius"}, "updated_at": _iso(c.clock)}, note="profile update")
    card, cvc = rnd.choice([("4242424242424242", "123"), ("5555555555554444", "737"), ("378282246310005", "7373")])
    c.add("POST", "https://api.stripe.com/v1/payment_methods", headers=[("User-Agent", UA_CHROME), ("Authorization", ("Bearer", "pk_live_" + b64url(rnd.randbytes(30))))], form=[
        ("type", "card"), ("card[number]", L("payment_card", card)), ("card[cvc]", L("payment_card", cvc)), ("card[exp_month]", L("payment_card", str(rnd.randrange(1, 13)))), ("card[exp_year]", L("payment_card", str(rnd.randrange(2027, 2032)))),
        ("billing_details[name]", L("person_name", p.full)), ("billing_details[email]", L("email", p.email)), ("billing_details[address][postal_code]", L("postal_address", p.postcode)), ("billing_details[address][country]", L("postal_address", p.country)),
        ("guid", uid(rnd)), ("muid", L("device_id", uid(rnd))), ("sid", uid(rnd)), ("payment_user_agent", "stripe.js/2a8b1e; stripe-js-v3/2a8b1e; card-element"), ("time_on_page", str(rnd.randrange(10000, 90000))), ("pasted_fields", "number"), ("key", "pk_live_" + b64url(rnd.randbytes(30)))],
          note="Stripe card tokenization")
    # the Authorization header above is a publishable key: a credential by policy
    c.labels[-1]["labels"].append({"category": "credential", "part": "request.header", "path": "authorization.bearer", "value": "pk_live_..."})
    order = order_number(rnd)
    c.add("GET", f"https://{host}/api/v1/orders/{order}", query=[("include", "items"), ("v", "1.5.4")], headers=[*auth, ("traceparent", traceparent(rnd))], note="order lookup with a Luhn-failing order number")
    c.add("POST", f"https://{host}/api/v1/telemetry", headers=[("User-Agent", UA_CHROME), ("x-request-id", uid(rnd)), ("baggage", f"sentry-trace_id={hexid(rnd, 32)},sentry-sample_rate=0.25,sentry-environment=production")], json_body={
        "metrics": [{"name": "ttft_ms", "values": [rnd.randrange(80, 400) for _ in range(6)], "sample_rate": 0.1}, {"name": "tokens_per_s", "values": [round(rnd.uniform(20, 90), 3) for _ in range(4)]}],
        "build": "2026.11.03.1842", "version": "1.5.4.0", "ts": START * 1000 + rnd.randrange(10**5), "order_id": order_number(rnd), "request_id": uid(rnd), "trace_id": hexid(rnd, 32), "content_hash": sha256(str(rnd.random())),
        "etag": '"' + hexid(rnd, 32) + '"', "model_params": {"temperature": 0.7, "top_p": 0.95, "top_k": 40, "max_tokens": 2048, "presence_penalty": 0.1}, "embedding_preview": [round(rnd.uniform(-1, 1), 4) for _ in range(6)],
        "counts": [1, 2, 3, 5, 8, 13, 21], "ratio": 0.125, "position": [0.125, 0.5], "flags": {"new_ui": True, "beta": False}}, note="telemetry full of decoys")


def kyc_and_payout(c: Corpus, rnd: random.Random, p: Person, host: str, token: str) -> None:
    gov_key = {"ssn": "ssn", "nir": "numero_secu", "nino": "ni_number", "passport_number": "passport_number", "id_card_no": "id_card_no"}[p.gov_key]
    if p.gov_id:
        c.add("POST", f"https://{host}/api/v1/kyc", headers=[("Authorization", ("Bearer", L("credential", token)))], multipart=[
            ("full_name", L("person_name", p.full), None, None), ("date_of_birth", L("date_of_birth", p.dob), None, None), (gov_key, L("government_id", p.gov_id), None, None), ("nationality", p.country, None, None),
            ("document", L("user_file", "passport-scan.jpg"), "passport-scan.jpg", JPEG), ("selfie", L("user_file", "selfie.png"), "selfie.png", PNG)], note="KYC upload")
    if p.iban:
        spaced = " ".join(p.iban[i:i + 4] for i in range(0, len(p.iban), 4))
        c.add("POST", f"https://{host}/api/v1/payouts", headers=[("Authorization", ("Bearer", L("credential", token))), ("idempotency-key", uid(rnd))],
              json_body={"account_holder_name": L("person_name", p.full), "iban": L("bank_account", spaced), "bic": "DEUTDEFF", "amount": 120000, "currency": "EUR", "reference": "INV-" + digits(rnd, 8)}, note="payout to an IBAN")


def location_apps(c: Corpus, rnd: random.Random, p: Person) -> None:
    c.add("GET", "https://api.weather.example/v1/forecast", query=[("lat", L("precise_location", f"{p.lat:.4f}")), ("lon", L("precise_location", f"{p.lng:.4f}")), ("units", "metric"), ("lang", "en"), ("appid", hexid(rnd, 32))], headers=[("User-Agent", UA_OKHTTP)], note="weather with GPS coordinates")
    c.add("POST", "https://places.example-ai.com/v1/nearby", headers=[("User-Agent", UA_OKHTTP), ("x-request-id", uid(rnd))], json_body={
        "location": {"latitude": L("precise_location", p.lat), "longitude": L("precise_location", p.lng), "accuracy": 12.5, "altitude": 35.2}, "city": L("coarse_location", p.city), "radius_m": 1500, "query": "pharmacy open now", "sample_rate": 0.01}, note="nearby search with location")
    c.add("GET", "https://maps.example-ai.com/v1/tiles", query=[("ll", L("precise_location", f"{p.lat:.5f},{p.lng:.5f}")), ("z", "14"), ("scale", "2")], headers=[("User-Agent", UA_OKHTTP)], response=("image/png", ""), note="map tiles with ll")


def prompts_with_secrets(c: Corpus, rnd: random.Random, people: list[Person]) -> None:
    """Prompts that carry checkable personal values (the values are labeled inside the prompt)."""
    jane, marie, tom, hans, li = people[0], people[1], people[2], people[3], people[4]
    aws = "AKIA" + "".join(rnd.choice(string.ascii_uppercase + string.digits) for _ in range(16))
    ghp = "ghp_" + "".join(rnd.choice(string.ascii_letters + string.digits) for _ in range(36))
    order = order_number(rnd)
    cases = [
        (f"I did my taxes, my SSN is {jane.gov_id}, why does the IRS form reject it?", [("government_id", jane.gov_id)]),
        (f"Mon numéro de sécu est {marie.gov_id[:1]} {marie.gov_id[1:3]} {marie.gov_id[3:5]} {marie.gov_id[5:7]} {marie.gov_id[7:10]} {marie.gov_id[10:13]} {marie.gov_id[13:]}, comment demander ma carte vitale ?", [("government_id", marie.gov_id)]),
        (f"我的身份证号是{li.gov_id}，手机号{li.phone}，帮我写一份租房申请", [("government_id", li.gov_id), ("phone", li.phone)]),  # noqa: RUF001  (Chinese punctuation / report symbols, on purpose)
        ("My card 5555 5555 5555 4444 was charged twice by the gym, write a dispute letter", [("payment_card", "5555 5555 5555 4444")]),
        (f"Please send the refund to {' '.join(hans.iban[i:i + 4] for i in range(0, len(hans.iban), 4))} and confirm by email to {hans.email}", [("bank_account", hans.iban), ("email", hans.email)]),
        (f"Why does boto3 say my key {aws} is invalid? The secret is in ~/.aws", [("credential", aws)]),
        (f"git push fails with my token {ghp}, what scope does it need?", [("credential", ghp)]),
        (f"Call me back on {tom.phone_e164[:3]} {tom.phone_e164[3:7]} {tom.phone_e164[7:]} about the appointment", [("phone", tom.phone_e164)]),
        (f"My National Insurance number is {tom.gov_id[:2]} {tom.gov_id[2:4]} {tom.gov_id[4:6]} {tom.gov_id[6:8]} {tom.gov_id[8]}, which tax code should I be on?", [("government_id", tom.gov_id)]),
        (f"Order {' '.join(order[i:i + 4] for i in range(0, 16, 4))} has not arrived, and tracking shows build 20261030.1 version 1.5.4, what should I do?", []),
        ("Compare UUID 3f2b8c1e-9d4a-4e7b-8c2d-1a5b6c7d8e9f with request id 9b2e4c6a8d0f and timestamp 1793614500123", []),
    ]
    key = "sk-proj-" + b64url(rnd.randbytes(48))
    for text, extra in cases:
        i = c.add("POST", "https://api.openai.com/v1/chat/completions", headers=[("Authorization", ("Bearer", L("credential", key))), ("User-Agent", "OpenAI/JS 5.20.0")],
                  json_body={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": L("prompt", text)}], "temperature": 0.7, "top_p": 1}, note="prompt with a checkable value inside")
        for cat, value in extra:
            c.labels[i]["labels"].append({"category": cat, "part": "request.body", "path": "messages[0].content", "value": value})


def static_and_noise(c: Corpus, rnd: random.Random) -> None:
    for asset in ("app.4f3c2a91.js", "vendor.9b8e7d6c.js", "styles.0d6f2b8e.css", "inter-var.woff2", "logo@2x.png"):
        c.add("GET", f"https://cdn.example-static.com/assets/{asset}", query=[("v", "1.5.4"), ("build", "20261030.1")], headers=[("User-Agent", UA_CHROME), ("If-None-Match", '"' + hexid(rnd, 32) + '"'), ("x-b3-traceid", hexid(rnd, 32)), ("sentry-trace", f"{hexid(rnd, 32)}-{hexid(rnd, 16)}-1")],
              response=("application/javascript", "console.log(1);"), note="static asset")
    c.add("POST", "https://featuregates.org/v1/initialize", headers=[("User-Agent", UA_CHROME), ("x-request-id", uid(rnd))], json_body={"hash": "djb2", "sinceTime": START * 1000, "deltasResponseRequested": False, "full_checksum": hexid(rnd, 10), "sdkVersion": "3.12.1", "sampling_rate": 0.25}, note="feature gates, no personal data")
    c.add("GET", "https://api.example-ai.com/v1/models", query=[("page", "2"), ("per_page", "50"), ("sort", "created_at"), ("since", "2026-10-01T00:00:00Z")], headers=[("User-Agent", UA_CHROME), ("x-request-id", uid(rnd)), ("traceparent", traceparent(rnd))], note="listing, no personal data")
    c.add("POST", "https://api.example-ai.com/v1/feedback", headers=[("User-Agent", UA_CHROME)], json_body={"message_id": uid(rnd), "rating": "thumbs_up", "tags": ["accurate", "fast"], "latency_ms": 812, "scores": [0.912, 0.887, 0.954], "model": "gpt-4o", "temperature": 0.7, "seed": 987654321}, note="feedback without text")


def holdout(c: Corpus, rnd: random.Random) -> None:
    """Batch "holdout": written after the detectors were frozen, scored as it came out."""
    jane, marie, tom, hans, li, priya, kenji = PEOPLE
    idfa, idfv, gaid = uid(rnd).upper(), uid(rnd).upper(), uid(rnd)
    user = "u_" + hexid(rnd, 16)
    c.add("POST", "https://sdk.iad-01.braze.com/api/v3/data", headers=[("User-Agent", "Braze/5.0.0 iOS")], json_body={
        "api_key": L("credential", uid(rnd)), "device_id": L("device_id", uid(rnd)), "sdk_version": "5.0.0", "time": START, "app_version": "4.12.0",
        "device": {"model": L("device_info", "iPhone15,3"), "os_version": L("device_info", "18.1"), "carrier": L("device_info", "AT&T"), "resolution": L("device_info", "1290x2796"), "locale": "en_US",
                   "time_zone": L("device_info", "America/Chicago"), "ios_idfa": L("advertising_id", idfa), "ios_idfv": L("device_id", idfv), "ad_tracking_enabled": True},
        "events": [{"name": "ce", "data": {"n": L("usage_event", "chat_opened"), "p": {"source": "push"}}, "time": START + 1.5, "session_id": uid(rnd), "user_id": L("account_id", user)}],
        "attributes": [{"user_id": L("account_id", user), "first_name": L("person_name", jane.first), "email": L("email", jane.email), "dob": L("date_of_birth", jane.dob), "home_city": L("coarse_location", "Austin"), "country": "US", "phone": L("phone", jane.phone)}],
    }, note="holdout: Braze SDK data")
    c.add("POST", "https://api.onesignal.com/players", headers=[("User-Agent", UA_OKHTTP)], json_body={
        "app_id": uid(rnd), "identifier": L("device_id", "f" + b64url(rnd.randbytes(100))), "device_type": L("device_info", 1), "device_model": L("device_info", "SM-S918B"), "device_os": L("device_info", "14"),
        "ad_id": L("advertising_id", gaid), "game_version": "4.12", "language": "en", "timezone": L("device_info", -18000), "timezone_id": L("device_info", "America/Chicago"), "net_type": L("device_info", 0),
        "carrier": L("device_info", "Verizon"), "rooted": L("device_info", False), "external_user_id": L("account_id", user), "sdk": "050116"}, note="holdout: OneSignal player registration")
    conv = uid(rnd)
    c.add("POST", "https://grok.com/rest/app-chat/conversations/new", headers=[("User-Agent", UA_CHROME), ("x-xai-request-id", uid(rnd))], cookies=[("sso", L("credential", JWT({"session_id": uid(rnd)}, label=False)))],
          json_body={"temporary": False, "modelName": "grok-4", "message": L("prompt", "My landlord wants to keep my deposit for normal wear and tear, is that legal in Texas?"), "fileAttachments": [], "imageAttachments": [],
                     "disableSearch": False, "enableImageGeneration": True, "returnImageBytes": False,
                     "deviceEnvInfo": {"darkModeEnabled": True, "devicePixelRatio": L("device_info", 2), "screenWidth": L("device_info", 1512), "screenHeight": L("device_info", 982), "viewportWidth": L("device_info", 1512), "viewportHeight": L("device_info", 857)}},
          response=("application/json", "{}"), note="holdout: Grok web")
    c.add("GET", f"https://grok.com/rest/app-chat/conversations/{conv}/responses", query=[("includeThreads", "true")], headers=[("User-Agent", UA_CHROME)], path_labels=[(3, "conversation_id", conv)], note="holdout: Grok conversation")
    c.add("POST", "https://poe.com/api/gql_POST", headers=[("User-Agent", UA_CHROME), ("poe-formkey", hexid(rnd, 32)), ("poe-tchannel", "poe-chan51-8888-" + b64url(rnd.randbytes(12)))], cookies=[("p-b", L("credential", b64url(rnd.randbytes(18))))],
          json_body={"queryName": "sendMessageMutation", "variables": {"chatId": L("conversation_id", int(digits(rnd, 9))), "bot": "GPT-4o", "query": L("prompt", "Write a toast for my sister's wedding, she is a nurse and loves hiking"),
                     "source": {"sourceType": "chat_input", "chatInputMetadata": {"useVoiceRecord": False}}, "clientNonce": b64url(rnd.randbytes(12)), "sdid": L("device_id", uid(rnd)), "attachments": []}, "extensions": {"hash": hexid(rnd, 64)}},
          note="holdout: Poe GraphQL")
    chat = uid(rnd)
    c.add("GET", "https://neo.character.ai/ws/", headers=[("User-Agent", UA_CHROME), ("Origin", "https://character.ai")], cookies=[("HTTP_AUTHORIZATION", L("credential", "Token " + hexid(rnd, 40)))],
          ws=[(True, {"command": "create_and_generate_turn", "request_id": uid(rnd), "origin_id": "web-next", "payload": {"chat_type": "TYPE_ONE_ON_ONE", "num_candidates": 1, "tts_enabled": False, "character_id": b64url(rnd.randbytes(30)), "user_name": L("account_id", "jdoe_1990"),
                  "turn": {"turn_key": {"turn_id": uid(rnd), "chat_id": L("conversation_id", chat)}, "author": {"author_id": L("account_id", digits(rnd, 9)), "is_human": True, "name": L("person_name", "Jane")},
                           "candidates": [{"candidate_id": uid(rnd), "raw_content": L("prompt", "I had a fight with my best friend and I don't know how to apologise")}], "primary_candidate_id": uid(rnd)}}}),
              (False, {"command": "update_turn", "turn": {"candidates": [{"raw_content": "That sounds hard."}]}})], response=("text/plain", ""), note="holdout: Character.AI WebSocket")
    c.add("POST", "https://r.lr-ingest.io/i", query=[("a", "abcdef/chat-app"), ("r", b64url(rnd.randbytes(10)))], headers=[("User-Agent", UA_CHROME)], json_body={
        "userID": L("account_id", user), "email": L("email", jane.email), "events": [{"type": "input", "target": "textarea#prompt-textarea", "value": L("prompt", PROMPTS[1]), "time": START * 1000 + 42}, {"type": "click", "target": "button[data-testid=send]", "time": START * 1000 + 900}]},
          note="holdout: session replay capturing the prompt box")
    c.add("POST", "https://tr.snapchat.com/v2/conversion", headers=[("Authorization", ("Bearer", L("credential", b64url(rnd.randbytes(40)))))], json_body={
        "pixel_id": uid(rnd), "event_type": L("usage_event", "SIGN_UP"), "event_conversion_type": "WEB", "timestamp": str(START * 1000), "hashed_email": L("email", sha256(jane.email)), "hashed_phone_number": L("phone", sha256(jane.phone_e164[1:])),
        "hashed_mobile_ad_id": L("advertising_id", sha256(idfa)), "hashed_ip_address": L("ip_address", sha256("198.51.100.23")), "page_url": "https://app.example-ai.com/welcome"}, note="holdout: Snapchat Conversions API")
    c.add("POST", "https://px.ads.linkedin.com/wa/", headers=[("User-Agent", UA_CHROME)], json_body={
        "pids": [int(digits(rnd, 7))], "scriptVersion": 180, "time": START * 1000, "domain": "chatgpt.com", "url": L("conversation_id", f"https://chatgpt.com/c/{conv}"), "pageType": "chat", "websiteSignalRequestId": uid(rnd),
        "isTranslated": False, "liFatId": "", "misc": {"psbState": -1}, "isLinkedInApp": False, "hem": L("email", sha256(tom.email))}, note="holdout: LinkedIn Insight tag")
    c.add("POST", "https://api-iam.intercom.io/messenger/web/conversations", headers=[("User-Agent", UA_CHROME)], form=[
        ("app_id", "abc12def"), ("v", "3"), ("s", uid(rnd)), ("platform", "web"), ("installation_type", "js-snippet"),
        ("user_data", J({"email": L("email", hans.email), "user_id": L("account_id", "cus_" + b64url(rnd.randbytes(9))), "name": L("person_name", hans.full), "user_hash": hexid(rnd, 64)})),
        ("blocks", J([{"type": "paragraph", "text": L("prompt", "Fin, why was my subscription charged twice this month?")}])), ("referer", "https://app.example-ai.com/settings/billing")],
          note="holdout: Intercom messenger question to the AI agent")
    c.add("GET", "https://maps.googleapis.com/maps/api/place/nearbysearch/json", query=[("location", L("precise_location", f"{kenji.lat:.5f},{kenji.lng:.5f}")), ("radius", "1500"), ("type", "pharmacy"), ("key", L("credential", "AIza" + b64url(rnd.randbytes(26))[:35]))],
          headers=[("User-Agent", UA_OKHTTP)], note="holdout: Places nearby search")
    c.add("POST", "https://api.example-ai.com/v1/auth/apple", headers=[("User-Agent", "ExampleAI/4.12.0 (iPhone; iOS 18.1; Scale/3.00)")], json_body={
        "identity_token": JWT({"iss": "https://appleid.apple.com", "aud": "com.example.ai", "sub": L("account_id", "001234." + hexid(rnd, 32) + ".0912"), "email": L("email", "x7k2pq9m@privaterelay.appleid.com"), "is_private_email": True}),
        "authorization_code": L("credential", "c" + hexid(rnd, 32) + ".0.ryvv." + b64url(rnd.randbytes(16))),
        "user": {"name": {"firstName": L("person_name", kenji.first), "lastName": L("person_name", kenji.last)}, "email": L("email", "x7k2pq9m@privaterelay.appleid.com")},
        "device": {"name": L(("device_info", "person_name"), "Kenji's iPhone"), "model": L("device_info", "iPhone16,2"), "systemVersion": L("device_info", "18.1")}}, note="holdout: Sign in with Apple")
    c.add("GET", "https://hm.baidu.com/hm.gif", query=[("cc", "1"), ("ck", "1"), ("cl", L("device_info", "24-bit")), ("ds", L("device_info", "1920x1080")), ("vl", "937"), ("et", "0"), ("ja", "0"), ("ln", "zh-cn"), ("lo", "0"), ("lt", str(START)), ("rnd", digits(rnd, 9)),
                                                       ("si", hexid(rnd, 32)), ("su", "https://www.baidu.com/"), ("v", "1.3.2"), ("lv", "3"), ("sn", digits(rnd, 5)), ("r", "0"), ("ww", "1920"), ("u", L("conversation_id", f"https://chat.deepseek.com/a/chat/s/{uid(rnd)}"))],
          headers=[("User-Agent", UA_CHROME)], response=("image/gif", ""), note="holdout: Baidu Tongji beacon")
    c.add("POST", "https://android.bugly.qq.com/rqd/async", query=[("aid", uid(rnd))], headers=[("User-Agent", UA_OKHTTP)], json_body={
        "deviceId": L("device_id", uid(rnd)), "model": L("device_info", "ELS-AN00"), "osVer": L("device_info", "Android 12"), "cpuName": L("device_info", "arm64-v8a"), "ramSize": L("device_info", 8), "romSize": L("device_info", 256),
        "imei": L("device_id", imei(rnd)), "imsi": L("device_info", "460011234567890"), "mac": L("device_id", ":".join(hexid(rnd, 2) for _ in range(6))), "crashTime": START * 1000, "crashType": "java", "appVer": "1.5.4", "buildNo": "5123"}, note="holdout: crash report SDK")
    c.add("POST", "https://api.shop.example/v2/checkout", headers=[("User-Agent", UA_OKHTTP), ("x-request-id", uid(rnd))], json_body={
        "receiver": {"receiver_name": L("person_name", li.last + li.first), "receiver_phone": L("phone", li.phone), "province": L("postal_address", "北京市"), "city": L("postal_address", "北京"), "district": L("postal_address", "朝阳区"),
                     "detail_address": L("postal_address", "示例路88号"), "zip_code": L("postal_address", "100020")}, "coupon": "SAVE10", "order_no": order_number(rnd), "pay_channel": "alipay"}, note="holdout: checkout with a delivery address")
    c.add("GET", "https://api.openai.com/v1/realtime", query=[("model", "gpt-realtime")], headers=[("Authorization", ("Bearer", L("credential", "sk-proj-" + b64url(rnd.randbytes(48))))), ("OpenAI-Beta", "realtime=v1")],
          ws=[(True, {"type": "session.update", "session": {"instructions": "You are a friendly tutor.", "voice": "alloy", "input_audio_format": "pcm16", "turn_detection": {"type": "server_vad", "threshold": 0.5}}}),
              (True, {"type": "input_audio_buffer.append", "audio": L("user_file", base64.b64encode(rnd.randbytes(600)).decode())}),
              (True, {"type": "conversation.item.create", "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": L("prompt", "Quiz me on the French subjunctive")}]}}),
              (False, {"type": "response.done"})], response=("text/plain", ""), note="holdout: OpenAI Realtime WebSocket")
    c.add("POST", "https://server.codeium.com/exa.language_server_pb.LanguageServerService/GetChatMessage", headers=[("User-Agent", "vscode/1.95.0")], json_body={
        "metadata": {"api_key": L("credential", uid(rnd)), "ide_name": "vscode", "extension_version": "1.2.3", "session_id": uid(rnd), "request_id": 123},
        "prompt": L("prompt", "Why does this config fail to load?"), "editor_info": {"os": L("device_info", "darwin"), "arch": L("device_info", "arm64")},
        "document": {"text": L("credential", "AWS_ACCESS_KEY_ID=AKIA" + "".join(rnd.choice(string.ascii_uppercase + string.digits) for _ in range(16)) + "\nREGION=eu-west-1\n"), "absolute_path": "/Users/kenji/projects/app/.env", "language": "dotenv"}}, note="holdout: code assistant with a secret in context")
    c.add("GET", "https://api.weather.example/v1/current", query=[("q", L("coarse_location", "Austin,TX")), ("units", "imperial")], headers=[("User-Agent", UA_OKHTTP)], note="holdout: weather by city")
    c.add("POST", "https://o450.ingest.sentry.io/api/4505/envelope/", text=(json.dumps({"event_id": hexid(rnd, 32)}) + "\n" + json.dumps({"type": "transaction"}) + "\n" + json.dumps({
        "type": "transaction", "transaction": "/c/:id", "start_timestamp": START + 0.5, "timestamp": START + 2.75, "release": "1.5.4", "dist": "5123",
        "measurements": {"fcp": {"value": 812.4, "unit": "millisecond"}, "lcp": {"value": 1304.9, "unit": "millisecond"}},
        "contexts": {"device": {"family": "Desktop", "model": "MacBookPro18,3", "arch": "arm64", "memory_size": 17179869184}, "trace": {"trace_id": hexid(rnd, 32), "span_id": hexid(rnd, 16), "op": "pageload"}},
        "spans": [{"op": "http.client", "description": "POST https://chatgpt.com/backend-api/conversation", "start_timestamp": START + 0.9, "timestamp": START + 1.7, "span_id": hexid(rnd, 16)}], "tags": {"device.class": "high"}}), "application/x-sentry-envelope"),
          headers=[("User-Agent", UA_CHROME)], note="holdout: Sentry transaction")
    c.labels[-1]["labels"].extend({"category": "device_info", "part": "request.body", "path": f"[2].contexts.device.{k}", "value": v} for k, v in (("family", "Desktop"), ("model", "MacBookPro18,3"), ("arch", "arm64"), ("memory_size", "17179869184")))
    stable = uid(rnd)
    c.add("POST", "https://featureassets.org/v1/initialize", headers=[("statsig-api-key", L("credential", "client-" + b64url(rnd.randbytes(30))))], json_body={
        "user": {"userID": L("account_id", user), "email": L("email", priya.email), "ip": L("ip_address", "192.0.2.44"), "userAgent": UA_CHROME, "country": "IN", "locale": "en-IN", "appVersion": "1.5.4",
                 "custom": {"plan": "plus", "signup_date": "2026-01-02"}, "privateAttributes": {"phone": L("phone", priya.phone)}, "customIDs": {"stableID": L("device_id", stable), "orgID": "org-" + hexid(rnd, 12)}, "statsigEnvironment": {"tier": "production"}},
        "statsigMetadata": {"sdkType": "js-client", "sdkVersion": "3.12.1", "stableID": L("device_id", stable), "sessionID": uid(rnd)}, "hash": "djb2"}, note="holdout: Statsig initialize")
    c.add("POST", "https://chatgpt.com/backend-api/share/create", headers=[("User-Agent", UA_CHROME)], json_body={"conversation_id": L("conversation_id", conv), "current_node_id": uid(rnd), "is_anonymous": True}, note="holdout: share link")
    thread = uid(rnd)
    c.add("POST", "https://www.notion.so/api/v3/runInferenceTranscript", headers=[("User-Agent", UA_CHROME), ("x-notion-active-user-header", L("account_id", uid(rnd)))], json_body={
        "traceId": uid(rnd), "spaceId": uid(rnd), "threadId": L("conversation_id", thread), "createThread": True,
        "transcript": [{"type": "config", "value": {"type": "workflow", "model": "default"}},
                       {"type": "context", "value": {"timezone": L("device_info", marie.tz), "userName": L("person_name", marie.full), "userId": L("account_id", uid(rnd)), "userEmail": L("email", marie.email), "currentDatetime": "2026-11-02T11:15:00+01:00"}},
                       {"type": "user", "value": [[L("prompt", "Résume cette page en trois points pour mon manager")]], "createdAt": "2026-11-02T10:15:00Z"}]}, note="holdout: Notion AI transcript")


def build(seed: int = 20261102) -> Corpus:
    rnd = random.Random(seed)
    c = Corpus()
    jane, marie, tom, hans, li, priya, kenji = PEOPLE
    prompts = list(PROMPTS)
    chatgpt_web(c, rnd, jane, [prompts[1], prompts[2], prompts[3]])
    chatgpt_web(c, rnd, tom, [prompts[11], prompts[7]])
    openai_api(c, rnd, priya, prompts[8], "sk-proj-" + b64url(rnd.randbytes(48)), "user_" + digits(rnd, 7))
    openai_api(c, rnd, kenji, prompts[14], "sk-svcacct-" + b64url(rnd.randbytes(48)), "u-" + hexid(rnd, 12))
    anthropic_api(c, rnd, tom, prompts[1])
    anthropic_api(c, rnd, marie, prompts[3])
    gemini(c, rnd, hans, prompts[4])
    gemini(c, rnd, priya, prompts[9])
    deepseek_app(c, rnd, li, [prompts[12], prompts[13]], cn=True)
    deepseek_app(c, rnd, jane, [prompts[2], prompts[10]], cn=False)
    mistral(c, rnd, marie, prompts[6])
    perplexity(c, rnd, jane, prompts[4])
    perplexity(c, rnd, hans, prompts[15])
    copilot(c, rnd, tom, prompts[5])
    copilot(c, rnd, kenji, prompts[0])
    kimi(c, rnd, li, prompts[13])
    qwen(c, rnd, li, prompts[12])
    doubao(c, rnd, li, prompts[13])
    ernie(c, rnd, li, prompts[12])
    unknown_formats(c, rnd, jane)
    prompts_with_secrets(c, rnd, PEOPLE)
    for person, host in ((jane, "app.example-ai.com"), (marie, "app.example-ai.com"), (tom, "api.tutorbot.example"), (hans, "app.example-ai.com"), (li, "chat.deepseek.com")):
        token = b64url(rnd.randbytes(40))
        first_party_forms(c, rnd, person, host, token)
        kyc_and_payout(c, rnd, person, host, token)
    for person, prompt, host in ((jane, prompts[2], "chatgpt.com"), (tom, prompts[11], "chatgpt.com"), (priya, prompts[8], "chat.deepseek.com")):
        conv = uid(rnd)
        url = f"https://{host}/c/{conv}" if host == "chatgpt.com" else f"https://{host}/a/chat/s/{conv}"
        third_parties(c, rnd, person, prompt, url, conv, "user-" + hexid(rnd, 20), uid(rnd))
    for person in (jane, priya, li):
        mobile_sdks(c, rnd, person, hexid(rnd, 16))
    for person in (jane, marie, kenji):
        location_apps(c, rnd, person)
    static_and_noise(c, rnd)
    first_holdout = len(c.entries)
    holdout(c, rnd)
    for lab in c.labels:
        lab["batch"] = "holdout" if lab["index"] >= first_holdout else "development"
    return c


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=HERE, help="output directory (default: this directory)")
    args = ap.parse_args()
    c = build()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "corpus.har").write_text(json.dumps(c.har(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    doc = {
        "about": "Labels of corpus.har, written by corpus/generate.py from the values it planted (see README.md for the labeling guide).",
        "units": "(exchange index, category, part, path)",
        "exchanges": c.labels,
    }
    known = {"email": [p.email for p in PEOPLE], "phone": [p.phone_e164 for p in PEOPLE], "person_name": [n for p in PEOPLE for n in (p.first, p.last)]}
    (args.out / "known.yaml").write_text(
        "# The test accounts of the corpus: what an auditor knows before capturing (auditor report --known).\n"
        + "".join(f"{k}:\n" + "".join(f"  - {json.dumps(v, ensure_ascii=False)}\n" for v in vs) for k, vs in known.items()),
        encoding="utf-8",
    )
    (args.out / "labels.json").write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    n = sum(len(e["labels"]) for e in c.labels)
    print(f"{len(c.entries)} exchanges, {n} labels -> {args.out / 'corpus.har'}, {args.out / 'labels.json'}")


if __name__ == "__main__":
    main()
