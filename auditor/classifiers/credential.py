"""Credentials: passwords, API keys, bearer and JWT tokens, session cookies, one-time codes."""

from __future__ import annotations

import re
from collections.abc import Iterator

from .. import lexicons
from ..models import Finding
from . import Context

# Well-known secret formats, each documented by its issuer.
API_KEYS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("anthropic", re.compile(r"\bsk-ant-[A-Za-z0-9_-]{20,}")),
    ("openai", re.compile(r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}")),
    ("google", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("aws", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("github", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{60,})\b")),
    ("stripe", re.compile(r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}\b")),
    ("slack", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b")),
    ("huggingface", re.compile(r"\bhf_[A-Za-z0-9]{30,}\b")),
)
JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")
_AUTH_HEADERS = frozenset({"authorization", "proxy-authorization"})


def _is_secret_like(value: str) -> bool:
    return len(value) >= 4 and not value.lower() in ("true", "false", "null", "none", "undefined")


def detect(ctx: Context) -> Iterator[Finding]:
    cred_keys = lexicons.names("credential_keys")
    cookie_names = lexicons.names("session_cookie_names")
    split_auth = {
        f.path.split(".", 1)[0]
        for f in ctx.fields
        if f.part == "request.header" and "." in f.path and f.path.split(".", 1)[0] in _AUTH_HEADERS
    }
    for f in ctx.sent:
        if f.kind != "value" or not f.value:
            continue
        value = f.value
        if "@jwt." in f.path or "@base64" in f.path:
            pass  # claims inside a token are classified by the other detectors
        elif f.part == "request.header" and f.path in _AUTH_HEADERS:
            if f.path not in split_auth:
                yield Finding("credential", f.part, f.path, value, "credential.authorization", 0.95)
            continue
        elif f.part == "request.header" and f.path.split(".", 1)[0] in _AUTH_HEADERS:
            if not f.path.endswith(".username"):
                yield Finding("credential", f.part, f.path, value, "credential.authorization", 0.95)
            continue
        elif f.part == "request.cookie":
            name = lexicons.normalize_key(f.path)
            if (name in cookie_names or "session" in name or name.endswith("token")) and len(value) >= 8:
                yield Finding("credential", f.part, f.path, value, "credential.session_cookie", 0.85)
                continue
        else:
            key = lexicons.normalize_key(lexicons.last_key(f.path))
            if key in cred_keys and _is_secret_like(value):
                yield Finding("credential", f.part, f.path, value, "credential.key_name", 0.9)
                continue
        if len(value) < 20:
            continue
        for issuer, rx in API_KEYS:
            m = rx.search(value)
            if m:
                yield Finding("credential", f.part, f.path, m.group(), f"credential.api_key.{issuer}", 0.95)
                break
        else:
            if "eyJ" in value and "@jwt." not in f.path:
                m = JWT.search(value)
                if m:
                    yield Finding("credential", f.part, f.path, m.group(), "credential.jwt", 0.8)
