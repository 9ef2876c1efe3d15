"""Separable-law density: rmthess side by side with the fixed-point iteration at x + i·eta.

Run ``python benchmarks/bench_separable.py`` (``--quick`` for fewer repetitions). For each law the
script times the setup (support scan) and the density on 2000 points spanning the support, and
measures the error, max |ρ − ρ_ref| / max ρ_ref, against the 40-digit oracle of
``tests/gmp/separable_oracle.py`` on every 20th point. The baseline is the textbook method: the
damped fixed-point iteration e ← (e + E_H[σ/(σ g(e) − z)])/2 of (SEP-1) at z = x + i·η (it
converges for η > 0, SEP-2), run until the step is below 1e−13 or 20 000 sweeps, vectorised over
the points; its error is the smoothing by η plus whatever the iteration has not converged.
freealg, the peer of benchmarks/bench_gmp.py, has no separable (Σ ≠ I) law and is not installed
here; with Σ = I the separable law is the GMP law, benchmarked there.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from rmthess.gmp import SeparableMarchenkoPastur
from rmthess.gmp.covariance import powerlaw_spectrum
from rmthess.laws import DiscreteLaw

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.gmp.separable_oracle import SeparableOracle  # noqa: E402  (test oracle, repo root)

N_POINTS = 2000


def best_time(fn, repeat):
    best = np.inf
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def fixed_point_density(lam, p, sig, q, gamma, x, eta, max_sweeps=20_000):
    """Damped fixed-point iteration of (SEP-1) at x + i·eta, all points at once."""
    z = x + 1j * eta
    e = -np.sum(q * sig) / z
    for _ in range(max_sweeps):
        g = np.sum(p * lam / (1 + gamma * lam * e[:, None]), axis=1)
        new = np.sum(q * sig / (sig * g[:, None] - z[:, None]), axis=1)
        step = np.max(np.abs(new - e) / np.abs(new))
        e = 0.5 * (e + new)
        if step < 1e-13:
            break
    g = np.sum(p * lam / (1 + gamma * lam * e[:, None]), axis=1)
    return np.sum(q / (sig * g[:, None] - z[:, None]), axis=1).imag / np.pi


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    repeat = 2 if args.quick else 5
    h = powerlaw_spectrum(1.2, 100.0, 8).discretize()
    laws = [
        ("2 signed atoms × 2 atoms, γ=0.5", [-1.0, 2.0], [0.5, 0.5], [0.5, 2.0], [0.5, 0.5], 0.5),
        ("2 atoms × 3 atoms (3 bulks), γ=0.2", [1.0, 3.0], [0.3, 0.7], [0.2, 1.0, 4.0],
         [0.3, 0.4, 0.3], 0.2),
        ("2 signed atoms × powerlaw(1.2, 100) 8 atoms, γ=0.5", [-1.0, 2.0], [0.4, 0.6],
         h.atoms.tolist(), h.probs.tolist(), 0.5),
    ]
    # JIT warm-up of the scan kernel
    SeparableMarchenkoPastur(DiscreteLaw([1.0], [1.0]), DiscreteLaw([1.0, 2.0], [0.5, 0.5]), 0.5)
    print(f"{'law':<52} {'method':<22} {'time':>10} {'error':>9}")
    for name, a, pr, s, q, g in laws:
        nu, cov = DiscreteLaw(a, pr), DiscreteLaw(s, q)
        t_init, law = best_time(lambda nu=nu, cov=cov, g=g: SeparableMarchenkoPastur(nu, cov, g),
                                repeat)
        lo, hi = law.support()[0][0], law.support()[-1][1]
        x = np.linspace(lo, hi, N_POINTS + 2)[1:-1]
        t_pdf, dens = best_time(lambda law=law, x=x: law.pdf(x), repeat)
        oracle = SeparableOracle(a, pr, s, q, g)
        sub = slice(0, None, 20)
        ref = np.array([oracle.density(v) for v in x[sub]])
        scale = ref.max()
        err = np.max(np.abs(dens[sub] - ref)) / scale
        print(f"{name:<52} {'rmthess setup':<22} {t_init * 1e3:8.1f}ms")
        print(f"{'':<52} {'rmthess pdf':<22} {t_pdf * 1e3:8.1f}ms {err:9.1e}")
        lam, p = np.asarray(a), np.asarray(pr)
        sg, qq = np.asarray(s), np.asarray(q)
        for eta in (1e-2, 1e-4):
            eta_abs = eta * (hi - lo)
            t0 = time.perf_counter()
            fp = fixed_point_density(lam, p, sg, qq, g, x, eta_abs)
            t_fp = time.perf_counter() - t0
            err_fp = np.max(np.abs(fp[sub] - ref)) / scale
            ratio = t_fp / (t_pdf + t_init)
            print(f"{'':<52} {f'fixed point η={eta:g}·w':<22} {t_fp * 1e3:8.1f}ms {err_fp:9.1e}"
                  f"  ({ratio:.0f}× setup+pdf)")


if __name__ == "__main__":
    main()
