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
# # 5 · Static and dynamic forces on the Hessian of a small network
#
# arXiv:2505.02809 names two forces that make the Hessian of a neural network close to block
# diagonal:
#
# * a **static force**, present at random initialization and rooted in the architecture: for
#   cross-entropy with C classes the off-diagonal blocks are smaller than the diagonal ones by a
#   power of C (theorems 1 and 2, notebooks 2 and 3);
# * a **dynamic force** that arises in training: as the softmax saturates on fitted samples,
#   `diag(p) − ppᵀ` and the residual `p − e_y` shrink, and with them the blocks that couple the
#   hidden and output layers.
#
# Here we look at both on exact Hessians of a 1-hidden-layer ReLU network (no bias, CE loss),
# parameters ordered `w_1 … w_m, v_1 … v_C`. `RMTHESS_NOTEBOOK_SIZE=small` runs it in seconds.

# %%
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from rmthess import networks
from rmthess.plotting import (
    HessianMap,
    plot_block_map,
    plot_hessian_maps,
    plot_init_ratio_sweep,
    plot_training_blocks,
    save_figure,
)

SMALL = os.environ.get("RMTHESS_NOTEBOOK_SIZE", "full") == "small"
d, n, m = (12, 24, 3) if SMALL else (32, 64, 4)
classes = (3, 10, 30) if SMALL else (10, 100, 1000)
seeds = np.random.SeedSequence(5).spawn(len(classes) + 2)
FIGURES = Path(os.environ.get("RMTHESS_NOTEBOOK_FIGURES", "figures"))


def keep(fig, name):
    """Save ``fig`` as ``FIGURES/<name>.png``; return it so that Jupyter shows it (once)."""
    save_figure(fig, FIGURES / name, formats=("png",))
    plt.close(fig)  # else pyplot would show it a second time
    return fig

# %% [markdown]
# ## The static force at initialization
#
# The full Hessian for three numbers of classes. With more classes each softmax probability is
# smaller, so the cross-class blocks `−(1/N) Σ p_ni p_nj s_n s_nᵀ` shrink faster than the diagonal
# ones.

# %%
maps = []
for C, seed in zip(classes, seeds[:len(classes)], strict=True):
    data_seed, weight_seed = seed.spawn(2)
    X, y = networks.gaussian_data(n, d, C, rng=data_seed)
    V, W = networks.init_weights(d, C, m, rng=weight_seed)
    H = networks.hessian(X, y, W, V, loss="ce")
    layout = networks.block_layout(d, C, m)
    ratios = networks.block_ratios(H, layout)
    print(f"C = {C:5d}: hidden ratio {ratios['hidden'].ratio:.3e}, "
          f"output ratio {ratios['output'].ratio:.3e}")
    maps.append(HessianMap(f"initialization, C = {C}", H, layout))
fig = plot_hessian_maps(init=maps)
keep(fig, "05_hessians_init")

# %% [markdown]
# ## The paper's Gaussian setting
#
# The preset `gaussian` is the setting of the paper's figures: N = 5000, d = 500, C = 500, m = 8,
# CE, P = m·d + C·m = 8000 parameters. Its dense Hessian (about 0.5 GB) is formed exactly in
# seconds; the map of block Frobenius norms `‖H_lk‖_F` over the m + C = 508 blocks shows the
# block-diagonal structure at initialization. (At small size the `small` preset stands in for it.)

# %%
net = networks.preset_network("small" if SMALL else "gaussian", rng=seeds[0])
H = networks.dense_hessian(net)
norm_map = networks.block_norm_map(H, net.layout)
print(f"P = {net.n_params}, blocks = {net.layout.n_blocks}, "
      f"block-diagonality index = {networks.block_diagonality(norm_map):.3f}")
del H
fig = plot_block_map(norm_map, net.layout, title="block norms at initialization")
keep(fig, "05_block_map")

# %% [markdown]
# The hidden-block ratio, averaged over a few independent draws, against the limit of the theory
# (`rmthess.cases`) — here for the MSE loss, where the limit is a closed form,
# `(1 + 4γ)/(4(1 + 2γ)(C + 2))`: the hidden blocks decay like 1/C (the output blocks of MSE are
# exactly block diagonal).

# %%
sweep = networks.init_ratio_sweep(classes, dim=d, gamma=d / n, width=m, loss="mse", reps=3,
                                  rng=seeds[-2])
fig = plot_init_ratio_sweep(sweep, title="MSE: exact Hessians and the limit")
keep(fig, "05_init_ratio_sweep")

# %% [markdown]
# ## The dynamic force along training
#
# Adam on random labels; the Hessian is recorded along the way. As the training accuracy rises, the
# hidden–output blocks lose most of their mass relative to the diagonal blocks.

# %%
cfg = networks.PRESETS["small"]
steps = 40 if SMALL else cfg.steps
data_seed, weight_seed = seeds[-1].spawn(2)
X, y = networks.gaussian_data(cfg.n_samples, cfg.dim, cfg.classes, rng=data_seed)
V, W = networks.init_weights(cfg.dim, cfg.classes, cfg.width, rng=weight_seed)
result = networks.train(X, y, V, W, loss="ce", optimizer="adam", lr=cfg.lr, steps=steps,
                        snapshot_steps=(0, steps // 4, steps), keep_hessians=True)
for s in result.snapshots:
    print(f"step {s.step:4d}: accuracy {s.accuracy:.2f}, mean ‖H_(w,v)‖² {s.cross:.3e}, "
          f"block-diagonality {s.diagonality:.3f}")
fig = plot_training_blocks(result)
keep(fig, "05_training_blocks")

# %%
fig = plot_hessian_maps(training=[HessianMap(f"step {s.step}", s.hessian, result.layout)
                                  for s in result.snapshots])
keep(fig, "05_hessians_training")

# %% [markdown]
# The static force is a property of the random initialization and depends on C; the dynamic force
# appears only when the network fits its data. `rmthess verify` (check `hessian-maps`) also confirms
# that the block norms of these exact Hessians equal those the Monte Carlo engine computes from the
# Gram matrix alone.
