"""The live audit's addons: one per concern, each declaring its own options, and the same
addons as one ``LiveAuditor`` or as mitmproxy's list (``default_addons()``)."""

from __future__ import annotations

import json
from typing import Any

import mitmproxy.addons  # noqa: F401  (imports every layer, so that hooks.all_hooks names every event)
import pytest
from mitmproxy import connection, hooks
from mitmproxy.addons.view import View
from mitmproxy.proxy.layers.http import HttpResponseHook
from mitmproxy.proxy.server_hooks import ServerConnectHook, ServerConnectionHookData
from mitmproxy.test import taddons, tflow

from auditor.live import AuditSession, HostMap, LiveAuditor, MarkFlows, Recorder, StreamSSE, default_addons

# The options as users set them (``--set name=value``), with their defaults.
OPTIONS: dict[str, Any] = {
    "audit_dir": None,
    "audit_formats": "html,json",
    "audit_reveal": False,
    "audit_first_party": [],
    "audit_map": [],
    "audit_block_unmapped": False,
    "audit_stream_sse": True,
    "audit_mark": True,
    "audit_process": True,
}


class _Loader:
    """Collects what an addon's ``load`` declares: option name -> default."""

    def __init__(self) -> None:
        self.options: dict[str, Any] = {}

    def add_option(self, name: str, typespec: object, default: Any, help: str, choices: Any = None) -> None:
        assert name not in self.options, f"{name} declared twice"
        self.options[name] = default


def _declared(addon: Any) -> dict[str, Any]:
    loader = _Loader()
    if hasattr(addon, "load"):
        addon.load(loader)
    return loader.options


def test_each_addon_declares_its_own_options() -> None:
    parts = default_addons()
    assert [type(p) for p in parts] == [HostMap, StreamSSE, MarkFlows, Recorder, AuditSession]
    assert {type(p).__name__: sorted(_declared(p)) for p in parts} == {
        "HostMap": ["audit_block_unmapped", "audit_map"],
        "StreamSSE": ["audit_stream_sse"],
        "MarkFlows": ["audit_mark"],
        "Recorder": [],
        "AuditSession": ["audit_dir", "audit_first_party", "audit_formats", "audit_process", "audit_reveal"],
    }
    assert _declared(LiveAuditor()) == OPTIONS


def test_mitmproxy_sees_the_options_and_their_defaults() -> None:
    addon = LiveAuditor()
    with taddons.context(addon) as tctx:
        assert {k: getattr(tctx.options, k) for k in tctx.options.keys() if k.startswith("audit_")} == OPTIONS  # noqa: SIM118 (Options has keys(), no __iter__)


def test_live_auditor_passes_on_every_event_its_parts_handle() -> None:
    addon = LiveAuditor()
    # (an ``addons`` attribute would make mitmproxy call the parts a second time)
    assert not hasattr(addon, "addons")
    missing = [
        name
        for name in hooks.all_hooks
        if any(callable(getattr(p, name, None)) for p in addon.parts) and not callable(getattr(addon, name, None))
    ]
    assert missing == []
    extra = [
        name
        for name in hooks.all_hooks
        if callable(getattr(addon, name, None)) and not any(callable(getattr(p, name, None)) for p in addon.parts)
    ]
    assert extra == []


@pytest.mark.parametrize("form", ["LiveAuditor", "default_addons"])
def test_mitmproxy_calls_each_part_once(form: str) -> None:
    """Through mitmproxy's own dispatch, in both forms: a mapped connection is mapped once (a
    second call would see the mapped address, which is not in the map, and refuse it)."""
    addons = [LiveAuditor()] if form == "LiveAuditor" else list(default_addons())
    with taddons.context(*addons) as tctx:
        tctx.master.options.update(audit_map=["a.example=127.0.0.1:9"], audit_block_unmapped=True, audit_process=False)
        client = connection.Client(peername=("127.0.0.1", 50000), sockname=("127.0.0.1", 8080))
        mapped = connection.Server(address=("a.example", 443))
        other = connection.Server(address=("b.example", 443))
        for server in (mapped, other):
            tctx.master.addons.trigger(ServerConnectHook(ServerConnectionHookData(server, client)))
        assert mapped.address == ("127.0.0.1", 9) and mapped.error is None
        assert other.address == ("b.example", 443)
        assert other.error == "auditor: connection to b.example refused (not in --map)"


@pytest.mark.parametrize("form", ["LiveAuditor", "default_addons"])
def test_a_flow_is_audited_and_marked_in_both_forms(form: str) -> None:
    addons: list[Any] = [LiveAuditor()] if form == "LiveAuditor" else list(default_addons())
    session = addons[0].parts.session if form == "LiveAuditor" else addons[-1]
    with taddons.context(*addons, View()) as tctx:  # (with a flow list, as in mitmweb)
        tctx.master.options.update(audit_process=False)
        f = tflow.tflow(resp=True)
        f.request.host = "mcs.volceapplog.com"
        f.request.headers["host"] = "mcs.volceapplog.com"
        f.request.method = "POST"
        f.request.content = json.dumps({"prompt_text": "How do I renew my passport?", "email": "jane.doe@example.org"}).encode()
        tctx.master.addons.trigger(HttpResponseHook(f))
        tctx.master.addons.trigger(HttpResponseHook(f))  # (a flow is handed over once)
        session.drain()
        assert f.marked == ":warning:"
        assert f.comment == "auditor: email, prompt -> mcs.volceapplog.com (CN)"
        doc = session.finish()
    assert doc["summary"]["exchanges"] == 1
    assert doc["captures"][0]["warnings"] == []
