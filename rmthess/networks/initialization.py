r"""Block ratios of exact Hessians at random initialization, swept over the number of classes.

For Gaussian data (``N = round(d/γ)`` samples) and LeCun weights (or any named initialization of
:mod:`rmthess.laws.init`), :func:`init_ratio_sweep` forms the
exact Hessian for every ``C`` in a list, ``reps`` times, and records the block ratios (NET-8) with
their standard errors across replicates, next to the limits of :mod:`rmthess.cases`
(``get_case(name).limits(gamma, classes, m=m).blocks[type].ratio``): the comparison of the theorems
of arXiv:2505.02809 with exact finite networks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rmthess._validate import CLASSES, DIM, GAMMA, REPS, WIDTH, spawn_seeds
from rmthess.laws.init import resolve_init
from rmthess.networks.blocks import block_ratios
from rmthess.networks.hessian import dense_hessian
from rmthess.networks.model import Network, loss_name
from rmthess.networks.training import gaussian_data, init_weights

__all__ = ["InitRatioSweep", "case_name", "init_ratio_sweep"]


def case_name(loss: str, width: int | None) -> str:
    """Name of the :mod:`rmthess.cases` case: ``"linear-ce"``, ``"mlp-mse"``, …"""
    loss = loss_name(loss)
    return f"{'linear' if width is None else 'mlp'}-{loss}"


@dataclass(frozen=True)
class InitRatioSweep:
    r"""Exact-Hessian block ratios at initialization against the number of classes.

    Attributes
    ----------
    case : str
        Case name of :mod:`rmthess.cases`.
    dim, n_samples, width : int
        Network size (``width`` is None for the linear model).
    gamma : float
        ``d/N`` as requested.
    classes : ndarray of int
    ratio, stderr : dict of str to ndarray
        Mean over replicates of the block ratio (NET-8) and its standard error, per block type.
    limit : dict of str to ndarray or None
        The limit ``g_ij/g_ii`` (ratio of expected squared norms) of :mod:`rmthess.cases`,
        when asked.
    reps : int
    """

    case: str
    dim: int
    n_samples: int
    width: int | None
    gamma: float
    classes: np.ndarray
    ratio: dict = field(repr=False)
    stderr: dict = field(repr=False)
    limit: dict | None = field(repr=False)
    reps: int


def init_ratio_sweep(classes, *, dim: int, gamma: float, width: int | None = None,
                     loss: str = "ce", reps: int = 1, sigma_v: float | None = None, rng=None,
                     with_limits: bool = True, init: str | None = None) -> InitRatioSweep:
    r"""Block ratios of exact Hessians at initialization for each number of classes.

    Parameters
    ----------
    classes : sequence of int
        Numbers of classes C.
    dim : int
        Input dimension d.
    gamma : float
        Aspect ratio d/N (N = round(d/γ)).
    width : int, optional
        Hidden width m; ``None`` for the linear model.
    loss : {"ce", "mse"}
    reps : int
        Independent draws of data, labels and weights per C (replicate k of every C uses seed
        child k).
    sigma_v : float, optional
        Output-weight scale of the LeCun initialization (default 1).
    rng : seed
    with_limits : bool
        Also evaluate the limits of :mod:`rmthess.cases` (Monte Carlo limits there use ``rng``), at
        the theory's parameters of the initialization (``σ_w σ_v`` and the law of V, CASE-24).
    init : str, optional
        A named initialization (:data:`rmthess.laws.init.INITS`) instead of LeCun's; its scales
        are those of the network at this ``dim`` (and, for ``xavier-uniform``, at each C).

    Returns
    -------
    InitRatioSweep

    Examples
    --------
    >>> sw = init_ratio_sweep([2, 4], dim=20, gamma=0.5, loss="ce", rng=0, with_limits=False)
    >>> sw.case, sw.n_samples
    ('linear-ce', 40)
    >>> round(float(sw.ratio["v"][0]), 12)          # C = 2: H_12 = −H_11, ratio exactly 1
    1.0
    """
    d, g = DIM.validate(dim), GAMMA.validate(gamma)
    m = None if width is None else WIDTH.validate(width)
    R = REPS.validate(reps)
    cs = np.array([CLASSES.validate(c) for c in np.atleast_1d(classes)], dtype=int)
    name = case_name(loss, m)
    n = max(1, int(round(d / g)))
    seeds = spawn_seeds(rng, R + 1)
    types = ("v",) if m is None else ("hidden", "output")
    vals = {t: np.empty((cs.size, R)) for t in types}
    for ci, C in enumerate(cs):
        for r in range(R):
            data_seed, weight_seed = _child(seeds[r], ci)
            X, y = gaussian_data(n, d, int(C), rng=data_seed)
            V, W = init_weights(d, int(C), m, sigma_v=sigma_v, init=init, rng=weight_seed)
            net = Network(X, y, V, W, loss)
            rat = block_ratios(dense_hessian(net), net.layout)
            for t in types:
                vals[t][ci, r] = rat[t].ratio
    ratio = {t: vals[t].mean(axis=1) for t in types}
    stderr = {t: (vals[t].std(axis=1, ddof=1) / np.sqrt(R) if R > 1 else np.full(cs.size, np.nan))
              for t in types}
    limit = None
    if with_limits:
        from rmthess.cases import get_case

        case = get_case(name)
        limit = {t: np.empty(cs.size) for t in types}
        for ci, C in enumerate(cs):
            ini = resolve_init(init, classes=int(C), width=m, dim=d, sigma_v=sigma_v)
            lim = case.limits(g, int(C), m=m, rng=seeds[R], **ini.theory())
            for t in types:
                limit[t][ci] = lim.blocks[t].ratio
    return InitRatioSweep(name, d, n, m, g, cs, ratio, stderr, limit, R)


def _child(seed: np.random.SeedSequence, index: int):
    """Two seed children for (replicate, class index), independent of the length of the list."""
    return np.random.SeedSequence(entropy=seed.entropy,
                                  spawn_key=tuple(seed.spawn_key) + (int(index),)).spawn(2)
