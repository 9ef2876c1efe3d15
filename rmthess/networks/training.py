r"""Training in numpy (full-batch GD, Adam) on Gaussian data with random labels, with snapshots.

The paper's Gaussian setting (arXiv:2505.02809) is the preset ``"gaussian"``: ``N = 5000`` samples
``x_n ~ N(0, I_d)``, ``d = 500``, ``C = 500`` random labels, ``m = 8`` hidden ReLU units, CE loss,
LeCun initialization ``W ~ N(0, 1/d)``, ``V ~ N(0, σ_v²/m)``. The preset ``"small"`` has the same
shape at a size that trains in a fraction of a second. Any preset can start from another named
initialization (``init="torch-default"``, …; :mod:`rmthess.laws.init`).

Along training, :func:`train` takes *snapshots*: the exact Hessian at the requested steps, reduced
to its squared block-norm map, its block ratios (NET-8) and the mean squared norm of the
hidden–output
blocks. As the network fits the labels the softmax saturates, ``Q_n = diag p_n − p_n p_nᵀ`` and the
residual ``r_n = p_n − e_{y_n}`` shrink on the fitted samples, and with them the hidden–output
blocks (NET-3): the dynamic force towards block diagonality (``theory/networks.md``, section
"Training").
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from rmthess._validate import CLASSES, DIM, SAMPLES, SIGMA_V, WIDTH, as_generator, spawn_seeds
from rmthess.laws.init import resolve_init
from rmthess.networks.blocks import (
    block_diagonality,
    block_norm_map,
    block_ratios,
    cross_block_norm,
)
from rmthess.networks.hessian import dense_hessian
from rmthess.networks.model import Network, loss_name

__all__ = ["TrainingConfig", "PRESETS", "HessianSnapshot", "TrainingResult", "gaussian_data",
           "init_weights", "preset_network", "train", "train_preset"]

OPTIMIZERS = ("gd", "adam")


@dataclass(frozen=True)
class TrainingConfig:
    """A training setting: data size, architecture, loss and optimizer."""

    n_samples: int
    dim: int
    classes: int
    width: int | None
    loss: str = "ce"
    optimizer: str = "adam"
    lr: float = 1e-2
    steps: int = 500
    snapshot_steps: tuple = (0, 500)
    sigma_v: float = 1.0
    #: a named initialization of :mod:`rmthess.laws.init` (None: LeCun with scale ``sigma_v``)
    init: str | None = None

    def __post_init__(self):
        SAMPLES.validate(self.n_samples)
        DIM.validate(self.dim)
        CLASSES.validate(self.classes)
        if self.width is not None:
            WIDTH.validate(self.width)
        SIGMA_V.validate(self.sigma_v)
        if self.init is not None:
            resolve_init(self.init, classes=self.classes, width=self.width, dim=self.dim,
                         sigma_v=None if self.sigma_v == 1.0 else self.sigma_v)
        object.__setattr__(self, "loss", loss_name(self.loss))
        _check_training_args(self.loss, self.optimizer, self.lr, self.steps, self.snapshot_steps)


def _check_training_args(loss, optimizer, lr, steps, snapshot_steps):
    loss_name(loss)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    if not (np.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a positive finite number, got {lr!r}")
    if int(steps) != steps or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
    for s in snapshot_steps:
        if int(s) != s or not 0 <= s <= steps:
            raise ValueError(f"snapshot steps must be integers in [0, steps={steps}], got {s!r}")


#: the paper's Gaussian setting and a small one with the same structure (for tests and examples)
PRESETS = {
    "gaussian": TrainingConfig(5000, 500, 500, 8, "ce", "adam", lr=1e-2, steps=1000,
                               snapshot_steps=(0, 100, 300, 1000)),
    "small": TrainingConfig(200, 40, 20, 8, "ce", "adam", lr=5e-2, steps=600,
                            snapshot_steps=(0, 100, 300, 600)),
}


def gaussian_data(n_samples: int, dim: int, classes: int, *, rng=None):
    """Samples ``x_n ~ N(0, I_d)`` as rows and labels uniform on ``{0, …, C−1}``, independent.

    Examples
    --------
    >>> X, y = gaussian_data(10, 3, 4, rng=0)
    >>> X.shape, y.shape, bool(y.max() < 4)
    ((10, 3), (10,), True)
    """
    n, d, C = SAMPLES.validate(n_samples), DIM.validate(dim), CLASSES.validate(classes)
    gen = as_generator(rng)
    return gen.standard_normal((n, d)), gen.integers(0, C, n)


def init_weights(dim: int, classes: int, width: int | None = None, *, sigma_v=None, rng=None,
                 init=None, v_law=None, sigma_w=None, w_law=None):
    r"""Initial weights ``(V, W)``: ``W = σ_w ε/√d``, ``V = σ_v ε'/√fan_in`` with iid entries.

    By default LeCun: ``W ~ N(0, 1/d)``, ``V ~ N(0, σ_v²/fan_in)`` (σ_v = 1). ``init`` names a
    preset of :mod:`rmthess.laws.init` (``"torch-default"``: ``nn.Linear`` without bias, …) that
    sets the laws and scales; otherwise ``v_law``, ``w_law`` (:func:`rmthess.laws.entry.entry_law`)
    and ``sigma_v``, ``sigma_w`` do. ``fan_in`` is ``m`` for the ReLU network and ``d`` for the
    linear model (``width=None``, ``W=None``). See theory/cases.md (CASE-20, CASE-24) for what the
    theory takes from them.

    Examples
    --------
    >>> V, W = init_weights(6, 3, 2, rng=0)
    >>> V.shape, W.shape
    ((3, 2), (2, 6))
    >>> V, W = init_weights(100, 3, 2, rng=0, init="torch-default")
    >>> bool(abs(W).max() <= 0.1 and abs(V).max() <= 2 ** -0.5)    # U(±1/√fan_in)
    True
    """
    d, C = DIM.validate(dim), CLASSES.validate(classes)
    m = None if width is None else WIDTH.validate(width)
    ini = resolve_init(init, classes=C, width=m, dim=d, sigma_v=sigma_v, v_law=v_law,
                       sigma_w=sigma_w, w_law=w_law)
    gen = as_generator(rng)
    sv = ini.sigma_v
    if m is None:
        return sv * ini.v_law.sample(gen, (C, d)) / np.sqrt(d), None
    W = ini.sigma_w * ini.w_law.sample(gen, (m, d)) / np.sqrt(d)
    V = sv * ini.v_law.sample(gen, (C, m)) / np.sqrt(m)
    return V, W


@dataclass(frozen=True)
class HessianSnapshot:
    r"""The exact Hessian at one training step, reduced to its block structure.

    Attributes
    ----------
    step : int
    loss, accuracy : float
    norms_sq : ndarray, shape (B, B)
        Squared block-norm map ``‖H_lk‖²_F``.
    ratios : dict of str to BlockRatio
        Block ratios (NET-8) per block type.
    cross : float
        Mean ``‖H_{w_i v_c}‖²_F`` over the hidden–output blocks (NaN for the linear model).
    diagonality : float
        Block-diagonality index of the whole Hessian.
    hessian : ndarray or None
        The dense Hessian, when ``keep_hessians=True``.
    """

    step: int
    loss: float
    accuracy: float
    norms_sq: np.ndarray = field(repr=False)
    ratios: dict
    cross: float
    diagonality: float
    hessian: np.ndarray | None = field(default=None, repr=False)


@dataclass(frozen=True)
class TrainingResult:
    """Loss curve, snapshots and final weights of one training run."""

    steps: np.ndarray
    losses: np.ndarray
    accuracies: np.ndarray
    snapshots: tuple
    V: np.ndarray = field(repr=False)
    W: np.ndarray | None = field(repr=False)
    layout: object = field(repr=False)

    def snapshot(self, step: int) -> HessianSnapshot:
        """The snapshot taken at ``step``."""
        for s in self.snapshots:
            if s.step == step:
                return s
        raise ValueError(f"no snapshot at step {step}; have {[s.step for s in self.snapshots]}")


def _snapshot(net: Network, step: int, keep: bool) -> HessianSnapshot:
    H = dense_hessian(net)
    sq = block_norm_map(H, net.layout, squared=True)
    ratios = block_ratios(H, net.layout)
    cross = float("nan") if net.is_linear else cross_block_norm(sq, net.layout)
    return HessianSnapshot(step, net.loss_value(), net.accuracy(), sq, ratios, cross,
                           block_diagonality(np.sqrt(sq)), H if keep else None)


def train(X, y, V, W=None, *, loss: str = "ce", optimizer: str = "adam", lr: float = 1e-2,
          steps: int = 100, snapshot_steps=(), keep_hessians: bool = False,
          betas=(0.9, 0.999), eps: float = 1e-8) -> TrainingResult:
    r"""Full-batch gradient descent or Adam on the average loss, with exact Hessian snapshots.

    Parameters
    ----------
    X, y, V, W, loss
        As in :func:`rmthess.networks.hessian` (initial weights ``V``, ``W``).
    optimizer : {"adam", "gd"}
        Adam (Kingma & Ba, bias-corrected) or plain gradient descent.
    lr : float
        Step size.
    steps : int
        Number of updates.
    snapshot_steps : iterable of int
        Steps (in ``[0, steps]``, 0 = initialization) at which the exact Hessian is formed and
        reduced to a :class:`HessianSnapshot`.
    keep_hessians : bool
        Keep the dense Hessians in the snapshots (memory: ``8 P²`` bytes each).
    betas, eps
        Adam parameters.

    Returns
    -------
    TrainingResult

    Examples
    --------
    >>> X, y = gaussian_data(60, 8, 5, rng=0)
    >>> V, W = init_weights(8, 5, 3, rng=1)
    >>> res = train(X, y, V, W, steps=50, lr=0.05, snapshot_steps=(0, 50))
    >>> bool(res.losses[-1] < res.losses[0])
    True
    >>> sorted(res.snapshot(0).ratios)
    ['hidden', 'output']
    """
    loss = loss_name(loss)
    net = Network(X, y, V, W, loss)
    _check_training_args(loss, optimizer, lr, steps, snapshot_steps)
    steps = int(steps)
    wanted = {int(s) for s in snapshot_steps}
    theta = net.flatten()
    m1 = np.zeros_like(theta)
    m2 = np.zeros_like(theta)
    b1, b2 = betas
    losses, accs, snaps = [], [], []
    for t in range(steps + 1):
        losses.append(net.loss_value())
        accs.append(net.accuracy())
        if t in wanted:
            snaps.append(_snapshot(net, t, keep_hessians))
        if t == steps:
            break
        g = net.gradient()
        if optimizer == "adam":
            m1 = b1 * m1 + (1 - b1) * g
            m2 = b2 * m2 + (1 - b2) * g * g
            mh = m1 / (1 - b1 ** (t + 1))
            vh = m2 / (1 - b2 ** (t + 1))
            theta = theta - lr * mh / (np.sqrt(vh) + eps)
        else:
            theta = theta - lr * g
        if not np.all(np.isfinite(theta)):
            raise ValueError(f"training diverged at step {t + 1} (non-finite weights); lower lr")
        net = net.with_params(theta)
    return TrainingResult(np.arange(steps + 1), np.array(losses), np.array(accs), tuple(snaps),
                          net.V, net.W, net.layout)


def train_preset(name: str = "small", *, rng=None, **overrides) -> TrainingResult:
    r"""Draw data and LeCun weights for a preset of :data:`PRESETS` and :func:`train` it.

    Parameters
    ----------
    name : {"gaussian", "small"}
        ``"gaussian"`` is the paper's setting (N = 5000, d = 500, C = 500, m = 8, CE; P = 8000).
    rng : seed or Generator
        Data and weights are drawn from two independent children of this seed.
    **overrides
        Fields of :class:`TrainingConfig` to change (e.g. ``steps=50``, ``init="torch-default"``).
    """
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; valid: {sorted(PRESETS)}")
    base = PRESETS[name]
    if "steps" in overrides and "snapshot_steps" not in overrides:
        overrides["snapshot_steps"] = tuple(s for s in base.snapshot_steps
                                            if s < overrides["steps"]) + (overrides["steps"],)
    cfg = replace(base, **overrides)
    net = _draw(cfg, rng)
    return train(net.X, net.labels, net.V, net.W, loss=cfg.loss, optimizer=cfg.optimizer,
                 lr=cfg.lr, steps=cfg.steps, snapshot_steps=cfg.snapshot_steps)


def _draw(cfg: TrainingConfig, rng) -> Network:
    seeds = spawn_seeds(rng, 2)
    X, y = gaussian_data(cfg.n_samples, cfg.dim, cfg.classes, rng=seeds[0])
    if cfg.init is None:
        V, W = init_weights(cfg.dim, cfg.classes, cfg.width, sigma_v=cfg.sigma_v, rng=seeds[1])
    else:
        V, W = init_weights(cfg.dim, cfg.classes, cfg.width, init=cfg.init, rng=seeds[1])
    return Network(X, y, V, W, cfg.loss)


def preset_network(name: str = "gaussian", *, rng=None, init: str | None = None) -> Network:
    r"""The :class:`Network` at initialization of a preset (where :func:`train_preset` starts).

    ``init`` replaces the preset's LeCun initialization by a named one (:mod:`rmthess.laws.init`).

    Examples
    --------
    >>> net = preset_network("small", rng=0)
    >>> net.n_params, net.layout.n_blocks        # m·d + C·m, m + C
    (480, 28)
    """
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; valid: {sorted(PRESETS)}")
    cfg = PRESETS[name] if init is None else replace(PRESETS[name], init=init)
    return _draw(cfg, rng)

