"""The documentation covers the public API, and the site's generators pick the right inputs.

* every name in ``fingerprint.__all__`` is rendered in the API reference page (``docs/api.md``);
* every such name has a numpydoc docstring with an ``Examples`` section (the examples of functions
  and classes run as doctests via ``--doctest-modules``; those of module-level data, which doctest
  does not collect, run here);
* ``docs/hooks.py`` takes the newest non-``-quick`` benchmark report.
"""

from __future__ import annotations

import ast
import doctest
import importlib
import importlib.util
import inspect
import itertools
import re
from pathlib import Path

import pytest

import fingerprint
from fingerprint import references

ROOT = Path(__file__).resolve().parents[1]
API_PAGE = ROOT / "docs" / "api.md"
EXAMPLES = re.compile(r"^\s*Examples\n\s*-{8,}\n", re.MULTILINE)


def _defining_module(name: str) -> str:
    return fingerprint._EXPORTS.get(name, "fingerprint")


def _rendered_paths() -> set[str]:
    """Objects rendered by mkdocstrings on the API page (``::: path`` lines)."""
    return set(re.findall(r"^::: ([\w.]+)\s*$", API_PAGE.read_text(encoding="utf-8"), re.MULTILINE))


def _attribute_docstring(module: str, name: str) -> str | None:
    """The docstring of a module-level assignment (a string literal right after it), as griffe reads it."""
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    body = tree.body
    for stmt, nxt in itertools.pairwise(body):
        targets = (
            [stmt.target] if isinstance(stmt, ast.AnnAssign) else stmt.targets if isinstance(stmt, ast.Assign) else []
        )
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            if isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant) and isinstance(nxt.value.value, str):
                return inspect.cleandoc(nxt.value.value)
            return None
    return None


def _docstring(name: str) -> str | None:
    obj = getattr(fingerprint, name)
    if inspect.isclass(obj) or inspect.isroutine(obj):
        return inspect.getdoc(obj)
    return _attribute_docstring(_defining_module(name), name)


@pytest.mark.parametrize("name", fingerprint.__all__)
def test_public_name_is_in_api_reference(name: str) -> None:
    path = f"{_defining_module(name)}.{name}"
    assert path in _rendered_paths(), f"docs/api.md lacks '::: {path}' for fingerprint.{name}"


@pytest.mark.parametrize("name", fingerprint.__all__)
def test_public_name_has_docstring_with_examples(name: str) -> None:
    doc = _docstring(name)
    assert doc, f"fingerprint.{name} has no docstring"
    assert EXAMPLES.search(doc), f"fingerprint.{name}: docstring has no numpydoc 'Examples' section"
    assert ">>>" in doc, f"fingerprint.{name}: the Examples section has no runnable example"


DATA_NAMES = [
    n for n in fingerprint.__all__ if not (inspect.isclass(v := getattr(fingerprint, n)) or inspect.isroutine(v))
]


@pytest.mark.parametrize("name", DATA_NAMES)
def test_data_examples_run(name: str) -> None:
    """doctest does not collect the docstrings of module-level data: run them here."""
    doc = _docstring(name)
    assert doc
    test = doctest.DocTestParser().get_doctest(doc, {}, f"fingerprint.{name}", None, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.failures == 0, f"examples of fingerprint.{name} failed (output above)"


def test_references_module_is_documented() -> None:
    text = API_PAGE.read_text(encoding="utf-8")
    assert "::: fingerprint.references" in text
    members = re.search(r"::: fingerprint\.references\n(?:\s+.*\n)*?\s+members: \[([^\]]*)\]", text)
    assert members, "the fingerprint.references block should list its members"
    listed = {m.strip() for m in members.group(1).split(",")}
    missing = set(references.__all__) - listed
    assert not missing, f"fingerprint.references functions missing from docs/api.md: {sorted(missing)}"
    for fn in references.__all__:
        assert EXAMPLES.search(inspect.getdoc(getattr(references, fn)) or ""), f"references.{fn}: no Examples"


def _hooks():
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_hooks_pick_newest_full_report(tmp_path: Path) -> None:
    hooks = _hooks()
    for name in ("2026-01-01-corpus", "2026-03-01-corpus-quick", "2025-12-31-other", "notes", "2026-02-01-empty"):
        (tmp_path / name).mkdir()
    for name in ("2026-01-01-corpus", "2026-03-01-corpus-quick", "2025-12-31-other"):
        (tmp_path / name / "report.md").write_text("# r\n")
    assert hooks.latest_report_dir(tmp_path).name == "2026-01-01-corpus"
    with pytest.raises(FileNotFoundError):
        hooks.latest_report_dir(tmp_path / "notes")


def test_hooks_headline_comes_from_committed_report() -> None:
    hooks = _hooks()
    d = hooks.latest_report_dir()
    assert not d.name.endswith("-quick") and (d / "report.md").is_file()
    headline = hooks.benchmark_headline("")
    assert d.name in headline
    # every plot the headline shows is one the build copies next to the generated report
    for png in re.findall(r"\]\(evidence/([^)]+\.png)\)", headline):
        assert (d / png).is_file()


def test_nav_pages_exist() -> None:
    nav = re.findall(r":\s+([\w/.-]+\.(?:md|py))\s*$", (ROOT / "mkdocs.yml").read_text(encoding="utf-8"), re.MULTILINE)
    generated = {"evidence/benchmark.md", "evidence/students.md"}
    # docs/hooks.py copies these reports verbatim: each needs its committed source
    verbatim = {f"evidence/{page}": name for name, page, _ in _hooks().VERBATIM}
    missing = [p for p in nav if p not in generated | set(verbatim) and not (ROOT / "docs" / p).is_file()]
    missing += [name for name in verbatim.values() if not (ROOT / "benchmarks" / "results" / name).is_file()]
    assert nav and not missing, missing
