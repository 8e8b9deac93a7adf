import subprocess
import sys


def test_import_is_light():
    code = (
        "import sys, fingerprint; "
        "heavy = [m for m in ('torch', 'sentence_transformers', 'sklearn', 'datasets', 'scipy') if m in sys.modules]; "
        "print(heavy); assert not heavy, heavy; "
        "assert 'attribute' in fingerprint.__all__"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_public_api_resolves():
    import fingerprint as fp

    for name in fp.__all__:
        assert getattr(fp, name) is not None


def test_submodules_are_reachable_without_an_import():
    # `fp.references.list_models()` must work right after `import fingerprint as fp`
    code = "import fingerprint as fp; assert callable(fp.references.list_models); assert fp.setlevel.plot_similarity"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_unknown_attribute_is_an_attribute_error():
    import pytest

    import fingerprint as fp

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        fp.nope  # noqa: B018


def test_the_minimum_versions_ci_installs_are_the_bounds_pyproject_declares():
    """``make test-min`` installs .ci/min-versions.txt: each a version at the ``>=`` bound of pyproject.toml."""
    import re
    from pathlib import Path

    import pytest

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+; the 3.10 run of make test-min skips this check
    root = Path(__file__).parents[1]
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    bounds = {}
    for spec in [*project["dependencies"], *project["optional-dependencies"]["dev"]]:
        m = re.fullmatch(r"([A-Za-z0-9_.\-\[\]]+?)(?:\[[^\]]*\])?>=([0-9.]+)", spec.split(";")[0].strip())
        if m:
            bounds[m.group(1).lower()] = m.group(2)
    pins = dict(
        line.split("#")[0].strip().split("==")
        for line in (root / ".ci" / "min-versions.txt").read_text().splitlines()
        if line.split("#")[0].strip()
    )
    for name in [re.split(r"[<>=\[]", d)[0].lower() for d in project["dependencies"]]:
        assert name in pins, f"{name} has no minimum version in .ci/min-versions.txt"
    for name, version in pins.items():
        bound = bounds[name.lower()]
        assert version == bound or version.startswith(bound + "."), f"{name}: {version}, pyproject: >= {bound}"
