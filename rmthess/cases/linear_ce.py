"""Case 2: linear model ``z = V x`` with the cross-entropy loss (theory/cases.md, (CASE-2))."""

from __future__ import annotations

import math

import numpy as np

from rmthess._validate import GAMMA, SIGMA_V
from rmthess.cases._architectures import LinearArchitecture, covariance_moments
from rmthess.cases._base import BlockLimit, CaseLimits
from rmthess.cases._blocks import BLOCK_V
from rmthess.cases._registry import register
from rmthess.integrals import softmax_moments
from rmthess.laws.prior import validate_prior

__all__ = ["LinearCE", "linear_ce_r0"]


def linear_ce_r0(gamma, sigma_v=1.0) -> float:
    r"""``lim_C C² g_ij/g_ii = (1 + γ e^{2σ²})/(1 + γ e^{σ²})`` (theory/cases.md, (CASE-5)).

    Written as ``e^{σ²}(1 + e^{−2σ²}/γ)/(1 + e^{−σ²}/γ)`` when ``γe^{σ²} > 1`` so that no
    intermediate overflows; a ``ValueError`` says so when the value itself exceeds the float64
    range.
    """
    gamma, sigma_v = GAMMA.validate(gamma), SIGMA_V.validate(sigma_v)
    s2 = sigma_v * sigma_v
    if math.log(gamma) + s2 <= 0.0:
        e = math.exp(s2)
        return (1.0 + gamma * e * e) / (1.0 + gamma * e)
    if s2 > 709.0:
        raise ValueError(f"linear_ce_r0 overflows float64 at sigma_v={sigma_v!r} (e^(sigma_v^2) "
                         "> 1.8e308); valid: sigma_v^2 <= 709")
    return math.exp(s2) * (1.0 + math.exp(-2.0 * s2) / gamma) / (1.0 + math.exp(-s2) / gamma)


def _at_effective_scale(moments, sigma_v, s1, covariance):
    """``moments(σ_v √s_1)`` (ANI-1); with a covariance, a refusal names the effective scale."""
    try:
        return moments(sigma_v * math.sqrt(s1))
    except ValueError as exc:
        if covariance is None:
            raise
        raise ValueError(f"the logits have the effective scale sigma_v*sqrt(s1) with "
                         f"s1 = tr(Sigma)/d = {s1!r}: {exc}") from None


@register
class LinearCE(LinearArchitecture):
    r"""Linear model, CE loss: weights ``a = p_1(1 − p_1)`` (diagonal) and ``b = −p_1 p_2``.

    Notes
    -----
    (CASE-2): ``g_ii = (E a)² + γ E a²``, ``g_ij = (E b)² + γ E b²`` with the Gaussian-softmax
    moments of (SM-1), ``p = softmax(z)``, ``z ~ N(0, σ_v² I_C)``. At C = 2, ``b = −a`` and the
    ratio is exactly 1. As C → ∞, ``C² g_ij/g_ii → r0 = (1 + γe^{2σ²})/(1 + γe^{σ²})`` (CASE-5),
    with the corrections of
    :func:`rmthess.symbolic.large_c.linear_ce_ratio_series`. Monte Carlo weights:
    ``Λ_n = diag(p_n) − p_n p_nᵀ``, ``p_n = softmax(V x_n)`` (theory/montecarlo.md, MC-1).

    ``covariance`` (a spectrum law H of a data covariance Σ, :mod:`rmthess.gmp.covariance`; None
    for Σ = I): the logits are ``N(0, σ_v² s_1 I)`` and ``g = s_2 (Eλ)² + γ s_1² Eλ²``
    (theory/anisotropic.md, ANI-1–ANI-3), ``s_k = E_H σᵏ``: the isotropic values at
    ``γ s_1²/s_2``, ``σ_v √s_1``, times ``s_2``.

    References
    ----------
    Dong et al., arXiv:2505.02809, theorem 1.

    Examples
    --------
    >>> from rmthess.cases import get_case
    >>> get_case("linear-ce").limits(1.0, 2).blocks["v"].ratio
    1.0
    """

    name = "linear-ce"
    loss = "ce"
    shift_invariant = True

    def limits(self, gamma, classes, *, m=None, sigma_v=1.0, covariance=None, rng=None,
               samples=None, prior=None) -> CaseLimits:
        """Limits at identical classes, or with the offsets ``b_c = log π_c`` of a ``prior``.

        With a prior, ``g_ii`` is the mean over the classes of ``g_ii(c)`` and ``g_ij`` the mean
        over the ordered pairs of distinct classes of ``g_ij(c, c′)`` (CASE-30);
        :meth:`class_limits` gives them class by class. A uniform prior is the identical-class case.
        With a ``covariance`` spectrum the isotropic limits are taken at the effective parameters
        of (ANI-3); with both, the offsets are not rescaled (ANI-13).
        """
        gamma, classes, m, sigma_v = self._check(gamma, classes, m, sigma_v)
        s1, s2 = covariance_moments(covariance)
        if prior is not None:
            cl = self.class_limits(gamma, validate_prior(prior, classes), sigma_v=sigma_v,
                                   covariance=covariance)
            if cl is not None:
                gd, go = cl["g_ii_mean"], cl["g_ij_mean"]
                return CaseLimits(self.name, gamma, classes, m, sigma_v,
                                  {BLOCK_V: BlockLimit(gd, go, go / gd)},
                                  covariance=None if covariance is None else (s1, s2))
        mom = _at_effective_scale(lambda sig: softmax_moments(classes, sig), sigma_v, s1,
                                  covariance)                         # (ANI-1)
        geff = gamma * (s1 * s1 / s2)                                 # (ANI-3)
        if classes == 2:  # p_2 = 1 - p_1, so H_12 = -H_11 exactly
            g = s2 * mom.g_diag(geff)
            blk = BlockLimit(g, g, 1.0)
        else:
            gd, go = s2 * mom.g_diag(geff), s2 * mom.g_offdiag(geff)
            blk = BlockLimit(gd, go, go / gd)
        return CaseLimits(self.name, gamma, classes, m, sigma_v, {BLOCK_V: blk},
                          covariance=None if covariance is None else (s1, s2))

    def class_limits(self, gamma, prior, *, sigma_v=1.0, pairs=(), covariance=None):
        r"""Per-class limits with the offsets ``b_c = log π_c`` (theory/cases.md, (CASE-30)); with
        a data ``covariance`` spectrum, at ``σ_v √s_1`` and ``γ s_1²/s_2`` times ``s_2``, the
        offsets unchanged (theory/anisotropic.md, ANI-13).

        Parameters
        ----------
        gamma : float
            Aspect ratio ``γ = d/N``.
        prior : array_like
            Class probabilities ``π`` (positive, finite, summing to 1 within 1e-12).
        sigma_v : float, optional
            Logit standard deviation, in ``[0.05, 5]``.
        pairs : sequence of (int, int), optional
            0-based pairs of distinct classes whose ``g_ij(c, c′)`` is wanted.

        Returns
        -------
        dict or None
            None for a uniform prior (identical classes: :meth:`limits` without a prior). Else
            ``g_ii`` (array over the classes), ``g_ii_mean``, ``g_ij_mean`` (mean over ordered
            pairs, SMO-4), ``E_a``, ``E_a2``, ``pairs`` and ``g_ij_pairs``.
        """
        from rmthess.integrals.softmax_offsets import offset_softmax_moments

        gamma = GAMMA.validate(gamma)
        sigma_v = SIGMA_V.validate(sigma_v)
        pi = np.asarray(prior, dtype=float)
        classes = self.check(len(pi) if pi.ndim == 1 else 0, None, sigma_v)[0]
        pi = validate_prior(pi, classes)
        if np.all(pi == pi[0]):
            return None
        s1, s2 = covariance_moments(covariance)
        mom = _at_effective_scale(
            lambda sig: offset_softmax_moments(np.log(pi), sig, pairs=pairs), sigma_v, s1,
            covariance)
        geff = gamma * (s1 * s1 / s2)                                 # (ANI-13)
        gd = s2 * mom.g_diag(geff)
        return {"g_ii": gd, "g_ii_mean": float(gd.mean()),
                "g_ij_mean": float(s2 * mom.g_offdiag_mean(geff)), "E_a": mom.mean_a,
                "E_a2": mom.mean_a2, "pairs": mom.pairs, "g_ij_pairs": s2 * mom.g_pairs(geff)}

    def class_block_law(self, gamma, prior, cls, *, sigma_v=1.0):
        """GMP law of the diagonal block of class ``cls`` (0-based) with the offsets
        ``b_c = log π_c``: the weight law of ``a_c = p_c(1 − p_c)`` (SML-5) at ratio γ; its second
        moment is ``g_ii(c)`` of :meth:`class_limits` exactly, its edges and density rest on the
        atoms of :class:`~rmthess.laws.softmax.OffsetSoftmaxLaw` (CASE-30), built for any C and
        prior by the tail split of (SML-6) (seconds per class at C = 10⁵–10⁶; ``rmthess limits
        --class-edges`` reports the edges)."""
        from rmthess.gmp import GeneralizedMarchenkoPastur
        from rmthess.laws.softmax import OffsetSoftmaxLaw

        gamma = GAMMA.validate(gamma)
        return GeneralizedMarchenkoPastur(OffsetSoftmaxLaw(prior, sigma_v, cls), gamma)

    def limits_mp(self, gamma, classes, *, m=None, sigma_v=1.0, covariance=None,
                  dps=30) -> CaseLimits:
        import mpmath

        from rmthess.integrals import softmax_moments_mp

        gamma, classes, m, sigma_v = self._check_mp(gamma, classes, m, sigma_v, dps)
        s1, s2 = covariance_moments(covariance)
        with mpmath.workdps(dps + 5):
            s1_, s2_ = mpmath.mpf(s1), mpmath.mpf(s2)
            sig = mpmath.mpf(sigma_v) * mpmath.sqrt(s1_)             # (ANI-1)
        mom = softmax_moments_mp(classes, sig, dps=dps + 5)
        with mpmath.workdps(dps + 5):
            g_ = mpmath.mpf(gamma) * s1_ ** 2 / s2_                   # (ANI-3)
            gd = s2_ * mom.g_diag(g_)
            go = gd if classes == 2 else s2_ * mom.g_offdiag(g_)
            r = go / gd
        with mpmath.workdps(dps):
            blk = BlockLimit(+gd, +go, +r)
        return CaseLimits(self.name, gamma, classes, m, sigma_v, {BLOCK_V: blk},
                          covariance=None if covariance is None else (s1, s2))

    def block_law(self, block, which, gamma, classes, *, m=None, sigma_v=1.0, covariance=None,
                  **kwargs):
        """GMP law with the Gaussian-softmax weight law of ``a`` or ``b`` (SML-1); with a
        ``covariance`` H the separable law of that weight law at ``σ_v √s_1`` and H (ANI-4)."""
        from rmthess.gmp import GeneralizedMarchenkoPastur, SeparableMarchenkoPastur
        from rmthess.laws.softmax import GaussianSoftmaxLaw

        gamma, classes, m, sigma_v = self._check_law(block, which, gamma, classes, m, sigma_v)
        s1, _ = covariance_moments(covariance)
        if covariance is None:
            return GeneralizedMarchenkoPastur(GaussianSoftmaxLaw(classes, sigma_v, which), gamma)
        nu = GaussianSoftmaxLaw(classes, sigma_v * math.sqrt(s1), which)
        return SeparableMarchenkoPastur(nu, covariance, gamma)

    def asymptote(self, gamma, classes, *, m=None, sigma_v=1.0, covariance=None) -> dict:
        gamma, classes, m, sigma_v = self._check(gamma, classes, m, sigma_v)
        s1, s2 = covariance_moments(covariance)                      # (ANI-3)
        return {BLOCK_V: linear_ce_r0(gamma * (s1 * s1 / s2), sigma_v * math.sqrt(s1))
                / classes ** 2}

    def weights(self, params, U):
        """``Λ_n = diag(p_n) − p_n p_nᵀ``: structured weights ``α = β = p_n``,
        ``p_n = softmax(u_n + b)`` with the offsets ``b = params.offset`` of a class prior (CASE-30;
        none by default)."""
        from rmthess._softmax import softmax
        from rmthess.montecarlo.blocknorms import StructuredWeights

        p = softmax(U if params.offset is None else U + params.offset)
        return {BLOCK_V: StructuredWeights(p, p)}

    def exact_moments(self, block, which, classes, sigma_v):
        """Exact ``(E a, E a²)`` / ``(E b, E b²)`` from
        :func:`rmthess.integrals.softmax_moments`."""
        mom = softmax_moments(classes, sigma_v)
        if which == "diag":
            return float(mom.mean_a), float(mom.mean_a2)
        return float(mom.mean_b), float(mom.mean_b2)
