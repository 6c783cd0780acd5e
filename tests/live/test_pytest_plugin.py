"""The pytest plugin, used as app developers would: a test file run by pytest (pytester)."""

from __future__ import annotations

import shutil

import pytest
from conftest import ROOT, need

pytestmark = pytest.mark.e2e

TEST_FILE = f'''
import json, subprocess, sys
import pytest
sys.path.insert(0, {str(ROOT)!r})
from fixtures.record import BackendThread

@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    with BackendThread(tmp_path_factory.mktemp("b")) as b:
        yield b

@pytest.fixture
def audit_maps(backend):
    return backend.maps()

def curl(proxy, url, body):
    return subprocess.run(["curl", "-sS", "-f", "-H", "content-type: application/json", "--data", json.dumps(body), url],
                          env={{**__import__("os").environ, **proxy.env}}, capture_output=True, text=True, timeout=30)

def test_login_stays_first_party(backend, audit_proxy):
    r = curl(audit_proxy, "https://chat.deepseek.com/api/v0/users/login",
             {{"email": "jane.doe@example.org", "password": "Synthetic-Passw0rd!"}})
    assert r.returncode == 0, r.stderr
    report = audit_proxy.report()
    assert report.categories("chat.deepseek.com") == ["credential", "email"]
    report.assert_no_prompt_to_third_party()
    report.assert_no_cleartext_personal_data()

def test_prompt_copied_to_analytics_is_caught(backend, audit_proxy):
    prompt = "How do I renew my passport?"
    curl(audit_proxy, "https://mcs.volceapplog.com/list",
         {{"event_v3": [{{"event": "send", "params": json.dumps({{"prompt_text": prompt}})}}]}})
    report = audit_proxy.report()
    with pytest.raises(AssertionError, match="prompt text sent to a third party:\\n  mcs.volceapplog.com"):
        report.assert_no_prompt_to_third_party()
    with pytest.raises(AssertionError, match="personal data sent to CN"):
        report.assert_no_personal_data_to(["CN"])
    report.assert_no_personal_data_to(["RU"])
'''


def test_plugin_fixture_and_assertions(pytester: pytest.Pytester) -> None:
    need(shutil.which("curl") is not None, "curl is not installed")
    pytester.makeini("[pytest]\naudit_upstream_insecure = true\naudit_block_unmapped = true\n")
    pytester.makepyfile(test_app=TEST_FILE)
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)



def test_plugin_import_has_no_side_effects() -> None:
    """Wherever auditor is installed, pytest loads the plugin: it must not import the proxy
    (mitmproxy) or change the host process's environment."""
    import subprocess
    import sys

    code = r"""
import os, sys
before = dict(os.environ)
import auditor, auditor.pytest_plugin
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("mitmproxy", "tldextract") or m in ("auditor.live", "auditor.live.proxy"))
assert not heavy, heavy
assert dict(os.environ) == before, set(os.environ.items()) ^ set(before.items())
print("ok")
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
