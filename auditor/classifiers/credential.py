"""Credentials: Authorization headers, session cookies, and password/token/API-key/OTP fields.

API keys in the issuers' formats and JWTs inside other values are found by :mod:`.patterns`;
API keys named by a request's path (``cdn.segment.com/v1/projects/<write key>/settings``) from
the lexicons' ``key_paths``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

from auditor.classifiers import Context, lexicons
from auditor.models import Finding

_AUTH_HEADERS = frozenset({"authorization", "proxy-authorization"})


def _is_secret_like(value: str) -> bool:
    return len(value) >= 4 and value.lower() not in ("true", "false", "null", "none", "undefined")


def interested(part: str, path: str, parent: str, key: str) -> bool:
    if part == "request.cookie" or (part == "request.header" and path.split(".", 1)[0] in _AUTH_HEADERS):
        return True
    return key in lexicons.names("credential_keys") or key.endswith(tuple(lexicons.names("credential_key_suffixes")))


@cache
def _key_paths() -> tuple[tuple[str, re.Pattern[str], int], ...]:
    return tuple((host, *lexicons.path_template(template)) for host, template in lexicons.key_paths())


def _url_key(ctx: Context) -> Iterator[Finding]:
    """An API key named by the request's own path (an SDK fetching its project's settings)."""
    ex = ctx.exchange
    path = ex.path.partition("?")[0]
    for host, rx, seg in _key_paths():
        if lexicons.host_matches(ex.host, (host,)):
            m = rx.match(path)
            if m and _is_secret_like(m.group(1)) and len(m.group(1)) >= 16:
                yield Finding("credential", "request.url", f"path[{seg}]", m.group(1), "credential.url_path", 0.85)
                return


def detect(ctx: Context) -> Iterator[Finding]:
    yield from _url_key(ctx)
    cred_keys = lexicons.names("credential_keys")
    cookie_names = lexicons.names("session_cookie_names")
    suffixes = tuple(lexicons.names("credential_key_suffixes"))
    selected = ctx.select("credential")
    split_auth = {
        f.path.split(".", 1)[0]
        for f, _ in selected
        if f.part == "request.header" and "." in f.path and f.path.split(".", 1)[0] in _AUTH_HEADERS
    }
    for f, (_parent, key) in selected:
        if f.kind != "value" or not f.value:
            continue
        value = f.value
        if "@jwt" in f.path:
            continue  # claims inside a token are classified by the other detectors
        if f.part == "request.header":
            head = f.path.split(".", 1)[0]
            if head in _AUTH_HEADERS:
                if f.path == head:
                    if head not in split_auth:
                        yield Finding("credential", f.part, f.path, value, "credential.authorization", 0.95)
                elif not f.path.endswith(".username"):
                    yield Finding("credential", f.part, f.path, value, "credential.authorization", 0.95)
                continue
        if (
            f.part == "request.cookie"
            and (key in cookie_names or "session" in key or key.endswith(("token", "auth", "authorization")))
            and len(value) >= 8
        ):
            yield Finding("credential", f.part, f.path, value, "credential.session_cookie", 0.85)
            continue
        if (key in cred_keys or key.endswith(suffixes)) and _is_secret_like(value):
            yield Finding("credential", f.part, f.path, value, "credential.key_name", 0.9)
