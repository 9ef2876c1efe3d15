r"""Figure 2: eigenvalue histograms of Hessian blocks against their generalized Marchenko–Pastur
densities.

Each panel shows the eigenvalues of simulated d×d blocks (pooled over replicates) as a histogram
normalised by the *total* number of eigenvalues, so that it estimates the absolutely continuous part
of the spectral law, and the GMP density ``pdf(x)`` of the limiting law on top (theory/gmp.md).
Support edges are dotted vertical lines; an atom at 0 is drawn as a stem (height not to scale), its
mass and the simulated fraction of zero eigenvalues written in the panel title. A panel whose law
depends on a quantity redrawn per replicate carries the mean of the per-replicate densities and says
so in the legend (``density_label``).

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
        Legend entry of the density curve. Where the limiting law depends on a quantity redrawn
        in every replicate (the output weights V of a 1-hidden-layer network), the pooled
        histogram estimates the mixture of the per-replicate laws and the curve is the mean of
        their densities.
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


#: a density this many times taller than ``1/width of its range`` is a spike: log density axis
_SPIKE = 20.0


def plot_block_spectra(panels, *, bins: int = 60, ncols: int | None = None,
                       title: str | None = None):
    """Draw figure 2 and return the :class:`~matplotlib.figure.Figure`.

    Every panel has the same encoding — histogram (one colour), density (black), support edges
    (dotted), atom at 0 (stem, its mass and the simulated zero fraction in the title) — explained
    once, in a legend that takes a free slot of the grid (or sits below it), so no legend covers
    data. A panel whose density is a narrow spike (peak above ``20/range``) gets a logarithmic
    density axis, on which the agreement of tails and peak can both be judged.

    Parameters
    ----------
    panels : sequence of SpectrumPanel
    bins : int
        Number of histogram bins over the range of the non-zero eigenvalues.
    ncols : int, optional
        Panels per row (default: 4 for more than 3 panels, else all in one row).
    title : str, optional
        Figure title.
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    panels = list(panels)
    if not panels:
        raise ValueError("at least one panel is needed")
    ncols = ncols or (len(panels) if len(panels) <= 3 else 4)
    nrows = -(-len(panels) // ncols)
    hist_colour, edge_colour, atom_colour = color(2), OKABE_ITO[6], OKABE_ITO[5]
    with figure_style():
        fig, axes = plt.subplots(nrows, ncols, figsize=(3.1 * ncols, 2.8 * nrows + 0.2),
                                 squeeze=False, layout="constrained")
        for ax, p in zip(axes.flat, panels, strict=False):      # spare slots hold the legend
            ev = p.eigenvalues
            zero = np.abs(ev) <= p.zero_tol
            nz = ev[~zero]
            lo = min(nz.min() if nz.size else 0.0, p.x.min())
            hi = max(nz.max() if nz.size else 1.0, p.x.max())
            edges_bins = np.linspace(lo, hi, bins + 1)
            counts, _ = np.histogram(nz, bins=edges_bins)
            width = np.diff(edges_bins)
            height = counts / (ev.size * width)
            ax.bar(edges_bins[:-1], height, width=width, align="edge", color=hist_colour,
                   alpha=0.55, edgecolor="none")
            ax.plot(p.x, p.density, color=OKABE_ITO[0], lw=1.2)
            for e in p.edges:
                ax.axvline(e, color=edge_colour, ls=":", lw=1.0)
            peak = max(float(np.nanmax(p.density)), float(height.max()))
            spike = peak * (hi - lo) > _SPIKE
            if spike:
                ax.set_yscale("log")
                ax.set_ylim(peak * 1e-4, peak * 3)
            top = ax.get_ylim()[1]
            lines = [p.title]
            if p.atom > 0:
                stem = top * (0.3 if spike else 0.8)
                ax.vlines(0.0, ax.get_ylim()[0], stem, color=atom_colour, lw=2.5)
                ax.plot([0.0], [stem], marker="^", color=atom_colour)
                lines.append(f"atom at 0: {p.atom:.3f} (simulated {zero.mean():.3f})")
            ax.set_title("\n".join(lines), fontsize=8.5)
            ax.set_xlabel("eigenvalue $x$")
            ax.set_ylabel("density" + (" (log scale)" if spike else ""))
        handles = [Patch(color=hist_colour, alpha=0.55, label="simulated eigenvalues\n(histogram)"),
                   Line2D([], [], color=OKABE_ITO[0], lw=1.2, label=panels[0].density_label
                          if len({q.density_label for q in panels}) == 1 else
                          "limiting density\n(GMP, or mean of per-V GMP)"),
                   Line2D([], [], color=edge_colour, ls=":", label="support edges"),
                   Line2D([], [], color=atom_colour, lw=2.5, marker="^",
                          label="atom at 0 (height\nnot to scale)")]
        spare = list(axes.flat)[len(panels):]
        for ax in spare:
            ax.set_axis_off()
        if spare:
            spare[0].legend(handles=handles, loc="center", frameon=False)
        else:
            fig.legend(handles=handles, loc="outside lower center", ncols=4)
        if title:
            fig.suptitle(title)
    return fig
