"""The checks of ``rmthess verify``, one module per theorem quantity (imported in report order)."""

# the order of these imports is the order of the report's rows, so it is not sorted
# isort: off
from rmthess.verify.checks import gmp_law
from rmthess.verify.checks import ratios
from rmthess.verify.checks import spectra
from rmthess.verify.checks import decoupling
from rmthess.verify.checks import hessian_maps
from rmthess.verify.checks import anisotropic
# isort: on

__all__ = ["gmp_law", "ratios", "spectra", "decoupling", "hessian_maps", "anisotropic"]
