"""Figure 1 renders: log-log axes, labels, legend entries for curves, asymptotes and points."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rmthess.plotting.ratios import RatioCurve, RatioPanel, RatioPoints, plot_ratio_vs_classes  # noqa: E402
from rmthess.plotting.style import save_figure  # noqa: E402


def _panel(title, power):
    C = np.array([3.0, 10.0, 30.0, 100.0])
    curves = (RatioCurve("γ = 1", C, 2 / C**power), RatioCurve("γ = 1", C, 2.2 / C**power,
                                                                 kind="asymptote"),
              RatioCurve("γ = 4", C, 3 / C**power))
    points = (RatioPoints("MC γ = 1", C[:3], 2 / C[:3] ** power, 0.05 / C[:3] ** power,
                          group="γ = 1"),)
    return RatioPanel(title, curves, points)


def test_figure1_scales_by_the_decay_power(tmp_path):
    """Each panel shows C^p × ratio with p read off its asymptotes: the asymptote K·C^-p becomes
    the constant K (here 2.2), on a log C axis and a linear y axis starting at 0."""
    fig = plot_ratio_vs_classes([_panel("linear CE", 2), _panel("hidden", 1), _panel("output", 2)],
                                title="fig 1")
    assert len(fig.axes) == 3
    for ax, t, p in zip(fig.axes, ["linear CE", "hidden", "output"], [2, 1, 2], strict=True):
        assert (ax.get_xscale(), ax.get_yscale()) == ("log", "linear")
        assert ax.get_title() == t and ax.get_ylim()[0] == 0
        assert ax.get_ylabel().startswith("$C^{2}$ ×" if p == 2 else "$C$ ×")
        dashed = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
        np.testing.assert_allclose(dashed[0].get_ydata(), 2.2, rtol=1e-12)
        labels = [tx.get_text() for tx in ax.get_legend().get_texts()]
        assert labels == ["γ = 1", "γ = 4"]                  # colours: one entry per group
    styles = [tx.get_text() for tx in fig.legends[0].get_texts()]
    assert styles == ["exact finite-C theory", "C → ∞ asymptote", "Monte Carlo ± 1 s.e."]
    paths = save_figure(fig, tmp_path / "f1")
    plt.close(fig)
    assert all(p.stat().st_size > 1000 for p in paths)


def test_decay_power():
    from rmthess.plotting.ratios import decay_power

    assert [decay_power(_panel("x", p)) for p in (1, 2, 3)] == [1, 2, 3]
    assert decay_power(RatioPanel("no asymptote")) == 0


def test_points_share_the_colour_of_their_group():
    fig = plot_ratio_vs_classes([_panel("p", 2)])
    ax = fig.axes[0]
    exact = ax.get_lines()[0].get_color()
    err = ax.containers[0].lines[0].get_color()
    plt.close(fig)
    assert exact == err


def test_bad_inputs_raise():
    with pytest.raises(ValueError):
        RatioCurve("x", [1, 2], [1.0])
    with pytest.raises(ValueError):
        RatioCurve("x", [1, 2], [1.0, 2.0], kind="other")
    with pytest.raises(ValueError):
        RatioPoints("x", [1, 2], [1.0, 2.0], [0.1])
    with pytest.raises(ValueError):
        plot_ratio_vs_classes([])
