"""The import contract of the package: the folder tree follows the data path, and every import
points down it.

Layers, from the bottom (a module may import its own layer and the layers below, never above):

0. base: errors, limits, models, progress
1. io: reading captures (flow files, HAR, pcap, key-log decryption) and the one bounded I/O layer
2. extract: bodies decoded and walked into fields
3. classifiers: personal-data detectors, lexicons, tracing of known values
4. destinations: owners, parties, countries, jurisdictions
5. audit: the pipeline that makes the report document; the page section beside it
6. renderers: HTML, JSON, Markdown of the document
7. gate: policy, baseline, store labels and their verdicts (JUnit, Markdown, text)
8. applications: redact, live proxy, browse, batch, the pytest plugin
9. cli

Imports made inside functions count too (they are dependencies all the same); imports under
``if TYPE_CHECKING:`` do not. Within a layer, module-level imports form no cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "auditor"

LAYERS: list[tuple[str, ...]] = [
    ("auditor", "auditor.errors", "auditor.limits", "auditor.models", "auditor.progress"),
    ("auditor.io",),
    ("auditor.extract",),
    ("auditor.classifiers",),
    ("auditor.destinations",),
    ("auditor.audit", "auditor.page"),
    ("auditor.renderers",),
    ("auditor.gate", "auditor.labels"),
    ("auditor.redact", "auditor.live", "auditor.browse", "auditor.batch", "auditor.pytest_plugin", "auditor.worker"),
    ("auditor.cli", "auditor.__main__"),
]


def layer_of(module: str) -> int:
    best, level = "", -1
    for i, prefixes in enumerate(LAYERS):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and len(p) > len(best):
                best, level = p, i
    return level


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _resolve(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(mods: dict[str, Path]) -> list[tuple[str, str, int, bool]]:
    """(importer, imported module, line, at module level) for every import of the package."""
    out = []
    for name, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        is_package = path.name == "__init__.py"
        type_only: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                type_only |= {id(n) for n in ast.walk(node)}
        top = {id(n) for n in tree.body} | {
            id(n) for stmt in tree.body if isinstance(stmt, (ast.Try, ast.If)) for n in ast.walk(stmt)
        }
        for node in ast.walk(tree):
            if id(node) in type_only:
                continue
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(name, is_package, node)
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
            for t in targets:
                while t and t not in mods:
                    t = t.rpartition(".")[0]
                if t.startswith("auditor") and t != name:
                    out.append((name, t, node.lineno, id(node) in top))
    return out


MODULES = modules()
IMPORTS = imports(MODULES)


def test_every_module_has_a_layer() -> None:
    assert len(MODULES) > 100
    assert [m for m in MODULES if layer_of(m) < 0] == []


def test_imports_point_down_the_data_path() -> None:
    upward = [
        f"{MODULES[a].relative_to(ROOT)}:{line} imports {b} (layer {layer_of(b)} above {layer_of(a)})"
        for a, b, line, _top in IMPORTS
        if layer_of(b) > layer_of(a)
    ]
    assert upward == []


def test_no_import_cycles() -> None:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for a, b, _line, top in IMPORTS:
        # A package importing its own submodules (to re-export them) is how packages work.
        if top and not b.startswith(a + "."):
            graph[a].add(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    assert cycles == []


def test_the_tree_shows_the_data_path() -> None:
    subpackages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert {"io", "extract", "classifiers", "destinations", "audit", "renderers", "gate", "cli"} <= subpackages


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_over_800_lines(path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 800


def test_the_contract_can_fail() -> None:
    """The checks see a real upward import and a real cycle when there is one."""
    assert layer_of("auditor.io.pcap.analyzer") == 1 and layer_of("auditor.cli.main") == 9
    assert layer_of("auditor.gate.baseline") > layer_of("auditor.renderers.view")
    assert any(b == "auditor.extract" or b.startswith("auditor.extract.") for a, b, _l, _t in IMPORTS
               if a.startswith("auditor.audit"))
