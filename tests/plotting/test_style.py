"""The shared figure style: palette, rc context and PNG + PDF output."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402

from rmthess.plotting.style import OKABE_ITO, color, figure_style, save_figure  # noqa: E402


def test_palette_is_okabe_ito_and_series_skip_black():
    assert len(set(OKABE_ITO)) == 8
    assert all(color(k) != OKABE_ITO[0] for k in range(20))
    assert color(0) == color(7)  # cycle length 7


def test_style_context_sets_and_restores_colour_cycle():
    before = plt.rcParams["axes.prop_cycle"]
    with figure_style():
        cyc = [c["color"] for c in plt.rcParams["axes.prop_cycle"]]
        assert to_rgb(cyc[0]) == to_rgb(color(0))
    assert plt.rcParams["axes.prop_cycle"] == before


def test_save_figure_writes_png_and_pdf(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    paths = save_figure(fig, tmp_path / "sub" / "fig")
    plt.close(fig)
    assert [p.suffix for p in paths] == [".png", ".pdf"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert paths[1].read_bytes()[:5] == b"%PDF-"
