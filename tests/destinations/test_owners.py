"""Owner lookups, the owner data files and their invariants."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from auditor.destinations import jurisdictions, owners

REPO = ROOT
DATA = REPO / "auditor" / "data"
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ISO = jurisdictions.iso_codes()


def _load(name: str) -> dict:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


# --- lookups ---------------------------------------------------------------------------------


def test_volcengine_analytics_is_bytedance_in_china() -> None:
    m = owners.lookup("mcs.volceapplog.com")
    assert m is not None
    assert m.origin == "curated"
    assert m.matched == "volceapplog.com"
    assert m.owner.parent == "ByteDance Ltd."
    assert m.owner.country == "CN"
    assert m.owner.parent_country == "CN"
    assert m.owner.category == "analytics"
    assert m.owner.source and m.owner.as_of


def test_sentry_ingest_pattern() -> None:
    m = owners.lookup("o123.ingest.sentry.io")
    assert m is not None
    assert m.owner.name == "Functional Software, Inc. (Sentry)"
    assert m.owner.country == "US"
    assert m.owner.category == "crash_reporting"
    assert m.matched == "*.ingest.sentry.io"
    assert m.origin == "curated"


def test_unknown_and_non_hosts_give_none() -> None:
    assert owners.lookup("unknown-host.example") is None
    assert owners.lookup("") is None
    assert owners.lookup("localhost") is None
    assert owners.lookup("8.8.8.8") is None
    assert owners.lookup("2001:4860:4860::8888") is None
    assert owners.lookup("[::1]:443") is None


def test_exact_host_beats_domain() -> None:
    statsig = owners.lookup("ab.chatgpt.com")
    assert statsig is not None
    assert statsig.owner.name == "Statsig, Inc."
    assert statsig.owner.category == "feature_flags"
    assert statsig.matched == "ab.chatgpt.com"
    openai = owners.lookup("chatgpt.com")
    assert openai is not None and openai.owner.name == "OpenAI OpCo, LLC"
    assert openai.owner.parent == "OpenAI Group PBC"
    assert owners.lookup("tcr9i.chat.openai.com").owner.category == "captcha_antibot"  # type: ignore[union-attr]


def test_exact_host_beats_pattern_and_pattern_beats_domain() -> None:
    fis = owners.lookup("firebaseinstallations.googleapis.com")
    assert fis is not None and fis.owner.category == "analytics"
    other = owners.lookup("storage.googleapis.com")
    assert other is not None and other.owner.category == "cloud" and other.matched == "*.googleapis.com"
    bugly = owners.lookup("bugly.qq.com")
    assert bugly is not None and bugly.owner.category == "crash_reporting"
    qq = owners.lookup("www.qq.com")
    assert qq is not None and qq.owner.category == "other" and qq.matched == "qq.com"


def test_private_suffix_hosts() -> None:
    app = owners.lookup("my-app.appspot.com")
    assert app is not None and app.owner.name == "Google LLC" and app.owner.category == "cloud"
    cdn = owners.lookup("d111111abcdef8.cloudfront.net")
    assert cdn is not None and cdn.owner.parent == "Amazon.com, Inc." and cdn.owner.category == "cdn"
    blob = owners.lookup("acct.blob.core.windows.net")
    assert blob is not None and blob.owner.name == "Microsoft Corporation"


def test_normalization() -> None:
    m = owners.lookup("API.OpenAI.com.")
    assert m is not None and m.owner.name == "OpenAI OpCo, LLC"
    m = owners.lookup("api.openai.com:443")
    assert m is not None and m.owner.name == "OpenAI OpCo, LLC"


def test_chinese_sdks() -> None:
    expected = {
        "alog.umeng.com": ("analytics", "CN"),
        "hm.baidu.com": ("analytics", "CN"),
        "fp-it.fengkongcloud.com": ("device_fingerprint", "CN"),
        "static.geetest.com": ("captcha_antibot", "CN"),
        "wap.cmpassport.com": ("identity", "CN"),
        "api.jpush.cn": ("push", "CN"),
        "sdk.open.api.igexin.com": ("push", "CN"),
        "register.xmpush.xiaomi.com": ("push", "CN"),
        "oss-cn-hangzhou.aliyuncs.com": ("cloud", "CN"),
        "chat.deepseek.com": ("ai_provider", "CN"),
        "kimi.moonshot.cn": ("ai_provider", "CN"),
        "log.snssdk.com": ("other", "CN"),
    }
    for host, (category, country) in expected.items():
        m = owners.lookup(host)
        assert m is not None, host
        assert (m.owner.category, m.owner.country) == (category, country), host


def test_ai_providers() -> None:
    expected = {
        "api.anthropic.com": "US",
        "gemini.google.com": "US",
        "copilot.microsoft.com": "US",
        "chat.mistral.ai": "FR",
        "www.perplexity.ai": "US",
        "grok.com": "US",
        "www.meta.ai": "US",
        "api.cohere.com": "CA",
        "studio.ai21.com": "IL",
        "huggingface.co": "US",
        "api.stability.ai": "GB",
        "alice.yandex.ru": "RU",
        "clova-x.naver.com": "KR",
        "yuanbao.tencent.com": "CN",
        "yiyan.baidu.com": "CN",
        "chatglm.cn": "CN",
        "www.doubao.com": "CN",
        "chat.qwen.ai": "CN",
        "api.minimax.io": "CN",
    }
    for host, country in expected.items():
        m = owners.lookup(host)
        assert m is not None, host
        assert m.owner.category == "ai_provider", host
        assert m.owner.country == country, host


def test_products_name_the_sdk() -> None:
    for host, product in {
        "mcs.volceapplog.com": "Volcengine DataFinder",
        "app-measurement.com": "Google Analytics / Firebase Analytics",
        "firebasecrashlytics.googleapis.com": "Firebase Crashlytics",
        "o1.ingest.sentry.io": "Sentry",
    }.items():
        m = owners.lookup(host)
        assert m is not None and m.owner.product == product, host
    assert owners.lookup("api.openai.com").owner.product is None  # type: ignore[union-attr]


def test_former_companiesdb_hosts_are_curated() -> None:
    m = owners.lookup("ib.adnxs.com")
    assert m is not None
    assert m.origin == "curated"
    assert m.owner.name == "Microsoft Corporation"
    assert m.owner.country == "US"
    assert m.source_file == "auditor/data/owners.json"
    unknown_country = owners.lookup("ads.pubmatic.com")
    assert unknown_country is not None and unknown_country.owner.country == "US"


def _owners_file(tmp_path: Path, entries: list) -> Path:
    path = tmp_path / "owners.json"
    path.write_text(json.dumps({"entries": entries}), encoding="utf-8")
    return path


def test_every_category_of_the_conventions_and_each_one_in_use() -> None:
    """The owner categories are those of the shared conventions (sign-in providers are
    ``identity``), plus the ones this project added, each used by a bundled entry checked here."""
    conventions = {"ai_provider", "analytics", "advertising", "attribution", "session_replay", "crash_reporting",
                   "feature_flags", "push", "cdn", "platform", "identity", "data_broker", "payments", "other"}
    added = {"customer_support", "captcha_antibot", "device_fingerprint", "cloud", "social"}
    assert conventions | added == owners.CATEGORIES
    for host, category in {"widget.intercom.io": "customer_support", "static.geetest.com": "captcha_antibot",
                           "fp-it.fengkongcloud.com": "device_fingerprint", "oss-cn-hangzhou.aliyuncs.com": "cloud",
                           "www.linkedin.com": "social", "accounts.google.com": "identity"}.items():
        m = owners.lookup(host)
        assert m is not None and m.owner.category == category, host


def test_owners_file_may_use_data_broker_and_the_old_name_of_identity(tmp_path: Path) -> None:
    path = _owners_file(tmp_path, [
        {"domains": ["broker.example"], "owner": "Broker Inc.", "country": "US", "category": "data_broker"},
        {"domains": ["login.example"], "owner": "Login Ltd", "country": "GB", "category": "auth"},
    ])
    owners.use_owners_file(path)
    try:
        broker, login = owners.lookup("api.broker.example"), owners.lookup("sso.login.example")
        assert broker is not None and broker.owner.category == "data_broker"
        assert login is not None and login.owner.category == "identity"
    finally:
        owners.use_owners_file(None)


def test_user_owners_file_adds_and_wins(tmp_path: Path) -> None:
    path = _owners_file(
        tmp_path,
        [
            {"domains": ["my-chat-app.example"], "owner": "Example Chat Ltd", "country": "DE", "category": "other"},
            {"hosts": ["mcs.volceapplog.com"], "owner": "Someone Else", "country": "FR", "source": "own test"},
        ],
    )
    assert owners.lookup("api.my-chat-app.example") is None
    owners.use_owners_file(path)
    try:
        m = owners.lookup("api.my-chat-app.example")
        assert m is not None and m.origin == "user" and m.source_file == str(path)
        assert (m.owner.name, m.owner.country, m.matched) == ("Example Chat Ltd", "DE", "my-chat-app.example")
        won = owners.lookup("mcs.volceapplog.com")
        assert won is not None and (won.owner.name, won.origin) == ("Someone Else", "user")
        # The bundled data still answers for everything the file does not cover.
        other = owners.lookup("sdk.volceapplog.com")
        assert other is not None and other.origin == "curated" and other.owner.country == "CN"
    finally:
        owners.use_owners_file(None)
    assert owners.lookup("api.my-chat-app.example") is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[]", "expected a JSON object with an 'entries' list"),
        ('{"entries": [{"domains": ["a.example"]}]}', "entry 1: 'owner' must be a non-empty string"),
        ('{"entries": [{"owner": "X"}]}', "entry 1: no 'domains' or 'hosts'"),
        ('{"entries": [{"owner": "X", "domains": "a.example"}]}', "entry 1: 'domains' must be a list of host names"),
        ('{"entries": [{"owner": "X", "domains": ["a.example"], "country": "Germany"}]}', "entry 1: 'Germany' is not an ISO 3166-1 alpha-2 country code"),
        ('{"entries": [{"owner": "X", "domains": ["a.example"], "category": "spyware"}]}', "entry 1: unknown category 'spyware'"),
        ('{"entries": [', "invalid JSON at line 1"),
    ],
)
def test_bad_owners_file_is_one_clear_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "owners.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(owners.OwnersFileError) as info:
        owners.load_owners_file(path)
    assert str(path) in str(info.value)
    assert message in str(info.value)
    with pytest.raises(owners.OwnersFileError, match="cannot read owners file"):
        owners.load_owners_file(tmp_path / "missing.json")


def test_registrable_domain() -> None:
    assert owners.registrable_domain("a.b.example.co.uk") == "example.co.uk"
    assert owners.registrable_domain("mcs.volceapplog.com") == "volceapplog.com"
    assert owners.registrable_domain("my-app.appspot.com") == "my-app.appspot.com"
    assert owners.registrable_domain("appspot.com") == "appspot.com"
    assert owners.registrable_domain("1.2.3.4") == "1.2.3.4"
    assert owners.registrable_domain("::1") == "::1"
    assert owners.registrable_domain("localhost") == "localhost"
    assert owners.registrable_domain("WWW.Example.COM.") == "example.com"


class _CountingDict(dict):
    """A table of the owner index that counts its probes (``get``, ``in``, ``[]``) and iterations."""

    probes = 0
    iterations = 0

    def get(self, key, default=None):
        _CountingDict.probes += 1
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        _CountingDict.probes += 1
        return super().__contains__(key)

    def __getitem__(self, key):
        _CountingDict.probes += 1
        return super().__getitem__(key)

    def __iter__(self):
        _CountingDict.iterations += 1
        return super().__iter__()


def _counting_index(extra: int) -> owners._Index:
    """The bundled index in counting tables, with ``extra`` made-up hosts and domains added."""
    real = owners._index()
    rule = next(iter(real.domains.values()))
    hosts = _CountingDict(real.hosts)
    domains = _CountingDict(real.domains)
    for i in range(extra):
        hosts[f"h{i}.filler{i}.example"] = rule
        domains[f"filler{i}.example"] = rule
    return owners._Index(hosts=hosts, patterns=_CountingDict(real.patterns), domains=domains,
                         api_hosts=real.api_hosts)


def test_lookup_probes_each_suffix_once_whatever_the_index_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cost of a lookup, counted rather than timed: at most one probe of each table per
    suffix of the host, never a walk over a table, and the same count with 100,000 more entries."""
    hosts = ["mcs.volceapplog.com", "o1.ingest.sentry.io", "x.y.unknown-host.example", "s.yimg.com",
             "api.openai.com", "cdn.some.site.co.uk", "8.8.8.8", "acct.blob.core.windows.net"]
    counts = []
    for extra in (0, 100_000):
        index = _counting_index(extra)
        monkeypatch.setattr(owners, "_index", lambda index=index: index)
        monkeypatch.setattr(owners, "_user_index", None)
        per_host = []
        for h in hosts:
            _CountingDict.probes = _CountingDict.iterations = 0
            owners.lookup(h)
            labels = h.count(".") + 1
            assert _CountingDict.probes <= 1 + 2 * labels, (h, _CountingDict.probes)
            assert _CountingDict.iterations == 0, h
            per_host.append(_CountingDict.probes)
        counts.append(per_host)
    assert counts[0] == counts[1]
    assert sum(counts[0]) > len(hosts)  # the unknown host really walked its suffixes


@pytest.mark.e2e
def test_import_makes_no_network_attempt() -> None:
    code = r"""
import os, socket
os.environ.pop("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", None)
def refuse(*a, **k):
    raise AssertionError("network attempt")
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
from auditor.destinations import owners
assert owners.registrable_domain("a.b.example.co.uk") == "example.co.uk"
assert owners.lookup("mcs.volceapplog.com").owner.country == "CN"
assert owners.lookup("unknown-host.example") is None
print("ok")
"""
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
    assert "Traceback" not in proc.stderr


@pytest.mark.e2e
def test_cli_runs_with_every_non_loopback_connection_refused(tmp_path: Path) -> None:
    """A whole audit (and explain) opens no connection: any attempt beyond loopback fails the run."""
    code = r"""
import ipaddress, socket, sys
def _loopback(host):
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
def refuse(*a, **k):
    raise SystemExit("network attempt: %r" % (a,))
real_connect = socket.socket.connect
def connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address[0]):
        refuse(address)
    return real_connect(self, address)
socket.socket.connect = connect
socket.socket.connect_ex = lambda self, address: connect(self, address) or 0
real_gai = socket.getaddrinfo
socket.getaddrinfo = lambda host, *a, **k: real_gai(host, *a, **k) if host is None or _loopback(str(host)) else refuse(host)
from auditor.cli import main
sys.argv = ["auditor"] + sys.argv[1:]
main(sys.argv[1:])
"""
    fixture = REPO / "fixtures" / "ai-chat-session.flows"
    out = tmp_path / "audit"
    for args in (["report", str(fixture), "-o", str(out), "-f", "html,json,md", "-q"], ["explain", "api.openai.com"]):
        proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=180)
        assert proc.returncode == 0, proc.stderr
        assert "network attempt" not in proc.stderr
    assert (tmp_path / "audit.json").stat().st_size > 0


# --- data files --------------------------------------------------------------------------------


def test_owners_json_entries_are_valid() -> None:
    doc = _load("owners.json")
    assert doc["schema"] == 1
    assert doc["about"]
    seen: dict[str, str] = {}
    owner_category: set[tuple[str, str]] = set()
    for entry in doc["entries"]:
        name = entry["owner"]
        assert name and isinstance(name, str)
        assert entry["category"] in owners.CATEGORIES, name
        assert entry["source"].startswith(("https://", "http://")), name
        assert DATE_RE.match(entry["as_of"]), name
        assert entry["country"] in ISO, name
        if entry["parent_country"] is not None:
            assert entry["parent_country"] in ISO, name
            assert entry["parent"], name
        if entry["parent"] is not None:
            assert entry["parent_country"] in ISO, name
        assert entry["domains"] or entry["hosts"], name
        if "product" in entry:
            assert isinstance(entry["product"], str) and entry["product"].strip(), name
        key = (name, entry["category"])
        assert key not in owner_category, f"split entry for {key}"
        owner_category.add(key)
        for d in entry["domains"]:
            assert d == d.lower().strip(), d
            assert owners.registrable_domain(d) == d, f"{d} is not a registrable domain"
            assert d not in seen, f"{d} in {seen.get(d)} and {name}"
            seen[d] = name
        for h in entry["hosts"]:
            assert h == h.lower().strip(), h
            body = h[2:] if h.startswith("*.") else h
            assert "*" not in body and "." in body, h
            assert h not in seen, f"{h} in {seen.get(h)} and {name}"
            seen[h] = name
        if "public_api" in entry:
            api = entry["public_api"]
            assert entry["category"] == "ai_provider" and api["hosts"], name
            assert api["source"].startswith("https://") and DATE_RE.match(api["as_of"]), name
            for h in api["hosts"]:
                match = owners.lookup(h.removeprefix("*.") if h.startswith("*.") else h)
                assert match is not None and match.owner.name == name, h


def test_required_coverage() -> None:
    for host in ["openai.com", "anthropic.com", "mistral.ai", "perplexity.ai", "x.ai", "meta.ai", "deepseek.com",
                 "kimi.com", "qwen.ai", "doubao.com", "zhipuai.cn", "minimaxi.com", "cohere.com", "ai21.com",
                 "character.ai", "poe.com", "huggingface.co", "together.ai", "groq.com", "stability.ai",
                 "volceapplog.com", "snssdk.com", "bytedance.com", "byteimg.com", "pstatp.com", "umeng.com",
                 "umengcloud.com", "fengkongcloud.com", "geetest.com", "cmpassport.com", "jpush.cn", "jiguang.cn",
                 "getui.com", "aliyuncs.com", "statsig.com", "sentry.io", "datadoghq.com", "segment.io",
                 "amplitude.com", "mixpanel.com", "intercom.io", "clarity.ms", "hotjar.com", "fullstory.com",
                 "logrocket.com", "app-measurement.com", "googletagmanager.com", "doubleclick.net",
                 "appsflyer.com", "adjust.com", "branch.io", "braze.com", "onesignal.com", "facebook.com",
                 "analytics.tiktok.com", "stripe.com", "arkoselabs.com", "cloudflare.com", "auth0.com",
                 "hcaptcha.com", "recaptcha.net", "x.akamaized.net", "fastly.net", "amazonaws.com", "azure.com",
                 "heapanalytics.com", "us.i.posthog.com", "eu.i.posthog.com", "crisp.chat", "bugsnag.com",
                 "nr-data.net", "optimizely.com", "launchdarkly.com", "plausible.io"]:
        m = owners.lookup(host)
        assert m is not None and m.origin == "curated", host
        assert m.owner.country, host
    assert owners.lookup("plausible.io").owner.country == "EE"  # type: ignore[union-attr]
    assert owners.lookup("client.crisp.chat").owner.country == "FR"  # type: ignore[union-attr]


def test_at_least_400_registrable_domains_with_known_country() -> None:
    domains = owners.known_country_domains()
    assert len(domains) >= 400, len(domains)


def test_jurisdictions_cover_every_owner_country() -> None:
    countries: set[str] = set()
    for entry in _load("owners.json")["entries"]:
        countries.update(c for c in (entry["country"], entry["parent_country"]) if c)
    missing = sorted(c for c in countries if jurisdictions.lookup(c) is None)
    assert not missing, missing


def test_no_third_party_owner_data_is_shipped() -> None:
    assert sorted(p.name for p in DATA.iterdir() if "companiesdb" in p.name.lower() or "company_countries" in p.name) == []


COMPANIESDB = REPO.parent / "shared" / "data" / "companiesdb"


@pytest.mark.e2e
def test_import_owners_converts_companiesdb(tmp_path: Path) -> None:
    """The converter reads AdGuard's dist files in place (never copied into the repo)."""
    if not (COMPANIESDB / "trackers.json").is_file():
        pytest.skip(f"companiesdb not found at {COMPANIESDB}")
    out = tmp_path / "owners-companiesdb.json"
    proc = subprocess.run(
        [sys.executable, "-m", "auditor", "import-owners", str(COMPANIESDB), "-o", str(out)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.startswith("auditor: ") and f"-> {out}" in proc.stderr
    index = owners.load_owners_file(out)  # the converted file is a valid owners file
    trackers = json.loads((COMPANIESDB / "trackers.json").read_text(encoding="utf-8"))
    doc = json.loads(out.read_text(encoding="utf-8"))
    converted = {d for e in doc["entries"] for d in e["domains"]}
    for domain in list(trackers["trackerDomains"])[:2000]:
        d = domain.lower().rstrip(".")
        # Each tracker domain is either converted or already covered by auditor's own data.
        assert (d in converted) != (owners.lookup(d) is not None), d
    assert all(e["country"] is None and e["category"] in owners.CATEGORIES for e in doc["entries"])
    assert "CC BY-SA 4.0" in doc["about"]
    assert len(index.domains) == len(converted) > 1000
    owners.use_owners_file(out)
    try:
        some = next(iter(converted))
        m = owners.lookup(some)
        assert m is not None and m.origin == "user"
    finally:
        owners.use_owners_file(None)


@pytest.mark.e2e
def test_import_owners_bad_source_is_one_line(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "auditor", "import-owners", str(tmp_path), "-o", str(tmp_path / "o.json")],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "companies.json not found" in proc.stderr


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "auditor", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.e2e
def test_cli_owners_option(tmp_path: Path) -> None:
    path = _owners_file(tmp_path, [{"hosts": ["api.my-chat-app.example"], "owner": "Example Chat Ltd", "country": "DE", "category": "other", "source": "https://my-chat-app.example/imprint", "as_of": "2026-12-01"}])
    proc = _cli("explain", "api.my-chat-app.example", "--owners", str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["owner"]["name"] == "Example Chat Ltd" and info["owner"]["origin"] == "user"
    assert any(f"owners file {path}" in (f["source"] or "") for f in info["facts"])
    assert _cli("explain", "api.my-chat-app.example", "--json").stdout.count("Example Chat") == 0
    fixture = REPO / "fixtures" / "ai-chat-session.flows"
    proc = _cli("report", str(fixture), "--owners", str(path), "-f", "json", "-o", "-", "-q")
    assert proc.returncode == 0, proc.stderr
    origins = {d["host"]: d["owner"]["origin"] for d in json.loads(proc.stdout)["destinations"] if d.get("owner")}
    assert origins and set(origins.values()) == {"curated"}  # the file covers no host of the fixture


@pytest.mark.e2e
def test_cli_bad_owners_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "owners.json"
    bad.write_text('{"entries": [{"owner": "X"}]}', encoding="utf-8")
    fixture = REPO / "fixtures" / "ai-chat-session.flows"
    for args in (("explain", "a.example"), ("report", str(fixture), "-o", str(tmp_path / "r"))):
        proc = _cli(*args, "--owners", str(bad))
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr == f"auditor: error: {bad}: entry 1: no 'domains' or 'hosts'\n"
    assert not (tmp_path / "r.html").exists()


def test_public_ai_apis_and_platform_hosts() -> None:
    for host in ("api.openai.com", "api.anthropic.com", "generativelanguage.googleapis.com", "api.deepseek.com", "myco.openai.azure.com"):
        assert owners.public_ai_api(host), host
    for host in ("chatgpt.com", "chat.deepseek.com", "claude.ai", "gemini.google.com", "openai.azure.com", "www.googleapis.com"):
        assert not owners.public_ai_api(host), host
    update = owners.lookup("update.googleapis.com")
    assert update is not None and update.owner.category == "platform" and update.owner.name == "Google LLC"
    assert owners.lookup("v10.events.data.microsoft.com").owner.category == "platform"  # type: ignore[union-attr]
