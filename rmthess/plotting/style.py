r"""Shared look of rmthess figures: the Okabe–Ito palette, one rc context, PNG + PDF output.

Every figure of the package is drawn inside :func:`figure_style` so that fonts, line widths and the
colour cycle are the same everywhere, and saved with :func:`save_figure`, which writes the same
figure as a PNG (for the HTML/Markdown report) and, on request, as a PDF (vector, for papers).
:func:`legend_overlaps` checks that no legend covers data.

The palette is the eight-colour set of Okabe & Ito (2008), designed to stay distinguishable under
the common forms of colour-vision deficiency; it is the default colour cycle inside
:func:`figure_style`.

Examples
--------
>>> from rmthess.plotting.style import OKABE_ITO, color
>>> len(OKABE_ITO)
8
>>> color(0) == OKABE_ITO[1]   # black is kept for theory curves, the cycle starts at orange
True
"""

from __future__ import annotations

import contextlib
from pathlib import Path

__all__ = ["OKABE_ITO", "color", "figure_style", "save_figure", "legend_overlaps",
           "SEQUENTIAL_CMAP", "DIVERGING_CMAP"]

#: Okabe–Ito colours: black, orange, sky blue, bluish green, yellow, blue, vermillion, reddish
#: purple.
OKABE_ITO = (
    "#000000",
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#F0E442",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
)

#: perceptually uniform, colour-blind-safe colour maps for heatmaps
SEQUENTIAL_CMAP = "cividis"
DIVERGING_CMAP = "RdBu_r"

# colours used for series, in order (yellow last: low contrast on white)
_SERIES = (1, 5, 3, 6, 7, 2, 4)

_RC = {
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "lines.linewidth": 1.4,
    "lines.markersize": 4.5,
    "errorbar.capsize": 2.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "grid.linewidth": 0.5,
    "legend.frameon": False,
    "pdf.fonttype": 42,
}


def color(k: int) -> str:
    """Return the colour of series ``k`` (cycling through the Okabe–Ito colours, black excluded)."""
    return OKABE_ITO[_SERIES[int(k) % len(_SERIES)]]


@contextlib.contextmanager
def figure_style():
    """Context manager applying the rmthess rc parameters and the Okabe–Ito colour cycle."""
    import matplotlib as mpl
    from cycler import cycler

    rc = dict(_RC)
    rc["axes.prop_cycle"] = cycler(color=[color(k) for k in range(len(_SERIES))])
    with mpl.rc_context(rc):
        yield


def save_figure(fig, stem, *, formats=("png", "pdf")) -> list[Path]:
    """Save ``fig`` as ``stem.<format>`` for each format (creating the folder); return the paths.

    The figures use matplotlib's constrained layout, so each format is drawn once (no tight
    bounding-box pass, which draws twice).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure to save.
    stem : str or os.PathLike
        Path without extension.
    formats : tuple of str
        File formats, each written as ``stem.<format>``.
    """
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = stem.with_suffix(f".{fmt}")
        fig.savefig(path, format=fmt, dpi=_RC["savefig.dpi"])
        paths.append(path)
    return paths


def _data_points(ax, renderer, step: float = 3.0):
    """Display coordinates of everything drawn as data in ``ax``: line vertices and points along
    their segments (every ``step`` pixels), error-bar segments, and bar rectangles (their corners
    and centre)."""
    import numpy as np
    from matplotlib.collections import LineCollection

    pts = []

    def along(xy):
        xy = xy[np.all(np.isfinite(xy), axis=1)]
        if len(xy) < 2:
            return xy
        out = [xy[:1]]
        for a, b in zip(xy[:-1], xy[1:], strict=True):
            n = max(2, int(np.hypot(*(b - a)) / step) + 1)
            out.append(a + (b - a) * np.linspace(0, 1, n)[1:, None])
        return np.concatenate(out)

    for line in ax.lines:
        if line.get_visible():
            pts.append(along(line.get_transform().transform(line.get_xydata())))
    for coll in ax.collections:
        if isinstance(coll, LineCollection) and coll.get_visible():
            tr = coll.get_transform()
            for seg in coll.get_segments():
                pts.append(along(tr.transform(np.asarray(seg))))
    for patch in ax.patches:
        ext = patch.get_window_extent(renderer)
        if ext.width > 0 and ext.height > 0:
            pts.append(np.array([[ext.x0, ext.y0], [ext.x1, ext.y1], [ext.x0, ext.y1],
                                 [ext.x1, ext.y0], [(ext.x0 + ext.x1) / 2, (ext.y0 + ext.y1) / 2]]))
    return np.concatenate(pts) if pts else np.empty((0, 2))


def legend_overlaps(fig) -> list[str]:
    """Legends of ``fig`` that cover data: one line per legend with the number of data points
    (line vertices and points along lines, error bars, bar rectangles) inside its bounding box.

    Every legend (of an axes or of the figure) is tested against the data of every axes. An empty
    list means that no legend hides data.
    """
    import numpy as np

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legends = [(ax.get_title() or f"axes {k}", ax.get_legend()) for k, ax in enumerate(fig.axes)]
    legends += [("figure", leg) for leg in fig.legends]
    data = [_data_points(ax, renderer) for ax in fig.axes]
    data = np.concatenate(data) if data else np.empty((0, 2))
    found = []
    for where, leg in legends:
        if leg is None or not leg.get_visible():
            continue
        box = leg.get_window_extent(renderer)
        inside = ((data[:, 0] > box.x0) & (data[:, 0] < box.x1) & (data[:, 1] > box.y0)
                  & (data[:, 1] < box.y1))
        if inside.any():
            found.append(f"legend of {where!r} covers {int(inside.sum())} data points")
    return found
