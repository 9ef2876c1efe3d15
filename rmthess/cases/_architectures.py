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
"""

from __future__ import annotations

import numpy as np

from rmthess._validate import check_finite_array
from rmthess.cases._base import Case, Params
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
        return Params(first=V)

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
        return Params(first=W, second=V)

    def features(self, block, X, U):
        return X if block == BLOCK_HIDDEN else np.maximum(U, 0.0)

    def refuse_covariance(self, covariance):
        """``ValueError`` unless ``covariance`` is None: the data-covariance limits
        (theory/anisotropic.md) are derived for the linear cases only."""
        if covariance is not None:
            raise ValueError(f"a data covariance (covariance=, --covariance*) is supported for the "
                             f"linear cases (linear-mse, linear-ce) only, not for {self.name}")

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
