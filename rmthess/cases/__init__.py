"""Model cases and the limits of their Hessian blocks (theory/cases.md; arXiv:2505.02809, theorems 1–2).

Each case is a small class registered in :data:`CASES`; :func:`get_case` returns one by name.
"""

from rmthess.cases.base import CASES, BlockLimit, Case, CaseLimits, get_case, register
from rmthess.cases.constants import hidden_constant, output_constant
from rmthess.cases.linear_ce import LinearCE, linear_ce_r0
from rmthess.cases.linear_mse import LinearMSE
from rmthess.cases.mlp_ce import MlpCE
from rmthess.cases.mlp_mse import MlpMSE

__all__ = [
    "CASES",
    "Case",
    "BlockLimit",
    "CaseLimits",
    "get_case",
    "register",
    "LinearMSE",
    "LinearCE",
    "MlpMSE",
    "MlpCE",
    "linear_ce_r0",
    "hidden_constant",
    "output_constant",
]
