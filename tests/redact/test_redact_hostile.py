"""``auditor redact`` on the hostile corpus: bounded memory (VmHWM of the child), a copy or
one clear line, never a traceback. (The redaction benchmark at 20,000 and 100,000 exchanges
runs in ``tests/test_hostile.py`` with the other memory benchmarks.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT
from hostile import corpus
from support.processes import PEAK_LIMIT_MB, run_auditor

pytestmark = pytest.mark.e2e

FILES = ROOT / "tests" / "hostile" / "files"


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("redact-big")


def _zhar_400mb(path: Path) -> Path:
    """A zlib-compressed HAR of about 400 KB that inflates to about 400 MB (issue 14)."""
    import zlib

    entry = json.loads((FIXTURES / "ai-chat-session.har").read_text())["log"]["entries"][1]
    pad = "x" * (1 << 20)
    d = zlib.compressobj(9)
    with open(path, "wb") as out:
        out.write(d.compress(b'{"log": {"version": "1.2", "creator": {"name": "t", "version": "1"}, "entries": ['))
        piece = json.dumps({**entry, "comment": pad}).encode()
        for i in range(400):
            out.write(d.compress((b"," if i else b"") + piece))
        out.write(d.compress(b"]}}"))
        out.write(d.flush())
    return path


CASES = {
    "bomb.flows": lambda big: corpus.bomb_flows(big / "bomb.flows"),
    "huge.flows": lambda big: corpus.huge_body_flows(big / "huge.flows", size=300 << 20),
    "huge.har": lambda big: corpus.huge_body_har(big / "huge.har", size=300 << 20),
    "headers.flows": lambda big: corpus.many_headers_flows(big / "headers.flows"),
    "deep.flows": lambda big: corpus.deep_json_flows(big / "deep.flows"),
    "deep.har": lambda big: corpus.deep_json_har(big / "deep.har"),
    "inflates-400mb.zhar": lambda big: _zhar_400mb(big / "inflates.zhar"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_redact_hostile_capture_in_bounded_memory(name: str, big: Path, tmp_path: Path) -> None:
    path = CASES[name](big)
    out = tmp_path / f"redacted-{name}"
    run = run_auditor("redact", str(path), "-o", str(out), timeout=900)
    assert "Traceback" not in run.stderr, run.stderr
    assert run.peak_mb < PEAK_LIMIT_MB, f"peak RSS {run.peak_mb:.0f} MB"
    lines = run.stderr.splitlines()
    assert all(line.startswith("auditor: ") for line in lines), run.stderr
    if run.returncode == 2:
        assert len(lines) == 1 and lines[0].startswith("auditor: error: ")
        assert not out.exists()
    else:
        assert run.returncode == 0, run.stderr
        assert out.exists()


@pytest.mark.parametrize("name", sorted(p.name for p in FILES.iterdir() if not p.name.endswith((".pcap", ".pcapng", ".gz"))))
def test_redact_committed_corpus_file(name: str, tmp_path: Path) -> None:
    out = tmp_path / "o"
    p = subprocess.run([sys.executable, "-m", "auditor", "redact", str(FILES / name), "-o", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert "Traceback" not in p.stderr
    assert p.returncode in (0, 2), p.stderr
    if p.returncode == 2:
        assert len(p.stderr.splitlines()) == 1 and not out.exists()
