r"""Checks ``decoupling`` and ``lindeberg``: the proof's decoupling step, measured.

``decoupling`` — for the diagonal block of the linear CE model,
:func:`rmthess.montecarlo.spectra.coupling` gives per replicate the true block H and its exact
coupling H♯ (same data, weights and V; only the projection of every sample onto the row space of V
redrawn). Rows: the rank bound ``|s_H(z) − s_{H♯}(z)| ≤ 2C/(d Im z)`` on every realization (rule
``bound``); ``d·δ_N(z)`` extrapolated from d and 2d against its limit ``c(z)`` of
:func:`~rmthess.montecarlo.spectra.coupling_constant`, real and imaginary parts (rule
``richardson``; the Monte Carlo error of ``c(z)`` is measured from independent evaluations and
enters the standard error), each replicate the mean of many redraws of the projection (Woodbury
identity, one eigendecomposition) with an exchangeable constant-weight control of mean 0; the
literal estimator with an independent copy X̃ against the same ``c(z)`` (rule ``z``, with its much
larger error).

``lindeberg`` — :func:`~rmthess.montecarlo.spectra.lindeberg_path` gives ``E s_{H(t)}(z)`` along
``X(t) = √t X + √(1−t) X̃`` with the weights computed from X. For every t the matrix differs from one
with the law of the decoupled block by a perturbation of rank ≤ 2C, so each point tends to the GMP
Stieltjes transform ``s(z)`` of the block's weight law (rule ``richardson`` at each t, real and
imaginary parts). theory/verification.md, (VER-9) and (VER-10).
"""

from __future__ import annotations

import math

import numpy as np

from rmthess.verify.base import Check, CheckOutput, register
from rmthess.verify.power import target
from rmthess.verify.rules import against_prediction, at_most, richardson

__all__ = ["DecouplingCheck", "LindebergCheck", "spectral_point"]

def _paragraph(name: str) -> str:
    """The paragraph of the module docstring about check ``name`` (after its ``name`` — lead-in)."""
    text = next(p for p in __doc__.split("\n\n") if p.startswith(f"``{name}`` —"))
    text = text.split("—", 1)[1].strip()
    return text[0].upper() + text[1:]


#: the rank inequality is exact; round-off in the eigenvalues (~1e-15 relative) is far below this
RANK_BOUND_SLACK = 1e-9


def spectral_point(law, shift: float = 1.0, height: float = 2.0) -> complex:
    """A point ``z = m₁(shift + i·height)`` on the scale of the block's spectrum (m₁ its mean).

    ``height = 2`` keeps z far enough from the spectrum for the replicates of ``d·(s_H − s_H♯)`` to
    scatter little relative to ``c(z)`` (relative standard error less than half that at
    ``height = 0.5``: 0.22 against 0.53 for linear CE, γ = 1, C = 10, d = 200, 40 replicates), and
    close enough for ``c(z)`` to be far from its ``O(z⁻²)`` tail.
    """
    m1 = float(law.moment(1))
    return complex(m1 * shift, abs(m1) * height)


def _parts(value, se):
    return ((value.real, se.real, "Re"), (value.imag, se.imag, "Im"))


def _controlled(res):
    """``(mean, se, dof, part)`` of the real and imaginary parts of the exact coupling's replicates,
    with the real and imaginary parts of the exchangeable control as regression controls (VER-9)."""
    from rmthess.verify.checks._stats import controlled_mean_se

    y, c = res.replicates[:, 0], res.controls[:, 0]
    ctrl = np.column_stack([c.real, c.imag])
    return [controlled_mean_se(f(y), ctrl) + (part,) for f, part in ((np.real, "Re"),
                                                                      (np.imag, "Im"))]


@register
class DecouplingCheck(Check):
    name = "decoupling"
    title = "Decoupling: exact coupling, d·δ_N(z) and its limit c(z)"
    description = _paragraph("decoupling")
    #: ``reps`` replicates of the literal contrast and the figure at every d of ``ds``;
    #: ``exact_reps`` of the exact coupling (``redraws`` projections each, with the exchangeable
    #: control) at the two sizes ``exact_ds`` (the per-replicate spread falls only as d^-1/2 while
    #: the cost grows as d³)
    sizes = {
        "tiny": {"ds": (40, 80), "reps": 6, "exact_ds": (40, 80), "exact_reps": 12, "redraws": 4,
                 "gamma": 1.0, "C": 5, "c_evals": 3},
        "quick": {"ds": (50, 100, 200), "reps": 40, "exact_ds": (100, 200), "exact_reps": 1200,
                  "redraws": 8, "gamma": 1.0, "C": 10, "c_evals": 8},
        "full": {"ds": (100, 200, 400, 800, 1600), "reps": 64, "exact_ds": (200, 400),
                 "exact_reps": 4000, "redraws": 16, "gamma": 1.0, "C": 10, "c_evals": 16},
    }

    def run(self, ctx):
        from rmthess.cases import get_case
        from rmthess.montecarlo.spectra import coupling, coupling_constant
        from rmthess.plotting.decoupling import DecouplingSeries

        p = self.params(ctx.size)
        g, C, reps, ds = p["gamma"], p["C"], p["reps"], p["ds"]
        case = "linear-ce"
        law = get_case(case).block_law("v", "diag", g, C)
        z = spectral_point(law)
        ctx.progress(f"c(z) at z = {z:.3g} from {p['c_evals']} independent evaluations")
        cs = np.array([complex(coupling_constant(case, [z], gamma=g, classes=C,
                                                 seed=ctx.child(9, k))[0])
                       for k in range(p["c_evals"])])
        c = complex(cs.mean())
        c_se = complex(cs.real.std(ddof=1), cs.imag.std(ddof=1)) / math.sqrt(cs.size)
        c_dof = cs.size - 1
        c_note = f"limit c(z): mean of {cs.size} independent evaluations"
        results = []
        for k, d in enumerate(ds):
            ctx.progress(f"coupling, d = {d}, {reps} replicates (exact and literal)")
            results.append(coupling(case, d=d, gamma=g, classes=C, z=[z], reps=reps,
                                    seed=ctx.child(0, k), literal=True, prediction=False))
        exact = []
        for k, d in enumerate(p["exact_ds"]):
            ctx.progress(f"exact coupling, d = {d}, {p['exact_reps']} replicates × "
                         f"{p['redraws']} redraws, with the exchangeable control")
            exact.append(coupling(case, d=d, gamma=g, classes=C, z=[z], reps=p["exact_reps"],
                                  seed=ctx.child(5, k), literal=False, prediction=False,
                                  redraws=p["redraws"], control_weight=float(law.moment(1))))
        out = CheckOutput()
        base = {"case": case, "block": "diag", "gamma": g, "C": C, "z": z}
        worst = max(r.rank_bound_ratio for r in results + exact)
        out.rows.append(at_most("rank bound: max d·|s_H − s_H♯|·Im z/(2C)",
                                base | {"d": f"{ds[0]}…{ds[-1]}", "reps": reps},
                                value=worst, bound=1.0, slack=RANK_BOUND_SLACK,
                                note="|s_H − s_H♯| ≤ 2C/(d Im z) on every realization"))
        scale = abs(c)
        small, large = (_controlled(r) for r in exact)
        for (a, sa, dof, part), (b, sb, _, _), (cv, cse, _) in zip(small, large, _parts(c, c_se),
                                                                   strict=True):
            out.rows.append(richardson(f"{part} d·δ_N(z), exact coupling",
                                       base | {"d": f"{exact[0].d}→{exact[1].d}",
                                               "reps": p["exact_reps"]},
                                       small=a, small_se=sa, large=b, large_se=sb,
                                       limit=float(cv), limit_se=float(cse), limit_dof=c_dof,
                                       dof=dof, scale=scale,
                                       target=target("decoupling", ctx.size),
                                       note=f"{c_note}; mean of {p['redraws']} redraws per "
                                            f"replicate (Woodbury), exchangeable constant-weight "
                                            f"control (mean 0); MDE relative to |c(z)|"))
        last = results[-1]
        for (v, se, part), (cv, cse, _) in zip(
                _parts(last.literal_difference[0], last.literal_stderr[0]), _parts(c, c_se),
                strict=True):
            out.rows.append(against_prediction(f"{part} d·δ_N(z), literal estimator "
                                               "(independent X̃)",
                                               base | {"d": last.d, "reps": reps},
                                               simulation=float(v), stderr=float(se),
                                               prediction=float(cv), prediction_se=float(cse),
                                               prediction_dof=c_dof, limit=float(cv),
                                               dof=reps - 1, scale=scale,
                                               note="the contrast: same mean, far less power; "
                                                    "MDE relative to |c(z)|"))
        ratios = ", ".join(f"d = {r.d}: {float(r.spread_ratio[0]):.0f}×" for r in results)
        out.notes.append(f"per-replicate spread of the literal estimator over the exact coupling: "
                         f"{ratios} (variance reduction = square of these).")
        exact = DecouplingSeries(f"exact coupling $H^\\sharp$, {reps} replicates",
                                 [r.d for r in results],
                                 [r.scaled_difference[0] for r in results],
                                 [r.stderr[0] for r in results])
        literal = DecouplingSeries(f"independent copy $\\tilde X$, {reps} replicates",
                                   [r.d for r in results],
                                   [r.literal_difference[0] for r in results],
                                   [r.literal_stderr[0] for r in results])
        out.figures["figure3"] = {"exact": exact, "literal": literal, "c": c, "z": z}
        return out


@register
class LindebergCheck(Check):
    name = "lindeberg"
    title = "Lindeberg path X(t) = √t X + √(1−t) X̃"
    description = _paragraph("lindeberg")
    sizes = {
        "tiny": {"d": 40, "reps": 6, "gamma": 1.0, "C": 5, "t": (0.0, 1.0)},
        "quick": {"d": 120, "reps": 24, "gamma": 1.0, "C": 10, "t": (0.0, 0.5, 1.0)},
        "full": {"d": 600, "reps": 64, "gamma": 1.0, "C": 10, "t": (0.0, 0.25, 0.5, 0.75, 1.0)},
    }

    def run(self, ctx):
        from rmthess.cases import get_case
        from rmthess.montecarlo.spectra import lindeberg_path
        from rmthess.plotting.decoupling import LindebergSeries

        p = self.params(ctx.size)
        g, C, reps, d0 = p["gamma"], p["C"], p["reps"], p["d"]
        case = "linear-ce"
        law = get_case(case).block_law("v", "diag", g, C)
        z = spectral_point(law)
        s = complex(law.stieltjes(z))
        paths = []
        for k, d in enumerate((d0, 2 * d0)):
            ctx.progress(f"Lindeberg path, d = {d}, t = {p['t']}, {reps} replicates")
            paths.append(lindeberg_path(case, d=d, gamma=g, classes=C, z=[z], t=p["t"], reps=reps,
                                        seed=ctx.child(0, k)))
        small, large = paths
        out = CheckOutput()
        for i, t in enumerate(small.t):
            base = {"case": case, "block": "diag", "gamma": g, "C": C, "z": z, "t": float(t),
                    "d": f"{d0}→{2 * d0}", "reps": reps}
            for (a, sa, part), (b, sb, _), (sv, _, _) in zip(
                    _parts(small.mean[i, 0], small.stderr[i, 0]),
                    _parts(large.mean[i, 0], large.stderr[i, 0]), _parts(s, 0j), strict=True):
                out.rows.append(richardson(f"{part} E s_H(t)(z)", base, small=float(a),
                                           small_se=float(sa), large=float(b), large_se=float(sb),
                                           limit=float(sv), dof=reps - 1, scale=abs(s),
                                           note="limit: GMP Stieltjes transform of the block law; "
                                                "MDE relative to |s(z)|"))
        out.figures["figure3"] = {"lindeberg": LindebergSeries(f"d = {large.d}, {reps} replicates",
                                                               large.t,
                                                               large.mean[:, 0], large.stderr[:, 0],
                                                               limit=s)}
        return out
