"""Hessian-vector products and the dense Hessian against this machine's limits (run by run_all.py).

Products, for the 1-hidden-layer ReLU network with cross-entropy at N = 10 d, C = d, m = 8 (the
sizes of ``bench_networks.py``), under the package's BLAS thread policy (``rmthess._threads``):

* batched (``K`` probes per call) against single-probe calls, time per probe — target ≤ 1;
* batched, per probe, against the memory floor at d ≥ 200 — target ≤ 2. The floor is the traffic
  of one probe's passes over its ``N``-sized operands when each pass streams from memory,
  ``14 N C + 2 N d`` doubles (tangent written, Q applied in three passes, read by four products;
  ``P`` and ``R`` read twice each; ``X`` twice), at the copy bandwidth measured beside it. A
  stricter floor is in the row's detail and in a second row: ``max(one read of X, P and R;
  the product's flops at the DGEMM rate)``.

Dense Hessian (the paper's Gaussian preset scaled down: N = 10 d, C = d, m = 8): the time of
``N P²`` flops — the multiply-adds of one triangle of the Gram-type sums, the operation count of
the direct construction — at the DGEMM rate, over the measured time — target ≥ 0.8. The DGEMM rate
is measured right before and after, with the thread count the policy gives the Hessian. The detail
``one_worker_threaded_blas_s`` times the same construction on one thread with those threads given
to BLAS instead of to the construction's tasks. When the
policy gives one thread, every time is the process's CPU time, which the other users of a shared
machine do not inflate; otherwise wall-clock time.
"""

from __future__ import annotations

import time

import _limits
import numpy as np
from threadpoolctl import threadpool_limits


def _network(d, seed=0):
    from rmthess.networks import Network

    n, C, m = 10 * d, d, 8
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = rng.integers(0, C, n)
    return Network(X, y, rng.standard_normal((C, m)), rng.standard_normal((m, d)) / np.sqrt(d))


def _clock(threads):
    return time.process_time if threads == 1 else time.perf_counter


def _hvp_rows(d, probes, machine):
    from rmthess._threads import policy_threads
    from rmthess.networks import hvp
    from rmthess.networks.products import _flops

    net = _network(d)
    Z = np.random.default_rng(1).standard_normal((probes, net.n_params))
    n, C = net.n_samples, net.classes
    threads = policy_threads(probes * _flops(net))
    clock = _clock(threads)
    repeat = 7 if d <= 100 else 3
    t_single = _limits.median_time(lambda: hvp(net, Z[0]), repeat=repeat, clock=clock)
    t_batch = _limits.median_time(lambda: hvp(net, Z), repeat=repeat, clock=clock) / probes
    with threadpool_limits(threads):
        bw = max(machine["bandwidth_bytes"], _limits.memory_bandwidth(mbytes=128))
        dgemm = _limits.dgemm_rate(n=1500, repeat=3, clock=clock)
    floor = 8.0 * (14 * n * C + 2 * n * d) / bw
    strict = max(8.0 * n * (d + 2 * C) / bw, _flops(net) / dgemm)
    detail = dict(d=d, N=n, C=C, m=8, probes=probes, threads=threads,
                  single_s=t_single, batched_s=t_batch, floor_s=floor, strict_floor_s=strict,
                  bandwidth_bytes=bw, dgemm_flops=dgemm)
    rows = [_limits.result(f"HVP d={d}: batched / single, per probe", t_batch / t_single, 1.0,
                           **detail)]
    if d >= 200:
        rows.append(_limits.result(f"HVP d={d}: batched per probe / memory floor",
                                   t_batch / floor, 2.0, **detail))
        rows.append(_limits.result(f"HVP d={d}: batched per probe / max(X,P,R read; flops)",
                                   t_batch / strict, 2.0, **detail))
    return rows


def _dense_row(d):
    from rmthess._threads import policy_threads
    from rmthess.networks import dense_hessian
    from rmthess.networks.hessian import _dense_hessian

    net = _network(d, seed=2)
    n, p = net.n_samples, net.n_params
    flops = float(n) * p * p
    threads = policy_threads(2.0 * flops)
    clock = _clock(threads)
    with threadpool_limits(threads):
        before = _limits.dgemm_rate(n=2000, repeat=3, clock=clock)
    t = _limits.median_time(lambda: dense_hessian(net), repeat=3, clock=clock)
    # beside it, the same tasks in order on one thread with the policy's threads given to BLAS
    # instead (how the threads were used before the tasks ran on worker threads)
    with threadpool_limits(threads):
        t_blas = _limits.median_time(lambda: _dense_hessian(net, "full", 1), repeat=3,
                                     clock=clock)
        after = _limits.dgemm_rate(n=2000, repeat=3, clock=clock)
    dgemm = max(before, after)
    return [_limits.result(f"dense Hessian P={p}: (N P² flops at DGEMM rate) / time",
                           flops / dgemm / t, 0.8, sense="min", N=n, P=p, threads=threads,
                           seconds=t, one_worker_threaded_blas_s=t_blas,
                           dgemm_before=before, dgemm_after=after)]


def run(quick, machine):
    rows = []
    for d in (50, 200) if quick else (50, 200, 400):
        rows += _hvp_rows(d, 16 if quick else 32, machine)
    rows += _dense_row(200 if quick else 500)
    return rows
