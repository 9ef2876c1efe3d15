"""The checks of ``rmthess verify``, one module per theorem quantity (import order = report order)."""

from rmthess.verify.checks import gmp_law  # noqa: F401
from rmthess.verify.checks import ratios  # noqa: F401
from rmthess.verify.checks import spectra  # noqa: F401
from rmthess.verify.checks import decoupling  # noqa: F401
from rmthess.verify.checks import hessian_maps  # noqa: F401

__all__ = ["gmp_law", "ratios", "spectra", "decoupling", "hessian_maps"]
