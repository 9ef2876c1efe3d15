"""Benchmark: Hessians of PyTorch models — rmthess.torch beside PyHessian and curvlinops.

Part 1 — one model (an MLP with biases, CE loss, float64 on the CPU), the exact answer from the
dense Hessian (``HessianOperator.dense``, equal to ``torch.func.hessian`` to 1e-12 in the tests):

* Hessian-vector products: seconds per product, single and batched (rmthess ``op @ V`` with a stack
  of probes; PyHessian one at a time; curvlinops ``@`` on a stack);
* the top eigenvalue to relative 1e-6: products used, seconds and error (PyHessian's power
  iteration; rmthess ``top_eigenvalues`` and curvlinops + ``scipy.sparse.linalg.eigsh``, Lanczos);
* the trace from the same number of products K: the error over seeds (median relative) and
  seconds (PyHessian Hutchinson at a relative tolerance that stops it near K; curvlinops
  ``hutchinson_trace`` and ``hutchpp_trace``; rmthess ``block_traces`` summed, plain and Hutch++).

Part 2 — the block-norm map of a model with ≈ 10⁶ parameters in ≈ 100 blocks (``Linear(10000, 96)``
rows and ``Linear(96, 4)`` rows): estimated with ``block_frobenius`` (``B × K`` products), time
and the peak resident memory of the process (only rmthess gives block maps).

PyHessian and curvlinops are optional (``pip install pyhessian curvlinops-for-pytorch``); missing
ones are skipped. Peers run on the same operator inputs (model, loss, data) and the same threads.

Usage::

    python benchmarks/bench_torch.py --quick      # small model, part 2 at 1/10 size (a minute)
    python benchmarks/bench_torch.py              # full sizes (several minutes)
    python benchmarks/bench_torch.py --json out.json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import resource
import statistics
import sys
import time

import numpy as np


def _peak_mb() -> float:
    """The process's peak resident set (VmHWM; unlike ru_maxrss it restarts at exec)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # pragma: no cover


def _have(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def _model(d, m, C, n, seed=0):
    import torch

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 1)
    model = torch.nn.Sequential(torch.nn.Linear(d, m), torch.nn.ReLU(),
                                torch.nn.Linear(m, C)).double()
    X = torch.randn(n, d, generator=gen, dtype=torch.float64)
    y = torch.randint(0, C, (n,), generator=gen)
    return model, torch.nn.CrossEntropyLoss(), X, y


def _median_time(fn, repeat=15):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


class _Counted:
    """Wrap a function, counting calls (products)."""

    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, *a, **k):
        self.calls += 1
        return self.fn(*a, **k)


def part1(quick: bool) -> dict:
    import torch

    from rmthess.networks import block_traces
    from rmthess.networks.lanczos import top_eigenvalues
    from rmthess.torch import hessian_operator

    d, m, C, n = (30, 40, 10, 500) if quick else (60, 80, 10, 2000)
    model, loss, X, y = _model(d, m, C, n)
    op = hessian_operator(model, loss, (X, y))
    P = op.shape[0]
    t = time.perf_counter()
    H = op.dense()
    dense_s = time.perf_counter() - t
    ev = np.linalg.eigvalsh(H)
    lam, tr = float(ev[-1]), float(np.trace(H))
    out = {"model": f"MLP {d}-{m}-{C} with biases, N = {n}, float64", "parameters": P,
           "dense_seconds": dense_s, "top_eigenvalue": lam, "trace": tr, "rows": []}
    rows = out["rows"]
    rng = np.random.default_rng(0)
    K = 8  # the operator's default probe batch
    Z = rng.standard_normal((P, K))

    # -- Hessian-vector products -------------------------------------------------------------
    rows.append({"task": "HVP", "method": "rmthess, single",
                 "seconds_per_product": _median_time(lambda: op @ Z[:, 0])})
    rows.append({"task": "HVP", "method": f"rmthess, batch of {K}",
                 "seconds_per_product": _median_time(lambda: op @ Z) / K})
    hv_err = float(np.abs(op @ Z - H @ Z).max() / np.abs(H @ Z).max())
    rows[-1]["max_relative_error"] = hv_err
    params = [p for p in model.parameters()]
    if _have("curvlinops"):
        from curvlinops import HessianLinearOperator

        cl = HessianLinearOperator(model, loss, params, [(X, y)], check_deterministic=False)
        Zt = torch.as_tensor(Z)
        rows.append({"task": "HVP", "method": "curvlinops, single",
                     "seconds_per_product": _median_time(lambda: cl @ Zt[:, 0])})
        rows.append({"task": "HVP", "method": f"curvlinops, batch of {K}",
                     "seconds_per_product": _median_time(lambda: cl @ Zt) / K})
    if _have("pyhessian"):
        from pyhessian import hessian as PyHessian
        from pyhessian.utils import hessian_vector_product

        ph = PyHessian(model, loss, data=(X, y), cuda=False)
        v = [torch.randn_like(p) for p in ph.params]
        rows.append({"task": "HVP", "method": "PyHessian, single",
                     "seconds_per_product": _median_time(
                         lambda: hessian_vector_product(ph.gradsH, ph.params, v))})

    # -- top eigenvalue to 1e-6 --------------------------------------------------------------
    before = op.n_products
    t = time.perf_counter()
    top = top_eigenvalues(op, 1, tol=1e-6, rng=0)
    rows.append({"task": "top eigenvalue", "method": "rmthess (Lanczos)",
                 "seconds": time.perf_counter() - t, "products": op.n_products - before,
                 "relative_error": abs(top.values[0] - lam) / abs(lam)})
    if _have("curvlinops"):
        from scipy.sparse.linalg import LinearOperator, eigsh

        sp = cl.to_scipy()
        mv = _Counted(sp.matvec)
        A = LinearOperator(sp.shape, matvec=mv, dtype=np.float64)
        t = time.perf_counter()
        val = eigsh(A, k=1, which="LA", tol=1e-6, v0=np.random.default_rng(0).standard_normal(P))
        rows.append({"task": "top eigenvalue", "method": "curvlinops + eigsh (Lanczos)",
                     "seconds": time.perf_counter() - t, "products": mv.calls,
                     "relative_error": abs(val[0][0] - lam) / abs(lam)})
    if _have("pyhessian"):
        phmod = importlib.import_module("pyhessian.hessian")  # the module, not the class

        counted = _Counted(phmod.hessian_vector_product)
        phmod.hessian_vector_product = counted
        try:
            torch.manual_seed(0)
            t = time.perf_counter()
            vals, _ = ph.eigenvalues(maxIter=5000, tol=1e-6, top_n=1)
            rows.append({"task": "top eigenvalue", "method": "PyHessian (power iteration)",
                         "seconds": time.perf_counter() - t, "products": counted.calls,
                         "relative_error": abs(vals[0] - lam) / abs(lam)})
        finally:
            phmod.hessian_vector_product = counted.fn

    # -- trace from K products ---------------------------------------------------------------
    Kt = 30 if quick else 60
    seeds = range(8 if quick else 20)

    def trial(name, fn):
        errs, secs, prods = [], [], []
        for s in seeds:
            t = time.perf_counter()
            val, used = fn(s)
            secs.append(time.perf_counter() - t)
            errs.append(abs(val - tr) / abs(tr))
            prods.append(used)
        rows.append({"task": f"trace, ≈{Kt} products", "method": name,
                     "median_relative_error": statistics.median(errs),
                     "seconds": statistics.median(secs), "products": statistics.median(prods)})

    lay = [P]
    trial("rmthess Hutchinson", lambda s: (
        float(block_traces(op, lay, Kt, rng=s).estimate.sum()), Kt))
    trial("rmthess Hutch++", lambda s: (
        float(block_traces(op, lay, Kt // 3, method="hutch++", sketch=Kt // 3,
                           rng=s).estimate.sum()), Kt))
    if _have("curvlinops"):
        from curvlinops import hutchinson_trace, hutchpp_trace

        def cl_trace(fn):
            def run(s):
                torch.manual_seed(s)
                return float(fn(cl, Kt)), Kt
            return run
        trial("curvlinops hutchinson_trace", cl_trace(hutchinson_trace))
        trial("curvlinops hutchpp_trace", cl_trace(hutchpp_trace))
    if _have("pyhessian"):
        def ph_trace(s):
            torch.manual_seed(s)
            counted = _Counted(phmod.hessian_vector_product)
            phmod.hessian_vector_product = counted
            try:
                vals = ph.trace(maxIter=Kt, tol=0.0)  # tol 0: exactly maxIter products
            finally:
                phmod.hessian_vector_product = counted.fn
            return float(np.mean(vals)), counted.calls
        trial("PyHessian trace", ph_trace)
    return out


def part2(quick: bool) -> dict:
    import torch

    from rmthess.networks import block_frobenius
    from rmthess.torch import hessian_operator

    d, m, C, n, K = (1000, 96, 4, 64, 4) if quick else (10000, 96, 4, 128, 8)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(d, m), torch.nn.ReLU(), torch.nn.Linear(m, C))
    X, y = torch.randn(n, d), torch.randint(0, C, (n,))
    base = _peak_mb()  # torch, model and data
    t = time.perf_counter()
    op = hessian_operator(model, torch.nn.CrossEntropyLoss(), (X, y))
    est = block_frobenius(op, op.layout, K, rng=0)
    sec = time.perf_counter() - t
    peak = _peak_mb()
    diag = np.diag(est.estimate)
    rel = np.diag(est.stderr) / diag
    return {"model": f"Linear({d}, {m}) ReLU Linear({m}, {C}), N = {n}, float64",
            "parameters": op.shape[0], "blocks": op.layout.n_blocks, "probes_per_block": K,
            "products": op.n_products, "seconds": sec, "peak_rss_mb": peak,
            "peak_rss_before_mb": base, "growth_mb": peak - base,
            "median_relative_stderr_of_diagonal_norms": float(np.median(rel))}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", default=None, help="also write the results to this file")
    ap.add_argument("--skip-map", action="store_true", help="skip part 2")
    ap.add_argument("--part2-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.part2_only:
        import torch

        torch.set_num_threads(2)
        print(json.dumps(part2(args.quick), default=float))
        return 0
    if not _have("torch"):
        print("bench_torch: PyTorch is not installed; nothing to compare", file=sys.stderr)
        return 0
    import torch

    torch.set_num_threads(2)
    res = {"part1": part1(args.quick)}
    p1 = res["part1"]
    print(f"part 1: {p1['model']}, P = {p1['parameters']}; "
          f"dense reference {p1['dense_seconds']:.1f} s")
    for r in p1["rows"]:
        cells = [f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in r.items()
                 if k not in ("task", "method")]
        print(f"  {r['task']:<22} {r['method']:<32} " + ", ".join(cells))
    if not args.skip_map:
        import subprocess  # a fresh process: its peak memory is the map's alone

        cmd = [sys.executable, __file__, "--part2-only"] + (["--quick"] if args.quick else [])
        res["part2"] = json.loads(subprocess.run(cmd, check=True, capture_output=True,
                                                 text=True).stdout.strip().splitlines()[-1])
        p2 = res["part2"]
        print(f"part 2: {p2['model']}: P = {p2['parameters']}, {p2['blocks']} blocks, "
              f"{p2['products']} products ({p2['probes_per_block']} probes per block): "
              f"{p2['seconds']:.1f} s, peak RSS {p2['peak_rss_mb']:.0f} MB "
              f"({p2['growth_mb']:.0f} MB over the process with torch, model and data); "
              f"median relative s.e. of ‖H_ll‖² "
              f"{p2['median_relative_stderr_of_diagonal_norms']:.2g}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(res, fh, indent=1, default=float)
    return 0


if __name__ == "__main__":
    sys.exit(main())
