r"""``rmthess analyze``: the Hessian-block structure of a PyTorch model, and the theory beside it.

A TOML file names a function ``module:function`` that returns the model, the loss and the data
(a tuple ``(model, loss_fn, data)`` or a dict with those keys and, optionally, ``init``), and
how to analyse them::

    model = "my_models:build"      # imported with the file's folder on sys.path
    blocks = "rows"                 # or "parameters", or { name = [[indices], ...], ... }
    seed = 0
    dtype = "float64"               # or "float32"
    device = "cpu"                  # optional: the model's own device

    [operator]
    kind = "hessian"                # or "gauss-newton", "residual"
    probe_batch = 8

    [block_map]
    method = "auto"                 # exact (P products) up to exact_max_params, else estimated
    exact_max_params = 20000
    probes = 20                     # per block column, when estimated

    [spectrum]
    top_k = 10                      # Lanczos top eigenvalues of the whole Hessian (outliers
                                    # among them; a power-law fit from 50)
    block_top_k = 3                 # and of every diagonal block (0: skip)
    slq_steps = 80                  # Lanczos steps per SLQ probe (0: no densities, neither
    slq_probes = 10                 # the whole one nor single blocks')
    block_densities = "first-of-group"   # single blocks (exact when the map formed them, else
                                         # SLQ): "none", or a list of block indices

    [theory]
    enabled = true                  # the paper's networks only; others are reported as such
    init = "torch-default"          # optional; default: read off the weights
    reps = 20
    predictions = true              # the ensemble's finite-size prediction beside it

:func:`run_analysis` computes everything (:class:`Analysis`); :func:`write_analysis` writes
``analysis.json``, ``blocks.csv``, figures (block-norm map with block boundaries, top eigenvalues
per block, SLQ density with its error band, theory beside measurement) and ``report.md`` /
``report.html``. Every number carries its error: exact values (block columns) say so, estimates
carry standard errors, eigenvalues residuals, densities their 1-Wasserstein error.
"""

from __future__ import annotations

import importlib
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rmthess._format import supported_digits, with_error

__all__ = ["AnalysisConfig", "Analysis", "load_config", "run_analysis", "write_analysis",
           "record", "plain", "mde_text"]

_SECTIONS = {
    "": {"model", "blocks", "seed", "dtype", "device", "operator", "block_map", "spectrum",
         "theory"},
    "operator": {"kind", "probe_batch"},
    "block_map": {"method", "exact_max_params", "probes"},
    "spectrum": {"top_k", "block_top_k", "slq_steps", "slq_probes", "block_densities"},
    "theory": {"enabled", "init", "reps", "predictions"},
}
_METHODS = ("auto", "exact", "estimate")


@dataclass(frozen=True)
class AnalysisConfig:
    """A validated ``rmthess analyze`` configuration (see the module docstring for the keys)."""

    model: str
    base: Path
    blocks: object = "rows"
    seed: int = 0
    dtype: str = "float64"
    device: str | None = None
    kind: str = "hessian"
    probe_batch: int = 8
    map_method: str = "auto"
    exact_max_params: int = 20000
    map_probes: int = 20
    top_k: int = 10
    block_top_k: int = 3
    slq_steps: int = 80
    slq_probes: int = 10
    block_densities: object = "first-of-group"
    theory: bool = True
    init: str | None = None
    reps: int = 20
    predictions: bool = True

    @property
    def theory_blocks(self) -> bool:
        """Whether the operator's blocks are the theory's: the Hessian's row blocks (its ratios
        and the block laws of theory/torch.md §7 describe them, not per-tensor blocks)."""
        return self.kind == "hessian" and self.blocks == "rows"


def _int(table, key, default, low, where):
    val = table.get(key, default)
    if isinstance(val, bool) or not isinstance(val, int) or val < low:
        raise ValueError(f"{where}{key} must be an integer ≥ {low}, got {val!r}")
    return val


def load_config(path) -> AnalysisConfig:
    """Read and validate a configuration file; a ``ValueError`` names the first problem."""
    from rmthess.laws.init import INITS
    from rmthess.torch._layout import BLOCK_KINDS
    from rmthess.torch.operator import _DTYPES, KINDS

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"configuration file {str(path)!r} not found")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML ({exc})") from None
    for sec, keys in _SECTIONS.items():
        table = raw if not sec else raw.get(sec, {})
        if not isinstance(table, dict):
            raise ValueError(f"[{sec}] must be a table")
        unknown = sorted(set(table) - keys)
        if unknown:
            raise ValueError(f"unknown key{'s' if len(unknown) > 1 else ''} "
                             f"{', '.join(unknown)} in {'[' + sec + ']' if sec else 'the file'}; "
                             f"valid: {', '.join(sorted(keys))}")
    model = raw.get("model")
    if not isinstance(model, str) or model.count(":") != 1 or not all(model.split(":")):
        raise ValueError(f"model must be 'module:function', got {model!r}")
    blocks = raw.get("blocks", "rows")
    if isinstance(blocks, dict):  # user groups: {name = [[indices], ...]}
        ok = blocks and all(isinstance(v, list) and v and all(
            isinstance(b, list) and b and all(isinstance(i, int) and not isinstance(i, bool)
                                              and i >= 0 for i in b) for b in v)
            for v in blocks.values())
        if not ok:
            raise ValueError("blocks as a table must map group names to lists of index lists, "
                             "e.g. blocks = { first = [[0, 1, 2], [3, 4]] }")
        blocks = {k: tuple(tuple(b) for b in v) for k, v in blocks.items()}
    elif blocks not in BLOCK_KINDS:
        raise ValueError(f"blocks must be one of {BLOCK_KINDS} or a table of index groups, "
                         f"got {blocks!r}")
    dtype = raw.get("dtype", "float64")
    if dtype not in _DTYPES:
        raise ValueError(f"dtype must be one of {_DTYPES}, got {dtype!r}")
    op, bm, sp, th = (raw.get(k, {}) for k in ("operator", "block_map", "spectrum", "theory"))
    kind = op.get("kind", "hessian")
    if kind not in KINDS:
        raise ValueError(f"[operator] kind must be one of {KINDS}, got {kind!r}")
    method = bm.get("method", "auto")
    if method not in _METHODS:
        raise ValueError(f"[block_map] method must be one of {_METHODS}, got {method!r}")
    init = th.get("init")
    if init is not None and init not in INITS:
        raise ValueError(f"[theory] init must be one of {tuple(INITS)}, got {init!r}")
    bd = sp.get("block_densities", "first-of-group")
    if not (bd in ("first-of-group", "none") or (
            isinstance(bd, list) and all(isinstance(i, int) and not isinstance(i, bool)
                                         and i >= 0 for i in bd))):
        raise ValueError("[spectrum] block_densities must be 'first-of-group', 'none' or a list "
                         f"of block indices, got {bd!r}")
    enabled, predictions = th.get("enabled", True), th.get("predictions", True)
    for key, val in (("enabled", enabled), ("predictions", predictions)):
        if not isinstance(val, bool):
            raise ValueError(f"[theory] {key} must be true or false, got {val!r}")
    device = raw.get("device")
    if device is not None and not isinstance(device, str):
        raise ValueError(f"device must be a string such as 'cpu' or 'cuda:0', got {device!r}")
    return AnalysisConfig(
        model=model, base=path.resolve().parent, blocks=blocks,
        seed=_int(raw, "seed", 0, 0, ""), dtype=dtype, device=device, kind=kind,
        probe_batch=_int(op, "probe_batch", 8, 1, "[operator] "),
        map_method=method, exact_max_params=_int(bm, "exact_max_params", 20000, 1, "[block_map] "),
        map_probes=_int(bm, "probes", 20, 2, "[block_map] "),
        top_k=_int(sp, "top_k", 10, 0, "[spectrum] "),
        block_top_k=_int(sp, "block_top_k", 3, 0, "[spectrum] "),
        slq_steps=_int(sp, "slq_steps", 80, 0, "[spectrum] "),
        slq_probes=_int(sp, "slq_probes", 10, 2, "[spectrum] "),
        block_densities=tuple(bd) if isinstance(bd, list) else bd, theory=enabled, init=init,
        reps=_int(th, "reps", 20, 2, "[theory] "), predictions=predictions)


def _load_source(cfg: AnalysisConfig) -> dict:
    """Import ``module:function`` (the file's folder first on ``sys.path``) and call it."""
    modname, func = cfg.model.split(":")
    base = str(cfg.base)
    added = base not in sys.path
    if added:
        sys.path.insert(0, base)
    try:
        try:
            mod = importlib.import_module(modname)
        except ImportError as exc:
            raise ValueError(f"model: cannot import {modname!r} ({exc})") from None
        fn = getattr(mod, func, None)
        if fn is None:
            raise ValueError(f"model: {modname!r} has no function {func!r}")
        if not callable(fn):
            raise ValueError(f"model: {modname}.{func} is a {type(fn).__name__}, not a function")
        try:
            out = fn()
        except Exception as exc:  # the user's code: one line naming it, not a traceback
            text = str(exc).strip().splitlines()
            raise ValueError(f"model: {cfg.model}() raised {type(exc).__name__}"
                             f"{': ' + text[0] if text else ''}") from None
    finally:
        if added:
            sys.path.remove(base)
    if isinstance(out, dict):
        missing = {"model", "loss_fn", "data"} - set(out)
        if missing:
            raise ValueError(f"model: {cfg.model} returned a dict without {sorted(missing)}")
        return out
    if isinstance(out, tuple) and len(out) == 3:
        return dict(zip(("model", "loss_fn", "data"), out, strict=True))
    raise ValueError(f"model: {cfg.model} must return (model, loss_fn, data) or a dict with "
                     "those keys")


@dataclass
class Analysis:
    """What ``rmthess analyze`` measured (every array in the operator's block order)."""

    config: AnalysisConfig
    summary: dict
    labels: tuple
    groups: tuple
    norm_map: np.ndarray = field(repr=False)
    norm_map_stderr: np.ndarray | None = field(repr=False)
    ratios: dict = field(repr=False)
    traces: np.ndarray = field(repr=False)
    traces_stderr: np.ndarray | None = field(repr=False)
    top: object = field(repr=False)
    block_top: list = field(repr=False)
    density: object = field(repr=False)
    block_densities: dict = field(repr=False)
    outliers: object = field(repr=False)
    power_law: object = field(repr=False)
    theory: object = field(repr=False)
    block_law_check: dict | None = None
    theory_note: str = ""
    seconds: dict = field(default_factory=dict)


def _ratios_with_errors(sq, se, layout) -> dict:
    """Block ratios (NET-8) per group, with a delta-method standard error when estimated."""
    from rmthess.networks.blocks import block_ratio

    out = {}
    for t in layout.block_types:
        r = block_ratio(sq, layout, t)
        err = None
        if se is not None and r.n_offdiag:
            rg = layout.block_range(t)
            sub = se[rg.start:rg.stop, rg.start:rg.stop] ** 2
            k = sub.shape[0]
            var_d = float(np.sum(np.diag(sub))) / k**2
            var_o = float(np.sum(sub[~np.eye(k, dtype=bool)])) / (k * (k - 1)) ** 2
            # ratio R = O/D: Var R ≈ (Var O + R² Var D)/D², also at O = 0 (MSE output blocks)
            if r.diag_mean > 0:
                err = float(np.sqrt(var_o + r.ratio**2 * var_d)) / r.diag_mean
        out[t] = {"ratio": r.ratio, "stderr": err, "diag_mean": r.diag_mean,
                  "offdiag_mean": r.offdiag_mean, "n_blocks": r.n_diag}
    return out


def run_analysis(cfg: AnalysisConfig, *, progress=None) -> Analysis:
    """Build the operator and measure the block map, the spectra and the theory beside them.

    ``progress(step: str)`` is called before each step.
    """
    from rmthess._validate import child_seed, spawn_seeds
    from rmthess.networks.blocks import norm_map_and_diagonal
    from rmthess.networks.hutchinson import block_frobenius, block_traces
    from rmthess.networks.lanczos import slq_density, top_eigenvalues
    from rmthess.torch.operator import HessianOperator

    say = progress or (lambda _s: None)
    seconds = {}
    t0 = time.perf_counter()
    say("loading the model")
    src = _load_source(cfg)
    op = HessianOperator(src["model"], src["loss_fn"], src["data"], blocks=cfg.blocks,
                         kind=cfg.kind, dtype=cfg.dtype, device=cfg.device,
                         probe_batch=cfg.probe_batch)
    lay = op.layout
    seconds["setup"] = time.perf_counter() - t0
    seeds = spawn_seeds(cfg.seed, 4)
    P, B = op.shape[0], lay.n_blocks
    exact = cfg.map_method == "exact" or (cfg.map_method == "auto" and P <= cfg.exact_max_params)
    t0 = time.perf_counter()
    block_eigs = []  # exact eigenvalues (descending) of the diagonal blocks, when formed
    if exact:
        say(f"block-norm map: exact, {P} products")
        sq, diagonal = norm_map_and_diagonal(op, lay, batch=cfg.probe_batch * 4)
        se = None
        traces = np.array([np.trace(b) for b in diagonal])
        traces_se = None
        block_eigs = [np.linalg.eigvalsh(0.5 * (b + b.T))[::-1] for b in diagonal]
    else:
        say(f"block-norm map: estimated, {B} × {cfg.map_probes} products")
        est = block_frobenius(op, lay, cfg.map_probes, rng=seeds[0], batch=cfg.probe_batch)
        sq, se = est.estimate, est.stderr
        tr = block_traces(op, lay, cfg.map_probes, rng=seeds[1], batch=cfg.probe_batch)
        traces, traces_se = tr.estimate, tr.stderr
    seconds["block_map"] = time.perf_counter() - t0
    ratios = _ratios_with_errors(sq, se, lay)
    t0 = time.perf_counter()
    top = None
    tol = 1e-8 if cfg.dtype == "float64" else 1e-4  # what the operator's rounding allows
    top_k = min(cfg.top_k, P - 1)
    if top_k:
        say(f"top {top_k} eigenvalues (Lanczos)")
        top = top_eigenvalues(op, top_k, rng=seeds[2], tol=tol)
    block_top = []
    if cfg.block_top_k:
        say(f"top {cfg.block_top_k} eigenvalues of each of {B} blocks")
        for k in range(B):
            if block_eigs:
                block_top.append({"values": block_eigs[k][:cfg.block_top_k], "residuals": None})
            elif lay.sizes[k] <= cfg.block_top_k + 1:
                block_top.append(None)  # too small for Lanczos; the exact map gives these
            else:
                t = top_eigenvalues(op, cfg.block_top_k, layout=lay, block=k, rng=seeds[2],
                                    tol=max(tol, 1e-6))
                block_top.append({"values": t.values, "residuals": t.residuals})
    seconds["eigenvalues"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    density = None
    if cfg.slq_steps:
        say(f"spectral density (SLQ, {cfg.slq_probes} × {cfg.slq_steps} products)")
        density = slq_density(op, steps=cfg.slq_steps, n_probes=cfg.slq_probes, rng=seeds[3])
    block_dens = {}
    if cfg.slq_steps and cfg.block_densities != "none":
        chosen = ([int(r.start) for r in map(lay.block_range, lay.block_types)][:8]
                  if cfg.block_densities == "first-of-group" else list(cfg.block_densities))
        bad = [k for k in chosen if k >= B]
        if bad:
            raise ValueError(f"[spectrum] block_densities: block {bad[0]} does not exist "
                             f"({B} blocks)")
        for k in chosen:
            if block_eigs:  # formed already: its exact eigenvalues
                block_dens[k] = block_eigs[k][::-1]
                continue
            say(f"spectral density of block {k} ({lay.block_labels[k]})")
            block_dens[k] = slq_density(op, steps=min(cfg.slq_steps, lay.sizes[k]),
                                        n_probes=cfg.slq_probes, layout=lay, block=k,
                                        rng=child_seed(seeds[3], k + 1))
    seconds["density"] = time.perf_counter() - t0
    outliers = power = None
    if top is not None:
        from rmthess.networks.powerlaw import power_law_fit
        from rmthess.networks.spectra import count_outliers

        pos = top.values[top.values > 0]
        if pos.size >= 3:
            outliers = count_outliers(pos)
        if pos.size >= 50:  # a tail fit needs a tail (the method's reference uses 1000)
            power = power_law_fit(pos, k=None)
    theory, note = None, ""
    t0 = time.perf_counter()
    if cfg.theory:
        from rmthess.torch.theory import theory_beside

        say("theory beside the measurement")
        dof = None if exact else cfg.map_probes - 1
        measured = ({g: (r["ratio"], r["stderr"], None if r["stderr"] is None else dof)
                     for g, r in ratios.items()} if cfg.theory_blocks else None)
        try:
            theory = theory_beside(src["model"], src["loss_fn"], src["data"],
                                   init=src.get("init", cfg.init), reps=cfg.reps,
                                   predictions=cfg.predictions, rng=cfg.seed,
                                   op=op if cfg.theory_blocks else None, measured=measured)
        except ValueError as exc:
            note = str(exc)
    seconds["theory"] = time.perf_counter() - t0
    law_check = None
    if theory is not None and block_eigs and cfg.theory_blocks:
        say("block spectra against their limiting laws")
        law_check = block_law_check(theory, block_eigs, lay.block_labels)
    summary = {"parameters": P, "samples": op.n_samples, "blocks": B,
               "groups": len(lay.groups), "kind": op.kind, "loss": float(op.loss),
               "reduction": op.reduction, "dtype": op.dtype_name, "device": str(op.device),
               "products": int(op.n_products), "block_map": "exact" if exact else "estimated",
               "model": type(src["model"]).__name__, "top_k": top_k,
               "symbol": {"hessian": "H", "gauss-newton": "G", "residual": "H − G"}[op.kind],
               "descriptions": dict(lay.descriptions)}
    return Analysis(cfg, summary, lay.block_labels, lay.groups, np.sqrt(np.maximum(sq, 0)),
                    se, ratios, traces, traces_se, top, block_top, density, block_dens,
                    outliers, power, theory, law_check, note, seconds)


def block_law_check(theory, block_eigs, labels) -> dict:
    r"""The Kolmogorov–Smirnov distance of each diagonal block's exact eigenvalues to its limiting
    law (theory/torch.md §7).

    ``theory.extras["block_laws"]`` maps block indices to laws in rmthess's normalization and
    ``"eigenvalue_scale"`` the model's eigenvalues to them. The block differs from a GMP matrix
    whose weights are independent of the data by a matrix of rank ``≤ 2r`` (r = C for the linear
    model, m for the ReLU network; CASE-37), which moves its empirical distribution function by at
    most ``2r/n``: ``rank_allowance``, the distance finite size permits beyond the ``O(log n/n)``
    sampling fluctuation.
    """
    laws, scale = theory.extras["block_laws"], theory.extras["eigenvalue_scale"]
    net = theory.network
    r = net.classes if net.width is None else net.width
    rows = []
    for k, law in laws.items():
        ev = block_eigs[k][::-1] / scale
        F = np.array([law.cdf(x) for x in ev])
        n = ev.size
        ks = float(max(np.max(np.arange(1, n + 1) / n - F), np.max(F - np.arange(n) / n)))
        rows.append({"block": int(k), "label": labels[k], "size": n, "ks": ks})
    ks = np.array([b["ks"] for b in rows])
    return {"blocks": rows, "median_ks": float(np.median(ks)), "max_ks": float(ks.max()),
            "rank_allowance": min(1.0, 2 * r / rows[0]["size"])}


# -- output ------------------------------------------------------------------------------------

def mde_text(mde: float) -> str:
    """The MDE of a theory row: a percentage, "exact" for a deterministic ratio, "—" for none."""
    if mde == 0:
        return "exact"
    return "—" if not np.isfinite(mde) else f"{100 * mde:.2g} %"


def record(an: Analysis) -> dict:
    """The JSON record of an analysis (plain types, NaN as null)."""
    def arr(x):
        return None if x is None else np.where(np.isfinite(x), x, np.nan).tolist()

    top = None if an.top is None else {
        "values": an.top.values.tolist(), "residuals": an.top.residuals.tolist(),
        "converged": an.top.converged.tolist(), "products": an.top.n_products}
    def density(d):
        return None if d is None else {
            "grid": d.grid.tolist(), "density": d.density.tolist(), "stderr": d.stderr.tolist(),
            "sigma": d.sigma, "w1_estimate": d.w1_estimate, "w1_bound": d.w1_bound,
            "eta": d.eta, "nodes": d.nodes.tolist(), "weights": d.weights.tolist()}

    dens = density(an.density)
    extras = {"block_densities": {str(k): (d.tolist() if isinstance(d, np.ndarray)
                                           else density(d))
                                  for k, d in an.block_densities.items()},
              "outliers": None if an.outliers is None else an.outliers.__dict__,
              "power_law": None if an.power_law is None else an.power_law.__dict__}
    theory = None
    if an.theory is not None:
        theory = {"network": {k: getattr(an.theory.network, k) for k in
                              an.theory.network.__dataclass_fields__},
                  "reps": an.theory.reps, "alpha": an.theory.alpha,
                  "z_threshold": an.theory.z_threshold, "passed": an.theory.passed,
                  "rows": [{**{k: getattr(r, k) for k in r.__dataclass_fields__},
                            "deviation_from_limit": r.deviation_from_limit}
                           for r in an.theory.rows]}
    cfg = {k: (str(v) if isinstance(v, Path) else v)
           for k, v in an.config.__dict__.items()}
    return {"config": cfg, "summary": an.summary, "seconds": an.seconds,
            "labels": list(an.labels),
            "groups": [[g, c, s if isinstance(s, int) else list(s)] for g, c, s in an.groups],
            "norm_map": arr(an.norm_map), "norm_map_squared_stderr": arr(an.norm_map_stderr),
            "ratios": an.ratios, "traces": arr(an.traces), "traces_stderr": arr(an.traces_stderr),
            "top_eigenvalues": top,
            "block_top_eigenvalues": [None if b is None else
                                      {"values": arr(b["values"]),
                                       "residuals": arr(b["residuals"])}
                                      for b in an.block_top],
            "density": dens, **extras, "theory": theory, "theory_note": an.theory_note,
            "block_law_check": an.block_law_check}


def write_analysis(an: Analysis, outdir, *, formats=("png",)) -> dict:
    """Write ``analysis.json``, ``blocks.csv``, the figures and ``report.md``/``report.html``."""
    import csv
    import json

    from rmthess.plotting.structure import analysis_figures
    from rmthess.verify.report import render_html

    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    rec = record(an)
    (out / "analysis.json").write_text(json.dumps(plain(rec), allow_nan=False) + "\n",
                                       encoding="utf-8")
    with open(out / "blocks.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["block", "label", "size", "frobenius", "frobenius_sq_stderr", "trace",
                    "trace_stderr", "top_eigenvalues"])
        sizes = [z for _, c, s in an.groups for z in
                 ((s,) * c if isinstance(s, int) else s)]
        for k, lab in enumerate(an.labels):
            top = an.block_top[k] if k < len(an.block_top) else None
            w.writerow([k, lab, sizes[k], repr(float(an.norm_map[k, k])),
                        "" if an.norm_map_stderr is None else repr(float(an.norm_map_stderr[k, k])),
                        repr(float(an.traces[k])),
                        "" if an.traces_stderr is None else repr(float(an.traces_stderr[k])),
                        "" if top is None else " ".join(f"{v:.10g}" for v in top["values"])])
    figs = analysis_figures(an, out, formats=formats)
    text = report_markdown(an, figs, out)
    (out / "report.md").write_text(text, encoding="utf-8")
    (out / "report.html").write_text(render_html(text, out, title="rmthess analyze"),
                                     encoding="utf-8")
    return {"record": out / "analysis.json", "table": out / "blocks.csv", "figures": figs,
            "markdown": out / "report.md", "html": out / "report.html"}


def plain(x):
    """``x`` as JSON types: numpy scalars and arrays unwrapped, paths as text, NaN and ±inf as
    null (a ratio of a group of one block, an undefined deviation)."""
    if isinstance(x, dict):
        return {str(k): plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [plain(v) for v in x]
    if isinstance(x, np.ndarray):
        return plain(x.tolist())
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not np.isfinite(x):
        return None
    if isinstance(x, Path):
        return str(x)
    return x


def report_markdown(an: Analysis, figures: dict, base: Path) -> str:
    """The report's text (figures linked relative to ``base``)."""
    s = an.summary
    h = s["symbol"] if len(s["symbol"]) == 1 else f"({s['symbol']})"
    blocks_text = (an.config.blocks if isinstance(an.config.blocks, str)
                   else "user groups " + ", ".join(an.config.blocks))
    lines = [f"# rmthess analyze — `{an.config.model}`", "",
             f"**{s['model']}**: P = {s['parameters']} parameters in {s['blocks']} blocks "
             f"({s['groups']} group{'s' if s['groups'] != 1 else ''}, blocks = "
             f"`{blocks_text}`), N = {s['samples']} samples, "
             f"loss {s['loss']:.6g} ({s['reduction']}-reduced), operator: {s['kind']} "
             f"({s['symbol']}), "
             f"{s['dtype']} on {s['device']}; {s['products']} operator products; "
             f"{sum(an.seconds.values()):.1f} s.", ""]
    lines += ["## Block ratios", "",
              "Mean squared Frobenius norm of the off-diagonal blocks over that of the diagonal "
              "blocks, within each group (NET-8)"
              + (": exact (block columns)." if an.norm_map_stderr is None else
                 f": estimated from {an.config.map_probes} probes per block column, ± standard "
                 "error."), "",
              f"| group | what | blocks | ratio | mean ‖{h}_ll‖²_F | mean ‖{h}_lk‖²_F | "
              f"Σ tr {h}_ll |", "|---|---|---|---|---|---|---|"]
    sizes = np.cumsum([0] + [c for _, c, _ in an.groups])
    for i, (g, r) in enumerate(an.ratios.items()):
        part = slice(sizes[i], sizes[i + 1])
        tr = float(np.sum(an.traces[part]))
        tr_se = (None if an.traces_stderr is None
                 else float(np.sqrt(np.sum(an.traces_stderr[part] ** 2))))
        what = an.summary["descriptions"].get(g, "")
        if r["n_blocks"] < 2:  # no off-diagonal block within a group of one
            lines.append(f"| `{g}` | {what} | 1 | — (one block) | {r['diag_mean']:.4g} | — | "
                         f"{with_error(tr, tr_se)} |")
            continue
        lines.append(f"| `{g}` | {what} | {r['n_blocks']} | "
                     f"{with_error(r['ratio'], r['stderr'])} | {r['diag_mean']:.4g} | "
                     f"{r['offdiag_mean']:.4g} | {with_error(tr, tr_se)} |")
    lines += [""]
    if "block_map" in figures:
        lines += [f"![block-norm map]({Path(figures['block_map']).relative_to(base)})", ""]
    if an.theory is not None:
        th = an.theory
        nw = th.network
        verdict = "PASS" if th.passed else "FAIL"
        exact_note = ("" if an.norm_map_stderr is None or not an.config.theory_blocks else
                      " The measured ratios are the estimates above: their standard errors join "
                      "the ensemble's spread in z and in the MDE.")
        lines += ["## The theory beside the measurement", "",
                  f"Recognized as **{nw.case}** (d = {nw.dim}, "
                  + (f"m = {nw.width}, " if nw.width else "")
                  + f"C = {nw.classes}, N = {nw.n_samples}, γ = {nw.gamma:.4g}); initialization "
                  f"{nw.init_source}: σ_v = {nw.sigma_v:.4g}"
                  + (f", σ_w = {nw.sigma_w:.4g}" if nw.width else "")
                  + f", V entries {nw.v_law}; inputs' mean square {nw.data_mean_square:.4g} "
                  "(folded into the scales). The ensemble is "
                  f"{th.reps} random networks of this size and initialization; the verdict is "
                  f"the measurement's z-score in the ensemble's spread against the threshold k "
                  f"(two-sided α = {th.alpha:g}, Student t): **{verdict}**. "
                  "One network fluctuates around the ensemble mean; the MDE column is the "
                  "deviation detected with probability 0.9 (TORCH-6)."
                  f"{exact_note}", "",
                  "| block | measured | ensemble (one network's sd) | finite-size prediction | "
                  "limit d → ∞ | z | k | detects (MDE) |", "|---|---|---|---|---|---|---|---|"]
        for r in th.rows:
            pred = "—" if r.prediction is None else f"{r.prediction:.4g}"
            meas = (f"{r.measured:.5g}" if r.measured_stderr is None else
                    with_error(r.measured, r.measured_stderr))
            lines.append(f"| {r.block_type} (`{r.group}`) | {meas} | "
                         f"{with_error(r.ensemble_mean, r.ensemble_sd)} | {pred} | "
                         f"{with_error(r.limit, r.limit_stderr or None)} | {r.z:+.2f} | "
                         f"{r.threshold:.2f} | {mde_text(r.mde)} |")
        lines += [""]
        if "theory" in figures:
            lines += [f"![theory beside measurement]({Path(figures['theory']).relative_to(base)})",
                      ""]
        if an.block_law_check is not None:
            c = an.block_law_check
            b = c["blocks"]
            which = ("class row, the GMP law of (CASE-1)" if an.theory.network.width is None
                     else "hidden row, the GMP law at the model's own V and W (CASE-37)")
            lines += [f"Spectra of {len(b)} diagonal blocks ({b[0]['size']} eigenvalues each) "
                      f"against their limiting laws (each {which}): Kolmogorov–Smirnov "
                      f"distance median {c['median_ks']:.2g}, largest {c['max_ks']:.2g} "
                      f"(`{max(b, key=lambda x: x['ks'])['label']}`). Finite size allows up to "
                      f"{c['rank_allowance']:.2g} beyond sampling noise (a perturbation of rank "
                      "≤ 2r, theory/torch.md §7); the block-density figure overlays the laws.",
                      ""]
    elif an.config.theory:
        lines += ["## The theory beside the measurement", "",
                  f"No theory for this model: {an.theory_note}", ""]
    if an.top is not None:
        t = an.top
        lines += ["## Top eigenvalues", "",
                  f"Restarted Lanczos (NET-16); an eigenvalue of {s['symbol']} lies within each "
                  f"residual ({int(t.converged.sum())} of {t.values.size} converged"
                  + (f"; top_k = {an.config.top_k} reduced to P − 1" if s["top_k"] <
                     an.config.top_k else "") + ").", "",
                  f"| k | eigenvalue | residual ‖{h}u − λu‖ |", "|---|---|---|"]
        for k, (v, r) in enumerate(zip(t.values, t.residuals, strict=True), start=1):
            lines.append(f"| {k} | {supported_digits(v, max(r, 1e-16 * abs(v)))!r} | {r:.1e} |")
        lines += [""]
        if an.outliers is not None:
            o = an.outliers
            lines += [f"Bulk and outliers among these (largest gap of log λ): {o.n_outliers} "
                      f"outlier{'s' if o.n_outliers != 1 else ''} above {o.threshold:.4g}.", ""]
        if an.power_law is not None:
            pl = an.power_law
            lines += [f"Power law on these {pl.k} eigenvalues (NET-10): slope "
                      f"{with_error(pl.slope, pl.sigma_beta / (pl.beta - 1) ** 2)}, KS distance "
                      f"{pl.d_ks:.3g} against {pl.d_c:.3g}: "
                      f"{'accepted' if pl.accepted else 'rejected'}.", ""]
    if "block_top" in figures:
        lines += [f"![top eigenvalues per block]({Path(figures['block_top']).relative_to(base)})",
                  ""]
    if an.density is not None:
        d = an.density
        lines += ["## Spectral density", "",
                  f"Stochastic Lanczos quadrature (NET-17), {d.weights.shape[0]} probes × "
                  f"{d.weights.shape[1]} steps, smoothed by a Gaussian of width {d.sigma:.3g}; "
                  f"band: ± 2 standard errors over probes. Distance to the exact spectral measure: "
                  f"W₁ ≲ {d.w1_estimate:.2g} (a-posteriori estimate), "
                  f"≤ {d.w1_bound:.2g} with probability ≥ {1 - d.eta:g} (a-priori bound).", ""]
        if "density" in figures:
            lines += [f"![spectral density]({Path(figures['density']).relative_to(base)})", ""]
    if an.block_densities:
        lines += ["### Single blocks", ""]
        slq = {k: d for k, d in an.block_densities.items() if not isinstance(d, np.ndarray)}
        if len(slq) < len(an.block_densities):
            lines += ["Blocks formed by the exact map: their exact eigenvalues (histograms).", ""]
        if slq:
            lines += ["| block | steps × probes | W₁ estimate | W₁ bound |", "|---|---|---|---|"]
            for k, d in slq.items():
                lines.append(f"| {an.labels[k]} | {d.weights.shape[1]} × {d.weights.shape[0]} "
                             f"| {d.w1_estimate:.2g} | {d.w1_bound:.2g} |")
            lines += [""]
        if "block_densities" in figures:
            lines += [f"![block densities]({Path(figures['block_densities']).relative_to(base)})",
                      ""]
    lines += ["## Files", "",
              "`analysis.json` (everything above, full precision), `blocks.csv` (one row per "
              "block), the figures, this report.", ""]
    return "\n".join(lines)
