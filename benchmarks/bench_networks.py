"""Benchmark: exact dense Hessians and Hessian-vector products of 1-hidden-layer ReLU networks.

Part 1 — the dense Hessian of the paper's Gaussian preset (N = 5000, d = 500, C = 500, m = 8, CE;
P = 8000 parameters, a 512 MB matrix): rmthess's analytic, vectorised construction against
``torch.func.hessian`` (forward-over-reverse, the stock PyTorch route) and a chunked
reverse-over-reverse
``torch.func.jacrev(jacrev(f), chunk_size=...)`` on the same CPU. Each implementation runs in a
fresh subprocess; peak memory is the growth of the peak resident set size over the baseline after
imports, data and warm-up. torch is optional (``pip install torch``, CPU build): without it those
rows are skipped.

Part 2 — Hessian-vector products per second against forming the dense Hessian, for growing d
(N = 10 d, C = d, m = 8): the break-even number of products, to be compared with P.

Accuracy is tracked beside speed: max |H_rmthess − H_torch| / max |H| and
max |Hv − H·v| / max |H·v|.

Usage::

    python benchmarks/bench_networks.py            # full (Gaussian preset; several minutes)
    python benchmarks/bench_networks.py --quick    # reduced sizes (seconds)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np


def _problem(n, d, C, m, seed=0):
    from rmthess.networks import gaussian_data, init_weights

    X, y = gaussian_data(n, d, C, rng=seed)
    V, W = init_weights(d, C, m, rng=seed + 1)
    return X, y, V, W


def _rss_mb() -> float:
    """Current resident set size (Linux /proc), in MB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class _PeakRSS:
    """Peak growth of the resident set size over its value at entry, sampled every millisecond."""

    def __enter__(self):
        import threading

        self.base = self.peak = _rss_mb()
        self._stop = threading.Event()

        def poll():
            while not self._stop.is_set():
                self.peak = max(self.peak, _rss_mb())
                time.sleep(0.001)

        self._thread = threading.Thread(target=poll, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mb())
        self.growth_mb = self.peak - self.base
        return False


def _torch_loss(X, y, m, d, C):
    import torch

    Xt, yt = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))
    md = m * d

    def loss(theta):
        W = theta[:md].reshape(m, d)
        V = theta[md:].reshape(C, m)
        return torch.nn.functional.cross_entropy(torch.relu(Xt @ W.T) @ V.T, yt)

    return loss


def _worker(args) -> dict:
    """Run one implementation once (after warm-up) and report time, peak memory and accuracy."""
    n, d, C, m = args.n, args.d, args.C, args.m
    X, y, V, W = _problem(n, d, C, m)
    P = m * d + C * m
    out = {"impl": args.impl, "N": n, "d": d, "C": C, "m": m, "P": P,
           "hessian_mb": P * P * 8 / 2**20}
    if args.impl == "rmthess":
        from rmthess.networks import hessian

        Xs, ys, Vs, Ws = _problem(50, 5, 4, 3)
        hessian(Xs, ys, Ws, Vs)  # warm-up (imports, BLAS threads)
        with _PeakRSS() as mem:
            t = time.perf_counter()
            H = hessian(X, y, W, V, loss="ce")
            out["time_s"] = time.perf_counter() - t
        out["peak_mb"] = mem.growth_mb
        del H
        return out
    import warnings

    import torch

    warnings.simplefilter("ignore")
    torch.set_default_dtype(torch.float64)
    theta0 = np.concatenate([W.ravel(), V.ravel()])
    small = _problem(50, 5, 4, 3)
    lossf = _torch_loss(small[0], small[1], 3, 5, 4)
    tiny = torch.from_numpy(np.concatenate([small[3].ravel(), small[2].ravel()]))
    torch.func.hessian(lossf)(tiny)  # warm-up
    lossf = _torch_loss(X, y, m, d, C)
    if args.impl == "torch.func.hessian":
        fn = torch.func.hessian(lossf)
    else:
        fn = torch.func.jacrev(torch.func.jacrev(lossf), chunk_size=args.chunk)
    with _PeakRSS() as mem:
        t = time.perf_counter()
        Ht = fn(torch.from_numpy(theta0))
        out["time_s"] = time.perf_counter() - t
    out["peak_mb"] = mem.growth_mb
    Ht = Ht.numpy()
    from rmthess.networks import hessian

    H = hessian(X, y, W, V, loss="ce")
    out["max_rel_diff"] = float(np.abs(H - Ht).max() / np.abs(H).max())
    return out


def _run_worker(impl, n, d, C, m, *, chunk=100, mem_limit_gb=None, timeout=900):
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", impl, "--n", str(n),
           "--d", str(d), "--C", str(C), "--m", str(m), "--chunk", str(chunk)]
    if mem_limit_gb:
        cmd += ["--mem-limit-gb", str(mem_limit_gb)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"impl": impl, "error": f"timed out after {timeout} s"}
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"impl": impl, "error": tail[:160]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _have_torch() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def bench_dense(quick: bool, use_torch: bool) -> None:
    n, d, C, m = (1000, 100, 100, 8) if quick else (5000, 500, 500, 8)
    print(f"\n== Dense Hessian, Gaussian preset N={n} d={d} C={C} m={m} (CE), P={m * d + C * m} ==")
    rows = [_run_worker("rmthess", n, d, C, m)]
    if use_torch:
        # torch.func.hessian = jacfwd(jacrev(f)) vmaps all P tangents at once: its forward tangents
        # of the logits alone need P·N·C·8 bytes; it is capped so that it fails instead of swapping
        rows.append(_run_worker("torch.func.hessian", n, d, C, m, mem_limit_gb=16))
        rows.append(_run_worker("torch.jacrev(jacrev, chunk)", n, d, C, m,
                                chunk=200 if quick else 64, mem_limit_gb=16))
    else:
        print("torch rows skipped (--no-torch, or torch absent: pip install torch, CPU build)")
    ref = rows[0]
    print(f"{'implementation':32s} {'time [s]':>9s} {'peak [MB]':>10s} {'peak/H':>7s} "
          f"{'slower x':>9s} {'max rel diff':>13s}")
    for r in rows:
        if "error" in r:
            print(f"{r['impl']:32s} failed: {r['error']}")
            continue
        print(f"{r['impl']:32s} {r['time_s']:9.2f} {r['peak_mb']:10.0f} "
              f"{r['peak_mb'] / r['hessian_mb']:7.2f} {r['time_s'] / ref['time_s']:9.1f} "
              f"{r.get('max_rel_diff', 0.0):13.1e}")
    print(f"(Hessian itself: {ref['hessian_mb']:.0f} MB)")


def bench_hvp(quick: bool) -> None:
    from rmthess.networks import Network, dense_hessian, hvp

    dims = (50, 100, 200) if quick else (100, 200, 400, 800)
    print("\n== Hessian-vector products vs the dense Hessian (N = 10 d, C = d, m = 8, CE) ==")
    print(f"{'d':>5s} {'P':>6s} {'HVP/s':>9s} {'dense [s]':>10s} {'break-even #HVP':>16s} "
          f"{'P·t_hvp/t_dense':>16s} {'HVP rel err':>12s}")
    for d in dims:
        X, y, V, W = _problem(10 * d, d, d, 8)
        net = Network(X, y, V, W)
        K = 32
        Z = np.random.default_rng(0).standard_normal((K, net.n_params))
        hvp(net, Z[:2])
        t = time.perf_counter()
        HZ = hvp(net, Z)
        t_hvp = (time.perf_counter() - t) / K
        t = time.perf_counter()
        H = dense_hessian(net)
        t_dense = time.perf_counter() - t
        ref = Z @ H
        err = np.abs(HZ - ref).max() / np.abs(ref).max()
        print(f"{d:5d} {net.n_params:6d} {1 / t_hvp:9.1f} {t_dense:10.3f} {t_dense / t_hvp:16.0f} "
              f"{net.n_params * t_hvp / t_dense:16.1f} {err:12.1e}")
        del H


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="reduced sizes")
    ap.add_argument("--no-torch", action="store_true", help="skip the torch comparison")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--d", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--C", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--m", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--chunk", type=int, default=100, help=argparse.SUPPRESS)
    ap.add_argument("--mem-limit-gb", type=float, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        if args.mem_limit_gb:
            lim = int(args.mem_limit_gb * 2**30)
            resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
        args.impl = args.worker
        print(json.dumps(_worker(args)))
        return 0
    print(f"threads: {os.cpu_count()} CPUs visible; numpy {np.__version__}")
    bench_dense(args.quick, _have_torch() and not args.no_torch)
    bench_hvp(args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
