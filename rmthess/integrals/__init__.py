"""Gaussian-softmax moments: float64 quadrature and the mpmath oracle (theory/softmax_moments.md).

The public names are loaded on first use (PEP 562): the float64 quadrature does not load mpmath.
"""

import importlib

#: public name -> module defining it
_WHERE = {
    "SoftmaxMoments": "moments",
    "softmax_moments": "softmax",
    "softmax_mixed_moment": "softmax",
    "softmax_moments_mp": "softmax_mp",
    "softmax_mixed_moment_mp": "softmax_mp",
}

__all__ = list(_WHERE)


def __getattr__(name):
    if name in _WHERE:
        value = getattr(importlib.import_module(f"rmthess.integrals.{_WHERE[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'rmthess.integrals' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_WHERE))
