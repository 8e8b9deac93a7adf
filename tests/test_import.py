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
