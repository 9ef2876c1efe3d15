r"""Compose the figures of the verification report from the data the checks returned.

The checks compute; the functions of :mod:`rmthess.plotting` draw; this module only routes the data
(``result.figures``) to the right drawing function and saves PNG files (and PDF on request).

Figure keys: ``figure1`` (list of :class:`~rmthess.plotting.ratios.RatioPanel`), ``figure2``
(list of :class:`~rmthess.plotting.spectra.SpectrumPanel`), ``figure3`` (dict with ``exact``,
``literal``, ``c``, ``z``, ``lindeberg`` for :func:`~rmthess.plotting.decoupling.plot_decoupling`),
``figure4`` (dict with the keyword arguments of
:func:`~rmthess.plotting.hessians.plot_hessian_maps`), ``figure5`` (list of the panels of
:func:`~rmthess.plotting.offsets.plot_offsets`).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["FIGURES", "draw_figures", "save_figures"]

def _text(paragraph: str) -> str:
    """One line of prose from a paragraph written over several source lines."""
    return " ".join(paragraph.split())


#: figure key -> (file stem, caption for the report)
FIGURES = {
    "figure1": ("figure1_ratio_vs_classes",
                _text("""Off-/diagonal block ratio multiplied by C^p against the number of classes
                C, p the decay power of the panel (linear CE: 2, hidden blocks: 1, output blocks:
                2), so that the C → ∞ asymptote K·C^(−p) is the horizontal dashed line at K.
                Solid: exact finite-C theory (d, N → ∞); markers: Monte Carlo at the d in the
                panel title, ±1 standard error (scaled by C^p like the ratio); colours: aspect
                ratio γ, or in the data-covariance panel the isotropic data (Σ = I, theory only)
                against a power-law covariance spectrum (x = Σ^(1/2) y). The ratio is g_ij/g_ii
                for the d×d blocks and ‖H_(v_c v_c')‖²_F/‖H_(v_c v_c)‖²_F for the m×m output
                blocks, whose limit does not depend on γ.""")),
    "figure2": ("figure2_block_spectra",
                _text("""Eigenvalues of simulated diagonal and off-diagonal Hessian blocks, pooled
                over replicates (histogram normalised by the total number of eigenvalues, so that
                it estimates the absolutely continuous part), against the density of their
                limiting generalized Marchenko–Pastur law (black). Dotted: support edges; stem:
                atom at 0 (its mass and the simulated fraction of zero eigenvalues in the panel
                title; height not to scale). Hidden blocks of the 1-hidden-layer network: the law
                depends on the output weights V, redrawn in every replicate, so the curve is the
                mean of the per-V densities (the mixture the pooled histogram estimates), drawn
                without edges. A density with a narrow spike is drawn on a logarithmic axis; there
                the small oscillations beyond the off-diagonal block's left edge are bulks of tiny
                mass from the discretized weight law (see the notes of block-spectra).""")),
    "figure3": ("figure3_decoupling",
                _text("""Decoupling at one spectral point z; real parts are circles, imaginary
                parts squares, with ±1 standard error. Left: d·δ_N(z) from the exact coupling H♯
                (common random numbers) at three d against its limit c(z) (dashed); the verdict
                rows use far more replicates at d and 2d and the Richardson extrapolation. Middle:
                the same quantity from the literal construction with an independent copy X̃ — the
                same mean, error bars an order of magnitude larger. Right: the residual E
                s_H(t)(z) − s(z) along the Lindeberg path X(t) = √t X + √(1−t) X̃ at one d, s(z)
                the GMP Stieltjes transform of the block's law (the O(1/d) bias included), against
                0.""")),
    "figure4": ("figure4_hessian_maps",
                _text("""Absolute entries |H_ij| of the full Hessian of a 1-hidden-layer ReLU
                network with CE loss, as log10 of |H_ij| over the largest entry (each map's own at
                initialization, the largest over the snapshots along training); parameter order
                w_1..w_m (hidden rows, d each), v_1..v_C (output rows, m each), block boundaries
                in white. Top: at initialization for several C (static force: the off-diagonal
                blocks fade as C grows; a map too large to read shows its first output blocks, as
                its title says). Middle: along training (dynamic force). Bottom: the mean squared
                Frobenius norm of the hidden–output blocks over the geometric mean of those of the
                diagonal hidden and output blocks, and the hidden and output block ratios (mean
                squared off-diagonal over diagonal norm), against the training step.""")),
    "figure5": ("figure5_class_offsets",
                _text("""Linear CE with class offsets b_c = log π_c, π a Zipf prior π_c ∝ c^(−S).
                Left: C² times the class-averaged ratio (mean off-diagonal over mean diagonal
                squared block norm) against S; solid: the limit (theory/cases.md, CASE-30), S = 0
                the identical-class value; markers: Monte Carlo at d and 2d extrapolated in 1/d,
                ±1 standard error (most are smaller than the markers). Right: the per-class
                diagonal norm g_ii(c) against the class frequency π_c at S = 1, limit and
                extrapolated Monte Carlo.""")),
}


def _draw(key: str, data):
    from rmthess import plotting

    if key == "figure1":
        return plotting.ratios.plot_ratio_vs_classes(data)
    if key == "figure2":
        return plotting.spectra.plot_block_spectra(data)
    if key == "figure3":
        data = dict(data)
        exact = data.pop("exact", None)        # absent when only the lindeberg check ran
        return plotting.decoupling.plot_decoupling(exact, **data)
    if key == "figure4":
        return plotting.hessians.plot_hessian_maps(**data)
    if key == "figure5":
        return plotting.offsets.plot_offsets(data)
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
            if key == "figure5":
                import rmthess.plotting.offsets  # noqa: F401
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
