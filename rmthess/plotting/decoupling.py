r"""Figure 3: the decoupling error ``d·δ_N(z)`` against d, and the Lindeberg path.

``δ_N(z) = E s_H(z) − E s_H̃(z)`` is the difference between the expected Stieltjes transforms of the
true block H (weights computed from the same data) and of the decoupled block H̃
(theory/montecarlo.md). The exact coupling H♯ has the law of H̃ and differs from H by a matrix of
rank ≤ 2C, so ``d·δ_N(z)`` stays bounded and tends to ``c(z)``. The left panels show the
common-random-number estimator of ``d·δ_N(z)`` (real and imaginary parts, ±1 standard error) with
``c(z)`` as horizontal lines; the right panel shows the literal estimator with an independent copy
X̃, whose error bars grow like ``√d``. An optional extra panel shows ``E s_{H(t)}(z)`` along the
Lindeberg path ``X(t) = √t X + √(1−t) X̃``.

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


def _parts(ax, series: DecouplingSeries, c, k0: int, *, offset: float = 1.0):
    for j, (part, name) in enumerate(((np.real, "Re"), (np.imag, "Im"))):
        col = color(k0 + j)
        ax.errorbar(series.d * offset ** (2 * j - 1), part(series.value), yerr=part(series.stderr),
                    fmt="o-" if j == 0 else "s-", color=col, label=f"{name} {series.label}")
        if c is not None:
            ax.axhline(part(c), color=col, ls="--", lw=1.0, label=f"{name} $c(z)$")
    ax.axhline(0.0, color=OKABE_ITO[0], lw=0.5)
    ax.set_xscale("log")
    ax.set_xlabel("dimension $d$")


def plot_decoupling(exact: DecouplingSeries, literal: DecouplingSeries | None = None, *, c=None,
                    z=None, lindeberg: LindebergSeries | None = None, title: str | None = None):
    """Draw figure 3 and return the :class:`~matplotlib.figure.Figure`.

    Parameters
    ----------
    exact : DecouplingSeries
        Common-random-number estimates of ``d·δ_N(z)`` (exact coupling H♯).
    literal : DecouplingSeries, optional
        Estimates from the literal construction with an independent copy X̃.
    c : complex, optional
        The limit ``c(z) = lim d·δ_N(z)``.
    z : complex, optional
        The spectral argument, for the titles.
    lindeberg : LindebergSeries, optional
        Adds a panel with ``E s_{H(t)}(z)`` against t.
    title : str, optional
        Figure title.
    """
    import matplotlib.pyplot as plt

    n = 1 + (literal is not None) + (lindeberg is not None)
    ztxt = "" if z is None else f" at $z = {complex(z).real:.3g}{complex(z).imag:+.3g}i$"
    with figure_style():
        fig, axes = plt.subplots(1, n, figsize=(3.6 * n, 3.1), squeeze=False, layout="constrained")
        axes = list(axes[0])
        panels = [(exact, 0, "exact coupling")]
        if literal is not None:
            panels.append((literal, 2, "independent copy $\\tilde X$"))
        for series, k0, name in panels:
            ax = axes.pop(0)
            _parts(ax, series, c, k0, offset=1.02)
            ax.set_ylabel(r"$d\cdot\delta_N(z)$")
            ax.set_title(name + ztxt)
            ax.legend(loc="best")
        if lindeberg is not None:
            ax = axes.pop(0)
            for j, (part, name) in enumerate(((np.real, "Re"), (np.imag, "Im"))):
                col = color(4 + j)
                ax.errorbar(lindeberg.t, part(lindeberg.value), yerr=part(lindeberg.stderr),
                            fmt="o-", color=col, label=f"{name} {lindeberg.label}")
                if lindeberg.limit is not None:
                    ax.axhline(part(lindeberg.limit), color=col, ls="--", lw=1.0,
                               label=f"{name} $s(z)$ (GMP)")
            ax.set_xlabel("interpolation time $t$")
            ax.set_ylabel(r"$E\, s_{H(t)}(z)$")
            ax.set_title("Lindeberg path" + ztxt)
            ax.legend(loc="best")
        if title:
            fig.suptitle(title)
    return fig
