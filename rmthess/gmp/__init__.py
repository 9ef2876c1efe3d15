r"""The generalized Marchenko–Pastur (GMP) law of ``(1/N) X Λ Xᵀ`` (theory/gmp.md), and its
separable form ``(1/N) Σ^{1/2} Y Λ Yᵀ Σ^{1/2}`` with a population covariance (theory/separable.md).

Modules: :mod:`~rmthess.gmp.equation` (inverse map, reciprocal variable, polynomial),
:mod:`~rmthess.gmp.edges` (support from critical points), :mod:`~rmthess.gmp.solver` (Herglotz
root on C+ and on the real axis), :mod:`~rmthess.gmp.density` (density, cdf),
:mod:`~rmthess.gmp.moments` (free cumulants), :mod:`~rmthess.gmp.law` (the law object),
:mod:`~rmthess.gmp.tracy_widom` (the extreme eigenvalue at a soft edge);
``separable_*`` the same for the separable law (:mod:`~rmthess.gmp.separable`).
"""

from rmthess.gmp.law import GeneralizedMarchenkoPastur
from rmthess.gmp.separable import SeparableMarchenkoPastur

__all__ = ["GeneralizedMarchenkoPastur", "SeparableMarchenkoPastur"]
