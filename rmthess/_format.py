"""Numbers printed with the digits their error supports (the error to 2 significant digits)."""

from __future__ import annotations

import math

__all__ = ["supported_digits", "with_error"]


def supported_digits(x, se):
    """``x`` rounded to the digits its standard error supports (the error to 2 significant digits).

    >>> supported_digits(0.154804795, 2.3e-07)
    0.15480479
    """
    if se is None or not se > 0 or not math.isfinite(x) or x == 0:
        return float(x)
    sig = max(1, int(math.floor(math.log10(abs(x)))) - int(math.floor(math.log10(se))) + 2)
    return float(f"{x:.{sig}g}")


def with_error(x, se) -> str:
    """``"x ± se"`` with the supported digits (``x`` to 6 significant digits without an error).

    >>> with_error(0.0412839, 0.0026833)
    '0.0413 ± 0.0027'
    """
    if se is None or not (se > 0 and math.isfinite(se)) or not math.isfinite(x):
        return f"{x:.6g}"
    return f"{supported_digits(x, se):g} ± {se:.2g}"
