"""``auditor`` run in a child process with its peak memory measured (its own ``VmHWM``), as the
hostile-input tests run it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from support import memory

# The peak resident memory allowed to one ``auditor`` process on hostile input.
PEAK_LIMIT_MB = 300.0


@dataclass
class Run:
    """One finished ``auditor`` process."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float


def run_auditor(*args: str, timeout: float = 60.0, cwd: Path | None = None) -> Run:
    """Run ``python -m auditor ARGS`` and measure its peak RSS (its own ``VmHWM``, which it
    writes at exit through ``support.memory``; sampled from outside while it runs, for a process
    that dies before it can say).

    Fails the test if it runs longer than ``timeout`` seconds (the process is killed).
    """
    env = {k: v for k, v in os.environ.items() if k != "AUDITOR_DEBUG"}
    peak_file = Path(tempfile.mkdtemp(prefix="auditor-peak-")) / "peak"
    env[memory.PEAK_FILE_ENV] = str(peak_file)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.monotonic()
        proc = subprocess.Popen([sys.executable, str(memory.SCRIPT), "auditor", *args], stdout=out, stderr=err,
                                cwd=cwd, env=env)
        sampled_kb = 0
        while True:
            sampled_kb = max(sampled_kb, memory.status_kb("VmHWM", proc.pid) or 0)
            pid, status = os.waitpid(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - t0 > timeout:
                proc.kill()
                os.waitpid(proc.pid, 0)
                proc.returncode = -9
                pytest.fail(f"auditor {' '.join(args)} did not finish within {timeout:.0f} s")
            time.sleep(0.02)
        seconds = time.monotonic() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        try:
            peak_kb = int(peak_file.read_text())
        except (OSError, ValueError):  # (died before it could say)
            peak_kb = sampled_kb
        finally:
            shutil.rmtree(peak_file.parent, ignore_errors=True)
        return Run(proc.returncode, out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"),
                   seconds, peak_kb / 1024)
