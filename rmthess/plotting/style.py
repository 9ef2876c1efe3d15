r"""Shared look of rmthess figures: the Okabe–Ito palette, one rc context, PNG + PDF output.

Every figure of the package is drawn inside :func:`figure_style` so that fonts, line widths and the
colour cycle are the same everywhere, and saved with :func:`save_figure`, which writes the same
figure as a PNG (for the HTML/Markdown report) and as a PDF (vector, for papers).

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

__all__ = ["OKABE_ITO", "color", "figure_style", "save_figure", "SEQUENTIAL_CMAP", "DIVERGING_CMAP"]

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
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
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
    """Save ``fig`` as ``stem.png`` and ``stem.pdf`` (creating the folder); return the paths
    written.

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
        fig.savefig(path, format=fmt, dpi=_RC["savefig.dpi"], bbox_inches="tight")
        paths.append(path)
    return paths
