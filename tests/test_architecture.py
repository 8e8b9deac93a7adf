"""The package's layering: data flows one way and no module reaches into another's private names.

Layers, lowest first (docs/api.md, "Architecture"): a module may import modules of its own layer or
below, never above, and the import graph has no cycle.  Function-level imports count: a lazy import
upward is still a cycle in the design.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "fingerprint"

LAYERS: dict[str, int] = {
    # 0: foundations
    "fingerprint.validation": 0,
    "fingerprint.io": 0,
    "fingerprint.calibration": 0,
    "fingerprint.corpus": 0,
    # 1: text -> features
    "fingerprint.features": 1,
    # 2: the value type
    "fingerprint.fingerprints": 2,
    # 3: the Gaussian model of a set of fingerprints
    "fingerprint.lda": 3,
    # 4: the container
    "fingerprint.refset": 4,
    # 5: training pipeline
    "fingerprint.building": 5,
    # 6: attribution and audit
    "fingerprint.attribution": 6,
    "fingerprint.setlevel": 6,
    # 7: the scikit-learn estimator and the Dask front end on top
    "fingerprint.classifier": 7,
    "fingerprint.dask": 7,
    # 8: built-in data
    "fingerprint.references": 8,
    # 9: command line
    "fingerprint.cli": 9,
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _layer(module: str) -> int | None:
    best = None
    for prefix, layer in LAYERS.items():
        if module == prefix or module.startswith(prefix + "."):
            if best is None or len(prefix) > len(best[0]):
                best = (prefix, layer)
    return None if best is None else best[1]


def _imports(path: Path) -> list[tuple[str, list[str], int]]:
    """(imported module, imported names, line) for every fingerprint import in a file."""
    tree = ast.parse(path.read_text())
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("fingerprint"):
            out.append((node.module, [a.name for a in node.names], node.lineno))
        elif isinstance(node, ast.Import):
            out += [(a.name, [], node.lineno) for a in node.names if a.name.startswith("fingerprint")]
    return out


MODULES = {
    _module_name(p): p
    for p in sorted(PKG.rglob("*.py"))
    if _module_name(p) not in ("fingerprint", "fingerprint.__main__")
}


def test_every_module_has_a_layer():
    assert [m for m in MODULES if _layer(m) is None] == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_go_down_only(module):
    own = _layer(module)
    for target, names, line in _imports(MODULES[module]):
        if target == "fingerprint":  # the package root re-exports every layer: only the top layer (CLI) uses it
            assert names == ["__version__"] or own == max(LAYERS.values()), (
                f"{module}:{line} imports {names or 'the package'} from the package root"
            )
            continue
        # `from fingerprint.features import ngrams` names a submodule
        layer = _layer(target)
        assert layer is not None, f"{module}:{line} imports unknown module {target}"
        assert layer <= own, f"{module} (layer {own}) imports {target} (layer {layer}) at line {line}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_private_names_across_modules(module):
    for target, names, line in _imports(MODULES[module]):
        private = [n for n in names if n.startswith("_") and n != "__version__"]
        assert not private, f"{module}:{line} imports private {private} from {target}"
        assert not any(p.startswith("_") for p in target.split(".")), f"{module}:{line} imports private module {target}"


def test_import_graph_is_acyclic():
    graph = {m: set() for m in MODULES}
    for m, path in MODULES.items():
        for target, _, _ in _imports(path):
            if target in MODULES and target != m and target != "fingerprint":
                graph[m].add(target)
    # a package __init__ re-exports its submodules: edges from it are not part of the data flow
    for m in graph:
        if MODULES[m].name == "__init__.py":
            graph[m] = set()
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*stack, node, nxt]))
            if nxt not in state:
                visit(nxt, [*stack, node])
        state[node] = 2

    for m in graph:
        if m not in state:
            visit(m, [])


# `obj._name` on something other than self/cls: allowed only for an object of the module's own class
# (a classmethod building an instance), listed here with the reason
SAME_CLASS_ACCESS = {
    ("fingerprint.classifier", "clf._set_fitted"),  # FingerprintClassifier builds itself in from_references/load
    ("fingerprint.classifier", "new._metadata_request"),  # __sklearn_clone__ copies routing as sklearn's clone does
    ("fingerprint.refset", "new._fps"),  # ReferenceSet.copy(): its own dict of the shared (immutable) fingerprints
    ("fingerprint.refset", "refs._scatter_sum"),  # load() keeps the stored exact scatter sum
    ("fingerprint.refset", "refs._calibrated_shrinkage"),  # load() keeps what made a calibration stale
    ("fingerprint.refset", "refs._changed_since_calibration"),
    ("fingerprint.refset", "ReferenceSet._load"),  # the built-in set is loaded with the default space it shares
    ("fingerprint.lda", "model._set_calibration"),  # LDAModel.with_calibration sets a copy's calibration, checked
    ("fingerprint.attribution", "self.to_frame()._repr_html_"),  # the notebook display protocol, pandas' own
}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_private_attributes_of_other_objects(module):
    tree = ast.parse(MODULES[module].read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                continue
            expr = ast.unparse(node)
            assert (module, expr) in SAME_CLASS_ACCESS, f"{module}:{node.lineno} reaches into {expr}"
