r"""Figure 1: the off-/diagonal block ratio against the number of classes C, scaled by ``C^p``.

One panel per block type (linear CE v-blocks, 1-hidden-layer hidden blocks, output blocks). In each
panel, for every aspect ratio γ: the exact finite-C theory curve (solid), its C → ∞ asymptote
``K·C^{-p}`` (dashed, same colour) and the Monte Carlo ratios with ±1 standard-error bars (markers),
all multiplied by ``C^p`` so that the asymptote is the constant K and the approach to it is visible.
This is the package's version of the "effect of C" figure of arXiv:2505.02809.

The ratio plotted is ``g_ij/g_ii`` for d×d blocks and ``‖H_{v_c v_c'}‖²_F/‖H_{v_c v_c}‖²_F`` for the
m×m output blocks (theory/cases.md, (CASE-1)–(CASE-4)).

Examples
--------
>>> import numpy as np
>>> from rmthess.plotting.ratios import RatioCurve, RatioPanel, RatioPoints, plot_ratio_vs_classes
>>> C = np.array([3.0, 10.0, 100.0])
>>> panel = RatioPanel("linear CE", curves=(RatioCurve("γ = 1", C, 2.0 / C**2),
...                                               RatioCurve("γ = 1", C, 2.0 / C**2, "asymptote")),
...                    points=(RatioPoints("γ = 1", C, 2.1 / C**2, 0.1 / C**2),))
>>> fig = plot_ratio_vs_classes([panel])
>>> fig.axes[0].get_xscale(), fig.axes[0].get_ylabel()
('log', '$C^{2}$ × ratio $g_{ij}/g_{ii}$')
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rmthess.plotting.style import OKABE_ITO, color, figure_style

__all__ = ["RatioCurve", "RatioPoints", "RatioPanel", "decay_power", "plot_ratio_vs_classes"]


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


def decay_power(panel) -> int:
    """The power p of the panel's ``C^{-p}`` decay, read off its asymptote curves (0 if none).

    The asymptotes are ``K·C^{-p}`` with integer p (theory/cases.md): the log–log slope between the
    curve's end points, rounded.
    """
    slopes = []
    for c in panel.curves:
        ok = (c.ratio > 0) & np.isfinite(c.ratio)
        if c.kind == "asymptote" and ok.sum() >= 2:
            x, y = np.log(c.classes[ok]), np.log(c.ratio[ok])
            slopes.append(-(y[-1] - y[0]) / (x[-1] - x[0]))
    return int(round(float(np.median(slopes)))) if slopes else 0


def plot_ratio_vs_classes(panels, *, title: str | None = None, panel_width: float = 3.4):
    r"""Draw figure 1 and return the :class:`~matplotlib.figure.Figure`.

    Each panel shows ``C^p × ratio`` against C (log C axis, linear y axis), p the decay power of
    its asymptotes (:func:`decay_power`): the ``C → ∞`` asymptote ``K·C^{-p}`` becomes the
    horizontal line K, and the exact curves and the Monte Carlo points (±1 standard error, scaled
    alike) approach it, so agreement and error bars are visible at every C. Colours mark the
    groups (γ or m); line styles and markers are explained once in a legend below the panels.

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
    from matplotlib.lines import Line2D

    panels = list(panels)
    if not panels:
        raise ValueError("at least one panel is needed")
    with figure_style():
        fig, axes = plt.subplots(1, len(panels), figsize=(panel_width * len(panels), 3.6),
                                 squeeze=False, layout="constrained")
        for ax, panel in zip(axes[0], panels, strict=True):
            groups: dict[str, str] = {}

            def col(obj, groups=groups):
                return groups.setdefault(_group(obj), color(len(groups)))

            p = decay_power(panel)
            for curve in panel.curves:
                ok = (curve.ratio > 0) & np.isfinite(curve.ratio)
                exact = curve.kind == "exact"
                ax.plot(curve.classes[ok], curve.classes[ok] ** p * curve.ratio[ok],
                        "-" if exact else "--", color=col(curve), lw=1.5 if exact else 1.1)
            for pts in panel.points:
                ok = np.isfinite(pts.ratio)
                f = pts.classes[ok] ** p
                ax.errorbar(pts.classes[ok], f * pts.ratio[ok], yerr=f * pts.stderr[ok], fmt="o",
                            color=col(pts), mec=OKABE_ITO[0], mew=0.5, zorder=3)
            ax.set_xscale("log")
            ax.set_ylim(bottom=0)
            ax.set_xlabel("number of classes $C$")
            factor = {0: "", 1: "$C$ × "}.get(p, f"$C^{{{p}}}$ × ")
            ax.set_ylabel(factor + panel.ylabel)
            ax.set_title(panel.title)
            handles = [Line2D([], [], color=c, lw=1.5, label=g) for g, c in groups.items()]
            if handles:     # below the axes: never over the data
                ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.22),
                          ncols=min(3, len(handles)) if len(panels) > 1 else 1)
        black = OKABE_ITO[0]
        fig.legend(handles=[Line2D([], [], color=black, lw=1.5, label="exact finite-C theory"),
                            Line2D([], [], color=black, lw=1.1, ls="--",
                                   label="C → ∞ asymptote"),
                            Line2D([], [], color=black, marker="o", ls="none",
                                   label="Monte Carlo ± 1 s.e.")],
                   # one panel is too narrow for the three entries side by side
                   loc="outside lower center", ncols=3 if len(panels) > 1 else 1)
        if title:
            fig.suptitle(title)
    return fig
