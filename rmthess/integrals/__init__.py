"""Gaussian-softmax moments: float64 quadrature and the mpmath oracle (theory/softmax_moments.md).

The public names are loaded on first use (PEP 562): the float64 quadrature does not load mpmath.
"""

from rmthess._lazy import lazy_names

#: public name -> module defining it
_WHERE = {
    "SoftmaxMoments": "moments",
    "softmax_moments": "softmax",
    "softmax_mixed_moment": "softmax",
    "softmax_moments_mp": "softmax_mp",
    "softmax_mixed_moment_mp": "softmax_mp",
}

__all__ = list(_WHERE)


__getattr__, __dir__ = lazy_names(__name__, _WHERE)
