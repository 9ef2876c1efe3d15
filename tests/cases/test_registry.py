"""Registry, validation and the shared interface of every case."""

import math

import pytest

from rmthess.cases import CASES, BlockLimit, CaseLimits, get_case

ALL = ("linear-mse", "linear-ce", "mlp-mse", "mlp-ce")


def _kw(name):
    return {"m": 3, "samples": 512, "rng": 0} if name.startswith("mlp") else {}


def test_registry_has_the_four_cases():
    assert set(ALL) <= set(CASES)
    for name in ALL:
        case = get_case(name)
        assert case.name == name
        assert case.block_types == (("v",) if name.startswith("linear") else ("hidden", "output"))


def test_unknown_case_lists_valid_names():
    with pytest.raises(ValueError, match="linear-ce, linear-mse, mlp-ce, mlp-mse"):
        get_case("resnet-ce")


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("gamma, classes", [(0.0, 10), (-1.0, 10), (math.nan, 10), (math.inf, 10),
                                            (1.0, 1), (1.0, 0), (1.0, 2.5), (1.0, math.inf)])
def test_bad_gamma_or_classes(name, gamma, classes):
    with pytest.raises(ValueError, match="gamma|classes"):
        get_case(name).limits(gamma, classes, **_kw(name))


@pytest.mark.parametrize("name", ["mlp-mse", "mlp-ce"])
@pytest.mark.parametrize("m", [0, -2, 1.5, math.nan, None])
def test_bad_width(name, m):
    with pytest.raises(ValueError, match="m"):
        get_case(name).limits(1.0, 4, m=m)


@pytest.mark.parametrize("name", ["linear-mse", "linear-ce"])
def test_linear_cases_reject_a_width(name):
    with pytest.raises(ValueError, match="no hidden width"):
        get_case(name).limits(1.0, 4, m=3)


@pytest.mark.parametrize("name", ALL)
def test_bad_sigma_and_block_arguments(name):
    case = get_case(name)
    with pytest.raises(ValueError, match="sigma_v"):
        case.limits(1.0, 4, sigma_v=0.0, **_kw(name))
    with pytest.raises(ValueError, match="block types"):
        case.block_law("nope", "diag", 1.0, 4, **({"m": 3} if name.startswith("mlp") else {}))
    with pytest.raises(ValueError, match="which"):
        case.block_law(case.block_types[0], "upper", 1.0, 4,
                       **({"m": 3} if name.startswith("mlp") else {}))


@pytest.mark.parametrize("name", ALL)
def test_limits_container(name):
    lim = get_case(name).limits(0.5, 5, **_kw(name))
    assert isinstance(lim, CaseLimits) and lim.case == name and lim.classes == 5
    assert set(lim.blocks) == set(get_case(name).block_types)
    for blk in lim.blocks.values():
        assert isinstance(blk, BlockLimit)
        assert blk.estimate == (name == "mlp-ce")
        assert (blk.stderr_ratio is not None) == blk.estimate
        d = blk.as_dict()
        assert {"g_ii", "g_ij", "ratio"} <= set(d)
        assert ("stderr" in d) == blk.estimate
