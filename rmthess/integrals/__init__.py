"""Gaussian-softmax moments: float64 quadrature and the mpmath oracle
(theory/softmax_moments.md)."""

from rmthess.integrals.moments import SoftmaxMoments
from rmthess.integrals.softmax import softmax_mixed_moment, softmax_moments
from rmthess.integrals.softmax_mp import softmax_mixed_moment_mp, softmax_moments_mp

__all__ = [
    "SoftmaxMoments",
    "softmax_moments",
    "softmax_mixed_moment",
    "softmax_moments_mp",
    "softmax_mixed_moment_mp",
]
