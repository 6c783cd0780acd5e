"""An embedded mitmproxy: start it in-process, learn its address and CA, stop it cleanly.

Used by ``auditor capture``, ``auditor run`` and the pytest plugin. Three things mitmproxy does
when embedded that matter here: its start-up error check calls ``sys.exit``, so it is replaced
by collecting ERROR logs and raising :class:`ProxyError`; it leaves its listening sockets open on
shutdown, so they are closed explicitly; and it writes its CA into the confdir only in its
``running`` hook, so start-up waits for that.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mitmproxy.options import Options
from mitmproxy.tools.dump import DumpMaster

from auditor.errors import AuditorError

STARTUP_TIMEOUT = 20.0
LOOPBACK = "127.0.0.1"


class ProxyError(AuditorError, RuntimeError):
    """The proxy could not start. ``str()`` is one line meant for the user."""


@dataclass
class ProxyConfig:
    """How to run the proxy. ``listen_port=0`` picks a free port."""

    listen_host: str = LOOPBACK
    listen_port: int = 0
    modes: Sequence[str] = ("regular",)
    confdir: str = "~/.mitmproxy"
    ssl_insecure: bool = False
    replay: Sequence[str] = ()
    options: dict[str, Any] = field(default_factory=dict)


class _ErrorCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


class _Ready:
    """Added last: its ``running`` hook fires after the proxy listens and the CA exists."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def running(self) -> None:
        self.event.set()


class EmbeddedProxy:
    """A mitmproxy DumpMaster running in the current event loop.

    ``async with EmbeddedProxy(config, addons) as proxy:`` then use ``proxy.url`` and
    ``proxy.ca_file``.
    """

    def __init__(self, config: ProxyConfig, addons: Sequence[Any] = ()) -> None:
        self.config = config
        self.addons = list(addons)
        self.master: DumpMaster | None = None
        self.host = ""
        self.port = 0
        self.errors: list[str] = []
        self._task: asyncio.Task[None] | None = None
        self._collector = _ErrorCollector()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def confdir(self) -> Path:
        return Path(self.config.confdir).expanduser()

    @property
    def ca_file(self) -> Path:
        """The CA certificate clients must trust (PEM)."""
        return self.confdir / "mitmproxy-ca-cert.pem"

    async def __aenter__(self) -> EmbeddedProxy:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        cfg = self.config
        self.confdir.mkdir(parents=True, exist_ok=True, mode=0o700)
        logging.getLogger("mitmproxy").addHandler(self._collector)
        self.errors = self._collector.messages
        opts = Options(confdir=str(self.confdir), listen_host=cfg.listen_host, listen_port=cfg.listen_port)
        master = DumpMaster(opts, with_termlog=False, with_dumper=False)
        errorcheck = master.addons.get("errorcheck")
        if errorcheck is not None:
            errorcheck.finish()
            master.addons.remove(errorcheck)
        updates: dict[str, Any] = {
            "mode": list(cfg.modes),
            "ssl_insecure": cfg.ssl_insecure,
            # Connect upstream only when a request needs it: with "eager", requests inside a
            # CONNECT tunnel take their host from a rewritten server address (see --map).
            "connection_strategy": "lazy",
        }
        if cfg.replay:
            updates.update(server_replay=list(cfg.replay), server_replay_reuse=True, server_replay_extra="404")
        updates.update(cfg.options)
        for addon in self.addons:
            master.addons.add(addon)
        ready = _Ready()
        master.addons.add(ready)
        # For a bad value mitmproxy raises OptionsError, KeyError, TypeError, or whatever an addon's
        # configure hook raises: any of them is the user's option, reported in one line.
        try:
            opts.update(**updates)
        except Exception as e:  # noqa: BLE001 - see above
            raise ProxyError(f"invalid proxy option: {e}") from None
        self.master = master
        self._task = asyncio.create_task(master.run(), name="mitmproxy")
        proxyserver = master.addons.get("proxyserver")
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not (ready.event.is_set() and proxyserver.listen_addrs()):
            if self._task.done() or self.errors or time.monotonic() > deadline:
                detail = "; ".join(self.errors) or "proxy did not start in time"
                if self._task.done() and not self._task.cancelled() and self._task.exception() is not None:
                    detail = f"{detail}: {self._task.exception()}"
                raise ProxyError(f"mitmproxy failed to start: {detail}")
            await asyncio.sleep(0.01)
        self.host, self.port = proxyserver.listen_addrs()[0][:2]
        if not self.ca_file.exists():
            raise ProxyError(f"mitmproxy did not create its CA in {self.confdir}")
        protect_ca_key(self.confdir)

    async def stop(self) -> None:
        master, task = self.master, self._task
        self.master, self._task = None, None
        try:
            if master is not None and task is not None:
                proxyserver = master.addons.get("proxyserver")
                if not task.done():
                    with suppress(Exception):
                        await proxyserver.servers.update([])
                master.shutdown()
                with suppress(TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(task, 10.0)
        finally:
            logging.getLogger("mitmproxy").removeHandler(self._collector)


class ProxyThread:
    """An :class:`EmbeddedProxy` on its own event loop in a background thread (for sync code)."""

    def __init__(self, config: ProxyConfig, addons: Sequence[Any] = ()) -> None:
        self.proxy = EmbeddedProxy(config, addons)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="auditor-proxy", daemon=True)

    def start(self) -> EmbeddedProxy:
        self._thread.start()
        fut = asyncio.run_coroutine_threadsafe(self.proxy.start(), self._loop)
        try:
            fut.result(STARTUP_TIMEOUT + 5)
        except BaseException:
            self.stop()
            raise
        return self.proxy

    def call(self, fn: Any, *args: Any) -> Any:
        """Run ``fn(*args)`` on the proxy's loop and return its result."""

        async def _call() -> Any:
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(_call(), self._loop).result(30)

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        fut = asyncio.run_coroutine_threadsafe(self.proxy.stop(), self._loop)
        with suppress(Exception):
            fut.result(20)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        if not self._loop.is_running():
            self._loop.close()


@contextmanager
def running_proxy(config: ProxyConfig, addons: Sequence[Any] = ()) -> Iterator[EmbeddedProxy]:
    """``with running_proxy(config, addons) as proxy:`` from synchronous code."""
    runner = ProxyThread(config, addons)
    proxy = runner.start()
    try:
        yield proxy
    finally:
        runner.stop()


CA_KEY_FILES = ("mitmproxy-ca.pem", "mitmproxy-ca.p12")


def protect_ca_key(confdir: Path) -> list[Path]:
    """Make the files holding the CA's private key owner-only (mitmproxy creates them so, but a
    confdir copied or made by other tools may not be); return the files whose mode changed."""
    changed = []
    for name in CA_KEY_FILES:
        path = confdir / name
        try:
            if path.stat().st_mode & 0o077:
                path.chmod(0o600)
                changed.append(path)
        except OSError:
            continue
    return changed


def client_env(proxy_url: str, ca_file: Path) -> dict[str, str]:
    """Environment variables that send common clients through the proxy and trust its CA."""
    env = {}
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env[name] = proxy_url
        env[name.lower()] = proxy_url
    env["NO_PROXY"] = env["no_proxy"] = ""
    for name in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "NODE_EXTRA_CA_CERTS"):
        env[name] = str(ca_file)
    return env
