"""Fake checks with hand-made data for the framework tests (no package numerics involved)."""

import numpy as np

from rmthess.plotting.decoupling import DecouplingSeries
from rmthess.plotting.ratios import RatioCurve, RatioPanel, RatioPoints
from rmthess.plotting.spectra import SpectrumPanel
from rmthess.verify.base import Check, CheckOutput
from rmthess.verify.checks._stats import mean_se
from rmthess.verify.rules import against_prediction


class FakeGaussianMean(Check):
    """Estimates the mean 0 of N(0, 1) from replicates drawn with the check's own seed."""

    name = "fake-mean"
    title = "Fake: mean of a standard normal"
    description = "The sample mean of standard normal draws against 0 (rule `z`)."
    sizes = {"tiny": {"n": 50}, "quick": {"n": 200}, "full": {"n": 1000}}

    def run(self, ctx):
        n = self.params(ctx.size)["n"]
        ctx.progress(f"{n} draws")
        x = np.random.default_rng(ctx.child(0)).standard_normal(n)
        m, se = mean_se(x)
        out = CheckOutput(notes=["a note"])
        out.rows.append(against_prediction("mean", {"n": n}, simulation=m, stderr=se,
                                           prediction=0.0, limit=0.0, dof=n - 1, scale=1.0))
        C = np.array([3.0, 10.0, 30.0])
        out.figures["figure1"] = [RatioPanel("fake", (RatioCurve("γ = 1", C, 1 / C**2),),
                                             (RatioPoints("MC", C, 1 / C**2, 0.1 / C**2,
                                                          group="γ = 1"),))]
        xs = np.linspace(0, 4, 40)
        out.figures["figure2"] = [SpectrumPanel("fake", np.abs(x) * 2, xs, np.exp(-xs), (0.0, 4.0))]
        out.figures["figure3"] = {
            "exact": DecouplingSeries("exact", [10, 20], [1j, 1j], [0.1j, 0.1j]), "c": 1j}
        return out


class FakeBroken(Check):
    name = "fake-broken"
    title = "Fake: raises"
    description = "Always raises."
    sizes = {"tiny": {}, "quick": {}, "full": {}}

    def run(self, ctx):
        raise RuntimeError("boom")


def install(monkeypatch):
    from rmthess.verify import base

    monkeypatch.setitem(base.CHECKS, FakeGaussianMean.name, FakeGaussianMean)
    monkeypatch.setitem(base.CHECKS, FakeBroken.name, FakeBroken)
