r"""Heatmaps of Hessians and of their block-norm maps, with block boundaries (the paper's style).

Numerics never plot: these functions take arrays and results from :mod:`rmthess.networks`
(a Hessian, a block-norm map, an :class:`~rmthess.networks.initialization.InitRatioSweep`, a
:class:`~rmthess.networks.training.TrainingResult`) and return a :class:`matplotlib.figure.Figure`.
Colour maps are perceptually uniform and colour-blind-safe (cividis); series use the Okabe–Ito
colours.

Examples
--------
>>> import numpy as np
>>> from rmthess.networks import block_layout, block_norm_map
>>> H = np.kron(np.eye(3), np.ones((2, 2))) + 0.01
>>> fig = plot_block_map(block_norm_map(H, [2, 2, 2]))
>>> len(fig.axes)        # the map and its colour bar
2
"""

from __future__ import annotations

import numpy as np

from rmthess.plotting.style import SEQUENTIAL_CMAP, color, figure_style

__all__ = ["plot_block_map", "plot_hessian_heatmap", "plot_init_ratio_sweep",
           "plot_training_blocks"]

# draw every block boundary up to this many blocks, else only the group boundaries
_MAX_BLOCK_LINES = 64


def _new_axes(ax, size=(4.2, 3.6)):
    from matplotlib.figure import Figure

    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.subplots()


def _log_image(values: np.ndarray, log: bool):
    vals = np.abs(np.asarray(values, dtype=np.float64))
    if not log:
        return vals, "{}"
    pos = vals[vals > 0]
    floor = pos.min() if pos.size else 1.0
    return np.log10(np.maximum(vals, floor)), "log10 {}"


def _group_edges(layout) -> tuple:
    """Block edges (in block units) and group edges, labels and centres."""
    edges, labels, centres = [0], [], []
    for name, count, _ in layout.groups:
        labels.append(name)
        centres.append(edges[-1] + count / 2)
        edges.append(edges[-1] + count)
    return edges, labels, centres


def _cross_line(ax, e, **kw):
    """A white horizontal and vertical line at ``e`` (a block boundary on both axes)."""
    ax.axhline(e, color="white", **kw)
    ax.axvline(e, color="white", **kw)


def plot_block_map(norm_map, layout=None, *, ax=None, log: bool = True, title: str | None = None,
                   cmap: str = SEQUENTIAL_CMAP):
    r"""Heatmap of a block-norm map ``‖H_lk‖_F`` (``B × B``) with the groups of blocks marked.

    Parameters
    ----------
    norm_map : array_like, shape (B, B)
        From :func:`rmthess.networks.block_norm_map`.
    layout : BlockLayout, optional
        Marks and labels the hidden/output (or v) groups.
    ax : matplotlib Axes, optional
    log : bool
        Colour by ``log10 ‖H_lk‖_F`` (zeros shown at the smallest positive value).
    title : str, optional
    cmap : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    M = np.asarray(norm_map, dtype=np.float64)
    if M.ndim != 2 or M.shape[0] != M.shape[1]:
        raise ValueError(f"norm_map must be square, got shape {M.shape}")
    img, fmt = _log_image(M, log)
    with figure_style():
        fig, ax = _new_axes(ax)
        im = ax.imshow(img, cmap=cmap, interpolation="nearest",
                       extent=(0, M.shape[1], M.shape[0], 0))
        ax.grid(False)
        if layout is not None:
            if layout.n_blocks != M.shape[0]:
                raise ValueError(f"layout has {layout.n_blocks} blocks, norm_map {M.shape[0]}")
            edges, labels, centres = _group_edges(layout)
            for e in edges[1:-1]:
                _cross_line(ax, e, lw=1.2)
            ax.set_xticks(centres, labels)
            ax.set_yticks(centres, labels)
        else:
            ax.set_xlabel("block")
            ax.set_ylabel("block")
        fig.colorbar(im, ax=ax, label=fmt.format(r"$\|H_{lk}\|_F$"))
        if title:
            ax.set_title(title)
    return fig


def _pool_max(A: np.ndarray, max_pixels: int) -> tuple:
    n = A.shape[0]
    f = max(1, int(np.ceil(n / max_pixels)))
    if f == 1:
        return A, 1
    m = int(np.ceil(n / f))
    pad = np.zeros((m * f, m * f))
    pad[:n, :n] = A
    return pad.reshape(m, f, m, f).max(axis=(1, 3)), f


def plot_hessian_heatmap(H, layout, *, ax=None, log: bool = True, max_pixels: int = 800,
                         title: str | None = None, cmap: str = SEQUENTIAL_CMAP,
                         colorbar: bool = True, clim=None):
    r"""Heatmap of ``|H|`` with block boundaries (max-pooled to at most ``max_pixels`` per side).

    ``colorbar=False`` leaves the colour bar to the caller (one bar shared by several maps);
    ``clim`` fixes the colour range (of ``log10 |H|`` when ``log``).

    Every block boundary is drawn when there are at most 64 blocks; otherwise only the boundaries
    between groups (hidden | output), as in the paper's figures.

    Returns
    -------
    matplotlib.figure.Figure
    """
    A = np.abs(np.asarray(H, dtype=np.float64))
    if A.ndim != 2 or A.shape[0] != A.shape[1] or A.shape[0] != layout.n_params:
        raise ValueError(f"H must be {layout.n_params} × {layout.n_params} for this layout, "
                         f"got {A.shape}")
    pooled, f = _pool_max(A, int(max_pixels))
    img, fmt = _log_image(pooled, log)
    n = A.shape[0]
    with figure_style():
        fig, ax = _new_axes(ax, size=(4.6, 3.9))
        im = ax.imshow(img, cmap=cmap, interpolation="nearest",
                       extent=(0, pooled.shape[1] * f, pooled.shape[0] * f, 0), clim=clim)
        ax.set_xlim(0, n)
        ax.set_ylim(n, 0)
        ax.grid(False)
        off = layout.offsets
        group_off = np.concatenate([[0], np.cumsum(layout.group_sizes)]).tolist()
        lines = off[1:-1] if layout.n_blocks <= _MAX_BLOCK_LINES else group_off[1:-1]
        for e in lines:
            major = e in group_off
            _cross_line(ax, e, lw=1.0 if major else 0.4, alpha=1.0 if major else 0.7)
        ax.set_xlabel("parameter index")
        ax.set_ylabel("parameter index")
        if colorbar:
            fig.colorbar(im, ax=ax, label=fmt.format(r"$|H|$"))
        if title:
            ax.set_title(title)
    return fig


def plot_init_ratio_sweep(sweep, *, ax=None, title: str | None = None):
    r"""Block ratios of exact Hessians at initialization against C, with the theory's limits.

    Parameters
    ----------
    sweep : InitRatioSweep
        From :func:`rmthess.networks.init_ratio_sweep`.

    Returns
    -------
    matplotlib.figure.Figure
        Log–log axes: markers with error bars (exact Hessians), lines (limits of
        :mod:`rmthess.cases`).
    """
    C = np.asarray(sweep.classes, dtype=float)
    with figure_style():
        fig, ax = _new_axes(ax)
        for k, (t, r) in enumerate(sweep.ratio.items()):
            se = np.nan_to_num(sweep.stderr[t], nan=0.0)
            ax.errorbar(C, r, yerr=se, fmt="o", color=color(k), label=f"{t}: exact Hessian")
            if sweep.limit is not None:
                ax.plot(C, sweep.limit[t], "-", color=color(k), label=f"{t}: limit")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("number of classes $C$")
        ax.set_ylabel(r"$\overline{\|H_{ij}\|_F^2}\,/\,\overline{\|H_{ii}\|_F^2}$")
        ax.set_title(title or f"{sweep.case}, d = {sweep.dim}, γ = {sweep.gamma:g}")
        ax.legend()
    return fig


def plot_training_blocks(result, *, ax=None, title: str | None = None):
    r"""Hidden–output block norms and block ratios along training (snapshots of a TrainingResult).

    Plots, against the training step, the mean squared Frobenius norm of the hidden–output blocks
    ``H_{w_i v_c}`` divided by the geometric mean of the mean squared norms of the diagonal hidden
    and output blocks (the legend writes it out), and the hidden / output block ratios (mean
    squared off-diagonal over mean squared diagonal norm).

    Returns
    -------
    matplotlib.figure.Figure
    """
    snaps = result.snapshots
    if not snaps:
        raise ValueError("the training result has no Hessian snapshots")
    steps = np.array([s.step for s in snaps], dtype=float)
    with figure_style():
        fig, ax = _new_axes(ax, size=(4.6, 3.4))
        if "hidden" in snaps[0].ratios:
            rel = [s.cross / np.sqrt(s.ratios["hidden"].diag_mean * s.ratios["output"].diag_mean)
                   for s in snaps]
            ax.plot(steps, rel, "o-", color=color(0),
                    label=r"hidden–output $\overline{\|H_{wv}\|^2}/\sqrt{\overline{\|H_{ww}\|^2}"
                          r"\,\overline{\|H_{vv}\|^2}}$")
        for k, t in enumerate(snaps[0].ratios, start=1):
            ax.plot(steps, [s.ratios[t].ratio for s in snaps], "s--", color=color(k),
                    label=f"{t} ratio " + r"$\overline{\|H_{ij}\|^2}/\overline{\|H_{ii}\|^2}$")
        ax.set_yscale("log")
        ax.set_xlabel("training step")
        ax.set_ylabel("squared block norm ratio")
        ax.set_title(title or "block structure along training")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=3)  # below: off the data
    return fig
