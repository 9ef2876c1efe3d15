r"""The Lindeberg path: ``E s_{H(t)}(z)`` along ``X(t) = √t X + √(1−t) X̃``.

The weights come from X; t = 1 is the true block H, t = 0 has the law of the decoupled block H̃.
Every t uses the same X, X̃ and parameters (common random numbers).

Examples
--------
>>> from rmthess.montecarlo.spectra.lindeberg import lindeberg_path
>>> res = lindeberg_path("linear-ce", d=20, gamma=1.0, classes=3, z=[1.0j], t=[0.0, 1.0], reps=2,
...                      seed=0)
>>> res.mean.shape
(2, 1)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rmthess._validate import REPS, check_upper_half_plane, seed_sequence
from rmthess.montecarlo import _kernels
from rmthess.montecarlo.blocknorms import block_matrix
from rmthess.montecarlo.coupling_limit import _block_index, _square_block
from rmthess.montecarlo.designs import Lindeberg
from rmthess.montecarlo.seeds import replicate_seed
from rmthess.montecarlo.simulation import make_spec
from rmthess.montecarlo.spectra._realization import complex_mean_se, draw_params, fixed_second

__all__ = ["lindeberg_path", "PathResult"]


@dataclass(frozen=True)
class PathResult:
    """``E s_{H(t)}(z)`` on a grid of t: ``mean`` and complex ``stderr`` of shape ``(len(t),
    len(z))``."""

    case: str
    block: str
    which: str
    d: int
    n_samples: int
    reps: int
    t: np.ndarray
    z: np.ndarray
    mean: np.ndarray
    stderr: np.ndarray


def lindeberg_path(case, *, d, gamma, classes, z, t=(0.0, 0.25, 0.5, 0.75, 1.0), reps, m=None,
                   block=None, which="diag", seed=None, sigma_v=1.0) -> PathResult:
    r"""``E s_{H(t)}(z)`` along ``X(t) = √t X + √(1−t) X̃`` (weights from X; t = 1 is H, t = 0 has
    H̃'s law).

    Every t uses the same X, X̃ and parameters (common random numbers), so differences along the path
    are estimated much more precisely than the values.
    """
    spec, model, _ = make_spec(case, d=d, gamma=gamma, classes=classes, m=m, sigma_v=sigma_v)
    block = _square_block(model, block)
    reps = REPS.validate(reps)
    tt = np.atleast_1d(np.asarray(t, float))
    for tv in tt:
        Lindeberg(tv)  # validates
    zz = check_upper_half_plane(np.atleast_1d(z)).ravel()
    i, j = _block_index(which)
    root = seed_sequence(seed)
    second = fixed_second(model, spec, root)
    vals = np.empty((reps, tt.size, zz.size), complex)
    for k in range(reps):
        rng = np.random.default_rng(replicate_seed(root, k))
        params = draw_params(model, spec, rng, second)
        X = rng.standard_normal((spec.n_samples, spec.d))
        Xt = rng.standard_normal(X.shape)
        w = model.weights(params, X @ params.first.T)[block]
        eigs = np.stack([np.linalg.eigvalsh(block_matrix(math.sqrt(tv) * X
                                                         + math.sqrt(1 - tv) * Xt, w, i, j))
                         for tv in tt])
        vals[k] = _kernels.stieltjes_rows(eigs, zz)
    mean, se = complex_mean_se(vals.reshape(reps, -1))
    shape = (tt.size, zz.size)
    return PathResult(model.name, block, which, spec.d, spec.n_samples, reps, tt, zz,
                      mean.reshape(shape), se.reshape(shape))
