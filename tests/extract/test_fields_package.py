"""The layout of auditor.extract and auditor.limits: walk failures are noted, not dropped; limits
is the base module that imports nothing from the package; the submodules form no cycle."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import auditor.extract
import auditor.io.decoding
import auditor.limits
from auditor.extract import Fields, walk_exchange, walk_json
from auditor.limits import DEFAULT_LIMITS, Limits
from auditor.models import Exchange, Field

FIELDS_DIR = Path(auditor.extract.__file__).parent
NOT_WALKED = "the rest of this part was not walked"


class Unprintable:
    """A JSON leaf of no JSON type whose text cannot be taken (its message quotes a value)."""

    def __str__(self) -> str:
        raise ValueError("ana@example.com")


# --- failures are noted ---------------------------------------------------------------------------


def test_failure_keeps_earlier_fields_and_is_noted_without_the_value() -> None:
    fields = walk_json({"a": "one", "b": Unprintable(), "c": "never walked"})
    assert isinstance(fields, Fields)
    assert fields == [Field("request.body", "a", "one")]
    assert fields.failures == (f"request.body: ValueError in __str__; {NOT_WALKED}",)
    assert "ana@example.com" not in repr(fields.failures)


def test_walk_without_failure_has_no_notes() -> None:
    fields = walk_json({"a": "one", "b": [1, 2.5, True]})
    assert fields == [
        Field("request.body", "a", "one"),
        Field("request.body", "b[0]", "1"),
        Field("request.body", "b[1]", "2.5"),
        Field("request.body", "b[2]", "true"),
    ]
    assert fields.failures == ()
    assert Fields().failures == ()  # the class default is not shared state
    fields.failures += ("x",)
    assert Fields().failures == ()


def test_recursion_past_a_huge_depth_limit_is_noted() -> None:
    """``--max-depth`` far above Python's recursion limit: the walk stops and says so."""
    nested: list[object] = ["leaf"]
    for _ in range(5000):
        nested = ["x", nested]
    fields = walk_json(nested, max_depth=10**6)
    assert len(fields) > 100
    assert all(f.value == "x" for f in fields)
    assert fields[:2] == [Field("request.body", "[0]", "x"), Field("request.body", "[1][0]", "x")]
    assert len(fields.failures) == 1
    assert fields.failures[0].startswith("request.body: RecursionError in ")
    assert fields.failures[0].endswith(NOT_WALKED)


def test_exchange_failure_in_one_part_leaves_the_others_walked() -> None:
    """A cookie header that is not text (as a broken reader could produce) used to make the
    cookies vanish without a word; the other parts are still walked, and the failure is noted."""
    ex = Exchange(
        capture=0, index=0, id="ex-1", method="POST", scheme="https", host="api.example.com", port=443,
        path="/v1/chat?user=ana",
        request_headers=[("Cookie", b"sid=abc"), ("Content-Type", "application/json")],  # type: ignore[list-item]
        request_body=b'{"prompt": "hello"}',
        response_headers=[("X-Trace", "t-1")],
    )
    fields = walk_exchange(ex)
    assert fields == [
        Field("request.url", "path[0]", "v1"),
        Field("request.url", "path[1]", "chat"),
        Field("request.query", "user", "ana"),
        Field("request.header", "content-type", "application/json"),
        Field("request.body", "prompt", "hello"),
        Field("response.header", "x-trace", "t-1"),
    ]
    assert fields.failures == (f"request.cookie: TypeError in cookies; {NOT_WALKED}",)


def test_field_cap_is_not_a_failure() -> None:
    fields = walk_json({"a": "1", "b": "2", "c": "3"}, max_fields=2)
    assert [f.path for f in fields] == ["a", "b"]
    assert fields.failures == ()


# --- limits is the base -----------------------------------------------------------------------


def test_limits_imports_nothing_from_the_package() -> None:
    code = "import sys, auditor.limits; print(sorted(m for m in sys.modules if m.startswith('auditor')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['auditor', 'auditor.limits']"


def test_defaults_have_one_home() -> None:
    assert auditor.io.decoding.DEFAULT_MAX_INFLATED is auditor.limits.DEFAULT_MAX_INFLATED
    assert auditor.extract.DEFAULT_MAX_DEPTH is auditor.limits.DEFAULT_MAX_DEPTH
    assert auditor.extract.DEFAULT_MAX_FIELDS is auditor.limits.DEFAULT_MAX_FIELDS
    defaults = DEFAULT_LIMITS
    assert defaults == Limits(
        max_body=16 * 2**20,
        max_inflated=64 * 2**20,
        max_depth=64,
        max_fields=20_000,
        max_headers=1_000,
        max_capture_inflated=4 * 2**30,
    )


# --- the package's own layout -----------------------------------------------------------------


def _imports(path: Path) -> set[str]:
    """The sibling submodules (and ``__init__``) that ``path`` imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:
                found.add(node.module or "__init__")
            elif node.module == "auditor.extract":  # submodules by name, else the package's own names
                found |= {a.name if (FIELDS_DIR / f"{a.name}.py").exists() else "__init__" for a in node.names}
            elif (node.module or "").startswith("auditor.extract."):
                found.add(node.module.removeprefix("auditor.extract").lstrip(".") or "__init__")
            elif node.module == "auditor" and any(a.name == "fields" for a in node.names):
                found.add("__init__")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("auditor.extract"):
                    found.add(alias.name.removeprefix("auditor.extract").lstrip(".") or "__init__")
    return found


def test_submodules_import_downward_only() -> None:
    modules = sorted(p.stem for p in FIELDS_DIR.glob("*.py") if p.stem != "__init__")
    assert modules == ["freetext", "mime", "parts", "paths", "replay", "sniff", "tokens", "walk", "walker"]
    graph = {name: _imports(FIELDS_DIR / f"{name}.py") for name in modules}
    assert graph == {
        "freetext": set(),
        "paths": set(),
        "tokens": set(),
        "mime": set(),
        "sniff": set(),
        "replay": {"sniff"},
        "walker": {"mime", "paths", "replay", "sniff", "tokens"},
        "parts": {"tokens", "walker"},
        "walk": {"parts", "replay", "walker"},
    }
    for path in FIELDS_DIR.glob("*.py"):
        assert len(path.read_text(encoding="utf-8").splitlines()) < 800, path.name


def test_the_audit_warns_of_exchanges_not_fully_walked() -> None:
    """The failure notes reach the report as one capture warning, not a silent loss."""
    from auditor.audit.pipeline import Auditor
    from auditor.io.capture import Capture
    from auditor.models import CaptureInfo

    broken = Exchange(
        capture=0, index=0, id="ex-1", method="POST", scheme="https", host="api.example.com", port=443,
        path="/v1/chat", request_headers=[("Cookie", b"sid=abc")],  # type: ignore[list-item]
        request_body=b'{"prompt": "hello"}',
    )
    fine = Exchange(capture=0, index=1, id="ex-2", method="GET", scheme="https", host="api.example.com",
                    port=443, path="/v1/me")
    info = CaptureInfo(path="session.flows", format="flows")
    auditor_ = Auditor()
    auditor_.add_capture(Capture(info=info, exchanges=iter([broken, fine])))
    assert info.warnings == [
        f"session.flows: 1 exchange(s) whose fields could not all be walked (first: request.cookie: TypeError "
        f"in cookies; {NOT_WALKED}); the fields before the error were analysed"
    ]
