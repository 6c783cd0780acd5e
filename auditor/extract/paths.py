"""Field paths and leaf texts: ``messages[1].content``, ``a["key with space"]``, ``1.5``, ``true``."""

from __future__ import annotations

import json

_IDENT_CACHE: dict[str, bool] = {}


def _is_ident(key: str) -> bool:
    """``[A-Za-z_][A-Za-z0-9_-]*``, memoised: JSON keys repeat a lot."""
    ok = _IDENT_CACHE.get(key)
    if ok is None:
        ok = (
            key.isascii()
            and key[:1] != "-"
            and key.replace("-", "_").isidentifier()
        )
        if len(key) <= 64 and len(_IDENT_CACHE) < 65536:
            _IDENT_CACHE[key] = ok
    return ok


def _key_path(prefix: str, key: str) -> str:
    """The path of ``key`` inside the object at ``prefix``."""
    if _is_ident(key):
        return f"{prefix}.{key}" if prefix else key
    return f"{prefix}[{json.dumps(key, ensure_ascii=False)}]"


def _sub(prefix: str, name: str) -> str:
    """A raw name (form parameter, part name, marker) under ``prefix``."""
    return f"{prefix}.{name}" if prefix else name


def _float_text(value: float) -> str:
    """A float as JSON would write it (``NaN``/``Infinity`` as Python's json module does)."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


def _scalar_text(value: object) -> str | None:
    """A non-container JSON leaf as text, ``None`` for ``null``/empty."""
    if value is None:
        return None
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        return _float_text(value)
    text = str(value)
    return text or None
