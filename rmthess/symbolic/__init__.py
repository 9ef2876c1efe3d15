"""Symbolic (sympy) derivations run by the package: GMP moment polynomials, the Stieltjes polynomial
of an atomic weight law, the large-C expansion of the linear cross-entropy block ratio and the
closed forms of the MSE cases. See ``theory/`` for the derivations these functions reproduce.
"""
# Each module's public names are re-exported below (one import line per module).
from rmthess.symbolic.gmp import gmp_moment_polynomials, stieltjes_polynomial  # noqa: E402,F401
from rmthess.symbolic.large_c import (  # noqa: E402,F401,E501
    linear_ce_norm_series,
    linear_ce_ratio_asymptotic,
    linear_ce_ratio_series,
    softmax_moment_series,
)
from rmthess.symbolic.mse import (  # noqa: E402,F401,E501
    linear_mse_limits,
    mlp_mse_hidden_limits,
    mlp_mse_output_norm,
    relu_gaussian_moments,
)
