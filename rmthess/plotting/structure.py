r"""Figures of a Hessian's block structure measured matrix-free (``rmthess analyze``).

* :func:`plot_block_top_eigenvalues` — the top eigenvalues of every diagonal block, by group;
* :func:`plot_spectral_density` — an SLQ density with its error band and the top eigenvalues;
* :func:`plot_block_densities` — SLQ densities of single diagonal blocks;
* :func:`plot_theory_beside` — measured block ratios beside the theory's ensemble, finite-size
  prediction and limit;
* :func:`analysis_figures` — all of them, and the block-norm map, for one analysis.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rmthess.plotting.style import color, figure_style, save_figure

__all__ = ["plot_block_top_eigenvalues", "plot_spectral_density", "plot_block_densities",
           "plot_theory_beside", "analysis_figures"]


def _group_of_block(groups) -> list:
    return [k for k, (_, count, _) in enumerate(groups) for _ in range(count)]


def plot_block_top_eigenvalues(block_top, groups, *, title: str | None = None):
    """Top eigenvalues of every diagonal block against the block index, coloured by group.

    ``block_top``: one entry per block, ``{"values": array}`` or None; ``groups``: the layout's
    ``(name, count, size)`` groups.
    """
    import matplotlib.pyplot as plt

    owner = _group_of_block(groups)
    with figure_style():
        fig, ax = plt.subplots(figsize=(6.4, 3.4), layout="constrained")
        seen = set()
        allv = []
        for k, entry in enumerate(block_top):
            if entry is None:
                continue
            v = np.asarray(entry["values"], dtype=float)
            allv.append(v)
            g = owner[k]
            ax.plot(np.full(v.size, k), v, "o", ms=3, color=color(g % 7),
                    label=None if g in seen else groups[g][0])
            seen.add(g)
        vals = np.concatenate(allv) if allv else np.array([1.0])
        if np.all(vals > 0):
            ax.set_yscale("log")
        else:
            ax.set_yscale("symlog", linthresh=max(np.abs(vals).max() * 1e-4, 1e-300))
        edges = np.cumsum([c for _, c, _ in groups])[:-1] - 0.5
        for e in edges:
            ax.axvline(e, color="0.6", lw=0.8)
        ax.set_xlabel("block")
        ax.set_ylabel("top eigenvalues of $H_{ll}$")
        if len(groups) <= 12:
            ax.legend(title="group", fontsize="small", loc="best")
        if title:
            ax.set_title(title)
    return fig


def plot_spectral_density(density, *, top=None, title: str | None = None, log: bool = True):
    r"""An SLQ density (:class:`~rmthess.networks.lanczos.SpectralDensity`) with a ± 2 s.e. band.

    ``top`` (a :class:`~rmthess.networks.lanczos.TopEigenvalues`) marks the Lanczos eigenvalues.
    """
    import matplotlib.pyplot as plt

    x, y, se = density.grid, density.density, density.stderr
    with figure_style():
        fig, ax = plt.subplots(figsize=(6.4, 3.8), layout="constrained")
        lo = np.maximum(y - 2 * se, 0)
        ax.fill_between(x, lo, y + 2 * se, color=color(1), alpha=0.3, lw=0,
                        label="± 2 s.e. (probes)")
        ax.plot(x, y, color=color(0), lw=1.4, label=f"SLQ, σ = {density.sigma:.2g}")
        if top is not None:
            for i, v in enumerate(top.values):
                ax.axvline(v, color="black", lw=0.6, ls=":",
                           label="top eigenvalues (Lanczos)" if i == 0 else None)
        if log:
            floor = max(float(y.max()) * 1e-6, 1e-300)
            ax.set_yscale("log")
            ax.set_ylim(floor, float((y + 2 * se).max()) * 2)
        ax.set_xlabel(r"eigenvalue $\lambda$")
        ax.set_ylabel("density")
        fig.legend(fontsize="small", loc="outside lower center", ncols=3)
        if title:
            ax.set_title(title)
    return fig


def plot_block_densities(densities: dict, labels, *, ncols: int = 2, overlay=None):
    """Spectra of single diagonal blocks, one panel each: ``{block index: SpectralDensity}`` (SLQ,
    ± 2 standard errors) or ``{block index: eigenvalues}`` (exact, a histogram); ``overlay`` maps
    a block index to ``(label, pdf)``, a limiting density drawn over that panel."""
    import matplotlib.pyplot as plt

    items = list(densities.items())
    ncols = min(ncols, len(items))
    nrows = -(-len(items) // ncols)
    with figure_style():
        fig, axes = plt.subplots(nrows, ncols, figsize=(3.4 * ncols, 2.6 * nrows),
                                 layout="constrained", squeeze=False)
        for ax in axes.ravel()[len(items):]:
            ax.set_visible(False)
        for ax, (k, d) in zip(axes.ravel(), items, strict=False):
            if isinstance(d, np.ndarray):  # exact eigenvalues of a formed block
                ax.hist(d, bins=max(8, min(60, d.size // 4)), density=True, color=color(1),
                        alpha=0.6, label=f"exact ({d.size} eigenvalues)")
                grid = np.linspace(d.min(), d.max(), 400)
                ax.set_yscale("linear")
            else:
                grid, y, se = d.grid, d.density, d.stderr
                ax.fill_between(grid, np.maximum(y - 2 * se, 0), y + 2 * se, color=color(1),
                                alpha=0.3, lw=0)
                ax.plot(grid, y, color=color(0), lw=1.2, label="SLQ ± 2 s.e.")
                ax.set_yscale("log")
                ax.set_ylim(max(float(y.max()) * 1e-5, 1e-300), float((y + 2 * se).max()) * 2)
            if overlay and k in overlay:
                name, pdf = overlay[k]
                ax.plot(grid, pdf(grid), color="black", lw=1.0, ls="--", label=name)
            ax.legend(fontsize="x-small", loc="best")
            ax.set_title(labels[k], fontsize="small")
            ax.set_xlabel(r"eigenvalue $\lambda$")
        for ax in axes[:, 0]:
            ax.set_ylabel("density")
    return fig


def plot_theory_beside(comparison, *, title: str | None = None):
    """Measured block ratios beside the ensemble (± one network's sd), prediction and limit."""
    import matplotlib.pyplot as plt

    rows = comparison.rows
    with figure_style():
        fig, axes = plt.subplots(1, len(rows), figsize=(3.2 * len(rows), 3.6),
                                 layout="constrained", squeeze=False)
        for ax, r in zip(axes[0], rows, strict=True):
            ax.errorbar([0], [r.ensemble_mean], yerr=[r.ensemble_sd], fmt="s", color=color(1),
                        capsize=4, label="ensemble ± 1 sd")
            if r.prediction is not None:
                ax.plot([0.2], [r.prediction], "D", color=color(2), label="finite-size prediction")
            ax.axhline(r.limit, color="black", lw=1.0, ls="--", label="limit d → ∞")
            ax.plot([-0.2], [r.measured], "o", color=color(0), ms=7, label="this model")
            ax.set_xlim(-0.6, 0.6)
            ax.set_xticks([])
            ax.set_title(f"{r.block_type} (z = {r.z:+.2f})")
            ax.set_ylabel("block ratio")
        handles, labels = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, labels, fontsize="small", loc="outside lower center", ncols=2)
        if title:
            fig.suptitle(title)
    return fig


def analysis_figures(an, outdir, *, formats=("png",)) -> dict:
    """Draw and save the figures of an :class:`~rmthess.torch.analysis.Analysis`.

    Returns ``{name: path}`` of the first format (the one the report shows).
    """
    import matplotlib.pyplot as plt

    from rmthess.networks.model import BlockLayout
    from rmthess.plotting.blockmap import plot_block_map

    out = Path(outdir)
    made = {}

    def keep(name, fig):
        made[name] = save_figure(fig, out / name, formats=formats)[0]
        plt.close(fig)

    desc = an.summary.get("descriptions", {})
    named = tuple((f"{g}\n{desc[g].split(':')[0]}" if g in desc else g, c, z)
                  for g, c, z in an.groups)  # the module beside its path
    lay = BlockLayout(named, tuple(an.labels))
    kind = "estimated" if an.norm_map_stderr is not None else "exact"
    sym = {"H": "H", "G": "G"}.get(an.summary.get("symbol"), "(H-G)")
    keep("block_map", plot_block_map(an.norm_map, lay,
                                     title=f"block norms $\\|{sym}_{{lk}}\\|_F$ ({kind})"))
    if an.block_top and any(b is not None for b in an.block_top):
        keep("block_top", plot_block_top_eigenvalues(an.block_top, an.groups))
    if an.density is not None:
        keep("density", plot_spectral_density(an.density, top=an.top))
    if an.block_densities:
        overlay = None
        if an.theory is not None and an.config.theory_blocks:  # the laws of the row blocks
            laws, c = an.theory.extras["block_laws"], an.theory.extras["eigenvalue_scale"]
            overlay = {k: ("limit (GMP law)",
                           lambda x, law=laws[k]: np.asarray(law.pdf(x / c)) / c)
                       for k in an.block_densities if k in laws}
        keep("block_densities", plot_block_densities(an.block_densities, an.labels,
                                                     overlay=overlay))
    if an.theory is not None:
        keep("theory", plot_theory_beside(an.theory, title=an.theory.network.case))
    return made
