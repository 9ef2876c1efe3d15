"""The checks of ``rmthess verify``, one module per theorem quantity (import order = report order)."""

from rmthess.verify.checks import (
    decoupling,  # noqa: F401
    gmp_law,  # noqa: F401
    hessian_maps,  # noqa: F401
    ratios,  # noqa: F401
    spectra,  # noqa: F401
)

__all__ = ["gmp_law", "ratios", "spectra", "decoupling", "hessian_maps"]
