"""ContinuousLaw: moments, the Gauss-rule discretization and its measured cost on the GMP law."""

import numpy as np
import pytest
from scipy import integrate, stats

from rmthess.gmp import GeneralizedMarchenkoPastur
from rmthess.laws import ContinuousLaw
from tests._mc import monte_carlo, z_threshold

#: Gauss rule of n nodes is exact for degree <= 2n-1 on the 3072-node smooth base rule
GAUSS_MOMENT_RTOL = 1e-11
#: adaptive quadrature of a smooth density, relative
QUAD_RTOL = 1e-10
#: GMP density of the 128-atom Gauss rule of Uniform(1, 3) at gamma = 0.5 vs the direct solution
#: of (GMP-1) with the continuous law (adaptive quadrature of E[lambda/(1+gamma lambda s)] at the
#: boundary value, then Newton): measured 8e-16 relative in the bulk interior (the pole of the
#: integrand stays O(1) away from [1, 3], so the 128-node Gauss rule is converged); the floor is the
#: oracle's quad epsrel = 1e-13, times a 100× allowance for the conditioning of the Newton solve
CONTINUOUS_DENSITY_RTOL = 1e-11


def test_uniform_moments_and_gauss_rule():
    law = ContinuousLaw(dist=stats.uniform(1, 2))
    for k in range(1, 8):
        exact = (3 ** (k + 1) - 1) / (2 * (k + 1))
        assert law.moment(k) == pytest.approx(exact, rel=1e-14)
        assert law.discretize().moment(k) == pytest.approx(exact, rel=GAUSS_MOMENT_RTOL)
    assert law.discretize().size == 128


#: stated false-alarm rate of the sampling check (50000 draws: normal quantile)
ALPHA = 1e-4


@monte_carlo(alpha=ALPHA, seed=0)
def check_pdf_sampling(seed):
    law = ContinuousLaw(pdf=lambda x: 2 * x, interval=(0.0, 1.0), n_atoms=16)
    x = law.sample(50_000, rng=np.random.default_rng(seed))
    # density 2x on [0, 1]: mean 2/3, variance 1/18
    assert x.mean() == pytest.approx(2 / 3, abs=z_threshold(ALPHA) * np.sqrt(1 / 18 / x.size))


def test_pdf_on_interval():
    law = ContinuousLaw(pdf=lambda x: 2 * x, interval=(0.0, 1.0), n_atoms=16)
    assert law.moment(1) == pytest.approx(2 / 3, rel=QUAD_RTOL)
    assert law.discretize().moment(5) == pytest.approx(2 / 7, rel=GAUSS_MOMENT_RTOL)
    check_pdf_sampling(0)


def test_normal_signed_weights():
    law = ContinuousLaw(dist=stats.norm(0.5, 1.0), n_atoms=64)
    d = law.discretize()
    assert d.moment(4) == pytest.approx(law.moment(4), rel=GAUSS_MOMENT_RTOL)
    gmp = GeneralizedMarchenkoPastur(law, 0.2)
    assert gmp.moment(2) == pytest.approx(0.25 + 0.2 * 1.25, rel=1e-14)


def test_scaled():
    law = ContinuousLaw(dist=stats.uniform(1, 2)).scaled(-2.0)
    assert law.moment(1) == pytest.approx(-4.0, rel=1e-14)
    assert law.discretize().atoms.max() < -2.0


def test_density_accuracy_against_direct_continuous_solution():
    law = ContinuousLaw(dist=stats.uniform(1, 2))
    gamma = 0.5
    gmp = GeneralizedMarchenkoPastur(law, gamma)
    (a, b), = gmp.support()
    x = np.linspace(a, b, 9)[2:-2]
    got = gmp.pdf(x)
    s0 = gmp.stieltjes(x + 1e-300j * 0 + 1e-12j)

    def solve(xi, s):
        for _ in range(50):
            f_re = integrate.quad(lambda lam, s=s: (lam / (1 + gamma * lam * s)).real / 2, 1, 3,
                                  epsabs=0, epsrel=1e-13)[0]
            f_im = integrate.quad(lambda lam, s=s: (lam / (1 + gamma * lam * s)).imag / 2, 1, 3,
                                  epsabs=0, epsrel=1e-13)[0]
            g_re = integrate.quad(
                lambda lam, s=s: (lam * lam / (1 + gamma * lam * s) ** 2).real / 2, 1, 3,
                epsabs=0, epsrel=1e-13)[0]
            g_im = integrate.quad(
                lambda lam, s=s: (lam * lam / (1 + gamma * lam * s) ** 2).imag / 2, 1, 3,
                epsabs=0, epsrel=1e-13)[0]
            F = -1 / s + complex(f_re, f_im) - xi
            dF = 1 / s**2 - gamma * complex(g_re, g_im)
            step = F / dF
            s = s - step
            if abs(step) < 1e-14 * abs(s):
                break
        return s.imag / np.pi

    want = np.array([solve(xi, si) for xi, si in zip(x, s0, strict=True)])
    np.testing.assert_allclose(got, want, rtol=CONTINUOUS_DENSITY_RTOL)


@pytest.mark.parametrize("kwargs,match", [
    ({}, "exactly one"),
    ({"pdf": lambda x: x, "dist": stats.norm()}, "exactly one"),
    ({"pdf": lambda x: x}, "interval"),
    ({"pdf": lambda x: x, "interval": (1.0, 0.0)}, "a < b"),
    ({"pdf": lambda x: -np.ones_like(x), "interval": (0.0, 1.0)}, "positive"),
    ({"dist": stats.norm(), "n_atoms": 0}, "n_atoms"),
])
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ContinuousLaw(**kwargs)
