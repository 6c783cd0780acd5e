"""Server-sent events reach the client as they come (a chat app shows its answer word by word),
and are still recorded whole: ``audit_stream_sse``."""

from __future__ import annotations

from typing import Any

from mitmproxy import ctx, http


class StreamSSE:
    """The mitmproxy addon of ``audit_stream_sse``. Without it mitmproxy buffers an event stream
    and the app sees the whole answer at the end; with it, mitmproxy's ``store_streamed_bodies``
    is turned on so that the streamed body still reaches the capture and the audit."""

    def __init__(self) -> None:
        self.enabled = True

    def load(self, loader: Any) -> None:
        loader.add_option(
            "audit_stream_sse", bool, True, "Stream server-sent events to the client while recording them."
        )

    def configure(self, updated: set[str]) -> None:
        self._apply_options()

    def running(self) -> None:
        # An addon added with master.addons.add() after start-up gets no configure call.
        self._apply_options()

    def _apply_options(self) -> None:
        opts = ctx.options
        self.enabled = opts.audit_stream_sse
        if opts.audit_stream_sse and "store_streamed_bodies" in opts and not opts.store_streamed_bodies:
            opts.update(store_streamed_bodies=True)

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        response = flow.response
        if self.enabled and response is not None and "text/event-stream" in response.headers.get("content-type", ""):
            response.stream = True
