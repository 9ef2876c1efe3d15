"""No legend of the report's figures covers data (matplotlib bounding boxes, in display units).

:func:`rmthess.plotting.style.legend_overlaps` collects the display coordinates of every line (with
points every 3 pixels along its segments), error bar and histogram bar, and counts those inside each
legend's bounding box. The figures are drawn with data shaped like the report's (curves falling over
decades, spikes, atoms); the oracle for the helper itself is a legend placed over a line on purpose.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rmthess.plotting.style import legend_overlaps  # noqa: E402


def _figure1():
    from rmthess.plotting.ratios import RatioCurve, RatioPanel, RatioPoints, plot_ratio_vs_classes

    C = np.geomspace(2, 1e4, 30)
    panels = []
    for p in (2, 1, 2):
        curves, points = [], []
        for g, K in (("γ = 0.25", 1.7), ("γ = 1", 2.2), ("γ = 4", 2.6)):
            curves += [RatioCurve(g, C, K * (1 + 3 / C) / C**p),
                       RatioCurve(g, C[C >= 10], K / C[C >= 10] ** p, kind="asymptote")]
            Cm = np.array([3.0, 10.0, 30.0])
            points.append(RatioPoints(g, Cm, K * (1 + 3 / Cm) / Cm**p, 0.05 * K / Cm**p, group=g))
        panels.append(RatioPanel(f"p = {p}", tuple(curves), tuple(points)))
    return plot_ratio_vs_classes(panels)


def _figure2():
    from rmthess.plotting.spectra import SpectrumPanel, plot_block_spectra

    rng = np.random.default_rng(0)
    panels = []
    for k in range(7):
        X = rng.standard_normal((60, 30 if k % 2 else 120))
        ev = np.linalg.eigvalsh(X @ X.T / X.shape[1])
        ev = np.where(np.abs(ev) < 1e-9, 0.0, ev)
        x = np.linspace(1e-3, ev.max() * 1.1, 200)
        panels.append(SpectrumPanel(f"panel {k}\nsecond line", ev, x, np.exp(-x),
                                    edges=(0.1, ev.max()), atom=0.5 if k % 2 else 0.0))
    return plot_block_spectra(panels)


def _figure3():
    from rmthess.plotting.decoupling import DecouplingSeries, LindebergSeries, plot_decoupling

    d = np.array([50, 100, 200])
    ex = DecouplingSeries("exact", d, [-0.6 + 0.3j, -0.55 + 0.25j, -0.6 + 0.2j], [0.1 + 0.1j] * 3)
    lit = DecouplingSeries("literal", d, [0.1 - 4j, 2j, 1 + 0.5j], np.sqrt(d) * (0.2 + 0.2j))
    lin = LindebergSeries("d = 240", [0, 0.5, 1], [-0.5 + 5j] * 3, [0.01 + 0.01j] * 3,
                          limit=-0.5 + 5j)
    return plot_decoupling(ex, lit, c=-0.6 + 0.3j, z=0.08 + 0.16j, lindeberg=lin)


def _figure4():
    from rmthess import networks
    from rmthess.networks.training import train
    from rmthess.plotting.hessians import HessianMap, plot_hessian_maps

    rng = np.random.default_rng(1)
    maps = []
    for C in (3, 5):
        X, y = rng.standard_normal((30, 6)), rng.integers(0, C, 30)
        W, V = rng.standard_normal((3, 6)), rng.standard_normal((C, 3))
        maps.append(HessianMap(f"C = {C}", networks.hessian(X, y, W, V),
                               networks.block_layout(6, C, 3)))
    X, y = rng.standard_normal((30, 6)), rng.integers(0, 3, 30)
    res = train(X, y, rng.standard_normal((3, 3)), rng.standard_normal((3, 6)), steps=4,
                snapshot_steps=(0, 2, 4))
    return plot_hessian_maps(init=maps, training=maps[:1], training_result=res)


def _figure5():
    from rmthess.plotting.offsets import ClassNormPanel, DiagonalityPanel, plot_offsets

    S = np.linspace(0, 2, 21)
    pri = 1 / np.arange(1, 11)
    pri = pri / pri.sum()
    return plot_offsets([
        DiagonalityPanel("C = 10", S, 1.8 + 0.5 * S**2, [0.5, 1, 1.5, 2],
                         1.8 + 0.5 * np.array([0.25, 1, 2.25, 4]), [0.01] * 4, "Monte Carlo"),
        ClassNormPanel("S = 1", pri, 0.2 * pri, 0.2 * pri, 0.002 * np.ones(10), "Monte Carlo")])


@pytest.mark.parametrize("draw", [_figure1, _figure2, _figure3, _figure4, _figure5])
def test_no_legend_covers_data(draw):
    fig = draw()
    try:
        assert fig.legends or any(ax.get_legend() for ax in fig.axes)
        assert legend_overlaps(fig) == []
    finally:
        plt.close(fig)


def test_the_helper_finds_a_legend_over_a_line():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label="diagonal")
    ax.legend(loc="center")
    assert len(legend_overlaps(fig)) == 1
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0))      # moved beside the axes
    assert legend_overlaps(fig) == []
    plt.close(fig)
