r"""Figure 4: heatmaps of the full Hessian of a 1-hidden-layer network — static and dynamic forces.

Top row: ``|H|`` at initialization for several numbers of classes C (the *static force*: the
off-diagonal blocks shrink relative to the diagonal ones as C grows); a map too large to read is
cropped to its leading blocks (:func:`readable`). Middle row: ``|H|`` at snapshots along training;
bottom: the block norms against the training step (the *dynamic force*: the hidden–output blocks
shrink as the softmax saturates). Each heatmap is drawn by
:func:`rmthess.plotting.blockmap.plot_hessian_heatmap` (log colour scale, block boundaries).

Examples
--------
>>> import numpy as np
>>> from rmthess.networks import block_layout
>>> from rmthess.plotting.hessians import HessianMap, plot_hessian_maps
>>> lay = block_layout(4, 3, 2)
>>> H = np.eye(lay.n_params) + 0.01
>>> fig = plot_hessian_maps(init=[HessianMap("C = 3", H, lay)])
>>> fig.axes[0].get_title()
'C = 3'
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rmthess.plotting.style import figure_style

__all__ = ["HessianMap", "plot_hessian_maps", "readable"]


@dataclass(frozen=True)
class HessianMap:
    """A dense Hessian with its block layout and a panel title."""

    title: str
    hessian: np.ndarray
    layout: object

    def __post_init__(self):
        H = np.asarray(self.hessian, dtype=float)
        if H.ndim != 2 or H.shape[0] != H.shape[1]:
            raise ValueError(f"hessian must be square, got shape {H.shape}")
        object.__setattr__(self, "hessian", H)


#: a cropped map keeps at most this many blocks of its last group
CROP_BLOCKS = 32


def readable(hm: HessianMap, max_params: int) -> HessianMap:
    """``hm`` cropped to its leading blocks when it has more than ``max_params`` parameters.

    All groups but the last are kept whole; the last (the output blocks) keeps its first ``k``
    blocks (as many as fit, at most :data:`CROP_BLOCKS`), and the title says so: a map with
    thousands of parameters drawn in a few hundred pixels shows neither entries nor blocks.
    """
    lay = hm.layout
    if lay.n_params <= max_params or len(lay.groups) < 2:
        return hm
    from rmthess.networks.model import BlockLayout

    *head, (name, count, size) = lay.groups
    if not isinstance(size, int):
        return hm
    lead = sum(lay.group_sizes[:-1])
    k = max(1, min(count, CROP_BLOCKS, (max_params - lead) // size))
    if k == count:
        return hm
    crop = BlockLayout(tuple(head) + ((name, k, size),))
    n = crop.n_params
    title = f"{hm.title}\n(first {k} of {count} {name} blocks shown)"
    return HessianMap(title, hm.hessian[:n, :n], crop)


def plot_hessian_maps(init=(), training=(), *, training_result=None, title: str | None = None,
                      max_pixels: int = 400, decades: float = 5.0, max_params: int = 600):
    """Draw figure 4 and return the :class:`~matplotlib.figure.Figure`.

    Rows: the maps at initialization, the maps along training, and (with ``training_result``) the
    block norms against the training step across the full width; no grid slot is left empty.

    Parameters
    ----------
    init : sequence of HessianMap
        Hessians at initialization (top row).
    training : sequence of HessianMap
        Hessians along training (middle row).
    training_result : rmthess.networks.TrainingResult, optional
        Adds a bottom panel with block norms against the training step
        (:func:`~rmthess.plotting.blockmap.plot_training_blocks`).
    title : str, optional
    max_pixels : int
        Heatmaps are max-pooled to at most this many pixels per side.
    decades : float
        Colour range: ``log10(|H|/max|H|)`` from ``−decades`` to 0, one colour bar for all maps.
        The maximum is each map's own at initialization (C changes the scale) and the largest over
        the snapshots along training (so that snapshots compare).
    max_params : int
        A map with more parameters shows its leading blocks only (:func:`readable`).
    """
    import matplotlib.pyplot as plt

    from rmthess.plotting.blockmap import plot_hessian_heatmap, plot_training_blocks

    init = [readable(h, max_params) for h in init]
    training = [readable(h, max_params) for h in training]
    ncols = max(len(init), len(training), 1)
    mosaic = []
    if init:
        mosaic.append([f"i{k}" if k < len(init) else "." for k in range(ncols)])
    if training:
        mosaic.append([f"t{k}" if k < len(training) else "." for k in range(ncols)])
    if training_result is not None:
        mosaic.append(["curve"] * ncols)
    if not mosaic:
        raise ValueError("nothing to draw: give init and/or training maps")
    heights = [1.0 if row[0] != "curve" else 0.75 for row in mosaic]
    with figure_style():
        fig = plt.figure(figsize=(3.9 * ncols, 3.5 * sum(heights)), layout="constrained")
        axes = fig.subplot_mosaic(mosaic, height_ratios=heights)
        clim = (-float(decades), 0.0)
        shared = max((float(np.max(np.abs(h.hessian))) for h in training), default=1.0)
        for key, hm, top in ([(f"i{k}", h, float(np.max(np.abs(h.hessian))))
                              for k, h in enumerate(init)]
                             + [(f"t{k}", h, shared) for k, h in enumerate(training)]):
            plot_hessian_heatmap(hm.hessian / (top or 1.0), hm.layout, ax=axes[key],
                                 title=hm.title, max_pixels=max_pixels, colorbar=False, clim=clim)
        maps = [axes[k] for k in axes if k != "curve"]
        if maps:
            fig.colorbar(maps[0].images[0], ax=maps, shrink=0.6,
                         label=r"$\log_{10}(|H_{ij}|\,/\,\max|H|)$")
        if training_result is not None:
            plot_training_blocks(training_result, ax=axes["curve"])
        if title:
            fig.suptitle(title)
    return fig
