"""The compiled n-gram kernels (``fingerprint/features/_cgrams.c``); everything else is in pyproject.toml.

Optional: where no C compiler is found the package installs without them and
``fingerprint.features.fastgrams`` runs its numpy code, with the same results, 2-3x slower
(``fingerprint.features.fastgrams.COMPILED`` says which).  Plain C and the CPython API only:
no build dependency beyond a compiler.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("fingerprint.features._cgrams", ["fingerprint/features/_cgrams.c"], optional=True)])
