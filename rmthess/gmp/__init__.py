r"""The generalized Marchenko–Pastur (GMP) law of ``(1/N) X Λ Xᵀ`` (theory/gmp.md).

Modules: :mod:`~rmthess.gmp.equation` (inverse map, reciprocal variable, polynomial),
:mod:`~rmthess.gmp.edges` (support from critical points), :mod:`~rmthess.gmp.solver` (Herglotz
root on C+ and on the real axis), :mod:`~rmthess.gmp.density` (density, cdf),
:mod:`~rmthess.gmp.moments` (free cumulants), :mod:`~rmthess.gmp.law` (the law object).
"""

from rmthess.gmp.law import GeneralizedMarchenkoPastur

__all__ = ["GeneralizedMarchenkoPastur"]
