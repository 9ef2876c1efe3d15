r"""``simulate``: Monte Carlo block-norm ratios of one model case, with predictions and limits.

One replicate draws the network parameters and the data, lets the design choose the matrix-side and
weight-side data (:mod:`rmthess.montecarlo.designs`), computes the weights of every block type
(:meth:`rmthess.cases.Case.weights`) and the mean squared Frobenius norm over all diagonal and all
off-diagonal blocks from the Gram matrix (:mod:`rmthess.montecarlo.blocknorms`). Over replicates the
ratio of means ``Σ_r O_r / Σ_r D_r`` and its delta-method standard error are reported
(:mod:`rmthess.montecarlo.stats`), beside the finite-size prediction
(:mod:`rmthess.montecarlo.finite_size`) and the d → ∞ limit of :mod:`rmthess.cases`.

Replicate ``k`` uses the ``SeedSequence`` child with spawn key ``(…, k)`` of ``seed``, so a result
depends on the seed and nothing else, and any split of the replicates over workers gives the same
numbers.

Examples
--------
>>> from rmthess.montecarlo import simulate
>>> res = simulate("linear-ce", d=40, gamma=1.0, classes=3, reps=4, rng=1)
>>> sorted(res.blocks)
['v']
>>> 0.2 < res.blocks["v"].ratio < 0.4
True
>>> round(res.blocks["v"].limit, 4)             # the d → ∞ limit at C = 3, γ = 1
0.2835
"""

from __future__ import annotations

import math
from dataclasses import asdict

import numpy as np

from rmthess._cost import FLOP_RATE, check_cost
from rmthess._validate import DIM, GAMMA, REPS, rng_argument, seed_sequence
from rmthess.cases import Case, block_type, get_case
from rmthess.laws.entry import GAUSSIAN, entry_law
from rmthess.laws.init import resolve_init
from rmthess.montecarlo.blocknorms import DEFAULT_CHUNK, block_norm_means, diag_block_norms
from rmthess.montecarlo.designs import Design, get_design
from rmthess.montecarlo.finite_size import (
    OFFSET_CLASSES_LIMIT,
    predict_all_norms,
    predict_norms,
)
from rmthess.montecarlo.result import BlockResult, SimulationResult, SimulationSpec, entropy_of
from rmthess.montecarlo.seeds import LIMIT_KEY, PREDICTION_KEY, replicate_seed
from rmthess.montecarlo.stats import conditional_stderr, conditional_z, ratio_of_means, z_score

__all__ = ["simulate", "make_spec", "simulation_cost", "draw_replicate", "run_replicates",
           "summarize", "case_limits", "has_prediction"]


def make_spec(case, *, d, gamma, classes, m=None, design="coupled", sigma_v=None, t=None,
              v_law=None, w_law=None, sigma_w=None,
              init=None, covariance=None, prior=None) -> tuple[SimulationSpec, Case, Design]:
    """Validate the parameters; return the spec, the model case and the design strategy.

    ``init`` names a preset of :mod:`rmthess.laws.init` that sets ``sigma_v``, ``v_law``,
    ``sigma_w`` and ``w_law`` (which must then be left unset); otherwise they default to 1 and
    Gaussian. ``covariance`` (a spectrum law H) and ``prior`` (class probabilities, one per class)
    go to :meth:`rmthess.cases.Case.with_data` (theory/anisotropic.md, ANI-10; both, ANI-15).
    """
    model = get_case(case)
    d = DIM.validate(d)
    gamma = GAMMA.validate(gamma)
    classes, m, _ = model.check(classes, m, 1.0)
    ini = resolve_init(init, classes=classes, width=m, dim=d, sigma_v=sigma_v, v_law=v_law,
                       sigma_w=sigma_w, w_law=w_law)
    model = model.with_init(v_law=ini.v_law, w_law=ini.w_law, sigma_w=ini.sigma_w)
    if prior is not None:
        from rmthess.laws.prior import validate_prior

        prior = validate_prior(prior, classes)
    model = model.with_data(covariance=covariance, prior=prior)
    sigma_v = ini.sigma_v
    des = get_design(design, t=t)
    r = model.rank(classes, m)
    if d <= r:
        raise ValueError(f"d = {d} must exceed the rank {r} of the first layer "
                         f"({'C' if not model.hidden else 'm'})")
    if d / gamma < 0.5:
        raise ValueError(f"gamma = {gamma!r} leaves no samples at d = {d}: N = round(d/gamma) "
                         f"must be >= 1, so gamma <= {2 * d} here")
    if not d / gamma <= 2.0 ** 53:
        raise ValueError(f"gamma = {gamma!r} asks for N = d/gamma = {d / gamma:.3g} samples at "
                         f"d = {d}, more than can be counted; use gamma >= d/2^53")
    if covariance is not None:
        model.data_scale(d)                  # the spectrum's d quantiles: finite and > 0
    n = max(1, int(round(d / gamma)))
    spec = SimulationSpec(model.name, d, n, gamma, classes, m, sigma_v, des.name,
                          des.t if des.name == "lindeberg" else None, v_law=model.v_law,
                          w_law=model.w_law, sigma_w=model.sigma_w,
                          init=None if init is None else ini.name, covariance=covariance,
                          prior=None if prior is None else tuple(float(x) for x in prior))
    return spec, model, des


#: dense matrix products run at about this multiple of FLOP_RATE (BLAS)
_BLAS_SPEEDUP = 10.0


def simulation_cost(spec: SimulationSpec, reps: int) -> tuple[float, float]:
    """Estimated peak memory (bytes) and run time (seconds) of :func:`simulate` for ``spec``.

    Memory: the data ``X`` (N×d) and, except for the coupled design, a second copy; the first-layer
    outputs and weights
    (N×max(C, m) each, a few of them) and one Gram chunk; time: per replicate ``2Ndr`` for ``X Wᵀ``
    and ``N²d`` for the Gram matrices at BLAS speed, plus ``N²B`` for the block sums.
    """
    n, d = float(spec.n_samples), float(spec.d)
    r = float(max(spec.classes, spec.m or 0))
    copies = 1 if spec.design == "coupled" else 2
    nbytes = 8.0 * (copies * n * d + 6 * n * r + n * min(n, DEFAULT_CHUNK))
    blas = 2.0 * n * d * r + n * n * (d + (spec.m or 0))
    if spec.prior is not None:                   # the per-class diagonal norms: K Λ
        blas += 2.0 * n * n * (d + r)
    flops = blas / _BLAS_SPEEDUP + n * n * r
    return nbytes, reps * flops / FLOP_RATE


def draw_replicate(model: Case, design: Design, rng: np.random.Generator, *, d: int,
                   n_samples: int, classes: int, m: int | None, sigma_v: float, scale=None):
    r"""The parameters and the data of one replicate: ``(params, X^m, X^w)``.

    ``params`` from :meth:`rmthess.cases.Case.draw` (with the offsets of the case's prior), then the
    standard Gaussian ``Y`` (``N×d``); without ``scale`` the design's pair from ``X = Y``. With
    ``scale = √σ`` (:meth:`rmthess.cases.Case.data_scale`) the data are ``x = Σ^{1/2} y``: the
    design acts on ``Y`` and the first layer ``M Σ^{1/2}`` (whose projections ``M Σ^{1/2} y`` are
    those of x), and both sides are then scaled (theory/anisotropic.md, ANI-10).
    """
    params = model.draw(rng, d, classes, m, sigma_v)
    X = rng.standard_normal((n_samples, d))
    if scale is None:
        Xm, Xw = design.matrices(X, params.first, rng)
        return params, Xm, Xw
    Ym, Yw = design.matrices(X, params.first * scale, rng)
    Xw = Yw * scale
    return params, (Xw if Ym is Yw else Ym * scale), Xw


def _one_replicate(spec: SimulationSpec, model: Case, design: Design, seed,
                   scale=None) -> tuple[dict, object, dict]:
    rng = np.random.default_rng(seed)
    params, Xm, Xw = draw_replicate(model, design, rng, d=spec.d, n_samples=spec.n_samples,
                                    classes=spec.classes, m=spec.m, sigma_v=spec.sigma_v,
                                    scale=scale)
    Uw = Xw @ params.first.T
    Um = Uw if Xm is Xw else Xm @ params.first.T
    weights = model.weights(params, Uw)
    out, per_class = {}, {}
    for block in model.block_types:
        F = model.features(block, Xm, Um)
        dg, od = block_norm_means(F, weights[block])
        scale_b = spec.d if model.square(block) else 1.0
        out[block] = (dg / scale_b, od / scale_b)
        if _per_class(model.prior, block):
            per_class[block] = diag_block_norms(F, weights[block]) / scale_b
    return out, params, per_class


def _per_class(prior, block) -> bool:
    """Whether a run records the per-class diagonal norms of ``block``: with a class prior, for
    the blocks indexed by the classes (linear ``v``, mlp ``output``; ANI-10, ANI-14)."""
    return prior is not None and block_type(block).indexed_by == "classes"


def has_prediction(spec: SimulationSpec) -> bool:
    """Whether a finite-size prediction is built for ``spec``: not with class offsets above
    :data:`~rmthess.montecarlo.finite_size.OFFSET_CLASSES_LIMIT` classes (ANI-11), nor for the
    mlp cases with a data covariance or class offsets (none is derived, ANI-14); the simulation
    is then compared with the limit through the extrapolation in d (VER-3)."""
    if spec.prior is not None and spec.classes > OFFSET_CLASSES_LIMIT:
        return False
    return spec.m is None or (spec.covariance is None and spec.prior is None)


def run_replicates(spec: SimulationSpec, seed, indices, *, predictions: bool = True,
                   progress=None) -> dict:
    """Run replicates ``indices``; return per block an array of rows
    ``[diag, offdiag, pd, po, pd_se, po_se]`` (followed, with a class prior, by the C per-class
    diagonal norms ``‖B_cc‖²_F/d`` of the blocks indexed by the classes).

    ``pd, po`` are the per-replicate conditional predictions and ``pd_se, po_se`` their own standard
    errors (MLP cases; ``nan`` otherwise, when ``predictions`` is false or when
    :func:`has_prediction` is false). ``progress``, if
    given, is called with ``(done, total)`` after each replicate.
    """
    _, model, design = make_spec(spec.case, d=spec.d, gamma=spec.gamma, classes=spec.classes,
                                 m=spec.m, design=spec.design, sigma_v=spec.sigma_v, t=spec.t,
                                 v_law=spec.v_law, w_law=spec.w_law, sigma_w=spec.sigma_w,
                                 covariance=spec.covariance, prior=spec.prior)
    rows = {b: [] for b in model.block_types}
    pseed = replicate_seed(seed, PREDICTION_KEY)
    t = design.t
    scale = model.data_scale(spec.d)
    width = {b: 6 + (spec.classes if _per_class(spec.prior, b) else 0)
             for b in model.block_types}
    predictions = predictions and has_prediction(spec)
    for k in indices:
        vals, params, per_class = _one_replicate(spec, model, design, replicate_seed(seed, k),
                                                 scale)
        preds = predict_all_norms(model, d=spec.d, n_samples=spec.n_samples, classes=spec.classes,
                                  m=spec.m, sigma_v=spec.sigma_v, t=t, params=params,
                                  seed=replicate_seed(pseed, k)) \
            if predictions and model.conditional() else {}
        for b, (dg, od) in vals.items():
            p = preds.get(b)
            pred = (p.diag, p.offdiag, p.diag_stderr, p.offdiag_stderr) if p is not None \
                else (math.nan,) * 4
            rows[b].append((dg, od) + pred + tuple(per_class.get(b, ())))
        if progress is not None:
            progress(len(rows[model.block_types[0]]), len(indices))
    return {b: np.asarray(v, float).reshape(-1, width[b]) for b, v in rows.items()}


def case_limits(case: str, gamma: float, classes: int, m=None, sigma_v: float = 1.0, seed=None, *,
                v_law=None, sigma_w: float = 1.0, covariance=None, prior=None):
    """Per block ``(ratio, stderr)`` of the d → ∞ limit from :mod:`rmthess.cases` (None if absent).

    With hidden scale ``σ_w`` the ratios are those of the theory at ``σ_v → σ_w σ_v`` (CASE-20); a
    non-Gaussian ``v_law`` of an mlp case needs a case whose ``limits`` takes ``v_law`` (else None).
    The linear cases' limits do not depend on the law (their logits are Gaussian as d → ∞).
    ``covariance`` and ``prior`` go to the cases' limits (ANI-3, ANI-6, ANI-7, CASE-30, CASE-31;
    the class averages with a prior).
    """
    import inspect

    c = get_case(case)
    kwargs = {"m": m, "sigma_v": sigma_w * sigma_v}
    if covariance is not None:
        kwargs["covariance"] = covariance
    if prior is not None:
        kwargs["prior"] = np.asarray(prior, dtype=float)
    law = entry_law(v_law)
    if m is not None and law != GAUSSIAN:
        if "v_law" not in inspect.signature(c.limits).parameters:
            return None
        kwargs["v_law"] = law
    if m is not None:
        kwargs["rng"] = np.random.default_rng(replicate_seed(seed, LIMIT_KEY))
    lim = c.limits(gamma, classes, **kwargs)
    out = {}
    for b, bl in lim.blocks.items():
        se = bl.stderr_ratio if bl.stderr_ratio is not None else 0.0
        out[b] = (float(bl.ratio), float(se))
    return out


def _spectrum(spec: SimulationSpec):
    """The d eigenvalues of Σ of ``spec`` (None for Σ = I)."""
    if spec.covariance is None:
        return None
    from rmthess.gmp.covariance import spectrum_values

    return spectrum_values(spec.covariance, spec.d)


def summarize(spec: SimulationSpec, rows: dict, seed, *, limits=None,
              predictions: bool = True) -> SimulationResult:
    """Turn per-replicate rows (:func:`run_replicates`) into a :class:`SimulationResult`."""
    prior = None if spec.prior is None else np.asarray(spec.prior, dtype=float)
    model = get_case(spec.case).with_data(prior=prior)
    root = seed_sequence(seed)
    blocks, class_diag = {}, {}
    reps = None
    pseed = replicate_seed(seed, PREDICTION_KEY)
    # with class offsets the prediction (ANI-11) is built for few classes only (its cost is C⁴);
    # none is derived for the mlp cases with a covariance or offsets (ANI-14)
    predictions = predictions and has_prediction(spec)
    spectrum = _spectrum(spec)
    class_lim = None
    # the per-class limits of mlp-ce (CASE-31) are a second estimate: class_limits gives them
    if prior is not None and limits and not model.hidden:
        # the per-class limits g_ii(c) of (CASE-30), with a covariance those of (ANI-13); a
        # uniform prior has identical classes
        cl = model.class_limits(spec.gamma, prior, sigma_v=spec.sigma_v,
                                covariance=spec.covariance)
        if cl is not None:
            class_lim = cl["g_ii"]
        else:
            same = model.limits(spec.gamma, spec.classes, sigma_v=spec.sigma_v,
                                covariance=spec.covariance).blocks["v"]
            class_lim = np.full(spec.classes, same.g_ii)
    for b in model.block_types:
        arr = np.asarray(rows[b], float)
        reps = arr.shape[0]
        est = ratio_of_means(arr[:, 1], arr[:, 0])
        if arr.shape[1] > 6:
            per = arr[:, 6:]
            se = per.std(axis=0, ddof=1) / math.sqrt(reps) if reps > 1 else \
                np.full(per.shape[1], math.nan)
            class_diag[b] = {"mean": per.mean(axis=0), "stderr": se, "prediction": None,
                             "prediction_stderr": None, "limit": class_lim}
        pred = pse = pdg = pod = rse = None
        zp = None
        if predictions:
            if model.conditional():
                pdg, pod = float(np.mean(arr[:, 2])), float(np.mean(arr[:, 3]))
                pred = pod / pdg
                # independent per-replicate errors (their correlation within a replicate ignored);
                # they are also inside the residual spread of conditional_z (MC-18)
                pse = float(math.sqrt(np.sum(arr[:, 5] ** 2 + pred**2 * arr[:, 4] ** 2))
                            / abs(np.sum(arr[:, 2])))
                zp = conditional_z(arr[:, 1], arr[:, 0], arr[:, 3], arr[:, 2]) if reps > 1 \
                    else math.nan
                rse = conditional_stderr(arr[:, 1], arr[:, 0], arr[:, 3], arr[:, 2])
            else:
                p = predict_norms(model, b, d=spec.d, n_samples=spec.n_samples,
                                  classes=spec.classes, m=spec.m, sigma_v=spec.sigma_v,
                                  t=get_design(spec.design, t=spec.t).t, seed=pseed,
                                  spectrum=spectrum)
                pdg, pod, pred = p.diag, p.offdiag, p.ratio
                pse = p.ratio_stderr
                if b in class_diag:
                    class_diag[b]["prediction"] = p.diag_columns
                    class_diag[b]["prediction_stderr"] = p.diag_columns_stderr
                zp = z_score(est.ratio, pred, est.stderr, pse)
        lim = limits.get(b) if limits else None
        lim_v, lim_se = (lim if lim is not None else (None, 0.0))
        zl = z_score(est.ratio, lim_v, est.stderr, lim_se) if lim_v is not None else None
        blocks[b] = BlockResult(
            block=b, ratio=est.ratio, stderr=est.stderr,
            prediction=pred, prediction_stderr=0.0 if pse is None else pse,
            limit=lim_v, limit_stderr=lim_se, z_prediction=zp, z_limit=zl,
            diag=est.den, diag_stderr=est.den_stderr, offdiag=est.num,
            offdiag_stderr=est.num_stderr, diag_prediction=pdg, offdiag_prediction=pod,
            n_blocks=block_type(b).count(spec.classes, spec.m),
            prediction_residual_stderr=rse,
        )
    return SimulationResult(
        **asdict(spec), reps=int(reps), seed_entropy=entropy_of(root.entropy),
        seed_spawn_key=tuple(root.spawn_key),
        blocks=blocks, replicates={b: np.asarray(rows[b])[:, :2] for b in model.block_types},
        class_diag=class_diag,
    )


def simulate(case: str, *, d: int, gamma: float, classes: int, m: int | None = None, reps: int,
             design: str = "coupled", rng=None, sigma_v: float | None = None,
             t: float | None = None, predictions: bool = True, limits: bool = True,
             init: str | None = None, v_law=None, w_law=None,
             sigma_w: float | None = None, covariance=None, prior=None,
             force: bool = False, progress=None, seed=None) -> SimulationResult:
    r"""Simulate the off-diagonal/diagonal block-norm ratio of a model case.

    Parameters
    ----------
    case : {"linear-mse", "linear-ce", "mlp-mse", "mlp-ce"}
        Model case.
    d : int
        Input dimension (``d ≥ 2`` and larger than the first layer's rank C or m).
    gamma : float
        Aspect ratio ``d/N``; ``N = round(d/γ)``.
    classes : int
        Number of classes C (``≥ 2``).
    m : int, optional
        Hidden width (MLP cases only).
    reps : int
        Replicates (``≥ 1``; standard errors need ``≥ 2``).
    design : {"coupled", "decoupled", "sharp", "lindeberg"}
        Monte Carlo design (:mod:`rmthess.montecarlo.designs`).
    rng : int, sequence of int, SeedSequence or Generator, optional
        The only source of randomness (anything :func:`numpy.random.default_rng` accepts). The same
        int gives the same result; a Generator advances, so two calls with it differ.
    sigma_v : float, optional
        Output-weight scale (``V = σ_v ε/√fan-in``; default 1).
    t : float, optional
        Interpolation parameter of the lindeberg design (default 0.5).
    predictions, limits : bool
        Attach the finite-size prediction / the limit of :mod:`rmthess.cases`.
    init : str, optional
        A named initialization of :mod:`rmthess.laws.init` (``"torch-default"``, …); it sets
        ``sigma_v``, ``v_law``, ``sigma_w``, ``w_law``, which must then be left unset.
    v_law, w_law : str or EntryLaw, optional
        Entry laws of V and (mlp cases) W (:func:`rmthess.laws.entry.entry_law`; default Gaussian).
    sigma_w : float, optional
        Hidden-weight scale of the mlp cases (``W = σ_w ε/√d``; default 1).
    covariance : WeightLaw, optional
        The spectrum law H of a data covariance Σ (:mod:`rmthess.gmp.covariance`, as the limits
        take it). The data are ``x = Σ^{1/2} y``, ``y ~ N(0, I_d)``, Σ diagonal with the d
        midpoint quantiles of H (:func:`rmthess.gmp.covariance.spectrum_values`); the limit is
        (ANI-3; mlp cases ANI-6, ANI-7) at H. Linear cases: the prediction is (ANI-12) at the
        drawn spectrum; mlp cases: no prediction (None; ANI-14).
    prior : array_like, optional
        linear-ce, mlp-ce: class probabilities π (one per class, summing to 1; e.g.
        :func:`rmthess.laws.prior.zipf_prior`); the logits are ``V x + b`` (mlp-ce
        ``V relu(W x) + b``), ``b_c = log π_c``. The result then carries the per-class diagonal
        norms of the blocks indexed by the classes (``class_diag``), the limit is the class
        average of (CASE-30; CASE-31). linear-ce: the per-class limits and, up to C = 12
        classes, the finite-size prediction (ANI-11; its cost grows as C⁴); mlp-ce: neither
        (per-class limits: ``MlpCE.class_limits``; no prediction is derived, ANI-14).
        With a ``covariance`` as well the two compose: ``x = Σ^{1/2} y`` and the logits
        ``V x + b`` (ANI-15); the limits are those of (ANI-13) (linear-ce, per class too) and of
        (ANI-6)/(ANI-7) at the offsets (mlp-ce), the linear-ce prediction is (ANI-15).
    force : bool
        Run even when the estimated memory or time (:func:`simulation_cost`) exceeds the guard of
        :mod:`rmthess._cost` (otherwise a ``ValueError`` states the estimate before any work).
    progress : callable, optional
        Called as ``progress(done, total, estimated_seconds)`` after each replicate.
    seed : optional
        Deprecated alias of ``rng``.

    Returns
    -------
    SimulationResult

    Notes
    -----
    Ratio of means (MC-10), finite-size prediction (MC-6, MC-8; MC-9 for MLP cases conditional on V)
    and its error (MC-19) of theory/montecarlo.md. The limit of an initialization is the theory's at
    ``σ_w σ_v`` and the law of V (theory/cases.md, CASE-20, CASE-24). Data covariance and class
    offsets: theory/anisotropic.md, ANI-10–ANI-12 (mlp cases ANI-14; both
    together ANI-15).

    References
    ----------
    Dong, Zhang, Yao, Sun, *Towards Quantifying the Hessian Structure of Neural Networks*,
    arXiv:2505.02809 (2025).
    """
    spec, model, design_ = make_spec(case, d=d, gamma=gamma, classes=classes, m=m, design=design,
                                     sigma_v=sigma_v, t=t, v_law=v_law, w_law=w_law,
                                     sigma_w=sigma_w, init=init, covariance=covariance,
                                     prior=prior)
    reps = REPS.validate(reps)
    root = seed_sequence(rng_argument(rng, seed, "simulate"))
    nbytes, seconds = simulation_cost(spec, reps)
    check_cost(f"simulate({spec.case}, d={spec.d}, N={spec.n_samples}, reps={reps})",
               nbytes=nbytes, seconds=seconds, force=force, hint="reduce d, reps or raise gamma")
    # the limit first: a parameter it refuses is refused before the replicates run
    if predictions and spec.prior is None and has_prediction(spec):
        # the prediction's exact moments: their domain, now
        s1 = 1.0 if spec.covariance is None else float(np.mean(_spectrum(spec)))
        for b in model.block_types:
            if model.exchangeable(b):
                model.exact_moments(b, "diag", spec.classes, spec.sigma_v * math.sqrt(s1))
    lim = case_limits(spec.case, spec.gamma, spec.classes, spec.m, spec.sigma_v, root,
                      v_law=spec.v_law, sigma_w=spec.sigma_w, covariance=spec.covariance,
                      prior=spec.prior) if limits else None
    report = None if progress is None else (lambda k, n: progress(k, n, seconds))
    rows = run_replicates(spec, root, range(reps), predictions=predictions, progress=report)
    return summarize(spec, rows, root, limits=lim, predictions=predictions)
