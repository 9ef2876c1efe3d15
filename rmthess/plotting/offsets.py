r"""Block-diagonality of linear CE with class offsets ``log π_c`` (theory/cases.md, CASE-30).

Two panels: ``C² ×`` the class-averaged ratio ``g_ij/g_ii`` against the exponent S of a Zipf prior
``π_c ∝ c^{−S}`` (theory line, simulated points with ±1 standard error), and the per-class
diagonal norm ``g_ii(c)`` against the class frequency ``π_c`` (log axis).

Examples
--------
>>> import numpy as np
>>> from rmthess.plotting.offsets import ClassNormPanel, DiagonalityPanel, plot_offsets
>>> left = DiagonalityPanel("C = 3", [0, 1], [2.0, 1.5], [1.0], [1.6], [0.1], "Monte Carlo")
>>> right = ClassNormPanel("S = 1", [0.5, 0.3, 0.2], [0.1, 0.08, 0.06], [0.1, 0.08, 0.06],
...                        [0.01, 0.01, 0.01], "Monte Carlo")
>>> fig = plot_offsets([left, right])
>>> fig.axes[1].get_xscale()
'log'
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["DiagonalityPanel", "ClassNormPanel", "plot_offsets"]


@dataclass(frozen=True)
class DiagonalityPanel:
    """``C² ×`` ratio against the Zipf exponent: theory ``(exponents, theory)``, simulated
    ``(points, values ± errors)``."""

    title: str
    exponents: object
    theory: object
    points: object
    values: object
    errors: object
    label: str


@dataclass(frozen=True)
class ClassNormPanel:
    """Per-class ``g_ii(c)`` against ``π_c``: theory and simulated values ± errors per class."""

    title: str
    prior: object
    theory: object
    values: object
    errors: object
    label: str


def plot_offsets(panels, *, panel_width: float = 3.6):
    """Draw the panels side by side, one legend below them; return the figure."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    from rmthess.plotting.style import color, figure_style

    with figure_style():
        fig, axes = plt.subplots(1, len(panels), figsize=(panel_width * len(panels), 3.6),
                                 squeeze=False)
        handles = {}
        for ax, panel in zip(axes[0], panels, strict=True):
            if isinstance(panel, DiagonalityPanel):
                x_th, y_th = np.asarray(panel.exponents), np.asarray(panel.theory)
                x_mc, y_mc = np.asarray(panel.points), np.asarray(panel.values)
                err = np.asarray(panel.errors)
                ax.set_xlabel("Zipf exponent $S$  ($π_c ∝ c^{-S}$)")
                ax.set_ylabel("$C^2$ × class-averaged ratio $g_{ij}/g_{ii}$")
            else:
                order = np.argsort(np.asarray(panel.prior))
                x_th = x_mc = np.asarray(panel.prior)[order]
                y_th = np.asarray(panel.theory)[order]
                y_mc, err = np.asarray(panel.values)[order], np.asarray(panel.errors)[order]
                ax.set_xscale("log")
                ax.xaxis.set_minor_formatter(NullFormatter())
                ax.set_xlabel("class frequency $π_c$")
                ax.set_ylabel("$g_{ii}(c)$ = lim $(1/d)‖H_{v_c v_c}‖_F^2$")
            (line,) = ax.plot(x_th, y_th, "-", color="k", lw=1.4)
            pts = ax.errorbar(x_mc, y_mc, yerr=err, fmt="o", ms=4.5, capsize=2, color=color(1),
                              mec="k", mew=0.6)
            handles.setdefault("limit (d → ∞)", line)
            handles.setdefault(f"{panel.label} ± 1 s.e.", pts)
            ax.set_title(panel.title)
        fig.legend(handles.values(), handles.keys(), loc="lower center",
                   ncol=len(handles), frameon=False)
        fig.tight_layout(rect=(0, 0.09, 1, 1))
    return fig
