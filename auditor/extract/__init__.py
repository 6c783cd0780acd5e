"""Walk an exchange into :class:`~auditor.models.Field` values.

Everything the client sent (URL path, query, headers, cookies, body, WebSocket messages) and the
response (headers, body) is flattened into ``Field(part, path, value, kind, content_type)``.
Path conventions:

* JSON: ``messages[1].content``; keys that are not identifier-like are quoted,
  ``a["key with space"]``; a top-level array gives ``[0].x``. Leaves become strings; ``null``
  and empty strings are skipped. A JSON string that itself holds a JSON object or array is
  walked under the same path, with no field for the string.
* NDJSON and Sentry envelopes: line ``i`` under ``[i]``; SSE: event ``i`` under ``sse[i]``;
  WebSocket message ``i`` under ``[i]``.
* Form bodies, query strings, cookies, multipart parts: the parameter/cookie/part name as is.
* Headers: the lower-cased name; ``set-cookie.<name>``; ``authorization.bearer``,
  ``authorization.basic.username``/``.password``, ``authorization.<scheme>``.
* Expansions, added after the field holding the value: JWT claims under ``<path>.@jwt``,
  base64-wrapped JSON under ``<path>.@base64``.
* Content decoded by sniffing (:mod:`auditor.extract.sniff`), whatever the headers say, in place of the
  compressed value: ``@gzip``, ``@zlib``, ``@zstd`` (magic bytes), ``@deflate`` (raw deflate,
  only for binary content that inflates to text) and ``@lzstring`` (lz-string
  ``compressToBase64`` in form fields), after ``@base64`` when the bytes were base64-wrapped:
  ``@gzip.batch[0].properties["$email"]``, ``data.@base64.@gzip.user_id``,
  ``[5].@zlib[0].data`` (the zlib item of a Sentry envelope, line 5). Everything inflated by
  sniffing in one exchange counts against one budget, ``max_inflated`` bytes.
* Session replay event streams (rrweb) are reconstructed (:mod:`auditor.extract.replay`): the fields
  are the page's text and what was typed into its inputs, at the paths of the events carrying
  them, marked with a ``replay/...`` ``content_type``.

Walking is bounded (``max_depth`` nesting levels, ``max_fields`` fields) and never raises; a part
whose walk fails on an unexpected error is noted in :attr:`Fields.failures`.

Submodules, each depending only on those before it: :mod:`.paths` (path syntax, leaf texts),
:mod:`.tokens` (JWT, base64-wrapped JSON), :mod:`.mime` (content types, text or binary,
multipart), :mod:`.walker` (values and bodies), :mod:`.parts` (headers, cookies, query, path,
WebSocket), :mod:`.walk` (the public walks).
"""

from auditor.extract.parts import _Walker as _Walker  # the walker without the safety net, for tests
from auditor.extract.tokens import decode_base64_json, decode_jwt
from auditor.extract.walk import (
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
from auditor.extract.walker import Fields
from auditor.extract.walker import _Full as _Full
from auditor.limits import DEFAULT_MAX_DEPTH, DEFAULT_MAX_FIELDS

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_FIELDS",
    "Fields",
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
