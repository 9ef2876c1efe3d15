r"""Figure 1: the off-/diagonal block ratio against the number of classes C (log–log).

One panel per block type (linear CE v-blocks, 1-hidden-layer hidden blocks, output blocks). In each
panel, for every aspect ratio γ: the exact finite-C theory curve (solid), its C → ∞ asymptote
``K·C^{-p}`` (dashed, same colour) and the Monte Carlo ratios with ±1 standard-error bars (markers).
This is the package's version of the "effect of C" figure of arXiv:2505.02809.

The ratio plotted is ``g_ij/g_ii`` for d×d blocks and ``‖H_{v_i v_j}‖²_F/‖H_{v_i v_i}‖²_F`` for the
m×m output blocks (theory/cases.md, (CASE-1)–(CASE-4)).

Examples
--------
>>> import numpy as np
>>> from rmthess.plotting.ratios import RatioCurve, RatioPanel, RatioPoints, plot_ratio_vs_classes
>>> C = np.array([3.0, 10.0, 100.0])
>>> panel = RatioPanel("linear CE", curves=(RatioCurve("γ = 1", C, 2.0 / C**2),),
...                    points=(RatioPoints("γ = 1", C, 2.1 / C**2, 0.1 / C**2),))
>>> fig = plot_ratio_vs_classes([panel])
>>> fig.axes[0].get_xscale()
'log'
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rmthess.plotting.style import OKABE_ITO, color, figure_style

__all__ = ["RatioCurve", "RatioPoints", "RatioPanel", "plot_ratio_vs_classes"]


def _arr(x) -> np.ndarray:
    return np.asarray(x, dtype=float).reshape(-1)


@dataclass(frozen=True)
class RatioCurve:
    """A theory curve ratio(C).

    ``kind`` is ``"exact"`` (finite-C theory, solid) or ``"asymptote"`` (the C → ∞ law, dashed).
    ``group`` links curves and points of the same γ (same colour); it defaults to ``label``.
    """

    label: str
    classes: np.ndarray
    ratio: np.ndarray
    kind: str = "exact"
    group: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "classes", _arr(self.classes))
        object.__setattr__(self, "ratio", _arr(self.ratio))
        if self.classes.shape != self.ratio.shape:
            raise ValueError("classes and ratio must have the same length")
        if self.kind not in ("exact", "asymptote"):
            raise ValueError(f"kind must be 'exact' or 'asymptote', got {self.kind!r}")


@dataclass(frozen=True)
class RatioPoints:
    """Monte Carlo ratios with their standard errors at several C."""

    label: str
    classes: np.ndarray
    ratio: np.ndarray
    stderr: np.ndarray
    group: str | None = None

    def __post_init__(self):
        for name in ("classes", "ratio", "stderr"):
            object.__setattr__(self, name, _arr(getattr(self, name)))
        if not (self.classes.shape == self.ratio.shape == self.stderr.shape):
            raise ValueError("classes, ratio and stderr must have the same length")


@dataclass(frozen=True)
class RatioPanel:
    """One panel of figure 1: a title, theory curves and Monte Carlo points."""

    title: str
    curves: tuple = field(default_factory=tuple)
    points: tuple = field(default_factory=tuple)
    ylabel: str = r"ratio $g_{ij}/g_{ii}$"


def _group(obj) -> str:
    return obj.group if obj.group is not None else obj.label


def plot_ratio_vs_classes(panels, *, title: str | None = None, panel_width: float = 3.4):
    """Draw figure 1 and return the :class:`~matplotlib.figure.Figure`.

    Parameters
    ----------
    panels : sequence of RatioPanel
        One axes per panel, side by side.
    title : str, optional
        Figure title.
    panel_width : float
        Width of one panel in inches.
    """
    import matplotlib.pyplot as plt

    panels = list(panels)
    if not panels:
        raise ValueError("at least one panel is needed")
    with figure_style():
        fig, axes = plt.subplots(1, len(panels), figsize=(panel_width * len(panels), 3.2),
                                 squeeze=False, layout="constrained")
        for ax, panel in zip(axes[0], panels, strict=True):
            groups: dict[str, str] = {}

            def col(obj, groups=groups):
                return groups.setdefault(_group(obj), color(len(groups)))

            for curve in panel.curves:
                ok = (curve.ratio > 0) & np.isfinite(curve.ratio)
                style = "-" if curve.kind == "exact" else "--"
                label = curve.label if curve.kind == "exact" else f"{curve.label} (C → ∞)"
                ax.plot(curve.classes[ok], curve.ratio[ok], style, color=col(curve), label=label,
                        lw=1.4 if curve.kind == "exact" else 1.0)
            for pts in panel.points:
                ok = (pts.ratio > 0) & np.isfinite(pts.ratio)
                ax.errorbar(pts.classes[ok], pts.ratio[ok], yerr=pts.stderr[ok], fmt="o",
                            color=col(pts), mec=OKABE_ITO[0], mew=0.5, label=pts.label, zorder=3)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("number of classes $C$")
            ax.set_ylabel(panel.ylabel)
            ax.set_title(panel.title)
            if panel.curves or panel.points:
                ax.legend(loc="lower left")  # curves fall from upper left: that corner is empty
        if title:
            fig.suptitle(title)
    return fig
