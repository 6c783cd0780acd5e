"""Progress on long work, and Ctrl-C.

A real ``auditor report`` runs on a generated capture of a few thousand exchanges (several
seconds of work): with standard error on a pseudo-terminal it shows rich's progress bar; piped,
it prints plain lines; ``-q`` prints nothing. Ctrl-C (SIGINT to the process) ends it with one
line saying what was and was not written, exit status 130, no traceback.
"""

from __future__ import annotations

import contextlib
import io
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT

from auditor import cli, progress

sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_memory import generate

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("progress") / "big.flows"
    generate(path, 4000, hosts=20)
    return path


def run_in_pty(args: list[str], interrupt_when: str | None = None, timeout: float = 300) -> tuple[int, str]:
    """Run ``python -m auditor ARGS`` with stderr (and stdout) on a pseudo-terminal; with
    ``interrupt_when``, send SIGINT once that text has appeared. Returns (status, output)."""
    master, slave = pty.openpty()
    # SIGINT back to its default in the child, as a shell leaves it (pytest-xdist workers ignore
    # it, and Python installs no KeyboardInterrupt handler when it starts with SIGINT ignored).
    proc = subprocess.Popen([sys.executable, "-m", "auditor", *args], stdin=subprocess.DEVNULL, stdout=slave, stderr=slave,
                            env={**os.environ, "COLUMNS": "120"},
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    os.close(slave)
    out = b""
    sent = False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                out += chunk
            if interrupt_when and not sent and interrupt_when.encode() in out:
                proc.send_signal(signal.SIGINT)
                sent = True
            if proc.poll() is not None and not ready:
                break
        else:
            proc.kill()
            pytest.fail(f"auditor {' '.join(args)} did not finish within {timeout:.0f} s")
    finally:
        os.close(master)
    return proc.wait(), out.decode("utf-8", "replace")


@pytest.mark.e2e
def test_progress_bar_on_a_terminal(big: Path, tmp_path: Path) -> None:
    status, out = run_in_pty(["report", str(big), "-o", str(tmp_path / "r"), "-f", "json"])
    assert status == 0, out
    assert re.search(r"auditing .*[0-9,]+ exchanges · [0-9.,]+ [kM]B", out), out[-2000:]
    assert "\x1b[" in out  # drawn and redrawn in place
    assert ANSI.sub("", out.rstrip().splitlines()[-1]).startswith("auditor: 4,000 requests, ")  # the bar is gone


@pytest.mark.e2e
def test_quiet_prints_nothing_on_a_terminal(big: Path, tmp_path: Path) -> None:
    status, out = run_in_pty(["report", str(big), "-o", str(tmp_path / "r"), "-f", "json", "-q"])
    assert status == 0 and out == "", out


def test_plain_lines_when_not_a_terminal(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(progress, "DELAY", 0.0)
    monkeypatch.setattr(progress, "INTERVAL", 0.0)
    for quiet in (False, True):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), pytest.raises(SystemExit) as e:
            cli.main(["report", str(FIXTURES / "ai-chat-session.flows"), "-o", str(tmp_path / "r"), "-f", "json",
                      *(["-q"] if quiet else [])])
        assert e.value.code in (0, None)
        lines = err.getvalue().splitlines()
        if quiet:
            assert lines == []
            continue
        steps = [line for line in lines if " read (" in line]
        assert len(steps) == 13, lines  # one per exchange after the first (interval 0)
        assert re.fullmatch(r"auditor: 14 exchanges read \([0-9.,]+ kB\) in [0-9,]+ s", steps[-1]), steps[-1]
        assert "\x1b" not in err.getvalue()
        assert lines[-1].startswith("auditor: 14 requests, 8 destinations")


@pytest.mark.e2e
def test_ctrl_c_says_what_was_not_written(big: Path, tmp_path: Path) -> None:
    out = tmp_path / "r"
    status, text = run_in_pty(["report", str(big), "-o", str(out), "-f", "html,json"], interrupt_when="exchanges")
    assert status == 130, text
    assert "Traceback" not in text
    last = ANSI.sub("", text.rstrip().splitlines()[-1].split("\r")[-1])
    assert last == f"auditor: interrupted: nothing written ({out}.html, {out}.json not written)", repr(last)
    assert not out.with_suffix(".html").exists() and not out.with_suffix(".json").exists()


def test_output_log_message() -> None:
    log = progress.OutputLog(planned=["a.html", "a.json", "a.md"], written=["a.html"])
    assert str(log.interrupted()) == "interrupted: wrote a.html; not written: a.json, a.md"
    log.written += ["a.json", "a.md"]
    assert str(log.interrupted()) == "interrupted: wrote a.html, a.json, a.md"
    assert str(progress.OutputLog().interrupted()) == "interrupted: nothing written"


def test_sizes_and_counts() -> None:
    from auditor.renderers.view import count

    assert progress.size_text(999) == "999 B" and progress.size_text(12_345_678) == "12.3 MB"
    assert count(1, "request") == "1 request" and count(2345, "request") == "2,345 requests"
    assert count(0, "company") == "0 companies" and count(1, "country") == "1 country"
