r"""Figure 4: heatmaps of the full Hessian of a 1-hidden-layer network — static and dynamic forces.

Top row: ``|H|`` at initialization for several numbers of classes C (the *static force*: the
off-diagonal blocks shrink relative to the diagonal ones as C grows). Bottom row: ``|H|`` at
snapshots along training, and the block norms against the training step (the *dynamic force*: the
hidden–output blocks shrink as the softmax saturates). Each heatmap is drawn by
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

__all__ = ["HessianMap", "plot_hessian_maps"]


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


def _clip_decades(axes, decades: float) -> None:
    """Show ``decades`` orders of magnitude below the largest entry, the same for all ``axes``."""
    images = [ax.images[0] for ax in axes if ax.images]
    if not images:
        return
    top = max(float(np.nanmax(im.get_array())) for im in images)
    for im in images:
        im.set_clim(top - decades, top)


def plot_hessian_maps(init=(), training=(), *, training_result=None, title: str | None = None,
                      max_pixels: int = 400, decades: float = 5.0):
    """Draw figure 4 and return the :class:`~matplotlib.figure.Figure`.

    Parameters
    ----------
    init : sequence of HessianMap
        Hessians at initialization (top row).
    training : sequence of HessianMap
        Hessians along training (bottom row).
    training_result : rmthess.networks.TrainingResult, optional
        Adds a panel with block norms against the training step
        (:func:`~rmthess.plotting.blockmap.plot_training_blocks`).
    title : str, optional
    max_pixels : int
        Heatmaps are max-pooled to at most this many pixels per side.
    decades : float
        Colour range: this many orders of magnitude below the largest ``|H_ij|`` (per panel at
        initialization, where C changes the scale; shared along training, so snapshots compare).
    """
    import matplotlib.pyplot as plt

    from rmthess.plotting.blockmap import plot_hessian_heatmap, plot_training_blocks

    init, training = list(init), list(training)
    extra = training_result is not None
    ncols = max(len(init), len(training) + extra, 1)
    nrows = (len(init) > 0) + (len(training) > 0 or extra)
    if nrows == 0:
        raise ValueError("nothing to draw: give init and/or training maps")
    with figure_style():
        fig = plt.figure(figsize=(3.9 * ncols, 3.4 * nrows), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False)
        row = 0
        if init:
            for ax, hm in zip(axes[row][:len(init)], init, strict=True):
                plot_hessian_heatmap(hm.hessian, hm.layout, ax=ax, title=hm.title,
                                     max_pixels=max_pixels)
                _clip_decades([ax], decades)
            for ax in axes[row][len(init):]:
                ax.set_visible(False)
            row += 1
        if training or extra:
            for ax, hm in zip(axes[row][:len(training)], training, strict=True):
                plot_hessian_heatmap(hm.hessian, hm.layout, ax=ax, title=hm.title,
                                     max_pixels=max_pixels)
            _clip_decades(axes[row][:len(training)], decades)
            used = len(training)
            if extra:
                plot_training_blocks(training_result, ax=axes[row][used])
                used += 1
            for ax in axes[row][used:]:
                ax.set_visible(False)
        if title:
            fig.suptitle(title)
    return fig
