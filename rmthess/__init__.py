"""rmthess — random-matrix-theory numerics for the Hessians of neural networks.

The package computes the generalized Marchenko–Pastur (GMP) law of ``(1/N) X Λ Xᵀ``, the limiting
Frobenius norms of Hessian blocks of linear and 1-hidden-layer ReLU networks at random
initialization (arXiv:2505.02809), Monte Carlo simulations that check them, exact Hessians of small
networks, and the verification report that puts theory and simulation side by side.

Subpackages are imported lazily so that ``import rmthess`` stays cheap::

    >>> import rmthess
    >>> rmthess.__version__ >= "0.1"
    True
"""

from __future__ import annotations

import importlib

from rmthess._cost import allow_cost
from rmthess._threads import set_blas_threads

__version__ = "0.1.0"

_SUBMODULES = (
    "laws",
    "gmp",
    "symbolic",
    "integrals",
    "cases",
    "montecarlo",
    "networks",
    "plotting",
    "verify",
)

__all__ = ["__version__", "allow_cost", "set_blas_threads", *_SUBMODULES]


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"rmthess.{name}")
    raise AttributeError(f"module 'rmthess' has no attribute {name!r}")
