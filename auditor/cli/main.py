"""The ``auditor`` command line: a thin adapter over the library.

Bad input gives one line on stderr and exit status 2, never a traceback
(set ``AUDITOR_DEBUG=1`` to see one).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, cast

import typer

from auditor.errors import AuditorError
from auditor.progress import Interrupted

# Each module registers its commands on the shared app, in the order `auditor --help` lists them.
# isort: off
from auditor.cli import report  # noqa: F401
from auditor.cli import batch  # noqa: F401
from auditor.cli import browse  # noqa: F401
from auditor.cli import live  # noqa: F401
from auditor.cli import gate  # noqa: F401

# isort: on
from auditor.cli.common import EXIT_BAD_INPUT, EXIT_INTERNAL, _err, app


def _metavar(annotation: Any) -> str:
    """``PATH``, ``N`` or ``TEXT`` for a parameter's type (a list: its items' type)."""
    args = getattr(annotation, "__args__", None)
    if args and getattr(annotation, "__origin__", None) is list:
        annotation = args[0]
    if annotation is Path:
        return "PATH"
    return "N" if annotation in (int, float) else "TEXT"


def command() -> Any:
    """The click command of the app, its help showing ``PATH``, ``N``, ``TEXT`` and
    ``CAPTURES...`` rather than the Python types typer shows (``<list[str]>``)."""
    root = typer.main.get_command(app)
    todo = [root]
    while todo:
        cmd = todo.pop()
        todo.extend(getattr(cmd, "commands", {}).values())
        for p in cmd.params:
            if p.metavar is not None or getattr(p, "is_flag", False) or not hasattr(p, "type_descriptor"):
                continue
            if p.param_type_name == "argument":
                p.metavar = (p.name or "").upper()
                # typer's own attribute (not in click's Parameter): the name says it, no "<list[Path]>"
                cast(Any, p).display_type_rich = lambda ctx: None
            else:
                p.metavar = _metavar(cast(Any, p).type_descriptor.annotation)
    return root


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the typer app with one-line errors and stable exit codes."""
    try:
        command()(args=argv, prog_name="auditor", standalone_mode=True)
    except AuditorError as e:  # bad input of any kind: one line, exit 2 (here only)
        _err(f"error: {e}")
        sys.exit(EXIT_BAD_INPUT)
    except Interrupted as e:
        _err(str(e))
        sys.exit(130)
    except KeyboardInterrupt:
        _err("interrupted")
        sys.exit(130)
    except SystemExit:
        raise
    except BrokenPipeError:
        sys.exit(1)
    except Exception as e:  # never a traceback for the user
        if os.environ.get("AUDITOR_DEBUG"):
            raise
        _err(f"internal error: {type(e).__name__}: {e} (set AUDITOR_DEBUG=1 for details)")
        sys.exit(EXIT_INTERNAL)
