"""The findings spool: records read back from its file are the records written."""

from __future__ import annotations

import json
from typing import Any

from auditor.audit import spool as spool_module
from auditor.audit.spool import RecordSpool


class _Text(str):
    """A str subclass, as a value taken from some library may be."""


def _records() -> list[dict[str, Any]]:
    return [
        {
            "n": i,
            "text": "line\none \x00 caf\u00e9 \ud83d\ude00 lone \ud800 end" * (i % 3 + 1),
            "nested": {"list": [1, 2.5, None, True, False, {"k": "v" * i}], "empty": {}},
            "confidence": 0.1 * i,
        }
        for i in range(50)
    ]


def test_records_cross_read_blocks(monkeypatch: Any) -> None:
    """Many records spanning several read blocks, and one larger than a block, come back whole."""
    monkeypatch.setattr(spool_module, "_READ", 256)
    items = _records()
    items.insert(20, {"big": "x" * 5000, "after": "\n" * 300})
    spool = RecordSpool(items, memory_limit=0)
    assert spool.spooled
    assert list(spool) == items
    assert list(spool) == items  # iterating again reads the file again
    assert [spool[i] for i in range(len(items))] == items
    assert spool[20:22] == items[20:22] and spool[-1] == items[-1]
    spool.close()


def test_appends_while_iterating_and_json_forms() -> None:
    spool = RecordSpool(memory_limit=2)
    items = _records()[:5]
    for it in items:
        spool.append(it)
    seen = []
    for rec in spool:  # what was there when iteration began
        seen.append(rec)
        if len(seen) == 1:
            spool.append({"late": True})
    assert seen == items and list(spool)[-1] == {"late": True}
    # A subclass of str is kept as JSON would keep it (a plain string).
    spool.append({"value": _Text("abc"), "list": [_Text("d")]})
    back = spool[-1]
    assert back == {"value": "abc", "list": ["d"]} and type(back["value"]) is str
    assert json.dumps(back) == json.dumps({"value": "abc", "list": ["d"]})
    spool.close()
