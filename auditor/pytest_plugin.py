"""pytest plugin: run app tests through the auditing proxy and assert on where data went.

Registered through the ``pytest11`` entry point, so installing auditor is enough::

    def test_chat(audit_proxy):
        run_my_app(env=audit_proxy.env)          # HTTPS_PROXY, SSL_CERT_FILE, ... set
        report = audit_proxy.report()
        report.assert_no_prompt_to_third_party()
        report.assert_no_personal_data_to(["CN", "RU"])

Fixtures: ``audit_proxy`` (one proxy per test), ``audit_proxy_session`` (one for the whole
session; ``report()`` then covers everything so far), and ``audit_maps`` (override it to map
hosts to a backend that another fixture starts). Settings (``pytest.ini`` / ``pyproject``
``[tool.pytest.ini_options]``, or the command-line options of the same name):
``audit_map`` (lines of ``HOST=ADDR:PORT``), ``audit_upstream_insecure``, ``audit_block_unmapped``,
``audit_dir`` (keep the capture and reports there; default: the test's tmp_path).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from auditor.audit.document import Destination, Finding

if TYPE_CHECKING:  # the proxy is imported when a test asks for it, not at every pytest start
    from auditor.live import LiveAuditor


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("auditor", "privacy audit of the traffic of the app under test")
    parser.addini("audit_map", "HOST=ADDR:PORT lines: where the proxy connects for HOST", type="linelist", default=[])
    parser.addini("audit_upstream_insecure", "accept self-signed upstream certificates", type="bool", default=False)
    parser.addini("audit_block_unmapped", "refuse connections to hosts not in audit_map", type="bool", default=False)
    group.addoption("--audit-map", action="append", default=[], help="HOST=ADDR:PORT (repeatable)")
    group.addoption("--audit-dir", default=None, help="keep captures and reports in this directory")


@dataclass
class AuditReport:
    """The audit of what passed through the proxy, with assertions for tests."""

    doc: dict[str, Any]

    @property
    def findings(self) -> list[Finding]:
        return self.doc["findings"]

    @property
    def destinations(self) -> dict[str, Destination]:
        return {d["host"]: d for d in self._destinations}

    @property
    def _destinations(self) -> list[Destination]:
        return self.doc["destinations"]

    def categories(self, host: str) -> list[str]:
        d = self.destinations.get(host)
        return list(d["data_categories"]) if d else []

    def _fail(self, what: str, rows: list[str]) -> None:
        if rows:
            raise AssertionError(f"{what}:\n  " + "\n  ".join(rows))

    def assert_no_prompt_to_third_party(self) -> None:
        """No prompt text reached a destination that is not the app's own."""
        dests = self.destinations
        rows = [
            f"{f['host']} ({_owner_name(dests[f['host']])}): "
            f"{f['location']['part']} {f['location']['path']} in request #{f['flow']['index']}"
            for f in self.findings
            if f["category"] == "prompt" and dests[f["host"]]["party"] != "first"
        ]
        self._fail("prompt text sent to a third party", rows)

    def assert_no_personal_data_to(self, countries: Iterable[str]) -> None:
        """No personal data reached an owner, or a server, in these countries (ISO codes)."""
        wanted = {c.upper() for c in countries}
        rows = []
        for d in self._destinations:
            owner = d["owner"]
            where = [owner["country"] if owner else None, *d.get("server_countries", [])]
            hit = {c for c in where if c} & wanted
            if hit and d["data_categories"]:
                rows.append(f"{d['host']} ({', '.join(sorted(hit))}): {', '.join(d['data_categories'])}")
        self._fail(f"personal data sent to {', '.join(sorted(wanted))}", rows)

    def assert_no_cleartext_personal_data(self) -> None:
        rows = [
            f"{d['host']}: {', '.join(d['data_categories'])}"
            for d in self._destinations
            if d["cleartext"] and d["data_categories"]
        ]
        self._fail("personal data sent in cleartext", rows)


def _owner_name(d: Destination) -> str:
    owner = d["owner"]
    return owner["name"] if owner else "unknown owner"


@dataclass
class AuditProxy:
    """A running auditing proxy: point the app at ``url`` (or use ``env``) and trust ``ca_file``."""

    url: str
    ca_file: Path
    directory: Path
    addon: LiveAuditor
    env: dict[str, str] = field(default_factory=dict)

    def report(self) -> AuditReport:
        """The audit of everything that has passed through the proxy so far."""
        return AuditReport(self.addon.document())


def _configured_maps(config: pytest.Config) -> list[str]:
    return list(config.getini("audit_map")) + list(config.getoption("--audit-map") or [])


def _start(request: pytest.FixtureRequest, directory: Path, maps: list[str]) -> Iterator[AuditProxy]:
    from auditor.live import LiveAuditor
    from auditor.live.proxy import ProxyConfig, ProxyThread, client_env

    config = request.config
    keep = config.getoption("--audit-dir")
    if keep:
        directory = Path(keep) / request.node.name.replace("/", "_")
    addon = LiveAuditor()
    runner = ProxyThread(
        ProxyConfig(
            confdir=str(directory.parent / ".auditor-mitmproxy"),
            ssl_insecure=bool(config.getini("audit_upstream_insecure")),
            options={
                "audit_dir": str(directory),
                "audit_map": maps,
                "audit_block_unmapped": bool(config.getini("audit_block_unmapped")),
            },
        ),
        [addon],
    )
    proxy = runner.start()
    try:
        yield AuditProxy(proxy.url, proxy.ca_file, directory, addon, client_env(proxy.url, proxy.ca_file))
    finally:
        runner.stop()
        addon.finish()


@pytest.fixture
def audit_maps(request: pytest.FixtureRequest) -> list[str]:
    """``HOST=ADDR:PORT`` maps for ``audit_proxy``: the ``audit_map`` setting by default.

    Override it to map hosts to a test backend started by another fixture::

        @pytest.fixture
        def audit_maps(backend):
            return [f"api.openai.com=127.0.0.1:{backend.port}"]
    """
    return _configured_maps(request.config)


@pytest.fixture
def audit_proxy(request: pytest.FixtureRequest, tmp_path: Path, audit_maps: list[str]) -> Iterator[AuditProxy]:
    """An auditing proxy for one test; capture and reports are written to its directory at the end."""
    yield from _start(request, tmp_path / "audit", list(audit_maps))


@pytest.fixture(scope="session")
def audit_proxy_session(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AuditProxy]:
    """One auditing proxy for the whole test session (maps from the ``audit_map`` setting)."""
    yield from _start(request, tmp_path_factory.mktemp("audit"), _configured_maps(request.config))
