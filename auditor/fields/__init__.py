"""Walk an exchange into :class:`~auditor.models.Field` values (see :mod:`.walker`)."""

from .walker import (
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_FIELDS,
    _Full,
    _Walker,
    decode_base64_json,
    decode_jwt,
    walk_body,
    walk_cookies,
    walk_exchange,
    walk_headers,
    walk_json,
    walk_path_segments,
    walk_query,
    walk_string,
    walk_websocket,
)

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_FIELDS",
    "_Full",
    "_Walker",
    "decode_base64_json",
    "decode_jwt",
    "walk_body",
    "walk_cookies",
    "walk_exchange",
    "walk_headers",
    "walk_json",
    "walk_path_segments",
    "walk_query",
    "walk_string",
    "walk_websocket",
]
