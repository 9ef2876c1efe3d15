r"""Spectral experiments: block spectra, empirical Stieltjes transforms, the exact coupling and the
Lindeberg path, one module each.

* :func:`block_spectrum` (:mod:`.block`) — eigenvalues of one d×d block (diagonal ``(0, 0)`` or
  off-diagonal ``(0, 1)``) of a realization under any design.
* :func:`empirical_stieltjes` (:mod:`.stieltjes`) — ``s(z) = (1/d) Σ_k 1/(e_k − z)``.
* :func:`coupling` (:mod:`.exact_coupling`) — the decoupling error with common random numbers: per
  replicate the true block H and its exact coupling H♯ (same X, V, weights; only the projection of
  each x_n onto the row space of the first layer redrawn) give ``d·(s_H(z) − s_{H♯}(z))``, whose
  mean estimates ``d·δ_N(z)``. Because ``rank(H − H♯) ≤ 2r``, ``|s_H(z) − s_{H♯}(z)| ≤ 2r/(d Im z)``
  on every realization (MC-12). The literal estimator with an independent copy X̃ is computed beside
  it, and the ratio of the two spreads.
* :func:`coupling_constant` — the limit ``c(z) = −∂_z log det S(z) − r s'(z)/s(z)`` of ``d·δ_N(z)``,
  ``S(z) = −zI_r + E_y[λ(y) y yᵀ/(1 + γλ(y)s(z))]`` (MC-13), with s the GMP Stieltjes transform of
  the block's weight law; by quadrature where a deterministic rule exists
  (:mod:`rmthess.montecarlo.coupling_limit`, MC-14 … MC-16).
* :func:`lindeberg_path` (:mod:`.lindeberg`) — ``E s_{H(t)}(z)`` along ``X(t) = √t X + √(1−t) X̃``
  (common X, X̃ for all t).

For MLP cases the output weights V are drawn once from the seed and held fixed over the replicates
(the coupling is a statement at fixed V, :mod:`._realization`); the first layer W is redrawn per
replicate.

References
----------
Dong, Zhang, Yao, Sun, arXiv:2505.02809 (2025).

Examples
--------
>>> import numpy as np
>>> from rmthess.montecarlo.spectra import coupling
>>> res = coupling("linear-ce", d=40, gamma=1.0, classes=3, z=[0.5 + 1.0j], reps=3, seed=0,
...                prediction=False)
>>> bool(res.rank_bound_ratio <= 1.0)
True
"""

from __future__ import annotations

from rmthess.montecarlo.coupling_limit import coupling_constant
from rmthess.montecarlo.spectra.block import block_spectrum
from rmthess.montecarlo.spectra.exact_coupling import CouplingResult, coupling
from rmthess.montecarlo.spectra.lindeberg import PathResult, lindeberg_path
from rmthess.montecarlo.spectra.stieltjes import empirical_stieltjes

__all__ = ["block_spectrum", "empirical_stieltjes", "coupling", "coupling_constant",
           "lindeberg_path", "CouplingResult", "PathResult"]
