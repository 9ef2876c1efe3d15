"""The BLAS thread policy under a competing load (run by run_all.py).

Each path runs four ways, side by side: under the package's policy (``rmthess._threads``) and
with BLAS left at its own default (all cores), each on the machine as it is ("quiet": on a shared
machine that includes the other users' work) and with one busy-loop process per core started
beside it. The competing load takes CPU from any process; a single-threaded pure-Python loop timed
the same four ways measures how much (``s`` = its loaded / quiet time). A path does not collapse
when its loaded time stays within 1.5× of its quiet time times ``s`` — target ≤ 1.5 for the
policy's ratio ``t_loaded / (t_quiet · s)``; the default's ratio is in the detail.

Paths: a batch of Hessian-vector products and a dense Hessian (``rmthess.networks``), a
300 × 300 symmetric eigensolve as run by the checks of ``rmthess verify`` (the policy's
``blas_threads()``), and the block norms of one small Monte Carlo replicate (``d = N = 300``,
C = 10, inside ``blas_threads()``; the Monte Carlo loop itself applies no policy yet).
Wall-clock medians, each timing covering calls of about 0.2 s in all (a single call shorter than
the scheduler's period measures when the process gets a core, not its share of it).
"""

from __future__ import annotations

import contextlib
import math
import os

import _limits
import numpy as np


def _loop():
    s = 0
    for i in range(1_500_000):
        s += i
    return s


def _paths(quick):
    from rmthess._threads import blas_threads
    from rmthess.montecarlo.blocknorms import StructuredWeights, block_norm_means
    from rmthess.networks import Network, dense_hessian, hvp

    rng = np.random.default_rng(0)
    d = 200
    net = Network(rng.standard_normal((10 * d, d)), rng.integers(0, d, 10 * d),
                  rng.standard_normal((d, 8)), rng.standard_normal((8, d)) / np.sqrt(d))
    Z = rng.standard_normal((8, net.n_params))
    dh = 100 if quick else 200
    dnet = Network(rng.standard_normal((10 * dh, dh)), rng.integers(0, dh, 10 * dh),
                   rng.standard_normal((dh, 8)), rng.standard_normal((8, dh)) / np.sqrt(dh))
    A = rng.standard_normal((300, 300))
    A = A + A.T
    Xmc = rng.standard_normal((300, 300))
    prob = rng.random((300, 10))
    prob /= prob.sum(axis=1, keepdims=True)
    lam = StructuredWeights(prob, prob)  # the linear CE weights diag(p) − p pᵀ

    def eig():
        with blas_threads():
            np.linalg.eigvalsh(A)

    def mc():
        with blas_threads():
            block_norm_means(Xmc, lam)

    return {
        "HVP d=200, 8 probes": lambda: hvp(net, Z),
        f"dense Hessian P={dnet.n_params}": lambda: dense_hessian(dnet),
        "verify: eigvalsh 300x300": eig,
        "Monte Carlo block norms d=N=300": mc,
    }


def run(quick, machine):
    from threadpoolctl import threadpool_limits

    from rmthess import _threads

    cores = os.cpu_count() or 1
    repeat = 3 if quick else 5
    least = 0.5 if quick else 1.0  # seconds of calls per median: short calls repeat more
    # a call shorter than the scheduler's period is timed by when it gets the core, not by its
    # share of it: each timing covers calls of about 0.2 s in all (counted in the quiet state)
    paths, calls = {}, {}
    for name, fn in _paths(quick).items():
        calls[name] = max(1, math.ceil(0.2 / _limits.median_time(fn, repeat=3)))
        paths[name] = lambda fn=fn, k=calls[name]: [fn() for _ in range(k)]
    times = {}
    for load in ("quiet", "loaded"):
        ctx = _limits.competing_load() if load == "loaded" else contextlib.nullcontext()
        with ctx:
            times[("loop", load)] = _limits.median_time(_loop, repeat=repeat, min_seconds=least)
            for name, fn in paths.items():
                times[(name, "policy", load)] = _limits.median_time(fn, repeat=repeat,
                                                                    min_seconds=least)
                before = _threads._choice
                _threads.set_blas_threads(0)  # the policy steps aside: BLAS at its default
                try:
                    with threadpool_limits(cores, user_api="blas"):
                        times[(name, "default", load)] = _limits.median_time(
                            fn, repeat=1, min_seconds=least)
                finally:
                    _threads._choice = before
    s = times[("loop", "loaded")] / times[("loop", "quiet")]
    rows = []
    for name in paths:
        k = calls[name]
        q, lo = times[(name, "policy", "quiet")] / k, times[(name, "policy", "loaded")] / k
        dq, dl = times[(name, "default", "quiet")] / k, times[(name, "default", "loaded")] / k
        rows.append(_limits.result(
            f"threads: {name}, loaded / (quiet × share)", lo / (q * s), 1.5,
            calls_per_timing=k, quiet_s=q, loaded_s=lo, share_slowdown=s, default_quiet_s=dq,
            default_loaded_s=dl,
            default_ratio=dl / (dq * s), default_over_policy_loaded=dl / lo))
    return rows
