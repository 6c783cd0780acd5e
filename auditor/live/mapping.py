"""Where the proxy connects: ``audit_map`` sends a host to another address (a test backend)
while the capture keeps the host's name; ``audit_block_unmapped`` refuses every other host."""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

from mitmproxy import ctx, exceptions


def parse_map(entries: Sequence[str]) -> dict[str, tuple[str, int]]:
    """``["api.openai.com=127.0.0.1:8443"]`` -> ``{"api.openai.com": ("127.0.0.1", 8443)}``."""
    out: dict[str, tuple[str, int]] = {}
    for entry in entries:
        host, sep, target = entry.partition("=")
        addr, colon, port = target.rpartition(":")
        if not sep or not host or not colon or not addr or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"invalid map {entry!r}: expected HOST=ADDR:PORT")
        out[host.strip().lower()] = (addr.strip("[]"), int(port))
    return out


class HostMap:
    """The mitmproxy addon of ``audit_map`` and ``audit_block_unmapped``."""

    def __init__(self) -> None:
        self.maps: dict[str, tuple[str, int]] = {}
        self.block_unmapped = False
        # server connection -> its address before the map (weak: a connection that never
        # connects leaves no entry behind)
        self._mapped: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()

    def load(self, loader: Any) -> None:
        loader.add_option(
            "audit_map", Sequence[str], [], "HOST=ADDR:PORT: connect there for HOST, keep HOST in the capture."
        )
        loader.add_option(
            "audit_block_unmapped", bool, False,
            "Refuse connections to hosts not in audit_map (keeps tests on loopback).",
        )

    def configure(self, updated: set[str]) -> None:
        self._apply_options()

    def running(self) -> None:
        # An addon added with master.addons.add() after start-up gets no configure call.
        self._apply_options()

    def _apply_options(self) -> None:
        opts = ctx.options
        self.block_unmapped = opts.audit_block_unmapped
        try:
            self.maps = parse_map(opts.audit_map)
        except ValueError as e:
            raise exceptions.OptionsError(str(e)) from None

    def server_connect(self, data: Any) -> None:
        host = str(data.server.address[0]).lower() if data.server.address else ""
        target = self.maps.get(host)
        if target is not None:
            self._mapped[data.server] = data.server.address
            data.server.address = target
        elif self.block_unmapped:
            data.server.error = f"auditor: connection to {host or 'an unknown host'} refused (not in --map)"

    def server_connected(self, data: Any) -> None:
        # Once connected, give a mapped connection its real address back: mitmproxy reuses a
        # server connection only for requests to the same address, so a mapped one would
        # otherwise be left open and a new one made for every request on a keep-alive connection.
        # (mitmproxy refuses ``server.address = ...`` on an open connection; the address is only
        # compared and shown from now on, the socket is connected.)
        original = self._mapped.pop(data.server, None)
        if original is not None:
            data.server.__dict__["address"] = original

    def server_connect_error(self, data: Any) -> None:
        self._mapped.pop(data.server, None)
