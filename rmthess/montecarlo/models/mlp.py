r"""Cases 3 and 4: the 1-hidden-layer ReLU network ``f(x) = V relu(W x)`` with MSE or CE loss.

``W ∈ R^{m×d}``, ``W = σ_w ε/√d``; ``V ∈ R^{C×m}``, ``V = σ_v ε'/√m``, with ``ε, ε'`` iid of the
model's entry laws (by default Gaussian and σ_w = 1: ``W ~ N(0, 1/d)``, ``V ~ N(0, σ_v²/m)``;
:meth:`~rmthess.montecarlo.models.Model.with_init`, theory/cases.md CASE-20). With ``u_n = W x_n``,
``s_n = relu(u_n)``, ``p_n = softmax(V s_n)``:

* hidden blocks ``H_{w_i w_j} = (1/N) Σ_n a_ij(n) x_n x_nᵀ``, ``a_ij(n) = κ_ij(n) 1(u_ni>0) 1(u_nj>0)``,
  ``κ = VᵀV`` (MSE) or ``κ(n) = Vᵀ(diag p_n − p_n p_nᵀ)V`` (CE) — dense ``m×m`` weights;
* output blocks ``H_{v_c v_c'} = (1/N) Σ_n Λ_n^{cc'} s_n s_nᵀ`` with ``Λ_n = I`` (MSE) or
  ``diag(p_n) − p_n p_nᵀ`` (CE) — structured weights on the features ``s_n``.

The weights depend on ``x_n`` only through ``u_n`` (rank m), and the finite-size prediction is taken
conditional on V (theory/montecarlo.md, MC-9).
"""

from __future__ import annotations

import numpy as np

from rmthess.montecarlo import _kernels
from rmthess.montecarlo.blocknorms import DenseWeights, StructuredWeights
from rmthess.montecarlo.models._base import Model, Params

__all__ = ["MlpMSE", "MlpCE"]


class _Mlp(Model):
    block_types = ("hidden", "output")
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
        return X if block == "hidden" else np.maximum(U, 0.0)

    def square(self, block):
        return block == "hidden"


class MlpMSE(_Mlp):
    """Case 3: ``κ = VᵀV``; output blocks ``δ_cc' (1/N) Σ s sᵀ``."""

    name = "mlp-mse"
    loss = "mse"

    def weights(self, params, U):
        V = params.second
        kappa = V.T @ V
        on = (U > 0).astype(float)
        lam = kappa[None, :, :] * on[:, :, None] * on[:, None, :]
        return {"hidden": DenseWeights(lam),
                "output": StructuredWeights(np.ones((U.shape[0], V.shape[0])), None)}


class MlpCE(_Mlp):
    """Case 4: ``κ(n) = Vᵀ(diag p_n − p_n p_nᵀ)V``; output weights ``diag(p_n) − p_n p_nᵀ``."""

    name = "mlp-ce"
    loss = "ce"

    def weights(self, params, U):
        V = params.second
        U = np.ascontiguousarray(U, dtype=float)
        s = np.maximum(U, 0.0)
        p = _kernels.softmax_rows(np.ascontiguousarray(s @ V.T))
        lam = _kernels.mlp_hidden_weights(U, np.ascontiguousarray(V, dtype=float), p)
        return {"hidden": DenseWeights(lam), "output": StructuredWeights(p, p)}
