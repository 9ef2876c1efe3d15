r"""The empirical Stieltjes transform ``s(z) = (1/d) Σ_k 1/(e_k − z)`` of a spectrum.

Examples
--------
>>> from rmthess.montecarlo.spectra.stieltjes import empirical_stieltjes
>>> s = complex(empirical_stieltjes([0.0, 2.0], 1.0j))   # (1/(0 − i) + 1/(2 − i))/2
>>> round(s.real, 12), round(s.imag, 12)
(0.2, 0.6)
"""

from __future__ import annotations

import numpy as np

from rmthess._validate import check_finite_array, check_upper_half_plane
from rmthess.montecarlo import _kernels

__all__ = ["empirical_stieltjes"]


def empirical_stieltjes(eigenvalues, z) -> np.ndarray:
    r"""``(1/d) Σ_k 1/(e_k − z)`` for 1-D eigenvalues (result: the shape of z) or rows of them
    (result: ``R × len(z)``)."""
    e = np.asarray(eigenvalues)
    if np.iscomplexobj(e):
        raise ValueError("eigenvalues must be real (of a symmetric block)")
    e = check_finite_array("eigenvalues", e)
    if e.ndim not in (1, 2):
        raise ValueError(f"eigenvalues must be 1-D or rows of them (2-D), got shape {e.shape}")
    zz = check_upper_half_plane(np.atleast_1d(z)).ravel()
    rows = np.ascontiguousarray(np.atleast_2d(e))
    out = _kernels.stieltjes_rows(rows, zz)
    if e.ndim == 1:
        return out[0].reshape(np.shape(z))
    return out
