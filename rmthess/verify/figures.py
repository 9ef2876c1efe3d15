r"""Compose the figures of the verification report from the data the checks returned.

The checks compute; the functions of :mod:`rmthess.plotting` draw; this module only routes the data
(``result.figures``) to the right drawing function and saves PNG files (and PDF on request).

Figure keys: ``figure1`` (list of :class:`~rmthess.plotting.ratios.RatioPanel`), ``figure2`` (list of
:class:`~rmthess.plotting.spectra.SpectrumPanel`), ``figure3`` (dict with ``exact``, ``literal``, ``c``,
``z``, ``lindeberg`` for :func:`~rmthess.plotting.decoupling.plot_decoupling`), ``figure4`` (dict with
the keyword arguments of :func:`~rmthess.plotting.hessians.plot_hessian_maps`).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["FIGURES", "draw_figures", "save_figures"]

#: figure key -> (file stem, caption for the report)
FIGURES = {
    "figure1": ("figure1_ratio_vs_classes",
                "Block ratio against the number of classes C (log–log). Solid: exact finite-C theory "
                "(d, N → ∞); dashed: the C → ∞ asymptote; markers: Monte Carlo at finite d with ±1 "
                "standard error. Linear CE decays like C⁻², hidden blocks like C⁻¹, output blocks like "
                "C⁻²."),
    "figure2": ("figure2_block_spectra",
                "Eigenvalues of simulated diagonal and off-diagonal Hessian blocks (histogram, "
                "normalised by the total number of eigenvalues) against the density of their limiting "
                "generalized Marchenko–Pastur law (black). Dotted: support edges; stem: atom at 0. Hidden "
                "blocks of the 1-hidden-layer network: the law depends on the output weights V, "
                "redrawn in every replicate, so the curve is the mean of the per-V densities (the "
                "mixture the pooled histogram estimates), drawn without edges."),
    "figure3": ("figure3_decoupling",
                "Decoupling error d·δ_N(z) against d. Left: exact coupling H♯ with common random "
                "numbers, flat in d and equal to c(z) (dashed); middle: the literal construction with an "
                "independent copy X̃ — same mean, error bars growing like √d; right: E s_H(t)(z) "
                "along the Lindeberg path X(t) = √t X + √(1−t) X̃."),
    "figure4": ("figure4_hessian_maps",
                "Absolute entries of the full Hessian of a 1-hidden-layer ReLU network with CE loss "
                "(parameter order w_1..w_m, v_1..v_C; block boundaries drawn): at initialization for "
                "several C (static force), and along training (dynamic force)."),
}


def _draw(key: str, data):
    from rmthess import plotting

    if key == "figure1":
        return plotting.ratios.plot_ratio_vs_classes(data)
    if key == "figure2":
        return plotting.spectra.plot_block_spectra(data)
    if key == "figure3":
        data = dict(data)
        exact = data.pop("exact")
        return plotting.decoupling.plot_decoupling(exact, **data)
    if key == "figure4":
        return plotting.hessians.plot_hessian_maps(**data)
    raise ValueError(f"unknown figure {key!r}; valid: {', '.join(FIGURES)}")


def draw_figures(result) -> dict:
    """Return ``{key: Figure}`` for every figure whose data the checks produced."""
    import rmthess.plotting.decoupling  # noqa: F401
    import rmthess.plotting.ratios  # noqa: F401
    import rmthess.plotting.spectra  # noqa: F401

    out = {}
    for key in FIGURES:
        data = result.figures.get(key)
        if data:
            if key == "figure4":
                import rmthess.plotting.hessians  # noqa: F401
            out[key] = _draw(key, data)
    return out


def save_figures(result, outdir, *, formats=("png",)) -> dict:
    """Draw every figure once and save it in each of ``formats`` (``"png"``, ``"pdf"``) under
    ``outdir/figures``; return ``{key: [paths]}`` in the order of ``formats``."""
    import matplotlib.pyplot as plt

    from rmthess.plotting.style import save_figure

    outdir = Path(outdir) / "figures"
    paths = {}
    for key, fig in draw_figures(result).items():
        paths[key] = save_figure(fig, outdir / FIGURES[key][0], formats=formats)
        plt.close(fig)
    return paths
