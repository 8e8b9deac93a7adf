"""The compiled n-gram kernels (``fingerprint/features/_cgrams.c``); everything else is in pyproject.toml.

Optional: where no C compiler is found the package installs without them and
``fingerprint.features.fastgrams`` runs its numpy code, with the same results, about half as fast
(``fingerprint.features.fastgrams.COMPILED`` says which).  Plain C and the CPython API only:
no build dependency beyond a compiler.
"""

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class _BuildExt(build_ext):
    """Never fuse a multiply and an add: the kernels round as numpy, scipy and scikit-learn do
    (gcc contracts by default where the target has FMA instructions, e.g. aarch64)."""

    def build_extensions(self) -> None:
        if self.compiler.compiler_type == "unix":
            for ext in self.extensions:
                ext.extra_compile_args = [*ext.extra_compile_args, "-ffp-contract=off"]
        super().build_extensions()


setup(
    ext_modules=[Extension("fingerprint.features._cgrams", ["fingerprint/features/_cgrams.c"], optional=True)],
    cmdclass={"build_ext": _BuildExt},
)
