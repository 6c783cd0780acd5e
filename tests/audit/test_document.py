"""The TypedDicts of ``auditor.audit.document`` against the JSON schema, and real documents against them.

1. The schema and the types are walked together: every object of the schema with ``properties``
   has a TypedDict with exactly those keys and exactly those required keys, and every TypedDict
   met on the way has a schema object (through arrays, ``$ref``s, nullable unions and maps).
2. Real documents (the audit of the bundled fixtures and a generated pcap, a page section, a
   labels section) hold only keys their TypedDict declares at that place.
"""

from __future__ import annotations

import json
import types
import typing
from importlib import resources
from pathlib import Path
from typing import Any, Literal, NotRequired, Required, Union, get_args, get_origin, get_type_hints, is_typeddict

import pytest
from conftest import FIXTURES, ROOT

from auditor.audit import document
from auditor.audit.document import AuditDocument
from auditor.audit.pipeline import AuditOptions, audit_paths

SCHEMA: dict[str, Any] = json.loads(
    resources.files("auditor").joinpath("schema/audit-v1.schema.json").read_text(encoding="utf-8")
)


# The schema's free objects (``{"type": "object"}`` without properties) that have a TypedDict.
FREE_OBJECTS = {document.LabelDeclared, document.LabelObserved}


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = node["$ref"].removeprefix("#/$defs/")
        node = SCHEMA["$defs"][name]
    return node


def _hints(td: type) -> dict[str, Any]:
    return get_type_hints(td, include_extras=True)


def _strip(tp: Any) -> Any:
    """``Required[X]``/``NotRequired[X]`` -> ``X``."""
    while get_origin(tp) in (Required, NotRequired):
        (tp,) = get_args(tp)
    return tp


def _members(tp: Any) -> list[Any]:
    """The members of a union (``X | None``), else ``[tp]``; ``None`` dropped."""
    tp = _strip(tp)
    if get_origin(tp) in (Union, types.UnionType):
        return [a for a in get_args(tp) if a is not type(None)]
    return [tp] if tp is not type(None) else []


def _schema_objects(node: dict[str, Any]) -> list[dict[str, Any]]:
    """The object schemas a value may be (``oneOf`` branches, a ``$ref``, or itself)."""
    node = _resolve(node)
    if "oneOf" in node:
        return [o for branch in node["oneOf"] for o in _schema_objects(branch)]
    types_ = node.get("type")
    if types_ == "object" or (isinstance(types_, list) and "object" in types_):
        return [node]
    return []


def _is_list(tp: Any) -> bool:
    return get_origin(tp) is list


def _walk(node: dict[str, Any], tp: Any, where: str, seen: list[str]) -> None:
    """Compare one schema node with one annotation, recursively."""
    node = _resolve(node)
    members = _members(tp)
    objects = _schema_objects(node)
    tds = [m for m in members if is_typeddict(m)]
    if objects and any("properties" in o for o in objects):
        with_props = [o for o in objects if "properties" in o]
        assert len(tds) == len(with_props), f"{where}: {len(with_props)} object form(s) in the schema, TypedDicts {tds}"
        for obj in with_props:
            # the TypedDict whose keys are this branch's properties
            match = [t for t in tds if set(_hints(t)) == set(obj["properties"])]
            assert match, (
                f"{where}: no TypedDict with keys {sorted(obj['properties'])}; have {[sorted(_hints(t)) for t in tds]}"
            )
            _compare(obj, match[0], where, seen)
        return
    if objects and "additionalProperties" in objects[0] and isinstance(objects[0]["additionalProperties"], dict):
        (m,) = members
        assert get_origin(m) is dict, f"{where}: the schema has a map, the type is {m}"
        key, value = get_args(m)
        assert key is str, where
        _walk(objects[0]["additionalProperties"], value, f"{where}.*", seen)
        return
    if node.get("type") == "array" or (isinstance(node.get("type"), list) and "array" in node["type"]):
        (m,) = members
        assert _is_list(m), f"{where}: the schema has an array, the type is {m}"
        _walk(node.get("items", {}), get_args(m)[0], f"{where}[]", seen)
        return
    if objects and set(tds) <= FREE_OBJECTS:  # a free object typed by what the code writes
        assert tds, f"{where}: an object in the schema, {tp} in the type"
        return
    assert not tds, f"{where}: a TypedDict {tds} where the schema has no object with properties"
    if "enum" in node or "const" in node:
        values = set(node.get("enum", [node.get("const")]))
        lits: set[Any] = set()
        for m in members:
            assert get_origin(m) is Literal, f"{where}: an enum in the schema, {m} in the type"
            lits.update(get_args(m))
        assert lits == values - {None}, f"{where}: enum {sorted(map(str, values))} vs Literal {sorted(lits)}"
        nullable = type(None) in get_args(_strip(tp)) if get_origin(_strip(tp)) in (Union, types.UnionType) else False
        assert nullable == (None in values), f"{where}: null in the enum is {None in values}, in the type {nullable}"


def _compare(obj: dict[str, Any], td: type, where: str, seen: list[str]) -> None:
    seen.append(td.__name__)
    hints = _hints(td)
    props = obj["properties"]
    assert set(hints) == set(props), f"{where} ({td.__name__}): keys {sorted(hints)} vs schema {sorted(props)}"
    required = set(obj.get("required", []))
    assert set(td.__required_keys__) == required, (  # type: ignore[attr-defined]
        f"{where} ({td.__name__}): required {sorted(td.__required_keys__)} vs schema {sorted(required)}"  # type: ignore[attr-defined]
    )
    assert set(td.__optional_keys__) == set(props) - required, where  # type: ignore[attr-defined]
    for key, sub in props.items():
        _walk(sub, hints[key], f"{where}.{key}", seen)


def test_the_typeddicts_mirror_the_schema() -> None:
    seen: list[str] = []
    _compare(SCHEMA, AuditDocument, "$", seen)
    # every TypedDict of the module is reached from the root, except those mirroring free objects
    declared = {n for n, v in vars(document).items() if is_typeddict(v)}
    free = {t.__name__ for t in FREE_OBJECTS}
    assert declared - free == set(seen), sorted(declared ^ free ^ set(seen))


def test_the_free_label_objects_are_typed_where_the_schema_says_object_or_null() -> None:
    item = SCHEMA["$defs"]["labels_item"]["properties"]
    hints = _hints(document.LabelItem)
    for key, td in (("declared", document.LabelDeclared), ("observed", document.LabelObserved)):
        assert item[key]["type"] == ["object", "null"] and "properties" not in item[key]
        assert set(_members(hints[key])) == {td}
        assert type(None) in get_args(_strip(hints[key]))


# --- real documents ---------------------------------------------------------------------------


def check_keys(value: Any, tp: Any, where: str = "$") -> int:
    """Assert every key of ``value`` is declared by the TypedDict at that place; returns the
    number of objects checked."""
    members = _members(tp)
    if value is None:
        return 0
    if isinstance(value, dict):
        tds = [m for m in members if is_typeddict(m)]
        if tds:
            fits = [t for t in tds if set(value) <= set(_hints(t)) and set(t.__required_keys__) <= set(value)]
            assert fits, f"{where}: keys {sorted(value)} fit none of {[t.__name__ for t in tds]}" + "".join(
                f"; {t.__name__} lacks {sorted(set(value) - set(_hints(t)))}" for t in tds
            )
            hints = _hints(fits[0])
            return 1 + sum(check_keys(v, hints[k], f"{where}.{k}") for k, v in value.items())
        maps = [m for m in members if get_origin(m) is dict]
        assert maps, f"{where}: an object where the type is {tp}"
        return sum(check_keys(v, get_args(maps[0])[1], f"{where}.{k}") for k, v in value.items())
    if isinstance(value, list):
        lists = [m for m in members if _is_list(m)]
        assert lists, f"{where}: a list where the type is {tp}"
        return sum(check_keys(v, get_args(lists[0])[0], f"{where}[{i}]") for i, v in enumerate(value))
    return 0


def _keys_of(value: Any, prefix: str = "$") -> set[str]:
    """Every key path of a document; the keys of the jurisdictions map as ``*``."""
    out: set[str] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            k = "*" if prefix == "$.jurisdictions" else k
            out.add(f"{prefix}.{k}")
            out |= _keys_of(v, f"{prefix}.{k}")
    elif isinstance(value, list):
        for v in value:
            out |= _keys_of(v, f"{prefix}[]")
    return out


def _page_section(doc: dict[str, Any]) -> dict[str, Any]:
    """A page section from the library's own analysis of a small session."""
    from auditor.models import Exchange
    from auditor.page.detect import analyze
    from auditor.page.events import PageEvents, parse_event

    def ex(index: int, path: str, body: bytes, host: str, headers: list[tuple[str, str]] | None = None) -> Exchange:
        return Exchange(
            capture=0,
            index=index,
            id=str(index),
            method="POST" if body else "GET",
            scheme="https",
            host=host,
            port=443,
            path=path,
            request_body=body,
            request_headers=[("content-type", "text/plain")],
            timestamp=150.0,
            response_headers=headers or [],
            status=200,
        )

    events = PageEvents()
    session = parse_event(
        {
            "t": 1000.0,
            "type": "session",
            "source": "driver",
            "detail": {"url": "https://chat.site.test/?q=1", "canary": "qwertzuiopas", "prompts": ["hi there"]},
        }
    )
    canvas = parse_event(
        {
            "t": 2000.0,
            "type": "canvas_read",
            "source": "page",
            "detail": {"api": "HTMLCanvasElement.toDataURL", "script": "https://fp.trk.test/fp.js"},
        }
    )
    events.events = [e for e in (session, canvas) if e is not None]
    exchanges = [
        ex(0, "/", b"", "chat.site.test"),
        ex(1, "/k", b'{"v":"qwertz"}', "t.trk.test", [("set-cookie", "uid=1; SameSite=None; Secure")]),
    ]
    return analyze(events, exchanges, doc)


def _labels_section(doc: dict[str, Any]) -> dict[str, Any]:
    from auditor.labels import load_declaration
    from auditor.labels.judge import judge_all

    data = ROOT / "tests" / "data" / "labels"
    decls = [load_declaration(p) for p in sorted(data.iterdir()) if p.is_file()]
    return judge_all(decls, doc).to_json()


@pytest.fixture(scope="module")
def fixture_doc() -> dict[str, Any]:
    doc: dict[str, Any] = audit_paths([FIXTURES / "ai-chat-session.flows", FIXTURES / "ai-chat-session.har"])
    doc["page"] = _page_section(doc)
    doc["labels"] = _labels_section(doc)
    return doc


def test_a_fixture_audit_with_page_and_labels_has_only_declared_keys(fixture_doc: dict[str, Any]) -> None:
    n = check_keys(fixture_doc, AuditDocument)
    keys = _keys_of(fixture_doc)
    # the document is rich enough for the check to mean something
    for k in (
        "$.findings[].derived.from.capture",
        "$.destinations[].owner.origin",
        "$.jurisdictions.*.government_access[].law",
        "$.page.detections[].flow.index",
        "$.labels.declarations[].items[].evidence[].requests[].url",
        "$.labels.declarations[].items[].declared.line",
        "$.labels.declarations[].items[].observed.shared_with",
    ):
        assert k in keys, k
    assert n > 200


def test_a_pcap_audit_with_decryption_has_only_declared_keys(session_pcap: Path, tmp_path: Path) -> None:
    from auditor.io.tlsdecrypt import load_keylog

    keys = tmp_path / "keys.log"
    keys.write_text("CLIENT_RANDOM " + "11" * 32 + " " + "22" * 48 + "\n")
    doc = audit_paths([session_pcap, FIXTURES / "ai-chat-session.flows"], AuditOptions(keylog=load_keylog(keys)))
    check_keys(doc, AuditDocument)
    cov = doc["captures"][0]["decryption"]
    assert cov["not_decrypted"] and {"transport", "client", "server", "sni", "bytes", "reason"} <= set(
        cov["not_decrypted"][0]
    )
    assert any("bypassed_proxy" in d and d.get("seen") for d in doc["destinations"])


def test_the_checker_fails_on_an_undeclared_key(fixture_doc: dict[str, Any]) -> None:
    doc = json.loads(json.dumps(fixture_doc))
    doc["destinations"][0]["owner_country"] = "US"
    with pytest.raises(AssertionError, match=r"\$.destinations\[0\]: keys .* Destination lacks \['owner_country'\]"):
        check_keys(doc, AuditDocument)
    doc = json.loads(json.dumps(fixture_doc))
    del doc["findings"][0]["host"]  # a required key missing fits no TypedDict either
    with pytest.raises(AssertionError, match=r"\$.findings\[0\]"):
        check_keys(doc, AuditDocument)


def test_the_schema_walk_fails_when_a_key_differs() -> None:
    class Broken(typing.TypedDict):
        name: Required[str]

    with pytest.raises(AssertionError, match="keys"):
        _compare(SCHEMA["properties"]["generator"], Broken, "$.generator", [])
    with pytest.raises(AssertionError, match="required"):
        _compare({**SCHEMA["properties"]["generator"], "required": ["name"]}, document.Generator, "$.generator", [])


def test_literal_types_agree_with_the_runtime_sets() -> None:
    """The document's Literal types repeat sets the lower layers keep at run time (mypy needs the
    literals; the base modules may not import the audit layer): they must not drift apart."""
    from typing import get_args

    from auditor import models
    from auditor.audit import document
    from auditor.destinations import jurisdictions, owners

    assert get_args(document.Part) == models.PARTS
    # Documents written before a category was renamed may hold its old name.
    assert set(get_args(document.Service)) == set(owners.CATEGORIES) | set(owners.RENAMED_CATEGORIES)
    assert set(get_args(document.Adequacy)) == set(jurisdictions.ADEQUACY_STATUSES)
