r"""Figure 2: eigenvalue histograms of Hessian blocks against their generalized Marchenko–Pastur
densities.

Each panel shows the eigenvalues of simulated d×d blocks (pooled over replicates) as a histogram
normalised by the *total* number of eigenvalues, so that it estimates the absolutely continuous part
of the spectral law, and the GMP density ``pdf(x)`` of the limiting law on top (theory/gmp.md).
Support edges are dotted vertical lines; an atom at 0 of mass ``a`` is drawn as a stem of height
proportional to ``a`` with its mass written beside it (simulated fraction of zero eigenvalues in
brackets). A panel whose law depends on a quantity redrawn per replicate carries the mean of the
per-replicate densities and says so in its legend (``density_label``).

Examples
--------
>>> import numpy as np
>>> from rmthess.plotting.spectra import SpectrumPanel, plot_block_spectra
>>> x = np.linspace(0.0, 4.0, 50)
>>> density = np.sqrt(np.clip(x * (4 - x), 0, None)) / (2 * np.pi * x.clip(1e-12))
>>> ev = np.random.default_rng(0).uniform(0.1, 3.9, 200)
>>> fig = plot_block_spectra([SpectrumPanel("MP", ev, x, density, edges=(0.0, 4.0))])
>>> fig.axes[0].get_xlabel()
'eigenvalue $x$'
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rmthess.plotting.style import OKABE_ITO, color, figure_style

__all__ = ["SpectrumPanel", "plot_block_spectra"]


@dataclass(frozen=True)
class SpectrumPanel:
    """Simulated eigenvalues of one kind of block and the limiting density to compare with.

    Parameters
    ----------
    title : str
        Panel title (block and parameters).
    eigenvalues : array
        Pooled eigenvalues of the simulated blocks.
    x, density : array
        Grid and the absolutely continuous part of the limiting law on it.
    edges : tuple of float
        Support edges (left and right end of every bulk).
    atom : float
        Mass of the atom of the limiting law at 0 (0 if none).
    zero_tol : float
        Eigenvalues with ``|λ| <= zero_tol`` count as the atom.
    density_label : str
        Legend entry of the density curve. Where the limiting law depends on a quantity redrawn in
        every replicate (the output weights V of a 1-hidden-layer network), the pooled histogram
        estimates the mixture of the per-replicate laws and the curve is the mean of their
        densities.
    """

    title: str
    eigenvalues: np.ndarray
    x: np.ndarray
    density: np.ndarray
    edges: tuple = ()
    atom: float = 0.0
    zero_tol: float = 1e-9
    density_label: str = "GMP density"

    def __post_init__(self):
        object.__setattr__(self, "eigenvalues", np.asarray(self.eigenvalues, float).reshape(-1))
        object.__setattr__(self, "x", np.asarray(self.x, float).reshape(-1))
        object.__setattr__(self, "density", np.asarray(self.density, float).reshape(-1))
        object.__setattr__(self, "edges", tuple(float(e) for e in self.edges))
        if self.x.shape != self.density.shape:
            raise ValueError("x and density must have the same length")
        if self.eigenvalues.size == 0:
            raise ValueError("eigenvalues must not be empty")


def plot_block_spectra(panels, *, bins: int = 60, ncols: int | None = None,
                       title: str | None = None):
    """Draw figure 2 and return the :class:`~matplotlib.figure.Figure`.

    Parameters
    ----------
    panels : sequence of SpectrumPanel
    bins : int
        Number of histogram bins over the range of the non-zero eigenvalues.
    ncols : int, optional
        Panels per row (default: all in one row up to 3).
    title : str, optional
        Figure title.
    """
    import matplotlib.pyplot as plt

    panels = list(panels)
    if not panels:
        raise ValueError("at least one panel is needed")
    ncols = ncols or min(3, len(panels))
    nrows = -(-len(panels) // ncols)
    with figure_style():
        fig, axes = plt.subplots(nrows, ncols, figsize=(3.3 * ncols, 2.7 * nrows), squeeze=False,
                                 layout="constrained")
        for k, (ax, p) in enumerate(zip(axes.flat[:len(panels)], panels, strict=True)):
            ev = p.eigenvalues
            zero = np.abs(ev) <= p.zero_tol
            nz = ev[~zero]
            lo = min(nz.min() if nz.size else 0.0, p.x.min())
            hi = max(nz.max() if nz.size else 1.0, p.x.max())
            edges_bins = np.linspace(lo, hi, bins + 1)
            counts, _ = np.histogram(nz, bins=edges_bins)
            width = np.diff(edges_bins)
            height = counts / (ev.size * width)
            ax.bar(edges_bins[:-1], height, width=width, align="edge", color=color(k + 1),
                   alpha=0.45, edgecolor="none", label=f"simulation ({ev.size} eigenvalues)")
            ax.plot(p.x, p.density, color=OKABE_ITO[0], lw=1.3, label=p.density_label)
            for j, e in enumerate(p.edges):
                ax.axvline(e, color=OKABE_ITO[6], ls=":", lw=1.0,
                           label="support edges" if j == 0 else None)
            if p.atom > 0:
                top = ax.get_ylim()[1]
                ax.vlines(0.0, 0.0, 0.8 * top, color=OKABE_ITO[5], lw=2.5,
                          label=f"atom at 0: {p.atom:.3f} (sim. {zero.mean():.3f})")
                ax.plot([0.0], [0.8 * top], marker="^", color=OKABE_ITO[5])
            ax.set_xlabel("eigenvalue $x$")
            ax.set_ylabel("density")
            ax.set_title(p.title)
            ax.legend(loc="upper right")
        for ax in list(axes.flat)[len(panels):]:
            ax.set_visible(False)
        if title:
            fig.suptitle(title)
    return fig
