"""Case 3: one-hidden-layer ReLU network with the MSE loss, exact.

theory/cases.md, (CASE-6)–(CASE-8) and (CASE-21).
"""

from __future__ import annotations

import math

import numpy as np

from rmthess.cases._architectures import HiddenAnisotropy, HiddenArchitecture
from rmthess.cases._base import BlockLimit, CaseLimits
from rmthess.cases._blocks import BLOCK_HIDDEN, BLOCK_OUTPUT
from rmthess.cases._registry import register
from rmthess.laws.entry import GaussianEntries, entry_law

__all__ = ["MlpMSE"]


def _hidden(gamma, classes, m, sigma_v, kurtosis, mp=None):
    """Averaged over V (CASE-7, CASE-21): ``E κ_ii² = σ⁴C(C − 1 + μ₄)/m²``, ``E κ_ij² = σ⁴C/m²``."""
    one = mp.mpf(1) if mp else 1.0
    s4 = (one * sigma_v) ** 4
    k = classes - 1 + kurtosis * one
    g_ii = s4 * classes * k / m ** 2 * (one / 4 + one * gamma / 2)
    g_ij = s4 * classes / m ** 2 * (one / 16 + one * gamma / 4)
    inv = one / gamma  # (1 + 4γ)/(1 + 2γ) as (1/γ + 4)/(1/γ + 2): no overflow at large γ
    ratio = (inv + 4) / (4 * (inv + 2) * k)
    return g_ii, g_ij, ratio


def _kurtosis(v_law):
    """``μ₄ = E ε⁴`` of the entry law of V; exactly 3 for the Gaussian law."""
    law = entry_law(v_law)
    return 3 if isinstance(law, GaussianEntries) else law.kurtosis


def _output(m, mp=None):
    """(CASE-8): ``‖E s sᵀ‖²_F = m/4 + m(m − 1)/(4π²)``; off-diagonal output blocks are 0."""
    pi = mp.pi if mp else math.pi
    one = mp.mpf(1) if mp else 1.0
    return one * m / 4 + one * m * (m - 1) / (4 * pi ** 2)


@register
class MlpMSE(HiddenArchitecture):
    r"""One-hidden-layer ReLU network ``f = V relu(W x)`` with the MSE loss.

    Notes
    -----
    (CASE-6): at fixed V, ``(1/d)‖H_{w_i w_j}‖²_F → κ_ij²(1/16 + γ/4)`` (i ≠ j) and
    ``κ_ii²(1/4 + γ/2)``, ``κ = VᵀV``. (CASE-7): averaged over ``V_ci ~ N(0, σ_v²/m)`` the ratio is
    ``(1 + 4γ)/(4(1 + 2γ)(C + 2))``, independent of m and σ_v. (CASE-21): for ``V_ci = σ_v ε/√m``
    with any entry law (``v_law``) of Pearson kurtosis ``μ₄ = E ε⁴`` it is
    ``(1 + 4γ)/(4(1 + 2γ)(C − 1 + μ₄))`` (μ₄ = 3 Gaussian, 9/5 uniform, 1 Rademacher). (CASE-8):
    output blocks ``‖H_{v_c v_c}‖²_F → m/4 + m(m − 1)/(4π²)`` and ``H_{v_c v_c'} ≡ 0``. The hidden
    ``g`` are ``E_V`` of the fixed-V limits; the output ``g`` are limits of ``‖H‖²_F`` (m×m blocks).
    Monte Carlo weights: ``a_ij(n) = κ_ij 1(u_ni>0) 1(u_nj>0)`` on the hidden blocks, ``Λ_n = I``
    on the output blocks (theory/montecarlo.md, MC-1).

    With a data covariance of spectrum law H (``covariance``, :mod:`rmthess.gmp.covariance`;
    theory/anisotropic.md, ANI-5–ANI-8), ``s_k = E_H σᵏ``: hidden
    ``g = s_2 (Eλ)² + γ s_1² Eλ²`` with the weights above (scale-free in u), i.e. the isotropic
    ``g`` at ``γ s_1²/s_2`` times ``s_2`` (the ratio at ``γ s_1²/s_2``); output ``g`` times
    ``s_1²``; the block laws are separable laws (ANI-8).

    References
    ----------
    Dong et al., arXiv:2505.02809, theorem 2.

    Examples
    --------
    >>> from rmthess.cases import get_case
    >>> lim = get_case("mlp-mse").limits(1.0, 8, m=4)
    >>> # (1+4γ)/(4(1+2γ)(C+2)) at γ=1, C=8
    >>> round(lim.blocks["hidden"].ratio * 4 * 3 * 10 / 5, 12)
    1.0
    """

    name = "mlp-mse"
    loss = "mse"

    def limits(self, gamma, classes, *, m=None, sigma_v=1.0, covariance=None, rng=None,
               samples=None, v_law=None, prior=None) -> CaseLimits:
        """The limits; ``v_law`` is the entry law of V (:func:`rmthess.laws.entry.entry_law`),
        ``covariance`` the spectrum law of a data covariance (ANI-6, ANI-7). A class ``prior`` is
        refused: logit offsets do not enter the MSE blocks (CASE-31)."""
        self._refuse_prior(prior)
        gamma, classes, m, sigma_v = self._check(gamma, classes, m, sigma_v)
        ani = HiddenAnisotropy.of(covariance)
        gamma_eff, sigma_eff = ani.effective(gamma, sigma_v)
        gh = _hidden(gamma_eff, classes, m, sigma_eff, _kurtosis(v_law))
        iso = CaseLimits(self.name, gamma_eff, classes, m, sigma_eff,
                         {BLOCK_HIDDEN: BlockLimit(*gh),
                          BLOCK_OUTPUT: BlockLimit(_output(m), 0.0, 0.0)})
        return ani.restore(iso, gamma, sigma_v)

    def limits_mp(self, gamma, classes, *, m=None, sigma_v=1.0, covariance=None, dps=30,
                  v_law=None) -> CaseLimits:
        """:meth:`limits` to ``dps`` digits (for a non-Gaussian ``v_law`` its float64 kurtosis; for
        a ``covariance`` its float64 moments ``s_1``, ``s_2``)."""
        import mpmath

        gamma, classes, m, sigma_v = self._check_mp(gamma, classes, m, sigma_v, dps)
        kurt = _kurtosis(v_law)
        ani = HiddenAnisotropy.of(covariance)
        ani.effective(gamma, sigma_v)                                 # range of (γ_eff, σ_eff)
        with mpmath.workdps(dps + 5):
            s1, s2 = mpmath.mpf(ani.s1), mpmath.mpf(ani.s2)
            g_eff = mpmath.mpf(gamma) * s1 ** 2 / s2                  # (ANI-6)
            sig_eff = mpmath.mpf(sigma_v) * mpmath.sqrt(s1)
            gh = _hidden(g_eff, classes, m, sig_eff, mpmath.mpf(kurt), mpmath)
            f_hidden, f_output = s2 / s1 ** 2, s1 ** 2               # (ANI-6, ANI-7)
            go = f_output * _output(m, mpmath)
            gii, gij = f_hidden * gh[0], f_hidden * gh[1]
        with mpmath.workdps(dps):
            z = mpmath.mpf(0)
            blocks = {BLOCK_HIDDEN: BlockLimit(+gii, +gij, +gh[2]),
                      BLOCK_OUTPUT: BlockLimit(+go, z, z)}
        return CaseLimits(self.name, gamma, classes, m, sigma_v, blocks,
                          covariance=(ani.s1, ani.s2) if ani.given else None)

    def block_law(self, block, which, gamma, classes, *, m=None, sigma_v=1.0, covariance=None,
                  V=None, indices=(0, 1), gram=None, **kwargs):
        r"""GMP law of ``H_{w_i w_i}`` (``"diag"``) or ``H_{w_i w_j}`` (``"offdiag"``) at a fixed V.

        ``V`` is the C×m output matrix, ``indices = (i, j)`` the hidden units. Weights (CASE-6):
        ``κ_ii·Bernoulli(1/2)`` and ``κ_ij·Bernoulli(1/4)`` (two independent half-spaces). With a
        ``covariance`` H the separable law of the same weights and H (ANI-8: the half-spaces do
        not see the scale of u). With ``gram`` (the m×m ``W Wᵀ`` of a fixed first layer) the two
        half-spaces are correlated: ``κ_ij·Bernoulli(1/4 + arcsin(ρ_ij)/(2π))``,
        ``ρ_ij = gram_ij/√(gram_ii gram_jj)`` (CASE-37).
        """
        from rmthess.gmp import GeneralizedMarchenkoPastur, SeparableMarchenkoPastur
        from rmthess.laws import DiscreteLaw

        gamma, classes, m, sigma_v = self._check_law(block, which, gamma, classes, m, sigma_v)
        HiddenAnisotropy.of(covariance)
        V, i, j = self.hidden_block(block, V, indices, classes, m)
        L = self.hidden_gram_factor(gram, m)
        kappa = V.T @ V
        if which == "diag":
            nu = DiscreteLaw([0.0, kappa[i, i]], [0.5, 0.5])
        else:  # the orthant probability of two standard normals of correlation ρ (Sheppard)
            G = np.eye(m) if L is None else L @ L.T                 # gram, symmetrized
            rho = G[i, j] / math.sqrt(G[i, i] * G[j, j])
            p_on = 0.25 + math.asin(rho) / (2.0 * math.pi)
            nu = DiscreteLaw([0.0, kappa[i, j]], [1.0 - p_on, p_on])
        if covariance is None:
            return GeneralizedMarchenkoPastur(nu, gamma)
        return SeparableMarchenkoPastur(nu, covariance, gamma)

    def asymptote(self, gamma, classes, *, m=None, sigma_v=1.0, covariance=None,
                  v_law=None) -> dict:
        """Leading large-C terms; the entry law of V enters the exact ratio (CASE-21) only through
        ``C − 1 + μ₄``, so the leading term does not depend on ``v_law`` (validated all the
        same). With a ``covariance``: at ``γ s_1²/s_2`` (ANI-6)."""
        _kurtosis(v_law)
        gamma, classes, m, sigma_v = self._check(gamma, classes, m, sigma_v)
        g, _ = HiddenAnisotropy.of(covariance).effective(gamma, sigma_v)
        return {BLOCK_HIDDEN: (1 / g + 4) / (4 * (1 / g + 2) * classes), BLOCK_OUTPUT: 0.0}

    def exact_weight_rule(self, block, ij, params, r):
        r"""λ = κ_ij on ``{y_i > 0, y_j > 0}`` (``{y_i > 0}`` if i = j), else 0, with the orthant
        moments ``E[1_on y yᵀ] = P I + 1(i≠j)(e_i e_jᵀ + e_j e_iᵀ)/(2π)``, ``P = 1/2`` or ``1/4``
        (theory/montecarlo.md, MC-15)."""
        i, j = ij
        V = params.second
        kappa_ij = float((V.T @ V)[i, j])
        p_on = 0.5 if i == j else 0.25
        on = p_on * np.eye(r)
        if i != j:
            on[i, j] = on[j, i] = 1.0 / (2.0 * math.pi)
        mom = np.stack([on, np.eye(r) - on])
        return np.array([kappa_ij, 0.0]), np.array([p_on, 1.0 - p_on]), mom

    def weights(self, params, U):
        """Hidden: dense ``κ 1(u_i>0) 1(u_j>0)``, ``κ = VᵀV``; output: ``Λ_n = I``."""
        from rmthess.montecarlo.blocknorms import DenseWeights, StructuredWeights

        V = params.second
        kappa = V.T @ V
        on = (U > 0).astype(float)
        lam = kappa[None, :, :] * on[:, :, None] * on[:, None, :]
        return {BLOCK_HIDDEN: DenseWeights(lam),
                BLOCK_OUTPUT: StructuredWeights(np.ones((U.shape[0], V.shape[0])), None)}

