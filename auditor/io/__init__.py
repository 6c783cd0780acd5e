"""The I/O layer: one bounded way in for every input, one atomic, owner-only way out.

- :mod:`auditor.io.inputs`: :func:`read_small` (policies, known values, reports, key logs),
  :func:`open_bounded` (captures: stdin ``-``, gzip/zlib, Playwright's ``.zip`` HAR, each
  inflated to at most a limit).
- :mod:`auditor.io.outputs`: :class:`Outputs` (every file of one run written to temporary files
  first, then renamed together), :func:`write_private`, :func:`private_dir`.
"""

from __future__ import annotations

from auditor.io.inputs import InputError, Opened, open_bounded, read_small, read_text
from auditor.io.outputs import OutputError, Outputs, open_private, private_dir, write_private

__all__ = [
    "InputError",
    "Opened",
    "OutputError",
    "Outputs",
    "open_bounded",
    "open_private",
    "private_dir",
    "read_small",
    "read_text",
    "write_private",
]
