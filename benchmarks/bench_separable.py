"""Separable-law density: rmthess side by side with the fixed-point iteration at x + i·eta.

Run ``python benchmarks/bench_separable.py`` (``--quick`` for fewer repetitions). For each law the
script times the setup (support scan) and the density on 2000 points spanning the support, and
measures the error, max |ρ − ρ_ref| / max ρ_ref, against the 40-digit oracle of
``tests/gmp/separable_oracle.py`` on every 20th point. The baseline is the textbook method: the
damped fixed-point iteration e ← (e + E_H[σ/(σ g(e) − z)])/2 of (SEP-1) at z = x + i·η (it
converges for η > 0, SEP-2), run until the step is below 1e−13 or 20 000 sweeps, vectorised over
the points; its error is the smoothing by η plus whatever the iteration has not converged.
Peer: freealg (``pip install freealg``; skipped when it is not installed). Its
``DeformedMarchenkoPastur(t, w, c)`` is the law ``H ⊠ MP_c`` of a sample covariance matrix with
population spectrum ``H = Σ w_k δ_{t_k}`` (positive atoms) and ratio ``c`` — the separable law with
the weight law ``ν = δ_1`` and ``γ = c`` (theory/separable.md, SEP-0). For those laws it is timed
on the same 2000 points at ``z = x + iη`` (its Plemelj evaluation) for two η, and its
``support()`` edges are compared with rmthess's. With signed weights (ν ≠ δ_1) no peer applies;
with Σ = I the separable law is the GMP law, benchmarked against freealg's compound free Poisson
law in benchmarks/bench_gmp.py.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
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
        # ν = δ_1: the deformed Marchenko–Pastur laws of freealg
        ("δ_1 × 2 atoms (deformed MP), γ=0.5", [1.0], [1.0], [1.0, 4.0], [0.5, 0.5], 0.5),
        ("δ_1 × 3 atoms (3 bulks), γ=0.1", [1.0], [1.0], [0.2, 1.0, 4.0], [0.3, 0.4, 0.3], 0.1),
        ("δ_1 × powerlaw(1.2, 100) 8 atoms, γ=2", [1.0], [1.0], h.atoms.tolist(),
         h.probs.tolist(), 2.0),
    ]
    # JIT warm-up of the scan kernel
    SeparableMarchenkoPastur(DiscreteLaw([1.0], [1.0]), DiscreteLaw([1.0, 2.0], [0.5, 0.5]), 0.5)
    try:
        from importlib.metadata import version
        peer = f"freealg {version('freealg')}"
    except Exception:   # noqa: BLE001 - any failure means: no peer
        peer = "freealg not installed"
    print(f"peer: {peer}; error = max |ρ − ρ_oracle| / max ρ_oracle on every 20th point")
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
        if a == [1.0]:
            _freealg_rows(law, s, q, g, x, sub, ref, t_init + t_pdf, oracle)


def _freealg_rows(law, s, q, gamma, x, sub, ref, t_ours, oracle):
    """freealg's deformed Marchenko–Pastur law on the same points, and its support edges."""
    try:
        from freealg.distributions import DeformedMarchenkoPastur
    except ImportError:
        print(f"{'':<52} freealg not installed: no peer row")
        return
    width = x[-1] - x[0]
    scale = ref.max()
    for eta in (1e-4, 1e-8):
        dmp = DeformedMarchenkoPastur(t=s, w=q, c=gamma)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t_fa, dens = best_time(lambda dmp=dmp, eta=eta: dmp.density(x, eta=eta * width), 1)
            err = np.max(np.abs(np.asarray(dens)[sub] - ref)) / scale
            print(f"{'':<52} {f'freealg η={eta:g}·w':<22} {t_fa * 1e3:8.1f}ms {err:9.1e}"
                  f"  ({t_fa / t_ours:.0f}× setup+pdf)")
        except Exception as exc:   # noqa: BLE001 - a peer failing is a result
            print(f"{'':<52} {f'freealg η={eta:g}·w':<22} FAILED ({type(exc).__name__})")
    ours = np.array(law.support(), dtype=float).ravel()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_sup, sup = best_time(DeformedMarchenkoPastur(t=s, w=q, c=gamma).support, 1)
        theirs = np.array(sup, dtype=float).ravel()
        if theirs.size == ours.size:
            gap = np.max(np.abs(theirs - ours)) / np.max(np.abs(ours))
            note = f"edges differ from rmthess's by {gap:.1e} (relative)"
        else:
            note = f"{theirs.size // 2} intervals against rmthess's {ours.size // 2}"
        print(f"{'':<52} {'freealg support()':<22} {t_sup * 1e3:8.1f}ms  {note}")
    except Exception as exc:       # noqa: BLE001
        print(f"{'':<52} {'freealg support()':<22} FAILED ({type(exc).__name__})")
    # rmthess's edges against the oracle: the density just inside each edge is positive
    inside = [oracle.inside(e + sgn * 1e-9 * width) for lo, hi in law.support()
              for e, sgn in ((lo, 1.0), (hi, -1.0))]
    print(f"{'':<52} {'rmthess edges':<22} {'':>10}  oracle: inside 1e-9·w within each edge "
          f"for {sum(inside)}/{len(inside)} edges")


if __name__ == "__main__":
    main()
