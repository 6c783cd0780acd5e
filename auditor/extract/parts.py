"""The walker of the parts of an exchange around its bodies: headers (``set-cookie`` and
``authorization`` split), cookies, query parameters, path segments and WebSocket messages."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qsl, unquote

from auditor.extract.tokens import _b64decode, _loads_container
from auditor.extract.walker import _ContentWalker
from auditor.models import WebSocketMessage

_SET_COOKIE = "set-cookie"
_AUTH_HEADERS = ("authorization", "proxy-authorization")


class _Walker(_ContentWalker):
    """The walker of a whole exchange: values and bodies, and the parts around them."""

    __slots__ = ()

    # -- HTTP metadata ------------------------------------------------------------------------

    def headers(self, headers: Iterable[tuple[str, str]]) -> None:
        """Headers by lower-cased name; ``cookie`` skipped; ``set-cookie`` and
        ``authorization`` split into their parts."""
        for raw_name, value in headers:
            name = raw_name.lower()
            if name == "cookie":
                continue
            if name == _SET_COOKIE:
                cookie, sep, cookie_value = value.split(";", 1)[0].partition("=")
                cookie, cookie_value = cookie.strip(), cookie_value.strip()
                if len(cookie_value) >= 2 and cookie_value[0] == '"' and cookie_value[-1] == '"':
                    cookie_value = cookie_value[1:-1]
                if sep and cookie and cookie_value:
                    self.string(f"{_SET_COOKIE}.{cookie}", cookie_value, 0, inline_json=False)
                continue
            if not value:
                continue
            self.string(name, value, 0, inline_json=False)
            if name in _AUTH_HEADERS:
                self.authorization(name, value)

    def authorization(self, name: str, value: str) -> None:
        """``Bearer X`` -> ``<name>.bearer``; ``Basic`` -> ``.basic.username``/``.password``;
        other schemes -> ``<name>.<scheme>``."""
        scheme, _, credentials = value.strip().partition(" ")
        credentials = credentials.strip()
        if not credentials:
            return
        scheme = scheme.lower()
        if scheme == "basic":
            raw = _b64decode(credentials)
            if raw is not None:
                username, _, password = raw.decode("utf-8", "replace").partition(":")
                if username:
                    self.add(f"{name}.basic.username", username)
                if password:
                    self.add(f"{name}.basic.password", password)
                return
        self.string(f"{name}.{scheme}", credentials, 0, inline_json=False)

    def cookies(self, cookies: Iterable[tuple[str, str]]) -> None:
        """Request cookies by name; URL-encoded JSON values are walked too."""
        for name, value in cookies:
            if not value:
                continue
            if value[:3].upper() in ("%7B", "%5B"):
                obj = _loads_container(unquote(value, errors="replace"))
                if obj is not None:
                    self.container(obj, name, 0)
                    continue
            self.string(name, value, 0, inline_json=True)

    def query(self, query: str | Iterable[tuple[str, str]]) -> None:
        """Query parameters by name (repeated names give one field each)."""
        if isinstance(query, str):
            query = parse_qsl(query.partition("#")[0].removeprefix("?"), keep_blank_values=True)
        for name, value in query:
            if value:
                self.string(name, value, 0)

    def path_segments(self, path: str) -> None:
        """Non-empty, percent-decoded path segments as ``path[0]``, ``path[1]``, ..."""
        path = path.partition("?")[0].partition("#")[0]
        if not path.startswith("/") and "://" in path:  # absolute-form request target
            slash = path.find("/", path.find("://") + 3)
            path = path[slash:] if slash >= 0 else ""
        index = 0
        for segment in path.split("/"):
            if not segment:
                continue
            decoded = unquote(segment, errors="replace")
            if decoded:
                self.string(f"path[{index}]", decoded, 0)
                index += 1

    def websocket(self, messages: list[WebSocketMessage], from_client: bool) -> None:
        """The messages of one direction, each under ``[i]`` (its index among all messages)."""
        for index, message in enumerate(messages):
            if message.from_client != from_client or not message.content:
                continue
            path = f"[{index}]"
            if message.is_text:
                text = message.content.decode("utf-8", "replace")
                if text:
                    self.string(path, text, 0)
            else:
                self.add(path, f"<{len(message.content)} bytes>", "binary")
