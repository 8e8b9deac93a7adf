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
