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
# # 3 · Theorem 2: a 1-hidden-layer ReLU network
#
# With m hidden ReLU units, $u_n = Wx_n$, $s_n = \mathrm{relu}(u_n)$ and logits $Vs_n$, the Hessian
# has d×d hidden blocks $H_{w_iw_j} = \frac1N\sum_n a_{ij}(n)\,x_nx_n^\top$ and m×m output blocks
# $H_{v_cv_{c'}}$. The weights $a_{ij}(n)$ depend on $x_n$ only through the m numbers $u_n$, so the
# GMP law still applies. Theorem 2 of arXiv:2505.02809: the off-/diagonal ratios decay like
#
# * 1/C for the hidden blocks (MSE and CE),
# * 1/C² for the output blocks (CE; for MSE they vanish).
#
# For MSE the limit is a closed form, $\frac{1+4\gamma}{4(1+2\gamma)(C+2)}$; for CE at finite C it
# is an m-dimensional integral that the package estimates by Monte Carlo (with a standard error),
# and the C → ∞ constants $K_h(\gamma, m)$, $K_o(m)$ come from one-dimensional integrals.

# %%
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from rmthess.cases import get_case
from rmthess.montecarlo import simulate
from rmthess.montecarlo.spectra import block_spectrum
from rmthess.plotting import (
    RatioCurve,
    RatioPanel,
    RatioPoints,
    SpectrumPanel,
    plot_block_spectra,
    plot_ratio_vs_classes,
    save_figure,
)

SMALL = os.environ.get("RMTHESS_NOTEBOOK_SIZE", "full") == "small"
d, reps, m, gamma = (40, 4, 4, 1.0) if SMALL else (300, 24, 8, 1.0)
classes = (3, 10) if SMALL else (3, 10, 30, 100)
mse, ce = get_case("mlp-mse"), get_case("mlp-ce")
FIGURES = Path(os.environ.get("RMTHESS_NOTEBOOK_FIGURES", "figures"))


def keep(fig, name):
    """Save ``fig`` as ``FIGURES/<name>.png``; return it so that Jupyter shows it (once)."""
    save_figure(fig, FIGURES / name, formats=("png",))
    plt.close(fig)  # else pyplot would show it a second time
    return fig

# %% [markdown]
# ## MSE: the closed form against simulation

# %%
for C in classes:
    s = simulate("mlp-mse", d=d, gamma=gamma, classes=C, m=m, reps=reps, rng=C, predictions=False)
    b = s.blocks["hidden"]
    print(f"C = {C:3d}: hidden ratio MC {b.ratio:.4f} ± {b.stderr:.2g}, "
          f"limit {mse.limits(gamma, C, m=m).blocks['hidden'].ratio:.4f}; "
          f"off-diagonal output blocks {s.blocks['output'].offdiag:.1f}")

# %% [markdown]
# ## CE: hidden and output blocks against C
#
# The C → ∞ constants: the hidden ratio behaves like $K_h/C$ and the output ratio like $K_o/C^2$.

# %%
asym = ce.asymptote(gamma, 100, m=m)
print(f"K_h(γ={gamma:g}, m={m}) = {100 * asym['hidden']:.4f}, "
      f"K_o(m={m}) = {100**2 * asym['output']:.4f}")
rng = np.random.default_rng(3)
lims = {C: ce.limits(gamma, C, m=m, rng=rng) for C in classes}
sims = {C: simulate("mlp-ce", d=d, gamma=gamma, classes=C, m=m, reps=reps, rng=100 + C,
                    predictions=False, limits=False) for C in classes}
panels = []
for block in ("hidden", "output"):
    big = np.geomspace(10, 1000, 20)
    curves = (RatioCurve("limit", classes, [lims[C].blocks[block].ratio for C in classes]),
              RatioCurve("limit", big, [ce.asymptote(gamma, int(C), m=m)[block] for C in big],
                         kind="asymptote"))
    pts = (RatioPoints(f"Monte Carlo, d = {d}", classes,
                       [sims[C].blocks[block].ratio for C in classes],
                       [sims[C].blocks[block].stderr for C in classes], group="limit"),)
    panels.append(RatioPanel(f"{block} blocks, CE, m = {m}, γ = {gamma:g}", curves, pts))
    for C in classes:
        L = lims[C].blocks[block]
        print(f"{block:6s} C = {C:3d}: MC {sims[C].blocks[block].ratio:.4g} ± "
              f"{sims[C].blocks[block].stderr:.2g}, limit {L.ratio:.4g} ± {L.stderr_ratio:.2g}")
fig = plot_ratio_vs_classes(panels)
keep(fig, "03_ratio_vs_classes")

# %% [markdown]
# The hidden blocks lose a factor C and the output blocks a factor C²: the static force acts more
# strongly on the layer next to the loss. The approach to the constants is slow for small m, so
# finite C is compared with the finite-C limits, not with the constants (`rmthess verify`, check
# `mlp-ratios`).

# %% [markdown]
# ## The hidden blocks at a fixed V: a GMP law per output matrix
#
# Norms are only half of the story. At a fixed output matrix V the hidden block
# $H_{w_iw_j}=\frac1N\sum_n a_{ij}(u_n)\,x_nx_n^\top$ is a GMP matrix whose weights depend on $x_n$
# through the m numbers $u_n = Wx_n$ only, so its spectrum tends to the GMP law of the weight law of
# $a_{ij}(u)$, $u\sim N(0, I_m)$ — for MSE $\kappa_{ii}\,\mathrm{Bernoulli}(1/2)$ on the diagonal
# and $\kappa_{ij}\,\mathrm{Bernoulli}(1/4)$ off it ($\kappa = V^\top V$), for CE an empirical law.
# The simulated block comes with its V (`return_second=True`), and the law is taken at that V.

# %%
d_spec = 80 if SMALL else 600
spec_panels = []
for case, which, g in (("mlp-mse", "offdiag", 1.0), ("mlp-ce", "diag", 0.2)):
    ev, V = block_spectrum(case, d=d_spec, gamma=g, classes=10, m=4, block="hidden", which=which,
                           seed=7, return_second=True)
    law = get_case(case).block_law("hidden", which, g, 10, m=4, V=V, rng=np.random.default_rng(8))
    lo, hi = min(b[0] for b in law.support()), max(b[1] for b in law.support())
    x = np.linspace(lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo), 400)
    x = x[np.abs(x) > 1e-12 * max(abs(lo), abs(hi))]
    scale = max(abs(lo), abs(hi))
    zero = float(np.mean(np.abs(ev) <= 1e-9 * scale))
    print(f"{case} {which}, γ = {g:g}: atom of the law {float(law.atom_at_zero):.3f}, "
          f"fraction of zero eigenvalues {zero:.3f}")
    spec_panels.append(SpectrumPanel(f"{case} hidden {which}, one V, d = {d_spec}", ev, x,
                                     law.pdf(x), atom=float(law.atom_at_zero),
                                     zero_tol=1e-9 * scale))
fig = plot_block_spectra(spec_panels)
keep(fig, "03_block_spectra")

# %% [markdown]
# One V, one matrix: the histogram already follows the law of that V. Redrawing V moves the law
# (through $\kappa$), which is why `rmthess verify` (check `block-spectra`) compares every replicate
# with the law of its own V and extrapolates the mean deviation, rather than pooling replicates
# against one curve.
