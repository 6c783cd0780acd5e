"""Work counted instead of timed: the lines of auditor's own code a call runs.

``sys.settrace`` line events give the same count on any machine under any load, so a test can
say "twice the input, about twice the work" or "no more work with a bigger index" and fail
deterministically. Work done inside C (``json.loads``, ``zlib``) is not seen.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import auditor

PACKAGE = str(Path(auditor.__file__).resolve().parent)


def lines_run(call: Callable[[], object]) -> int:
    """The lines of auditor's own code that ``call()`` runs."""
    count = 0

    def local(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return local

    def outer(frame: FrameType, event: str, arg: object) -> Any:
        return local if frame.f_code.co_filename.startswith(PACKAGE) else None

    previous = sys.gettrace()
    sys.settrace(outer)
    try:
        call()
    finally:
        sys.settrace(previous)
    return count
