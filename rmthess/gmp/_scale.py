"""Exact rescaling of a law's numerics by a power of two (theory/gmp.md, (GMP-11)).

The GMP laws solve their equations for atoms divided by ``unit = 2**e``, a power of 2 of the
spectrum's scale, so that any weight scale is handled exactly; :class:`BinaryScale` maps arguments
down to that unit and results back up, refusing results outside the float64 range.
"""

from __future__ import annotations

import numpy as np


class BinaryScale:
    """Mixin for a law with an integer exponent ``_e``: exact maps by ``unit = 2**_e``.

    ``_OVERFLOW`` is the refusal message, formatted with ``what`` (the quantity) and ``e``.
    """

    _e: int = 0
    _OVERFLOW = "{what} overflows float64 for this law"

    def _down(self, z):
        """``z / unit`` exactly (real or complex arrays)."""
        if np.iscomplexobj(z):
            return np.ldexp(z.real, -self._e) + 1j * np.ldexp(z.imag, -self._e)
        return np.ldexp(z, -self._e)

    def _up(self, v, power: int, what: str):
        """``v · unit**power`` exactly (inf stays inf); ``ValueError`` if a finite ``v`` leaves
        the float64 range."""
        v = np.asarray(v)
        if np.iscomplexobj(v):
            out = np.ldexp(v.real, power * self._e) + 1j * np.ldexp(v.imag, power * self._e)
        else:
            out = np.ldexp(v, power * self._e)
        if not np.all(np.isfinite(out) | np.isinf(v)):
            raise ValueError(self._OVERFLOW.format(what=what, e=self._e))
        return out
