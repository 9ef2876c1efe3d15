r"""The separable law of ``(1/N) Σ^{1/2} Y Λ Yᵀ Σ^{1/2}`` (GMP law with a population covariance)."""

from __future__ import annotations

import functools
import math

import numpy as np

from rmthess._validate import DIM, GAMMA, as_generator, check_upper_half_plane
from rmthess.gmp._scale import BinaryScale
from rmthess.gmp.law import GeneralizedMarchenkoPastur
from rmthess.gmp.moments import MAX_ORDER
from rmthess.gmp.separable_equation import SeparableEquation, covariance_atoms
from rmthess.gmp.separable_moments import separable_moments
from rmthess.gmp.separable_solver import solve_separable_bulk, solve_separable_complex
from rmthess.gmp.separable_support import find_separable_bulks
from rmthess.laws.base import WeightLaw, _check_order
from rmthess.laws.discrete import SAMPLE_MAX_GIB, check_real_array

__all__ = ["SeparableMarchenkoPastur"]

#: a panel of the adaptive quadrature of :meth:`bulk_masses` is accepted when its 16- and
#: 32-point Gauss–Legendre values differ by less than this (absolute, for a probability mass)
MASS_PANEL_ATOL = 1e-15
#: cost guard of the adaptive quadrature: density evaluations per bulk
MASS_MAX_EVALS = 2_000_000


def _adaptive_mass(pdf, left: float, right: float) -> float:
    r"""Mass of the bulk ``[left, right]``: adaptive Gauss–Legendre quadrature in the angle of
    :math:`x = \ell + (r-\ell)(1-\cos\theta)/2` (smooth at square-root edges); a panel is split
    until its 16- and 32-point values agree to ``MASS_PANEL_ATOL`` (near-cusps inside a bulk need
    deep refinement). ``RuntimeError`` beyond ``MASS_MAX_EVALS`` density evaluations."""
    x32, w32 = np.polynomial.legendre.leggauss(32)
    x16, w16 = np.polynomial.legendre.leggauss(16)
    edges = np.linspace(0.0, np.pi, 17)
    lo, hi = edges[:-1], edges[1:]
    total, evals = [], 0
    while lo.size:
        mid, half = 0.5 * (lo + hi), 0.5 * (hi - lo)
        th = np.concatenate([(mid[:, None] + half[:, None] * x32).ravel(),
                             (mid[:, None] + half[:, None] * x16).ravel()])
        x = left + (right - left) * 0.5 * (1.0 - np.cos(th))
        f = pdf(x) * 0.5 * (right - left) * np.sin(th)
        evals += th.size
        n32 = lo.size * 32
        i32 = half * (f[:n32].reshape(-1, 32) @ w32)
        i16 = half * (f[n32:].reshape(-1, 16) @ w16)
        done = np.abs(i32 - i16) <= MASS_PANEL_ATOL
        total.extend(i32[done].tolist())
        if evals > MASS_MAX_EVALS:
            raise RuntimeError(f"the mass of the bulk [{left!r}, {right!r}] did not converge in "
                               f"{MASS_MAX_EVALS} density evaluations")
        lo, hi, mid = lo[~done], hi[~done], mid[~done]
        lo, hi = np.concatenate([lo, mid]), np.concatenate([mid, hi])
    return math.fsum(total)


class SeparableMarchenkoPastur(BinaryScale):
    r"""Limiting spectral law :math:`\mu` of
    :math:`B=\frac1N\Sigma^{1/2}Y\Lambda Y^\top\Sigma^{1/2}`, :math:`d/N\to\gamma`.

    Parameters
    ----------
    weights : WeightLaw
        Law :math:`\nu` of the iid weights :math:`\lambda_n` (any sign).
    covariance : WeightLaw
        Law :math:`H` of the eigenvalues of :math:`\Sigma` (all > 0), e.g. a
        :class:`~rmthess.laws.DiscreteLaw`, an :class:`~rmthess.laws.EmpiricalLaw` of a spectrum
        or a :class:`~rmthess.laws.ContinuousLaw`.
    gamma : float
        :math:`\gamma = d/N > 0`.

    Notes
    -----
    :math:`\mu = \mu_{\mathrm{GMP}(\nu,\gamma)}\boxtimes H` (SEP-0). Its Stieltjes transform is
    :math:`m = \mathbb{E}_H[1/(\sigma g - z)]` with :math:`g = \mathbb{E}_\nu[\lambda/(1+\gamma
    \lambda e)]` and :math:`e = \mathbb{E}_H[\sigma/(\sigma g - z)]` (SEP-1); the solution with
    :math:`\mathrm{Im}\,e>0` is unique (SEP-2). The numerics work on the atomic laws
    ``weights.discretize()`` and ``covariance.discretize()`` in the variable :math:`t = 1/e`
    (SEP-3): every Stieltjes value and every density value is a verified root (SEP-5, SEP-8),
    the edges are the critical points of the real branches of the equation (SEP-7), the atom at
    zero is :math:`\max(0, 1 - P(\lambda\ne0)/\gamma)`, the moments are exact from the two moment
    sequences (SEP-6). A point-mass covariance :math:`\Sigma = cI` is the GMP law of
    :math:`c\lambda`, and the object then answers with :class:`GeneralizedMarchenkoPastur` itself.

    References
    ----------
    .. [1] L. Zhang, "Spectral analysis of large dimensional random matrices", PhD thesis,
       National University of Singapore (2006).
    .. [2] D. Paul and J. W. Silverstein, "No eigenvalues outside the support of the limiting
       empirical spectral distribution of a separable covariance matrix", J. Multivariate Anal.
       100 (2009).
    .. [3] R. Couillet and W. Hachem, "Analysis of the limiting spectral measure of large random
       matrices of the separable covariance type", Random Matrices: Theory Appl. 3 (2014).

    Examples
    --------
    >>> from rmthess.laws import DiscreteLaw, PointMass
    >>> from rmthess.gmp import SeparableMarchenkoPastur
    >>> law = SeparableMarchenkoPastur(DiscreteLaw([-1.0, 2.0], [0.5, 0.5]),
    ...                                DiscreteLaw([0.5, 2.0], [0.5, 0.5]), 0.5)
    >>> law.moments(2).tolist()    # m1 = s1 E λ, m2 = s2 (E λ)² + γ s1² E λ²
    [0.625, 2.484375]
    >>> [tuple(round(v, 9) for v in b) for b in law.support()], law.atom_at_zero
    ([(-2.048662094, 5.340471173)], 0.0)
    """

    _OVERFLOW = "{what} overflows float64 for this law; rescale the weights or the covariance"

    def __init__(self, weights: WeightLaw, covariance: WeightLaw, gamma: float):
        if not isinstance(weights, WeightLaw):
            raise ValueError(f"weights must be a WeightLaw, got {type(weights).__name__}")
        self.gamma = GAMMA.validate(gamma)
        self.weights = weights
        self.covariance = covariance
        sig, _ = covariance_atoms(covariance)
        self._gmp = None
        if sig.size == 1:
            self._gmp = GeneralizedMarchenkoPastur(weights.scaled(float(sig[0])), self.gamma)
            return
        self._eq = SeparableEquation.from_laws(weights, covariance, self.gamma)
        self._e = math.frexp(self._eq.unit)[1] - 1
        self._bulks = find_separable_bulks(self._eq)

    def __repr__(self) -> str:
        return (f"SeparableMarchenkoPastur({self.weights!r}, {self.covariance!r}, "
                f"gamma={self.gamma!r})")

    # -- transforms -------------------------------------------------------------------------------
    def stieltjes(self, z) -> np.ndarray:
        r"""Stieltjes transform :math:`m(z)`, ``Im z > 0``; Herglotz branch (SEP-1, 2, 8)."""
        if self._gmp is not None:
            return self._gmp.stieltjes(z)
        z = check_upper_half_plane(z)
        zd = self._down(z)
        t = solve_separable_complex(self._eq, zd, self._bulks)
        return self._up(self._eq.stieltjes_from_t(t, zd), -1, "the Stieltjes transform")

    # -- distribution -----------------------------------------------------------------------------
    def pdf(self, x) -> np.ndarray:
        r"""Density :math:`\mathrm{Im}\,m(x+i0)/\pi` of the absolutely continuous part (SEP-5);
        exactly 0 outside :meth:`support`."""
        if self._gmp is not None:
            return self._gmp.pdf(x)
        x = check_real_array("x", x, allow_empty=True)
        xd = self._down(x).ravel()
        out = np.zeros(xd.shape)
        for bulk in self._bulks:
            inside = np.flatnonzero((xd > bulk.left) & (xd < bulk.right))
            if inside.size:
                t = solve_separable_bulk(self._eq, bulk, xd[inside])
                out[inside] = self._eq.stieltjes_from_t(t, xd[inside] + 0j).imag / np.pi
        return self._up(out.reshape(x.shape), -1, "the density")

    def support(self) -> list[tuple[float, float]]:
        """Bulks ``(left, right)`` of the absolutely continuous part, sorted (SEP-7)."""
        if self._gmp is not None:
            return self._gmp.support()
        return [(math.ldexp(b.left, self._e), math.ldexp(b.right, self._e)) for b in self._bulks]

    @functools.cached_property
    def _masses(self) -> np.ndarray:
        return np.array([_adaptive_mass(self.pdf, left, right) for left, right in self.support()])

    def bulk_masses(self) -> np.ndarray:
        r"""Mass of each bulk, in the order of :meth:`support`; for a non-scalar covariance by
        adaptive quadrature of the verified density (:func:`_adaptive_mass`)."""
        if self._gmp is not None:
            return self._gmp.bulk_masses()
        return self._masses.copy()

    @property
    def atom_at_zero(self) -> float:
        r""":math:`\mu(\{0\}) = \max(0, 1 - P(\lambda\neq0)/\gamma)` (SEP-0: Σ is invertible)."""
        return max(0.0, 1.0 - self.weights.prob_nonzero / self.gamma)

    # -- moments --------------------------------------------------------------------------------
    def moments(self, kmax: int, *, max_order: int = MAX_ORDER) -> np.ndarray:
        r"""``[m_1..m_kmax]`` from the free multiplicative convolution (SEP-6), exact rational
        arithmetic up to order 40. ``ValueError`` beyond ``max_order`` or on overflow."""
        kmax = _check_order(kmax)
        if kmax > max_order:
            raise ValueError(f"moments up to order {kmax} cost ~{kmax ** 3:.3g} operations; the "
                             f"limit is max_order = {max_order}")
        if self._gmp is not None:
            return self._gmp.moments(kmax, max_order=max_order)
        return separable_moments(self.weights.moments(kmax), self.gamma,
                                 self.covariance.moments(kmax + 1), kmax)

    def moment(self, k: int) -> float:
        r""":math:`m_k = \int x^k d\mu` (SEP-6)."""
        k = _check_order(k)
        return 1.0 if k == 0 else float(self.moments(k)[-1])

    def mean(self) -> float:
        r""":math:`m_1 = \mathbb{E}_H\sigma\,\mathbb{E}\lambda`."""
        return self.moment(1)

    # -- simulation -----------------------------------------------------------------------------
    def sample(self, d: int, *, rng=None, max_gib: float = SAMPLE_MAX_GIB) -> np.ndarray:
        r"""Sorted eigenvalues of one :math:`\frac1N\Sigma^{1/2}Y\Lambda Y^\top\Sigma^{1/2}`,
        :math:`N = \mathrm{round}(d/\gamma)`, Y iid N(0, 1), :math:`\lambda_n\sim\nu` and the d
        eigenvalues of :math:`\Sigma` iid :math:`\sim H` (Σ diagonal: the law of B does not depend
        on the eigenvectors of Σ). For :math:`N<d` the N non-zero eigenvalues come from
        :math:`L^\top\Lambda L/N` with :math:`Y^\top\Sigma Y = LL^\top`. Cost guard as
        :meth:`GeneralizedMarchenkoPastur.sample`."""
        d = DIM.validate(d)
        n = max(1, int(round(d / self.gamma)))
        gib = 8.0 * (2.0 * d * n + 2.0 * min(d, n) ** 2) / 2**30
        if gib > max_gib:
            raise ValueError(f"sample(d={d}) with N = {n} needs about {gib:.3g} GiB, more than "
                             f"max_gib = {max_gib:g} (pass a larger max_gib to allow it)")
        rng = as_generator(rng)
        lam = np.asarray(self.weights.sample(n, rng=rng), dtype=float)
        sig = np.asarray(self.covariance.sample(d, rng=rng), dtype=float)
        Z = np.sqrt(sig)[:, None] * rng.standard_normal((d, n))
        if d <= n:
            ev = np.linalg.eigvalsh((Z * lam) @ Z.T / n)
        else:
            L = np.linalg.cholesky(Z.T @ Z)
            ev = np.concatenate([np.linalg.eigvalsh((L.T * lam) @ L / n), np.zeros(d - n)])
        return np.sort(ev)
