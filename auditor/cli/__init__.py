"""The ``auditor`` command line (``auditor.cli:main``), one module per group of commands."""

from auditor.cli.main import command, main

__all__ = ["command", "main"]
