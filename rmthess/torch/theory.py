r"""The theory beside the measurement: the paper's networks recognized in a PyTorch model.

The theorems of arXiv:2505.02809 cover the linear model ``f = V x`` and the 1-hidden-layer
network ``f = V relu(W x)`` without biases, at random initialization, with Gaussian inputs and the
CE or squared loss. :func:`recognize` finds these in a model — an ``nn.Sequential`` of
``Linear(d, C, bias=False)``, or of ``Linear(d, m, bias=False)``, ``ReLU()``,
``Linear(m, C, bias=False)`` — with its loss (``CrossEntropyLoss``, or ``MSELoss`` on one-hot
targets) and its initialization (a preset of :mod:`rmthess.laws.init` named by the user, or read
off the weights), and maps everything to the parameters the theory takes (theory/torch.md,
TORCH-4, TORCH-6):

* ``γ = d/N`` from the data; inputs with mean square ``s`` (isotropic) fold into the scales,
  ``x = √s y``: ``σ_w → σ_w √s`` (ReLU network) or ``σ_v → σ_v √s`` (linear model);
* ``nn.MSELoss()`` averages over ``N·C`` entries: its Hessian is ``2/C`` times rmthess's
  ``½‖f − e_y‖²`` averaged over N, so block norms ``g`` scale by ``(2/C)²``; ratios do not change;
* the initialization enters as ``(σ_w σ_v, law of V)`` (CASE-20, CASE-24).

:func:`theory_beside` puts the measured block ratios (NET-8) of the model's Hessian next to the
limit of :mod:`rmthess.cases` and next to the ensemble of random networks of the same size
(:func:`rmthess.montecarlo.simulate`, with its finite-size prediction): a single network is one
draw from that ensemble, so its verdict is the z-score of the measurement in the ensemble's spread.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from rmthess._validate import child_seed, seed_sequence

__all__ = ["PaperNetwork", "TheoryRow", "TheoryComparison", "recognize", "infer_init",
           "theory_beside", "block_laws"]

#: the boundary of the sample kurtosis between the two entry laws the inference chooses from,
#: uniform (E ε⁴ = 1.8) and Gaussian (3): the uniform law's sample kurtosis spreads far less than
#: the Gaussian's, so the boundary sits nearer 1.8 (misread rates at n entries: TORCH-5)
_KURTOSIS_BOUNDARY = 2.1


@dataclass(frozen=True)
class PaperNetwork:
    """A PyTorch model recognized as one of the paper's networks, in the theory's parameters.

    Attributes
    ----------
    case : str
        ``"linear-ce"``, ``"linear-mse"``, ``"mlp-ce"`` or ``"mlp-mse"``.
    dim, width, classes, n_samples : int
        ``d``, ``m`` (None for the linear model), ``C``, ``N``.
    gamma : float
        ``d/N``.
    sigma_v, sigma_w : float
        Output and hidden scales (``√(fan_in · Var)``) of the weights, data scale folded in.
    v_law : str
        Entry law of V (``"gaussian"`` or ``"uniform"``).
    init_source : str
        ``"preset NAME"`` or ``"inferred from the weights"``.
    norm_factor : float
        Factor between the model's squared block norms and rmthess's, the square of the Hessians'
        ratio (TORCH-4): ``CrossEntropyLoss`` 1 (mean) or ``N²`` (sum), ``MSELoss`` ``(2/C)²``
        (mean) or ``4N²`` (sum).
    data_mean_square : float
        The inputs' mean square ``s`` (1 for standard Gaussian inputs).
    """

    case: str
    dim: int
    width: int | None
    classes: int
    n_samples: int
    gamma: float
    sigma_v: float
    sigma_w: float
    v_law: str
    init_source: str
    norm_factor: float
    data_mean_square: float

    def theory_kwargs(self) -> dict:
        """Keyword arguments of ``simulate`` / the limits for this network's initialization."""
        kw = {"sigma_v": self.sigma_v, "v_law": self.v_law}
        if self.width is not None:
            kw["sigma_w"] = self.sigma_w
        return kw


def _linears(model):
    import torch.nn as nn

    if isinstance(model, nn.Linear):
        model = nn.Sequential(model)
    if not isinstance(model, nn.Sequential):
        raise ValueError("the theory covers nn.Sequential(Linear(d, C, bias=False)) and "
                         "nn.Sequential(Linear(d, m, bias=False), ReLU(), Linear(m, C, bias=False))"
                         f"; got {type(model).__name__}")
    layers = list(model)
    kinds = [type(x).__name__ for x in layers]
    ok = kinds in (["Linear"], ["Linear", "ReLU", "Linear"])
    if not ok or any(x.bias is not None for x in layers if isinstance(x, nn.Linear)):
        raise ValueError("the theory covers Linear(d, C, bias=False), or Linear(d, m, bias=False), "
                         f"ReLU(), Linear(m, C, bias=False); got layers {kinds} "
                         f"{'with biases' if ok else ''}".rstrip())
    return [x for x in layers if isinstance(x, nn.Linear)]


def infer_init(weight: np.ndarray) -> tuple[float, str]:
    r"""``(σ, law)`` of a weight matrix: ``σ = √(fan_in · mean w²)`` and the entry law, uniform
    (``E ε⁴ = 1.8``) when the sample kurtosis ``mean w⁴ / (mean w²)²`` is below 2.1, else Gaussian
    (3) (TORCH-5).

    Examples
    --------
    >>> w = np.random.default_rng(0).uniform(-1, 1, (50, 40)) / np.sqrt(40)
    >>> s, law = infer_init(w)
    >>> round(s, 2), law
    (0.58, 'uniform')
    """
    w = np.asarray(weight, dtype=np.float64)
    m2 = float(np.mean(w**2))
    if not m2 > 0:
        raise ValueError("a weight matrix is identically zero; name the initialization (init=)")
    kurt = float(np.mean(w**4)) / m2**2
    law = "uniform" if kurt < _KURTOSIS_BOUNDARY else "gaussian"
    return math.sqrt(w.shape[1] * m2), law


def recognize(model, loss_fn, op, *, init: str | None = None) -> PaperNetwork:
    r"""The :class:`PaperNetwork` of ``model`` trained with ``loss_fn`` on the data of ``op``.

    ``op`` is the model's :class:`~rmthess.torch.HessianOperator` (its data and reduction);
    ``init`` names the preset the model was built with (default: read off the weights).
    """
    import torch

    from rmthess.laws.init import resolve_init

    lin = _linears(model)
    if isinstance(loss_fn, torch.nn.CrossEntropyLoss):
        if loss_fn.weight is not None or loss_fn.label_smoothing != 0:
            raise ValueError("the theory covers unweighted CrossEntropyLoss without label "
                             "smoothing")
        loss = "ce"
    elif isinstance(loss_fn, torch.nn.MSELoss):
        loss = "mse"
    else:
        raise ValueError("the theory covers torch.nn.CrossEntropyLoss and torch.nn.MSELoss; got "
                         f"{type(loss_fn).__name__}")
    d = lin[0].in_features
    C = lin[-1].out_features
    m = lin[0].out_features if len(lin) == 2 else None
    X = torch.cat([x.reshape(x.shape[0], -1) for x, _ in op._data]).to(torch.float64)
    s = float(torch.mean(X**2))
    if not s > 0:
        raise ValueError("the inputs are identically zero")
    if init is not None:
        ini = resolve_init(init, classes=C, width=m, dim=d)
        sigma_v, v_law = ini.sigma_v, ini.v_law.name
        sigma_w = ini.sigma_w if m is not None else 1.0
        source = f"preset {init}"
    else:
        sigma_v, v_law = infer_init(lin[-1].weight.detach().cpu().numpy())
        sigma_w = infer_init(lin[0].weight.detach().cpu().numpy())[0] if m is not None else 1.0
        source = "inferred from the weights"
    if m is None:
        sigma_v *= math.sqrt(s)
    else:
        sigma_w *= math.sqrt(s)
    # the model's Hessian over rmthess's (TORCH-4): CE mean 1, sum N; MSE mean 2/C, sum 2N
    scale = {("ce", "mean"): 1.0, ("ce", "sum"): float(op.n_samples),
             ("mse", "mean"): 2.0 / C, ("mse", "sum"): 2.0 * op.n_samples}[loss, op.reduction]
    factor = scale**2
    case = f"{'linear' if m is None else 'mlp'}-{loss}"
    return PaperNetwork(case, d, m, C, op.n_samples, d / op.n_samples, sigma_v, sigma_w, v_law,
                        source, factor, s)


@dataclass(frozen=True)
class TheoryRow:
    """One block type: the model's ratio beside the theory's.

    ``measured ± measured_stderr``: the model's ratio (``measured_stderr`` None when exact, else
    the standard error of its estimate);
    ``ensemble_mean ± ensemble_sd``: the ratio over random networks of this size and
    initialization (mean of ``reps`` replicates, and one network's standard deviation); ``z`` the
    measurement's z-score in it, passing iff ``|z| ≤ threshold`` (Student t at the combined
    degrees of freedom ``dof``); ``limit`` the d → ∞ value; ``prediction`` the finite-size one;
    ``mde`` the smallest relative deviation from the ensemble mean the verdict detects with
    probability 0.9 (TORCH-6).
    """

    block_type: str
    group: str
    measured: float
    ensemble_mean: float
    ensemble_sd: float
    prediction: float | None
    limit: float
    limit_stderr: float
    z: float
    mde: float
    threshold: float
    dof: float | None
    measured_stderr: float | None = None

    @property
    def passed(self) -> bool:
        """The measurement within the ensemble's two-sided ``1 − alpha`` band."""
        return abs(self.z) <= self.threshold

    @property
    def deviation_from_limit(self) -> float:
        """``measured / limit − 1`` (0 when both are 0, ``inf`` for a nonzero ratio whose limit
        is 0)."""
        if self.limit == 0:
            return 0.0 if self.measured == 0 else math.inf
        return self.measured / self.limit - 1.0


@dataclass(frozen=True)
class TheoryComparison:
    """The theory beside one PyTorch model: its recognized parameters and one row per block type.

    ``extras`` holds ``"block_laws"`` — for each diagonal block of the layout that has one (the
    linear model's class rows, the ReLU network's hidden rows), by block index, the limiting
    spectral law of that block in rmthess's normalization (a GMP law; theory/torch.md §7) — and
    ``"eigenvalue_scale"``, the factor to the model's eigenvalues (the inputs' mean square times
    the loss's Hessian factor, TORCH-4).
    """

    network: PaperNetwork
    rows: tuple
    reps: int
    alpha: float = 1e-3
    extras: dict = field(default_factory=dict, repr=False)

    @property
    def z_threshold(self) -> float:
        """The largest of the rows' thresholds (all equal when the measurements are exact)."""
        return max((r.threshold for r in self.rows), default=_threshold(self.alpha, self.reps - 1))

    @property
    def passed(self) -> bool:
        """Every measurement within the ensemble's two-sided ``1 − alpha`` band (Student-t)."""
        return all(r.passed for r in self.rows)


def _threshold(alpha, dof) -> float:
    from scipy import stats

    return float(stats.norm.isf(alpha / 2) if dof is None else stats.t.isf(alpha / 2, dof))


def _verdict_row(block_type, group, measured, measured_se, measured_dof, b, reps, alpha):
    """One :class:`TheoryRow` (TORCH-6): the measurement against the ensemble block ``b`` of
    ``reps`` replicates, with the measurement's own standard error where it is an estimate."""
    from rmthess.verify.power import effective_dof, power_multiplier

    sd = float(b.stderr) * math.sqrt(reps)
    parts = [(sd * math.sqrt(1.0 + 1.0 / reps), reps - 1)]  # one network against the mean
    if measured_se is not None:
        parts.append((float(measured_se), measured_dof))
    spread = math.sqrt(sum(x * x for x, _ in parts))
    dof = effective_dof(parts)
    if dof is not None:  # Welch's ν is at least the smallest part's: no rounding below it
        dof = max(dof, float(min(nu for x, nu in parts if nu is not None and x > 0)))
    k = _threshold(alpha, dof)
    diff = measured - b.ratio
    if spread > 0:
        z = diff / spread
        mde = (power_multiplier(k, dof) * spread / abs(b.ratio) if b.ratio != 0 else math.inf)
    else:  # a deterministic ratio (linear MSE: exactly 0): equal to rounding, or not
        z = 0.0 if abs(diff) <= 1e-12 * max(1.0, abs(b.ratio)) else math.copysign(math.inf, diff)
        mde = 0.0
    return TheoryRow(block_type, group, float(measured), float(b.ratio), sd,
                     None if b.prediction is None else float(b.prediction), float(b.limit),
                     float(b.limit_stderr or 0.0), float(z), float(mde), k, dof,
                     None if measured_se is None else float(measured_se))


def theory_beside(model, loss_fn, data, *, init: str | None = None, reps: int = 20,
                  predictions: bool = True, rng=None, op=None,
                  measured: dict | None = None) -> TheoryComparison:
    r"""Block ratios of ``model``'s Hessian beside the theory at its size and initialization.

    Parameters
    ----------
    model, loss_fn, data
        As :func:`~rmthess.torch.hessian_operator` takes them; the model must be one of the
        paper's networks (:func:`recognize`).
    init : str, optional
        The preset the model was built with (``"torch-default"``, ``"lecun-normal"``,
        ``"kaiming-normal"``, ``"xavier-uniform"``); default: read off the weights.
    reps : int
        Random networks in the theory's ensemble (:func:`rmthess.montecarlo.simulate`).
    predictions : bool
        Also the finite-size prediction of the ensemble mean.
    rng : seed
    op : HessianOperator, optional
        The model's operator, if already built.
    measured : dict, optional
        The model's block ratios if already measured, by group of the ``"rows"`` layout:
        ``{group: (ratio, stderr, dof)}`` with ``stderr = dof = None`` for an exact ratio, else
        the standard error of an estimate and its degrees of freedom (the probes less one).
        Default: the exact ratios from the operator's block columns (P products).

    Returns
    -------
    TheoryComparison

    Examples
    --------
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> net = torch.nn.Sequential(torch.nn.Linear(30, 10, bias=False))
    >>> X, y = torch.randn(30, 30), torch.randint(0, 10, (30,))
    >>> cmp = theory_beside(net, torch.nn.CrossEntropyLoss(), (X, y), init="torch-default",
    ...                     reps=8, predictions=False, rng=1)
    >>> cmp.network.case, cmp.rows[0].block_type    # σ_v: 1/√3 times the inputs' rms
    ('linear-ce', 'v')
    """
    from rmthess.montecarlo import simulate
    from rmthess.networks.blocks import block_ratios
    from rmthess.torch.operator import hessian_operator

    if int(reps) != reps or reps < 2:
        raise ValueError(f"reps must be an integer ≥ 2, got {reps!r}")
    root = seed_sequence(rng)  # the ensemble draws from it as from rng; the laws from a child
    given = op is not None
    op = op if given else hessian_operator(model, loss_fn, data, blocks="rows")
    net = recognize(model, loss_fn, op, init=init)
    shapes = tuple((c, z) for _, c, z in op.layout.groups)
    want = (((net.classes, net.dim),) if net.width is None else
            ((net.width, net.dim), (net.classes, net.width)))
    if not given and shapes != want:
        raise ValueError("the theory needs every weight of the network trained "
                         "(requires_grad=True): its blocks are the rows of all its layers")
    if op.kind != "hessian" or shapes != want:
        raise ValueError("theory_beside compares the Hessian's row blocks (blocks='rows'); "
                         "pass op=None or such an operator")
    groups = op.layout.block_types
    if measured is None:
        measured = {g: (r.ratio, None, None) for g, r in block_ratios(op, op.layout).items()}
    elif set(measured) != set(groups):
        raise ValueError(f"measured must give the ratios of the groups {list(groups)}, got "
                         f"{sorted(measured)}")
    types = ("v",) if net.width is None else ("hidden", "output")
    sim = simulate(net.case, d=net.dim, gamma=net.gamma, classes=net.classes, m=net.width,
                   reps=int(reps), rng=root, predictions=predictions, **net.theory_kwargs())
    rows = [_verdict_row(t, g, *measured[g], sim.blocks[t], int(reps), TheoryComparison.alpha)
            for t, g in zip(types, groups, strict=True)]
    extras = {"block_laws": block_laws(model, net, rng=child_seed(root, 1)),
              "eigenvalue_scale": net.data_mean_square * math.sqrt(net.norm_factor)}
    return TheoryComparison(net, tuple(rows), int(reps), extras=extras)


def block_laws(model, net: PaperNetwork, *, rng=None) -> dict:
    r"""The limiting spectral laws of the diagonal row blocks of a recognized network, by block
    index of the ``"rows"`` layout, in rmthess's normalization (theory/torch.md §7).

    Linear model: every class row ``H_cc`` has the GMP law of (CASE-1) at the effective ``σ_v``
    (one law object for all C blocks). ReLU network: hidden row i has the GMP law of the weights
    ``a_ii(u; V)`` at the model's own output matrix V and first layer W, ``u ~ N(0, s W Wᵀ)``
    (CASE-37; CE: the empirical law of ``2¹⁶`` draws from ``rng``); the m×m output blocks have no
    d-dimensional law. Multiply eigenvalues of the law by ``eigenvalue_scale`` of
    :class:`TheoryComparison` to compare with the model's.
    """
    from rmthess.cases import get_case

    case = get_case(net.case)
    if net.width is None:
        law = case.block_law("v", "diag", net.gamma, net.classes, sigma_v=net.sigma_v)
        return dict.fromkeys(range(net.classes), law)
    lin = _linears(model)
    W = lin[0].weight.detach().cpu().double().numpy()
    V = lin[-1].weight.detach().cpu().double().numpy()
    gram = net.data_mean_square * (W @ W.T)
    m = net.width
    return {i: case.block_law("hidden", "diag", net.gamma, net.classes, m=m, V=V,
                              indices=(i, (i + 1) % m), gram=gram, rng=child_seed(rng, i))
            for i in range(m)}
