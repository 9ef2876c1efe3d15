"""Named initializations vs the definitions of torch.nn.init, written out independently.

torch is not a dependency; the formulas are those of the PyTorch documentation (torch.nn.init and
torch.nn.Linear, version 2.x):

* ``nn.Linear(in, out)``: weight ~ ``U(−√k, √k)``, ``k = 1/in_features``
  (``reset_parameters`` calls ``kaiming_uniform_(weight, a=√5)``);
* ``kaiming_uniform_``: bound ``= gain·√(3/fan_in)``, ``gain = √(2/(1 + a²))`` for leaky_relu;
* ``kaiming_normal_`` (defaults ``a=0``, ``mode='fan_in'``, ``nonlinearity='leaky_relu'``):
  std ``= gain/√fan_in`` with ``gain = √2``;
* ``xavier_uniform_`` (``gain=1``): ``U(−a, a)``, ``a = gain·√(6/(fan_in + fan_out))``;
* LeCun normal (LeCun et al., *Efficient BackProp*, 1998): std ``= 1/√fan_in``.
"""

import math

import numpy as np
import pytest

from rmthess.laws.entry import GAUSSIAN, UNIFORM
from rmthess.laws.init import INITS, LayerInit, NetworkInit, layer_init, network_init, resolve_init

#: closed form vs code
RTOL = 1e-14
#: Monte Carlo: K_SIGMA standard errors (two-sided normal false-alarm rate 5e-6)
K_SIGMA = 4.5


def _torch_bound_or_std(name, fan_in, fan_out):
    """(law, bound of the uniform law or std of the normal law) as the torch docs define them."""
    if name == "torch-default":
        a = math.sqrt(5)
        gain = math.sqrt(2 / (1 + a * a))
        return "uniform", gain * math.sqrt(3 / fan_in)          # = 1/√fan_in
    if name == "kaiming-normal":
        return "gaussian", math.sqrt(2) / math.sqrt(fan_in)
    if name == "xavier-uniform":
        return "uniform", math.sqrt(6 / (fan_in + fan_out))
    return "gaussian", 1 / math.sqrt(fan_in)


@pytest.mark.parametrize("name", INITS)
@pytest.mark.parametrize("fan_in, fan_out", [(500, 8), (8, 10), (3, 1000)])
def test_layers_match_torch_definitions(name, fan_in, fan_out):
    lay = layer_init(name, fan_in, fan_out)
    law, size = _torch_bound_or_std(name, fan_in, fan_out)
    assert lay.law.name == law
    entry_sd = lay.scale / math.sqrt(fan_in)                  # standard deviation of one entry
    if law == "uniform":
        assert entry_sd * lay.law.support_bound == pytest.approx(size, rel=RTOL)
    else:
        assert entry_sd == pytest.approx(size, rel=RTOL)


def test_nn_linear_default_is_uniform_with_variance_one_third_over_fan_in():
    lay = layer_init("torch-default", 64, 10)
    assert lay.scale ** 2 == pytest.approx(1 / 3, rel=RTOL)
    x = lay.scale / 8 * lay.law.sample(0, 200_000)            # entries of a 64-fan-in layer
    assert np.abs(x).max() <= 1 / 8                            # U(−1/√64, 1/√64)
    y = x * x
    assert abs(y.mean() - 1 / (3 * 64)) <= K_SIGMA * y.std(ddof=1) / math.sqrt(y.size)


def test_network_mapping_to_the_theory():
    ini = network_init("torch-default", classes=10, width=8)
    th = ini.theory()
    # ReLU homogeneity (CASE-20): σ_v of the theory is σ_w σ_v = (1/√3)(1/√3)
    assert th["sigma_v"] == pytest.approx(1 / 3, rel=RTOL) and th["v_law"] is UNIFORM
    assert ini.norm_factors()["hidden"] == pytest.approx(9.0, rel=RTOL)
    assert ini.norm_factors()["output"] == pytest.approx(1 / 9, rel=RTOL)
    # LeCun normal is the paper's setting: σ_v = 1, Gaussian
    assert network_init("lecun-normal", classes=10, width=8).theory() == {"sigma_v": 1.0}
    assert network_init("lecun-normal", classes=10, width=8).v_law is GAUSSIAN
    # Xavier: σ_w² = 2d/(d + m) → 2 as d → ∞; σ_v² = 2m/(m + C) depends on C
    xa = network_init("xavier-uniform", classes=10, width=8)
    assert xa.sigma_w ** 2 == pytest.approx(2.0, rel=RTOL)
    assert xa.sigma_v ** 2 == pytest.approx(16 / 18, rel=RTOL)
    assert network_init("xavier-uniform", classes=10, width=8, dim=92).sigma_w ** 2 == \
        pytest.approx(2 * 92 / 100, rel=RTOL)
    # the linear model: one layer d → C, its theory takes σ_v only
    lin = network_init("kaiming-normal", classes=10, dim=100)
    assert lin.hidden is None and lin.theory() == {"sigma_v": pytest.approx(math.sqrt(2))}


def test_custom_init_and_validation():
    ini = NetworkInit("custom", LayerInit("rademacher", 0.5), LayerInit(None, 2.0))
    assert ini.v_law.name == "rademacher" and ini.theory()["sigma_v"] == 1.0
    with pytest.raises(ValueError, match="unknown initialization"):
        network_init("he-normal", classes=10, width=8)
    with pytest.raises(ValueError, match="sigma_v"):
        LayerInit("uniform", -1.0)
    with pytest.raises(ValueError, match="fan"):
        layer_init("torch-default", 0, 3)
    with pytest.raises(ValueError, match="init sets"):
        resolve_init("torch-default", classes=3, width=2, v_law="uniform")
    with pytest.raises(ValueError, match="no hidden layer"):
        resolve_init(classes=3, sigma_w=2.0)
    with pytest.raises(ValueError, match="sigma_w"):
        resolve_init(classes=3, width=2, sigma_w=float("nan"))
    assert resolve_init(ini, classes=3) is ini


def test_readme_initializations_section_runs():
    import pathlib
    import re

    readme = (pathlib.Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    code = re.search(r"## Initializations\n.*?```python\n(.*?)```", readme, re.S).group(1)
    namespace: dict = {}
    exec(compile(code, "README initializations", "exec"), namespace)
    assert namespace["th"]["v_law"] is UNIFORM
    assert namespace["W"].shape == (8, 50)
