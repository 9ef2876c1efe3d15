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
# # 1 · The generalized Marchenko–Pastur law
#
# Every Hessian block of the models in arXiv:2505.02809 has the form
# $B = \frac1N X \Lambda X^\top = \frac1N\sum_n \lambda_n x_n x_n^\top$ with Gaussian data $x_n$ and
# scalar weights $\lambda_n$. When the weights are independent of the data and $d/N \to \gamma$, the
# spectrum of $B$ converges to the *generalized Marchenko–Pastur* (GMP) law, whose Stieltjes
# transform solves
#
# $$ s(z) = \frac{1}{-z + \mathbb E\left[\frac{\lambda}{1+\gamma\lambda s(z)}\right]} . $$
#
# This notebook checks the package's solution of that equation against simulated eigenvalues.
# Set `RMTHESS_NOTEBOOK_SIZE=small` for a fast run.

# %%
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from rmthess.gmp import GeneralizedMarchenkoPastur
from rmthess.laws import DiscreteLaw, PointMass
from rmthess.plotting import SpectrumPanel, plot_block_spectra, save_figure

SMALL = os.environ.get("RMTHESS_NOTEBOOK_SIZE", "full") == "small"
d, reps = (60, 4) if SMALL else (400, 20)
rng = np.random.default_rng(2024)
FIGURES = Path(os.environ.get("RMTHESS_NOTEBOOK_FIGURES", "figures"))


def keep(fig, name):
    """Save ``fig`` as ``FIGURES/<name>.png``; return it so that Jupyter shows it (once)."""
    save_figure(fig, FIGURES / name, formats=("png",))
    plt.close(fig)  # else pyplot would show it a second time
    return fig

# %% [markdown]
# ## Marchenko–Pastur: $\lambda \equiv 1$
#
# With constant weights the GMP law is the Marchenko–Pastur law, with edges $(1\pm\sqrt\gamma)^2$
# and, for $\gamma > 1$, an atom $1 - 1/\gamma$ at zero. The package finds the edges from the
# critical points of the inverse map $z(s) = -1/s + \mathbb E[\lambda/(1+\gamma\lambda s)]$.

# %%
for gamma in (0.25, 2.0):
    mp = GeneralizedMarchenkoPastur(PointMass(1.0), gamma)
    (left, right), = mp.support()
    print(f"γ = {gamma}: support [{left:.6f}, {right:.6f}], "
          f"closed form [{(1 - gamma**0.5)**2:.6f}, {(1 + gamma**0.5)**2:.6f}], "
          f"atom at 0 = {mp.atom_at_zero:.3f}")

# %% [markdown]
# ## Weights of both signs
#
# Off-diagonal Hessian blocks have weights of either sign (for cross-entropy,
# $\lambda_n = -p_{ni}p_{nj} \le 0$). Here a two-point law with a negative atom: the spectrum has
# mass on both sides of zero. We compare its density with the eigenvalues of simulated matrices, and
# its moments (exact, from the free cumulants $\kappa_k = \gamma^{k-1}\mathbb E\lambda^k$) with the
# simulated spectral moments.

# %%
weights = DiscreteLaw([-1.0, 2.0], [0.4, 0.6])
law = GeneralizedMarchenkoPastur(weights, 0.25)
eigs = np.concatenate([law.sample_eigenvalues(d, rng=rng) for _ in range(reps)])
print("bulks:", [(round(a, 4), round(b, 4)) for a, b in law.support()])
print("moments, theory    :", np.round(law.moments(4), 4))
print("moments, simulation:", np.round([np.mean(eigs**k) for k in range(1, 5)], 4),
      f"(d = {d}, {reps} matrices)")

# %%
x = np.linspace(min(a for a, _ in law.support()) - 0.2, max(b for _, b in law.support()) + 0.2, 600)
mp = GeneralizedMarchenkoPastur(PointMass(1.0), 2.0)
mp_eigs = np.concatenate([mp.sample_eigenvalues(d, rng=rng) for _ in range(reps)])
x_mp = np.linspace(1e-3, (1 + 2**0.5) ** 2 + 0.3, 600)
fig = plot_block_spectra([
    SpectrumPanel("two-point weights, γ = 0.25", eigs, x, law.pdf(x),
                  edges=[e for b in law.support() for e in b]),
    SpectrumPanel("Marchenko–Pastur, γ = 2", mp_eigs, x_mp, mp.pdf(x_mp),
                  edges=[e for b in mp.support() for e in b], atom=mp.atom_at_zero, zero_tol=1e-8),
])
keep(fig, "01_gmp_spectra")

# %% [markdown]
# The histograms follow the densities, the edges bound the simulated eigenvalues up to the usual
# $d^{-2/3}$ fluctuations, and the simulated fraction of zero eigenvalues equals the atom. The
# verification report (`rmthess verify`, check `gmp-law`) makes these comparisons with error bars
# and verdicts.
