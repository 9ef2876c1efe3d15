r"""The generalized Marchenko–Pastur law of ``(1/N) X Λ Xᵀ`` as a law object in the scipy manner."""

from __future__ import annotations

import functools
import math

import numpy as np

from rmthess._validate import DIM, GAMMA, as_generator, check_finite_array, check_upper_half_plane
from rmthess.gmp._scale import BinaryScale
from rmthess.gmp.density import BulkCdf, density
from rmthess.gmp.edges import find_bulks
from rmthess.gmp.equation import AtomicEquation
from rmthess.gmp.marchenko_pastur import mp_density, mp_stieltjes
from rmthess.gmp.moments import MAX_ORDER, gmp_moments
from rmthess.gmp.solver import solve_t_complex
from rmthess.laws.base import WeightLaw, _check_order
from rmthess.laws.discrete import SAMPLE_MAX_GIB, check_real_array

__all__ = ["GeneralizedMarchenkoPastur"]


class GeneralizedMarchenkoPastur(BinaryScale):
    r"""Limiting spectral law :math:`\mu` of :math:`B = \frac1N X\Lambda X^\top`,
    :math:`d/N\to\gamma`.

    Parameters
    ----------
    weights : WeightLaw
        Law :math:`\nu` of the iid diagonal weights :math:`\lambda_n` (any sign), independent of X.
    gamma : float
        Aspect ratio :math:`\gamma = d/N > 0`.

    Notes
    -----
    The Stieltjes transform :math:`s(z) = \int\mu(dx)/(x-z)` is the unique solution with
    :math:`\mathrm{Im}\,s>0` for :math:`\mathrm{Im}\,z>0` of
    :math:`s = 1/(-z + \mathbb{E}[\lambda/(1+\gamma\lambda s)])` (GMP-1). All numerics work on the
    atomic law ``weights.discretize()`` (exact for discrete laws; see the weight law for the cost
    otherwise), in the variable :math:`t = 1/s` (GMP-3): the density uses exact root selection on
    the real axis, without smoothing (GMP-8); edges come from the critical points of the inverse
    map (GMP-7); the atom at zero is :math:`\max(0, 1-P(\lambda\neq0)/\gamma)` (GMP-5); moments
    come from the free cumulants :math:`\kappa_k = \gamma^{k-1}\mathbb{E}\lambda^k` of the weight
    law itself (GMP-6), not of its discretization. Internally the atoms are divided by a power of 2
    of the spectrum's scale, so that any weight scale and gamma in [1e-100, 1e100] are handled
    exactly (GMP-11); what float64 cannot represent — a bulk narrower than 1e-9 of its position
    (unless such bulks weigh less than 1e-12 in total: they are dropped), a spectrum or a result
    outside the float64 range — raises ``ValueError`` saying why.

    References
    ----------
    .. [1] Dong, Zhang, Yao, Sun, "Towards Quantifying the Hessian Structure of Neural Networks",
       arXiv:2505.02809 (2025).
    .. [2] J. W. Silverstein and S.-I. Choi, "Analysis of the limiting spectral distribution of
       large dimensional random matrices", J. Multivariate Anal. 54 (1995).

    Examples
    --------
    Marchenko–Pastur (:math:`\lambda\equiv1`), edges :math:`(1\pm\sqrt\gamma)^2`:

    >>> import numpy as np
    >>> from rmthess.laws import PointMass, DiscreteLaw
    >>> from rmthess.gmp import GeneralizedMarchenkoPastur
    >>> mp = GeneralizedMarchenkoPastur(PointMass(1.0), 0.25)
    >>> [tuple(round(v, 12) for v in b) for b in mp.support()]
    [(0.25, 2.25)]
    >>> exact = np.sqrt((1.0 - 0.25) * (2.25 - 1.0)) / (2 * np.pi * 0.25 * 1.0)
    >>> bool(abs(float(mp.pdf(1.0)) - exact) < 1e-14)
    True
    >>> law = GeneralizedMarchenkoPastur(DiscreteLaw([-1.0, 2.0], [0.5, 0.5]), 2.0)
    >>> law.atom_at_zero, law.moments(2).tolist()
    (0.5, [0.5, 5.25])
    """

    _OVERFLOW = ("{what} overflows float64 for this law (weights of scale 2^{e}); rescale the "
                 "weights (the law of c·lambda is the law scaled by c)")

    def __init__(self, weights: WeightLaw, gamma: float):
        if not isinstance(weights, WeightLaw) and not all(
                hasattr(weights, name) for name in ("discretize", "moments", "prob_nonzero")):
            raise ValueError(f"weights must be a WeightLaw, got {type(weights).__name__}")
        self.gamma = GAMMA.validate(gamma)
        self.weights = weights
        self._eq = AtomicEquation.from_law(weights, self.gamma, normalize=True)
        self._e = math.frexp(self._eq.unit)[1] - 1      # unit = 2**e (GMP-11)
        self._bulks = find_bulks(self._eq)
        # one non-zero atom: Marchenko–Pastur closed forms (GMP-4a, GMP-4b) instead of the solver
        self._one_atom = self._eq.atoms.size == 1

    def __repr__(self) -> str:
        return f"GeneralizedMarchenkoPastur({self.weights!r}, gamma={self.gamma!r})"

    # -- transforms -------------------------------------------------------------------------------
    def stieltjes(self, z) -> np.ndarray:
        r"""Stieltjes transform :math:`s(z)`, ``Im z > 0`` required; Herglotz branch (GMP-1, GMP-9).

        For a weight law with one non-zero atom the root of the quadratic (GMP-4a) is used.
        """
        z = check_upper_half_plane(z)
        if self._one_atom:
            s = mp_stieltjes(self._down(z), self._eq.atoms[0], self._eq.probs[0], self.gamma)
        else:
            s = 1.0 / solve_t_complex(self._eq, self._down(z), self._bulks)
        return self._up(s, -1, "the Stieltjes transform")

    def stieltjes_derivative(self, z) -> np.ndarray:
        r""":math:`s'(z) = -t^{-2}/z'(t)`, :math:`t = 1/s(z)` (GMP-3)."""
        z = check_upper_half_plane(z)
        s = 1.0 / solve_t_complex(self._eq, self._down(z), self._bulks)
        return self._up(-(s * s) / self._eq.dz_dt(1.0 / s), -2, "the derivative s'(z)")

    def inverse(self, s) -> np.ndarray:
        r"""Inverse map :math:`z(s) = -1/s + \mathbb{E}[\lambda/(1+\gamma\lambda s)]` (GMP-2)."""
        s = check_finite_array("s", s, dtype=np.complex128, allow_empty=True)
        if np.any(s == 0):
            raise ValueError("s must be non-zero")
        out = self._up(self._eq.inverse(self._up(s, 1, "unit·s")), 1, "z(s)")
        return out.real if np.isrealobj(np.asarray(s)) or np.all(s.imag == 0) else out

    # -- distribution -----------------------------------------------------------------------------
    def pdf(self, x):
        r"""Density of the absolutely continuous part, :math:`\mathrm{Im}\,s(x+i0)/\pi` (GMP-8).

        Exactly 0 outside :meth:`support`; the atom at zero is :attr:`atom_at_zero`. For a weight
        law with one non-zero atom the closed form (GMP-4b) is used.
        A scalar ``x`` gives a float, an array an array of its shape.
        """
        scalar = np.ndim(x) == 0
        x = check_real_array("x", x, allow_empty=True)
        if self._one_atom and len(self._bulks) == 1:
            b = self._bulks[0]
            rho = mp_density(self._down(x), self._eq.atoms[0], self.gamma, b.left, b.right)
        else:
            rho = density(self._eq, self._bulks, self._down(x))
        out = self._up(rho, -1, "the density")
        return float(out) if scalar else out

    def cdf(self, x):
        r""":math:`\mu((-\infty, x])`, atom at zero included (GMP-10). A scalar ``x`` gives a
        float, an array an array of its shape."""
        scalar = np.ndim(x) == 0
        x = check_real_array("x", x, allow_empty=True)
        out = np.where(x >= 0, self.atom_at_zero, 0.0)
        xu = self._down(x)
        for cdf in self._bulk_cdfs:
            out = out + cdf(xu)
        out = np.minimum(out, 1.0)
        return float(out) if scalar else out

    @functools.cached_property
    def _bulk_cdfs(self):
        return [BulkCdf(self._eq, b) for b in self._bulks]

    def bulk_masses(self) -> np.ndarray:
        """Mass of each bulk (integral of the density), in the order of :meth:`support`."""
        return np.array([c.mass for c in self._bulk_cdfs])

    def support(self) -> list[tuple[float, float]]:
        """Bulks ``(left, right)`` of the absolutely continuous part, sorted (GMP-7)."""
        e = self._e
        try:
            return [(math.ldexp(b.left, e), math.ldexp(b.right, e)) for b in self._bulks]
        except OverflowError:
            raise ValueError(f"an edge overflows float64 for this law (weights of scale 2^{e}); "
                             f"rescale the weights (the law of c·lambda is the law scaled by c)")\
                from None

    def soft_edge(self, side: str = "right") -> tuple[float, float]:
        r"""The outermost edge :math:`E` on ``side`` and the coefficient :math:`c` of the density
        there, :math:`\rho(x) = (c/\pi)\sqrt{|E - x|}\,(1 + O(|E - x|))` (GMP-12).

        With :math:`t_e` the critical point of the inverse map (GMP-7) and :math:`z''(t_e)` its
        second derivative, :math:`c = \sqrt{2/|z''(t_e)|}/t_e^2`. ``side`` is ``"right"`` (the
        right edge of the rightmost bulk) or ``"left"`` (the left edge of the leftmost one).
        ``ValueError`` for a hard edge at 0 (:math:`\gamma = P(\lambda\neq0)`, where the density
        diverges like :math:`|x|^{-1/2}`) or a law without a continuous part.
        """
        if side not in ("right", "left"):
            raise ValueError(f"side must be 'right' or 'left', got {side!r}")
        if not self._bulks:
            raise ValueError("the law has no continuous part (all weights are 0): no edge")
        b = self._bulks[-1] if side == "right" else self._bulks[0]
        edge, t, d2 = (b.right, b.t_right, b.d2_right) if side == "right" else (
            b.left, b.t_left, b.d2_left)
        if t == 0.0 or d2 == 0.0:
            raise ValueError(f"the {side} edge at 0 is a hard edge (gamma = P(lambda != 0)): the "
                             f"density diverges there, no square-root coefficient")
        c = math.sqrt(2.0 / abs(d2)) / (t * t)
        return math.ldexp(edge, self._e), c * 2.0 ** (-1.5 * self._e)

    @property
    def atom_at_zero(self) -> float:
        r""":math:`\mu(\{0\}) = \max(0, 1 - P(\lambda\neq0)/\gamma)` (GMP-5)."""
        return max(0.0, 1.0 - self.weights.prob_nonzero / self.gamma)

    # -- moments ---------------------------------------------------------------------------------
    def moment(self, k: int, *, max_order: int = MAX_ORDER) -> float:
        r""":math:`m_k = \int x^k d\mu`, exact from the free cumulants (GMP-6).

        ``ValueError`` if :math:`m_k` overflows float64, or if ``k > max_order`` (cost guard).
        """
        k = _check_order(k)
        return 1.0 if k == 0 else float(self.moments(k, max_order=max_order)[-1])

    def moments(self, kmax: int, *, max_order: int = MAX_ORDER) -> np.ndarray:
        r"""``[m_1, ..., m_kmax]`` (GMP-6), computed on the rescaled law (GMP-11).

        ``ValueError`` if a moment overflows float64, or if ``kmax > max_order`` (cost guard: the
        recursion costs ~kmax²/2 vector operations).
        """
        kmax = _check_order(kmax)
        return gmp_moments(self.weights, self.gamma, kmax, exponent=self._e, max_order=max_order)

    @property
    def mean(self) -> float:
        r""":math:`m_1 = \mathbb{E}\lambda`, a property as :attr:`WeightLaw.mean
        <rmthess.laws.base.WeightLaw.mean>` is."""
        return self.moment(1)

    # -- simulation ------------------------------------------------------------------------------
    def sample(self, d: int, *, rng=None, max_gib: float = SAMPLE_MAX_GIB) -> np.ndarray:
        """Deprecated name of :meth:`sample_eigenvalues` (``sample`` of a weight law draws iid
        values; this one draws a matrix and returns its eigenvalues)."""
        import warnings

        warnings.warn("GeneralizedMarchenkoPastur.sample is deprecated: use sample_eigenvalues "
                      "(the eigenvalues of one random matrix)", DeprecationWarning, stacklevel=2)
        return self.sample_eigenvalues(d, rng=rng, max_gib=max_gib)

    def sample_eigenvalues(self, d: int, *, rng=None,
                           max_gib: float = SAMPLE_MAX_GIB) -> np.ndarray:
        r"""Sorted eigenvalues of one :math:`\frac1N X\Lambda X^\top`,
        :math:`N=\mathrm{round}(d/\gamma)`.

        X has iid N(0, 1) entries, :math:`\lambda_n` are iid draws of the weight law. When
        :math:`N < d` the :math:`N` non-zero eigenvalues come from the :math:`N\times N` matrix
        :math:`L^\top\Lambda L/N` with :math:`X^\top X = LL^\top`, plus :math:`d-N` zeros.
        Cost guard: ``ValueError`` before any allocation when the matrices need more than
        ``max_gib`` GiB (about ``8 (2 d N + 2 min(d, N)²)`` bytes).
        """
        d = DIM.validate(d)
        n = max(1, int(round(d / self.gamma)))
        gib = 8.0 * (2.0 * d * n + 2.0 * min(d, n) ** 2) / 2**30
        if gib > max_gib:
            raise ValueError(f"sample_eigenvalues(d={d}) with N = {n} needs about {gib:.3g} GiB, "
                             f"more than max_gib = {max_gib:g} (pass a larger max_gib to allow "
                             f"it)")
        rng = as_generator(rng)
        lam = np.asarray(self.weights.sample(n, rng=rng), dtype=float)
        X = rng.standard_normal((d, n))
        if d <= n:
            ev = np.linalg.eigvalsh((X * lam) @ X.T / n)
        else:
            L = np.linalg.cholesky(X.T @ X)
            ev = np.concatenate([np.linalg.eigvalsh((L.T * lam) @ L / n), np.zeros(d - n)])
        return np.sort(ev)
