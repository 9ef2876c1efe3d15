r"""The two architectures the cases share: the linear model and the one-hidden-layer ReLU network.

An architecture fixes how a case draws its parameters for the Monte Carlo, which low-rank
projection ``U = X Mᵀ`` of the data its weights depend on (``M`` the first-layer matrix, of rank
``r``) and which features its blocks are built from (theory/montecarlo.md §1). The loss — and so
the limits and the weights themselves — belongs to the case.

* Linear: ``z_n = V x_n``, ``V ∈ R^{C×d}``, ``V_ci = σ_v ε_ci/√d`` (ε of the entry law ``v_law``,
  Gaussian by default); blocks are indexed by the rows ``v_i``, ``r = C``, features ``x_n``.
* Hidden: ``f(x) = V relu(W x)``, ``W = σ_w ε/√d`` (m×d), ``V = σ_v ε'/√m`` (C×m) (CASE-20);
  hidden blocks are indexed by the rows ``w_i`` with features ``x_n``, output blocks by the rows
  ``v_c`` with features ``s_n = relu(W x_n)``; ``r = m``, and the finite-size prediction is
  conditional on V (theory/montecarlo.md, MC-9).

Both draw ``x = Σ^{1/2} y`` for a data covariance and add the logit offsets ``log π_c`` of a class
prior to the CE logits when :meth:`~rmthess.cases.Case.with_data` sets them (theory/anisotropic.md,
ANI-10, ANI-14).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from rmthess._validate import GAMMA, SIGMA_V, check_finite_array
from rmthess.cases._base import Case, CaseLimits, Params
from rmthess.cases._blocks import BLOCK_HIDDEN, BLOCK_OUTPUT, BLOCK_V

__all__: list[str] = []


def covariance_moments(covariance) -> tuple[float, float]:
    r"""``(s_1, s_2) = (E_H σ, E_H σ²)`` of a data-covariance spectrum law H (theory/anisotropic.md,
    ANI-2); ``(1.0, 1.0)`` for ``None`` (Σ = I).

    ``covariance`` is a :class:`~rmthess.laws.base.WeightLaw` of the eigenvalues of Σ, as
    :mod:`rmthess.gmp.covariance` builds them; ``ValueError`` unless its atoms are finite and > 0.
    """
    if covariance is None:
        return 1.0, 1.0
    from rmthess.gmp.separable_equation import covariance_atoms

    covariance_atoms(covariance)                    # positive definite, finite (ValueError)
    s1, s2 = float(covariance.moment(1)), float(covariance.moment(2))
    if not (np.isfinite(s1) and np.isfinite(s2) and s1 > 0 and s2 > 0):
        raise ValueError(f"covariance spectrum moments must be finite and > 0, got s1={s1!r}, "
                         f"s2={s2!r}")
    return s1, s2


@dataclass(frozen=True)
class HiddenAnisotropy:
    r"""A data covariance seen by the one-hidden-layer network (theory/anisotropic.md, ANI-5–ANI-8).

    With ``x = Σ^{1/2} y`` the pre-activations ``u = W x`` are asymptotically ``N(0, s_1 I_m)``
    (ANI-5), and by ReLU homogeneity every limit is the isotropic one at the effective parameters
    ``γ_eff = γ s_1²/s_2``, ``σ_eff = σ_v √s_1`` (same entry law of V), the hidden ``g`` times
    ``s_2/s_1²`` (ANI-6) and the output ``g`` times ``s_1²`` (ANI-7); every ratio is the isotropic
    ratio at ``(γ_eff, σ_eff)``. ``s_1 = s_2 = 1`` (Σ = I, or ``covariance=None``) maps every number
    to itself bit for bit.
    """

    s1: float
    s2: float
    #: whether a covariance was given (None: Σ = I, and the results carry no ``covariance``)
    given: bool

    @classmethod
    def of(cls, covariance) -> HiddenAnisotropy:
        """From a spectrum law H (validated by :func:`covariance_moments`) or None."""
        s1, s2 = covariance_moments(covariance)
        return cls(s1, s2, covariance is not None)

    def effective(self, gamma: float, sigma_v: float) -> tuple[float, float]:
        """``(γ s_1²/s_2, σ_v √s_1)`` (ANI-6); ``ValueError`` when they leave the domains of γ
        and σ_v."""
        gamma_eff, sigma_eff = gamma * (self.s1 * self.s1 / self.s2), sigma_v * math.sqrt(self.s1)
        if self.given:
            try:
                GAMMA.validate(gamma_eff)
                SIGMA_V.validate(sigma_eff)
            except ValueError as exc:
                raise ValueError(f"{self._where(gamma_eff, sigma_eff)} are out of range: "
                                 f"{exc}") from None
        return gamma_eff, sigma_eff

    def _where(self, gamma_eff, sigma_eff) -> str:
        return (f"with the data covariance (s1 = {self.s1!r}, s2 = {self.s2!r}) the effective "
                f"parameters gamma*s1^2/s2 = {gamma_eff!r}, sigma_v*sqrt(s1) = {sigma_eff!r}")

    def explained(self, exc: ValueError, gamma: float, sigma_v: float) -> ValueError:
        """``exc`` of an evaluation at the effective parameters, with them named when a covariance
        was given (the isotropic message speaks of the parameters it was handed)."""
        if not self.given:
            return exc
        return ValueError(f"{self._where(*self.effective(gamma, sigma_v))}: {exc}")

    @property
    def factors(self) -> dict:
        """``{"hidden": s_2/s_1², "output": s_1²}``: the isotropic ``g`` at the effective
        parameters times these are the anisotropic ``g`` (ANI-6, ANI-7)."""
        return {BLOCK_HIDDEN: self.s2 / (self.s1 * self.s1), BLOCK_OUTPUT: self.s1 * self.s1}

    def restore(self, lim: CaseLimits, gamma: float, sigma_v: float) -> CaseLimits:
        """The limits ``lim`` of the isotropic case at the effective parameters, as those of the
        anisotropic case at ``(γ, σ_v)``: ``g`` and their standard errors times :attr:`factors`,
        ratios as they are."""
        blocks = {}
        for name, blk in lim.blocks.items():
            f = self.factors[name]
            blocks[name] = dataclasses.replace(
                blk, g_ii=blk.g_ii * f, g_ij=blk.g_ij * f,
                stderr_g_ii=None if blk.stderr_g_ii is None else blk.stderr_g_ii * f,
                stderr_g_ij=None if blk.stderr_g_ij is None else blk.stderr_g_ij * f)
        return dataclasses.replace(lim, gamma=gamma, sigma_v=sigma_v, blocks=blocks,
                                   covariance=(self.s1, self.s2) if self.given else None)


class LinearArchitecture(Case):
    """``z = V x``: one block type ``"v"`` of C d×d blocks, exchangeable in the class index."""

    block_types = (BLOCK_V,)
    hidden = False

    def rank(self, classes, m):
        return int(classes)

    def first_sigma(self, sigma_v):
        return float(sigma_v)

    def draw(self, rng, d, classes, m, sigma_v):
        V = self.v_law.sample(rng, (classes, d)) * (sigma_v / np.sqrt(d))
        return Params(first=V, offset=self.offset(classes))

    def exchangeable(self, block):
        return True


class HiddenArchitecture(Case):
    """``f = V relu(W x)``: m d×d hidden blocks and C m×m output blocks."""

    block_types = (BLOCK_HIDDEN, BLOCK_OUTPUT)
    hidden = True

    def rank(self, classes, m):
        return int(m)

    def first_sigma(self, sigma_v):
        return self.sigma_w

    def draw(self, rng, d, classes, m, sigma_v):
        W = self.sigma_w * self.w_law.sample(rng, (m, d)) / np.sqrt(d)
        V = self.v_law.sample(rng, (classes, m)) * (sigma_v / np.sqrt(m))
        return Params(first=W, second=V, offset=self.offset(classes))

    def features(self, block, X, U):
        return X if block == BLOCK_HIDDEN else np.maximum(U, 0.0)

    @staticmethod
    def hidden_block(block, V, indices, classes, m):
        """Checks of a fixed-V block law: a hidden block, a C×m ``V``, two distinct hidden units.

        Returns ``(V, i, j)`` with ``V`` as a float array.
        """
        if block != BLOCK_HIDDEN:
            raise ValueError("output blocks are m×m and have no d-dimensional spectral law; "
                             f"use block={BLOCK_HIDDEN!r}")
        if V is None:
            raise ValueError("the block law of an mlp case is taken at a fixed output matrix: "
                             f"pass V (shape ({classes}, {m}))")
        V = check_finite_array("V", V, ndim=2)
        if V.shape != (classes, m):
            raise ValueError(f"V must have shape (classes, m) = ({classes}, {m}), got {V.shape}")
        try:
            i, j = (int(t) for t in indices)
        except (TypeError, ValueError):
            raise ValueError(f"indices must be a pair of hidden units, got {indices!r}") from None
        if not (0 <= i < m and 0 <= j < m) or i == j:
            raise ValueError(f"indices must be two distinct integers in [0, {m}), got {indices!r}")
        return V, i, j

    @staticmethod
    def hidden_gram_factor(gram, m):
        r"""The lower Cholesky factor ``L`` of ``gram`` (``LLᵀ = gram``), the covariance of the
        pre-activations ``u = W y`` at a fixed first layer W (``W Wᵀ`` for standard inputs y;
        theory/cases.md, CASE-37); None for ``gram=None`` (``u ~ N(0, I_m)``, the d → ∞ limit of
        ``W Wᵀ`` for rows of unit norm).
        """
        if gram is None:
            return None
        G = check_finite_array("gram", gram, ndim=2)
        if G.shape != (m, m):
            raise ValueError(f"gram must have shape (m, m) = ({m}, {m}), got {G.shape}")
        if np.max(np.abs(G - G.T)) > 1e-12 * np.max(np.abs(G)):
            raise ValueError("gram must be symmetric")
        try:
            return np.linalg.cholesky((G + G.T) / 2)
        except np.linalg.LinAlgError:
            raise ValueError("gram must be positive definite (W of full row rank)") from None
