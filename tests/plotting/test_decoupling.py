"""Figure 3 renders: exact coupling, literal estimator and Lindeberg path panels."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rmthess.plotting.decoupling import DecouplingSeries, LindebergSeries, plot_decoupling  # noqa: E402


def test_figure3_three_panels():
    d = np.array([50, 100, 200])
    ex = DecouplingSeries("exact", d, [0.1 + 0.2j] * 3, [0.01 + 0.01j] * 3)
    lit = DecouplingSeries("literal", d, [0.2 + 0.1j] * 3, np.sqrt(d) * (0.1 + 0.1j))
    lin = LindebergSeries("d = 100", [0, 0.5, 1], [0.3 + 0.4j] * 3, [0.001 + 0.001j] * 3,
                          limit=0.3 + 0.4j)
    fig = plot_decoupling(ex, lit, c=0.1 + 0.2j, z=1 + 0.5j, lindeberg=lin, title="fig 3")
    assert len(fig.axes) == 3
    assert fig.axes[0].get_xscale() == "log"
    assert fig.axes[0].get_title().startswith("exact\n")
    assert fig.axes[2].get_xlabel() == "interpolation time $t$"
    for ax in fig.axes:
        assert ax.get_ylabel() and ax.get_legend() is None
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels[:2] == ["real part ± 1 s.e.", "imaginary part ± 1 s.e."]
    # the same colour for a part in every panel
    colours = [[c.lines[0].get_color() for c in ax.containers] for ax in fig.axes]
    assert colours[0] == colours[1] == colours[2] and colours[0][0] != colours[0][1]
    # the Lindeberg panel shows the residual from s(z): here exactly 0
    assert fig.axes[2].get_ylabel() == r"$E\, s_{H(t)}(z) - s(z)$"
    np.testing.assert_allclose(fig.axes[2].containers[0].lines[0].get_ydata(), 0.0, atol=1e-15)
    plt.close(fig)


def test_single_panel_and_bad_input():
    fig = plot_decoupling(DecouplingSeries("exact", [1, 2], [0j, 0j], [0j, 0j]))
    assert len(fig.axes) == 1
    plt.close(fig)
    lin = LindebergSeries("d = 10", [0, 1], [1j, 1j], [0.1j, 0.1j], limit=1j)
    fig = plot_decoupling(None, lindeberg=lin)              # the lindeberg check run alone
    assert len(fig.axes) == 1 and "Lindeberg" in fig.axes[0].get_title()
    plt.close(fig)
    with pytest.raises(ValueError, match="nothing to draw"):
        plot_decoupling(None)
    with pytest.raises(ValueError):
        DecouplingSeries("x", [1, 2], [0j], [0j])
    with pytest.raises(ValueError):
        LindebergSeries("x", [0, 1], [0j, 0j], [0j])
