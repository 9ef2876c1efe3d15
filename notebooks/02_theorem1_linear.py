# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     notebook_metadata_filter: "-jupytext.text_representation.jupytext_version,\
#       -jupytext.text_representation.format_version"
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 2 · Theorem 1: the linear model
#
# For the linear model `z = Vx` with C classes, the Hessian has one d×d block per pair of rows of V:
#
# * cross-entropy: $H_{v_iv_i} = \frac1N\sum_n p_{ni}(1-p_{ni})\,x_nx_n^\top$ and
#   $H_{v_iv_j} = -\frac1N\sum_n p_{ni}p_{nj}\,x_nx_n^\top$;
# * MSE: $H_{v_iv_i} = \frac1N XX^\top$ and $H_{v_iv_j} = 0$.
#
# Each block is a generalized Marchenko–Pastur matrix, so
# $\frac1d\|H\|_F^2 \to g = (\mathbb E\lambda)^2 + \gamma\,\mathbb E\lambda^2$. Theorem 1 of
# arXiv:2505.02809: $g_{ij}/g_{ii} = O(1/C^2)$ with
# $\lim_C C^2 g_{ij}/g_{ii} = (1+\gamma e^2)/(1+\gamma e)$. We compute the exact ratio at every C,
# its asymptote, and compare both with Monte Carlo.

# %%
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from rmthess.cases import get_case
from rmthess.montecarlo import simulate
from rmthess.plotting import RatioCurve, RatioPanel, RatioPoints, plot_ratio_vs_classes, save_figure

SMALL = os.environ.get("RMTHESS_NOTEBOOK_SIZE", "full") == "small"
d, reps = (40, 4) if SMALL else (400, 24)
gammas = (1.0,) if SMALL else (0.25, 1.0, 4.0)
mc_classes = (3, 10) if SMALL else (3, 10, 30, 100)
ce = get_case("linear-ce")
FIGURES = Path(os.environ.get("RMTHESS_NOTEBOOK_FIGURES", "figures"))


def keep(fig, name):
    """Save ``fig`` as ``FIGURES/<name>.png``; return it so that Jupyter shows it (once)."""
    save_figure(fig, FIGURES / name, formats=("png",))
    plt.close(fig)  # else pyplot would show it a second time
    return fig

# %% [markdown]
# ## The exact ratio and its limit
#
# The Gaussian-softmax moments behind $g_{ii}, g_{ij}$ are one-dimensional integrals whose cost does
# not depend on C, so the exact ratio is available up to $C = 10^6$. The approach to the constant is
# slow: at C = 100 the ratio is still several per cent below its asymptote.

# %%
for gamma in gammas:
    r0 = 100**2 * ce.asymptote(gamma, 100)["v"]
    row = ", ".join(f"C={C}: {C**2 * ce.limits(gamma, C).blocks['v'].ratio:.4f}"
                    for C in (10, 100, 1000, 10**5))
    print(f"γ = {gamma:g}: C²·g_ij/g_ii → {r0:.6f}   ({row})")

# %% [markdown]
# ## Monte Carlo at finite d
#
# `simulate` builds the true blocks (weights computed from the same data) and reports the ratio of
# means over all off-diagonal and diagonal blocks, with its standard error, the finite-size
# prediction and the limit.

# %%
curves, points = [], []
grid = np.unique(np.round(np.geomspace(2, 10**4, 30)).astype(int))
for k, gamma in enumerate(gammas):
    group = f"γ = {gamma:g}"
    curves.append(RatioCurve(group, grid,
                             [ce.limits(gamma, int(C)).blocks["v"].ratio for C in grid]))
    curves.append(RatioCurve(group, grid[grid >= 10],
                             [ce.asymptote(gamma, int(C))["v"] for C in grid[grid >= 10]],
                             kind="asymptote"))
    sims = [simulate("linear-ce", d=d, gamma=gamma, classes=C, reps=reps, rng=1000 * k + C)
            for C in mc_classes]
    for s in sims:
        b = s.blocks["v"]
        print(f"{group}, C = {s.classes:3d}: MC {b.ratio:.5g} ± {b.stderr:.2g}, "
              f"finite-size prediction {b.prediction:.5g}, limit {b.limit:.5g}")
    points.append(RatioPoints(f"Monte Carlo, {group}", mc_classes,
                              [s.blocks["v"].ratio for s in sims],
                              [s.blocks["v"].stderr for s in sims], group=group))
fig = plot_ratio_vs_classes([RatioPanel("linear model, CE", tuple(curves), tuple(points))])
keep(fig, "02_ratio_vs_classes")

# %% [markdown]
# The Monte Carlo points sit on the finite-size predictions, which approach the limit like 1/d.
#
# ## MSE: exactly block diagonal
#
# For MSE the off-diagonal blocks vanish identically and the diagonal blocks are Wishart matrices,
# $\frac1d E\|H_{ii}\|_F^2 = 1 + (d+1)/N \to 1 + \gamma$.

# %%
for gamma in gammas:
    s = simulate("linear-mse", d=d, gamma=gamma, classes=3, reps=reps, rng=7)
    b = s.blocks["v"]
    limit = get_case("linear-mse").limits(gamma, 3).blocks["v"].g_ii
    print(f"γ = {gamma:g}: (1/d)‖H_ii‖² = {b.diag:.4f} ± {b.diag_stderr:.2g}, "
          f"exact {1 + (d + 1) / s.n_samples:.4f}, limit {limit:.4f}; "
          f"off-diagonal {b.offdiag:.1f}")
