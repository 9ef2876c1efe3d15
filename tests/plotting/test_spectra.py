"""Figure 2 renders: histogram, density curve, edges and the atom marked."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rmthess.plotting.spectra import SpectrumPanel, plot_block_spectra  # noqa: E402


def _mp_panel(title, atom):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 20 if atom else 80))
    ev = np.linalg.eigvalsh(X @ X.T / X.shape[1])
    x = np.linspace(0.01, 6, 100)
    return SpectrumPanel(title, np.where(np.abs(ev) < 1e-10, 0.0, ev), x, np.exp(-x),
                         edges=(0.1, 5.0), atom=0.5 if atom else 0.0)


def test_figure2_panels_with_edges_and_atom():
    fig = plot_block_spectra([_mp_panel("diag", False), _mp_panel("offdiag", True)], title="fig 2")
    assert len(fig.axes) == 2
    for ax in fig.axes:
        assert ax.get_xlabel() and ax.get_ylabel() == "density" and ax.get_legend() is None
    texts = [t.get_text() for t in fig.legends[0].get_texts()]   # one legend for all panels
    assert "GMP density" in texts and "support edges" in texts
    assert fig.axes[1].get_title().endswith("atom at 0: 0.500 (simulated 0.500)")
    plt.close(fig)


def test_spare_slot_holds_the_legend_and_spikes_get_a_log_axis():
    spike = SpectrumPanel("spike", np.random.default_rng(2).laplace(0, 0.01, 500),
                          np.linspace(-0.1, 0.1, 201), 300 * np.exp(-100 * np.abs(
                              np.linspace(-0.1, 0.1, 201))))
    fig = plot_block_spectra([_mp_panel(str(k), False) for k in range(4)] + [spike], ncols=3)
    assert len(fig.axes) == 6
    assert fig.axes[5].get_legend() is not None and not fig.axes[5].axison   # no blank slot
    assert [ax.get_yscale() for ax in fig.axes[:5]] == ["linear"] * 4 + ["log"]
    plt.close(fig)


def test_bad_input():
    with pytest.raises(ValueError):
        SpectrumPanel("x", [], [0, 1], [0, 1])
    with pytest.raises(ValueError):
        SpectrumPanel("x", [1.0], [0, 1], [0])
    with pytest.raises(ValueError):
        plot_block_spectra([])
