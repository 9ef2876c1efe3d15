r"""Figure 3: the decoupling error ``d·δ_N(z)`` against d, and the Lindeberg path.

``δ_N(z) = E s_H(z) − E s_H̃(z)`` is the difference between the expected Stieltjes transforms of
the true block H (weights computed from the same data) and of the decoupled block H̃
(theory/montecarlo.md). The exact coupling H♯ has the law of H̃ and differs from H by a matrix of
rank ≤ 2C, so ``d·δ_N(z)`` stays bounded and tends to ``c(z)``. The first panel shows the
common-random-number estimator of ``d·δ_N(z)`` (real and imaginary parts, ±1 standard error) with
``c(z)`` as horizontal lines; the second the literal estimator with an independent copy X̃, whose
error bars grow like ``√d``. An optional third panel shows ``E s_{H(t)}(z)`` along the Lindeberg
path ``X(t) = √t X + √(1−t) X̃``, as the residual from the GMP value ``s(z)``.

Examples
--------
>>> import numpy as np
>>> from rmthess.plotting.decoupling import DecouplingSeries, plot_decoupling
>>> d = np.array([100, 200, 400])
>>> ex = DecouplingSeries("exact coupling", d, np.full(3, 0.2 + 0.1j), np.full(3, 0.01 + 0.01j))
>>> lit = DecouplingSeries("independent copy", d, np.full(3, 0.3 + 0.0j), np.sqrt(d) * (0.1 + 0.1j))
>>> fig = plot_decoupling(ex, lit, c=0.2 + 0.1j, z=1.0 + 1.0j)
>>> len(fig.axes)
2
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rmthess.plotting.style import OKABE_ITO, color, figure_style

__all__ = ["DecouplingSeries", "LindebergSeries", "plot_decoupling"]


@dataclass(frozen=True)
class DecouplingSeries:
    """Estimates of the complex quantity ``d·δ_N(z)`` at several d.

    ``stderr`` is complex: its real part is the standard error of the real part, its imaginary part
    the standard error of the imaginary part.
    """

    label: str
    d: np.ndarray
    value: np.ndarray
    stderr: np.ndarray

    def __post_init__(self):
        object.__setattr__(self, "d", np.asarray(self.d, float).reshape(-1))
        object.__setattr__(self, "value", np.asarray(self.value, complex).reshape(-1))
        object.__setattr__(self, "stderr", np.asarray(self.stderr, complex).reshape(-1))
        if not (self.d.shape == self.value.shape == self.stderr.shape):
            raise ValueError("d, value and stderr must have the same length")


@dataclass(frozen=True)
class LindebergSeries:
    """``E s_{H(t)}(z)`` on a grid of t with standard errors (complex, as in DecouplingSeries)."""

    label: str
    t: np.ndarray
    value: np.ndarray
    stderr: np.ndarray
    limit: complex | None = None

    def __post_init__(self):
        object.__setattr__(self, "t", np.asarray(self.t, float).reshape(-1))
        object.__setattr__(self, "value", np.asarray(self.value, complex).reshape(-1))
        object.__setattr__(self, "stderr", np.asarray(self.stderr, complex).reshape(-1))
        if not (self.t.shape == self.value.shape == self.stderr.shape):
            raise ValueError("t, value and stderr must have the same length")


#: one colour and marker per part, the same in every panel
_PART = {"Re": (1, "o"), "Im": (0, "s")}


def _style(name):
    k, marker = _PART[name]
    return color(k), marker


def _parts(ax, series: DecouplingSeries, c, *, offset: float = 1.0):
    for j, (part, name) in enumerate(((np.real, "Re"), (np.imag, "Im"))):
        col, marker = _style(name)
        ax.errorbar(series.d * offset ** (2 * j - 1), part(series.value), yerr=part(series.stderr),
                    fmt=marker + "-", color=col)
        if c is not None:
            ax.axhline(part(c), color=col, ls="--", lw=1.0)
    ax.axhline(0.0, color=OKABE_ITO[0], lw=0.5)
    ax.set_xscale("log")
    ax.set_xticks(series.d, [f"{d:g}" for d in series.d])
    ax.minorticks_off()
    ax.set_xlabel("dimension $d$")


def plot_decoupling(exact: DecouplingSeries | None, literal: DecouplingSeries | None = None, *,
                    c=None, z=None, lindeberg: LindebergSeries | None = None,
                    title: str | None = None):
    r"""Draw figure 3 and return the :class:`~matplotlib.figure.Figure`.

    Real parts are orange circles, imaginary parts blue squares, in every panel; dashed lines are
    the theory values; one legend below the panels explains both. The Lindeberg panel shows the
    residual ``E s_{H(t)}(z) − s(z)`` (with its ±1 standard error and the zero line), so that a
    discrepancy is visible on the scale of the Monte Carlo error rather than of ``s(z)`` itself.

    Parameters
    ----------
    exact : DecouplingSeries or None
        Common-random-number estimates of ``d·δ_N(z)`` (exact coupling H♯); None draws the other
        panels only (at least one panel is needed).
    literal : DecouplingSeries, optional
        Estimates from the literal construction with an independent copy X̃.
    c : complex, optional
        The limit ``c(z) = lim d·δ_N(z)``.
    z : complex, optional
        The spectral argument, for the titles.
    lindeberg : LindebergSeries, optional
        Adds a panel with ``E s_{H(t)}(z) − s(z)`` against t (``s(z)`` its ``limit``; without a
        limit the values themselves).
    title : str, optional
        Figure title.
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    n = (exact is not None) + (literal is not None) + (lindeberg is not None)
    if n == 0:
        raise ValueError("nothing to draw: give exact, literal and/or lindeberg")
    ztxt = "" if z is None else f"\nat $z = {complex(z).real:.3g}{complex(z).imag:+.3g}i$"
    with figure_style():
        fig, axes = plt.subplots(1, n, figsize=(3.5 * n, 3.3), squeeze=False, layout="constrained")
        axes = list(axes[0])
        for series in (exact, literal):
            if series is None:
                continue
            name = series.label
            ax = axes.pop(0)
            _parts(ax, series, c, offset=1.03)
            ax.set_ylabel(r"$d\cdot\delta_N(z)$")
            ax.set_title(name + ztxt)
        if lindeberg is not None:
            ax = axes.pop(0)
            ref = 0.0 if lindeberg.limit is None else complex(lindeberg.limit)
            for j, (part, name) in enumerate(((np.real, "Re"), (np.imag, "Im"))):
                col, marker = _style(name)
                ax.errorbar(lindeberg.t + 0.01 * (2 * j - 1), part(lindeberg.value - ref),
                            yerr=part(lindeberg.stderr), fmt=marker + "-", color=col)
            ax.axhline(0.0, color=OKABE_ITO[0], ls="--", lw=1.0)
            ax.set_xlabel("interpolation time $t$")
            if lindeberg.limit is None:
                ax.set_ylabel(r"$E\, s_{H(t)}(z)$")
            else:
                ax.set_ylabel(r"$E\, s_{H(t)}(z) - s(z)$")
            ax.set_title(f"Lindeberg path, {lindeberg.label}" + ztxt)
        black = OKABE_ITO[0]
        handles = [Line2D([], [], color=_style("Re")[0], marker="o", label="real part ± 1 s.e."),
                   Line2D([], [], color=_style("Im")[0], marker="s",
                          label="imaginary part ± 1 s.e."),
                   Line2D([], [], color=black, ls="--", lw=1.0,
                          label="theory: $c(z)$; residual 0 on the Lindeberg path")]
        fig.legend(handles=handles, loc="outside lower center", ncols=3)
        if title:
            fig.suptitle(title)
    return fig
