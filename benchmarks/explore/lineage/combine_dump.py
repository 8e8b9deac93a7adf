"""Runs ``beyond_base.py`` keeping every score matrix it evaluates (for ``combine.py``).

usage: python benchmarks/explore/lineage/combine_dump.py     (~8 min; writes /tmp/lineage/stats.pkl)
"""

import pickle
import runpy
from pathlib import Path

import common

STATS = {}
_evaluator = common.rank_evaluator


def keeping(lineage, models, mi, refs):
    evaluate = _evaluator(lineage, models, mi, refs)

    def kept(S, label):
        STATS[label] = S.copy()
        STATS["_models"] = list(models)
        return evaluate(S, label)

    return kept


common.rank_evaluator = keeping
runpy.run_path(str(Path(__file__).with_name("beyond_base.py")), run_name="__main__")
common.CACHE.mkdir(parents=True, exist_ok=True)
pickle.dump(STATS, open(common.CACHE / "stats.pkl", "wb"))
print(f"kept {len(STATS) - 1} score matrices in {common.CACHE / 'stats.pkl'}")
