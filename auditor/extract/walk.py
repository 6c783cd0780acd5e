"""The public walks: one per part of an exchange, and :func:`walk_exchange` for all of them."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterable

from auditor.extract import replay
from auditor.extract.parts import _Walker
from auditor.extract.walker import Fields, _Full
from auditor.limits import DEFAULT_MAX_DEPTH, DEFAULT_MAX_FIELDS, DEFAULT_MAX_INFLATED
from auditor.models import Exchange, WebSocketMessage

log = logging.getLogger(__name__)


def _run(walker: _Walker, walk: Callable[..., None], *args: object) -> Fields:
    """Run one walker method on one part.

    The field cap ends the walk quietly. Any other exception (a fault met on hostile input) ends
    only this part: the fields taken so far are kept and the failure is noted in
    ``walker.out.failures`` for the caller to report (:func:`_note_failure`).
    """
    try:
        if walker.max_fields > 0:
            walk(*args)
    except _Full:
        pass
    except Exception as exc:  # noqa: BLE001 - hostile input must never raise out of a walk; noted below
        _note_failure(walker, exc)
    return walker.out


def _note_failure(walker: _Walker, exc: Exception) -> None:
    """Note on ``walker.out`` that the walk of the current part stopped at ``exc``.

    The note names the part, the exception type and the function that raised it, never the
    exception's message, which may quote captured (personal) values. The traceback goes to the
    debug log.
    """
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" in {frames[-1].name}" if frames else ""
    note = f"{walker.part or 'value'}: {type(exc).__name__}{where}; the rest of this part was not walked"
    out = walker.out
    out.failures = (*out.failures, note)
    log.debug("walking %s stopped", walker.part or "a value", exc_info=exc)


def walk_json(
    obj: object,
    prefix: str = "",
    part: str = "request.body",
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_fields: int = DEFAULT_MAX_FIELDS,
) -> Fields:
    """Fields of a parsed JSON value, paths under ``prefix`` (``a.b[0].c``)."""
    walker = _Walker(max_depth, max_fields, part)
    return _run(walker, walker.json, obj, prefix, 0)


def walk_string(
    value: str,
    path: str,
    part: str,
    *,
    inline_json: bool = True,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_fields: int = DEFAULT_MAX_FIELDS,
    max_inflated: int = DEFAULT_MAX_INFLATED,
) -> Fields:
    """Fields of one string value: JSON inside it walked in place (with ``inline_json``),
    compressed bytes inflated and walked (``<path>.@gzip``...), else the value itself plus its
    JWT claims (``<path>.@jwt``) or base64-wrapped JSON (``<path>.@base64``)."""
    walker = _Walker(max_depth, max_fields, part, max_inflated)
    if not value:
        return walker.out
    return _run(walker, walker.string, path, value, 0, inline_json)


def walk_body(
    body: bytes,
    content_type: str | None,
    part: str,
    prefix: str = "",
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_fields: int = DEFAULT_MAX_FIELDS,
    max_inflated: int = DEFAULT_MAX_INFLATED,
) -> Fields:
    """Fields of a (decoded) body: JSON, NDJSON/envelope, form, multipart, SSE, text, binary;
    compressed content found by sniffing is inflated (at most ``max_inflated`` bytes in all)."""
    walker = _Walker(max_depth, max_fields, part, max_inflated)
    return _run(walker, walker.body, body, content_type, prefix)


def walk_headers(
    headers: Iterable[tuple[str, str]],
    part: str = "request.header",
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_fields: int = DEFAULT_MAX_FIELDS,
) -> Fields:
    """Header fields (``cookie`` skipped: see :func:`walk_cookies`)."""
    walker = _Walker(max_depth, max_fields, part)
    return _run(walker, walker.headers, headers)


def walk_cookies(
    cookies: Iterable[tuple[str, str]],
    part: str = "request.cookie",
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_fields: int = DEFAULT_MAX_FIELDS,
) -> Fields:
    """Cookie fields from ``(name, value)`` pairs (as :attr:`Exchange.cookies` gives them)."""
    walker = _Walker(max_depth, max_fields, part)
    return _run(walker, walker.cookies, cookies)


def walk_query(
    query: str | Iterable[tuple[str, str]],
    part: str = "request.query",
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_fields: int = DEFAULT_MAX_FIELDS,
) -> Fields:
    """Query fields from a query string (``a=1&b=2``, leading ``?`` allowed) or pairs."""
    walker = _Walker(max_depth, max_fields, part)
    return _run(walker, walker.query, query)


def walk_path_segments(
    path: str,
    part: str = "request.url",
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_fields: int = DEFAULT_MAX_FIELDS,
) -> Fields:
    """Path segment fields of a request target (its query, if any, is ignored)."""
    walker = _Walker(max_depth, max_fields, part)
    return _run(walker, walker.path_segments, path)


def walk_websocket(
    messages: list[WebSocketMessage],
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_fields: int = DEFAULT_MAX_FIELDS,
) -> Fields:
    """WebSocket fields: all client messages (``websocket.client``), then server messages."""
    walker = _Walker(max_depth, max_fields)
    for part, from_client in (("websocket.client", True), ("websocket.server", False)):
        walker.part = part
        _run(walker, walker.websocket, messages, from_client)
    return walker.out


def walk_exchange(
    ex: Exchange,
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_fields: int = DEFAULT_MAX_FIELDS,
    max_inflated: int = DEFAULT_MAX_INFLATED,
    replays: replay.Memory | None = None,
) -> Fields:
    """Every field of an exchange, in pipeline order: URL path, query, request headers,
    cookies, request body, WebSocket client then server messages, response headers, body.

    At most ``max_fields`` fields in all, and at most ``max_inflated`` bytes inflated by
    sniffing. Nothing is raised: a part whose walk fails ends there, with a note in
    :attr:`Fields.failures` for the caller to report. ``replays`` keeps the pages
    of session replays between exchanges (the elements typed into are named in earlier ones).
    """
    page = replays.page(ex.host) if replays is not None else None
    walker = _Walker(max_depth, max_fields, max_inflated=max_inflated, page=page)
    query = ex.path.partition("#")[0].partition("?")[2]
    steps: list[tuple[str, Callable[..., None], tuple[object, ...]]] = [
        ("request.url", walker.path_segments, (ex.path,)),
        ("request.query", walker.query, (query,)),
        ("request.header", walker.headers, (ex.request_headers,)),
        ("request.cookie", lambda: walker.cookies(ex.cookies), ()),
        ("request.body", walker.body, (ex.request_body, ex.request_header("content-type"), "")),
        ("websocket.client", walker.websocket, (ex.websocket, True)),
        ("websocket.server", walker.websocket, (ex.websocket, False)),
        ("response.header", walker.headers, (ex.response_headers,)),
        ("response.body", walker.body, (ex.response_body, ex.response_header("content-type"), "")),
    ]
    for part, walk, args in steps:
        if len(walker.out) >= max_fields:
            break
        walker.part = part
        _run(walker, walk, *args)
    return walker.out
