r"""The spectrum of one Hessian block of one realization, under any design.

Examples
--------
>>> from rmthess.montecarlo.spectra.block import block_spectrum
>>> e = block_spectrum("linear-ce", d=20, gamma=1.0, classes=3, seed=0)
>>> e.shape, bool(e[0] > -1e-12)      # the diagonal CE block is positive semi-definite
((20,), True)
"""

from __future__ import annotations

import numpy as np

from rmthess._validate import seed_sequence
from rmthess.montecarlo.blocknorms import block_matrix
from rmthess.montecarlo.coupling_limit import _block_index, _square_block
from rmthess.montecarlo.seeds import replicate_seed
from rmthess.montecarlo.simulation import make_spec
from rmthess.montecarlo.spectra._realization import draw_params, fixed_second

__all__ = ["block_spectrum"]


def block_spectrum(case, *, d, gamma, classes, m=None, block=None, which="diag", design="coupled",
                   seed=None, sigma_v=1.0, t=None, return_second=False, return_weights=False):
    """Eigenvalues (ascending) of the block ``(0, 0)`` (``which="diag"``) or ``(0, 1)`` of one
    realization.

    With ``return_second=True`` return ``(eigenvalues, V)``, where ``V`` is the second-layer weight
    matrix of the realization (``None`` for the linear cases), so that hidden-block spectra can be
    compared with the per-V law ``get_case(case).block_law(..., V=V)``. With ``return_weights=True``
    return ``(eigenvalues, V, weights, W)`` instead: also the per-sample weights of the block
    (length N) and the first-layer matrix W (``u_n = W x_n``; for the linear cases the first layer
    is V).
    """
    spec, model, des = make_spec(case, d=d, gamma=gamma, classes=classes, m=m, design=design,
                                 sigma_v=sigma_v, t=t)
    block = _square_block(model, block)
    i, j = _block_index(which)
    root = seed_sequence(seed)
    rng = np.random.default_rng(replicate_seed(root, 0))
    params = draw_params(model, spec, rng, fixed_second(model, spec, root))
    X = rng.standard_normal((spec.n_samples, spec.d))
    Xm, Xw = des.matrices(X, params.first, rng)
    w = model.weights(params, Xw @ params.first.T)[block]
    eigenvalues = np.linalg.eigvalsh(block_matrix(Xm, w, i, j))
    if return_weights:
        return eigenvalues, params.second, np.array(w.block(i, j)), params.first
    return (eigenvalues, params.second) if return_second else eigenvalues
