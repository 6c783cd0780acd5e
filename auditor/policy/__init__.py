"""Policy files for the CI gate (``auditor check``): see :mod:`auditor.policy.check`."""

from __future__ import annotations

import sys
import types
from typing import Any

from . import check as _check
from .check import *  # noqa: F403
from .check import MAX_KEPT_VIOLATIONS, evaluate  # noqa: F401


class _Package(types.ModuleType):
    def __setattr__(self, name: str, value: Any) -> None:
        if name == "MAX_KEPT_VIOLATIONS":
            setattr(_check, name, value)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
