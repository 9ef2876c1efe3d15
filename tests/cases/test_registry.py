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


def test_registry_is_lazy():
    """Listing the cases and getting a linear case import neither numba, sympy nor the mlp cases
    (a fresh interpreter: this one has imported everything already)."""
    import subprocess
    import sys

    code = ("import sys; from rmthess.cases import CASES, get_case; names = sorted(CASES); "
            "get_case('linear-ce').limits(1.0, 3); get_case('linear-mse').limits(1.0, 3); "
            "bad = [m for m in ('numba', 'sympy', 'rmthess.cases.mlp_ce', 'rmthess.cases.mlp_mse') "
            "if m in sys.modules]; print(names, bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"{sorted(ALL)} []"


@pytest.mark.parametrize("name", ALL)
def test_one_validator_for_limits_and_monte_carlo(name):
    """The limits and the Monte Carlo (``simulate``) refuse the same mistake with the same
    message."""
    from rmthess.montecarlo import simulate

    case = get_case(name)
    wrong_m = None if case.hidden else 3
    with pytest.raises(ValueError) as lim:
        case.limits(1.0, 4, m=wrong_m)
    with pytest.raises(ValueError) as sim:
        simulate(name, d=20, gamma=1.0, classes=4, m=wrong_m, reps=2, seed=0)
    with pytest.raises(ValueError) as direct:
        case.check(4, wrong_m, 1.0)
    assert str(lim.value) == str(sim.value) == str(direct.value)
    assert ("needs the hidden width" if case.hidden else "no hidden width") in str(direct.value)


@pytest.mark.parametrize("name", ALL)
def test_block_types_are_registered(name):
    from rmthess.cases import BLOCK_TYPES, block_type

    case = get_case(name)
    for b in case.block_types:
        assert b in BLOCK_TYPES and block_type(b).name == b
        assert case.square(b) == (b != "output")
        assert block_type(b).count(7, 3) == (3 if b == "hidden" else 7)
    with pytest.raises(ValueError, match="unknown block type"):
        block_type("w")


def test_registry_mapping_and_lazy_names():
    import rmthess.cases as cases

    assert len(CASES) == len(ALL) and "nope" not in CASES and 3 not in CASES
    with pytest.raises(KeyError):
        CASES["nope"]
    assert CASES["linear-ce"] is type(get_case("linear-ce"))
    assert cases.MlpCE is CASES["mlp-ce"] and cases.linear_ce_r0(1.0) > 0
    with pytest.raises(AttributeError):
        cases.no_such_name  # noqa: B018 - attribute access is the test


def test_register_refuses_a_misnamed_case():
    from rmthess.cases import register
    from rmthess.cases.linear_mse import LinearMSE

    class Renamed(LinearMSE):
        name = "linear-hinge"

    with pytest.raises(ValueError, match="named after its module"):
        register(Renamed)
    with pytest.raises(ValueError, match="named after its module"):
        register(type(get_case("linear-mse")))      # already registered
