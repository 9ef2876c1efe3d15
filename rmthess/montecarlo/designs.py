r"""Monte Carlo designs: which data feed the weights and which feed the matrices.

Every block is ``(1/N) Σ_n λ(M x^w_n) f(x^m_n) f(x^m_n)ᵀ``; a design chooses the pair
``(X^m, X^w)`` (rows are samples) from the data ``X`` and fresh draws (theory/montecarlo.md, MC-5):

=============  ======================================  =========  ============================
design         matrix data ``X^m``                     ``X^w``    law
=============  ======================================  =========  ============================
coupled        ``X``                                   ``X``      the true Hessian blocks H
decoupled      ``X``                                   ``X̃``      H̃ (weights independent)
sharp          ``X♯ = X P⊥ + Z Qᵀ``, ``Z ~ N(0, I_r)``  ``X``      H♯, law of H̃; rank(H − H♯) ≤ 2r
lindeberg(t)   ``√t X + √(1−t) X̃``                     ``X``      interpolates H̃ (t=0) and H (t=1)
=============  ======================================  =========  ============================

``Q`` (``d×r``) is an orthonormal basis of the row space of the first-layer matrix M and
``P⊥ = I − QQᵀ``; ``x♯_n = P⊥ x_n + P g_n`` with ``P g_n = Q z_n``, ``z_n = Qᵀ g_n ~ N(0, I_r)``.

Examples
--------
>>> import numpy as np
>>> from rmthess.montecarlo.designs import get_design
>>> rng = np.random.default_rng(0)
>>> X = rng.standard_normal((5, 4)); M = rng.standard_normal((2, 4))
>>> Xm, Xw = get_design("sharp").matrices(X, M, rng)
>>> Q = np.linalg.qr(M.T)[0]
>>> bool(np.allclose((Xm - X) @ (np.eye(4) - Q @ Q.T), 0))
True
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["Design", "Coupled", "Decoupled", "Sharp", "Lindeberg", "DESIGNS", "get_design"]


class Design:
    """A Monte Carlo design (strategy behind :data:`DESIGNS`)."""

    name: str = ""
    #: correlation ``t`` between the matrix-side projection ``M x^m`` and the weight-side ``M x^w``
    #: squared: the matrix side is ``√t·(weight side) + √(1−t)·(independent)`` (MC-7)
    t: float = 1.0

    def matrices(self, X: np.ndarray, M: np.ndarray, rng: np.random.Generator):
        """Return ``(X^m, X^w)`` for data ``X`` (``N×d``), first layer ``M`` (``r×d``)."""
        raise NotImplementedError


class Coupled(Design):
    """The true blocks: weights and matrices from the same data."""

    name = "coupled"
    t = 1.0

    def matrices(self, X, M, rng):
        return X, X


class Decoupled(Design):
    """The proof's H̃: weights from an independent copy X̃ (the literal construction)."""

    name = "decoupled"
    t = 0.0

    def matrices(self, X, M, rng):
        Xt = rng.standard_normal(X.shape)
        return X, Xt


def _row_space_basis(M: np.ndarray) -> np.ndarray:
    Q, _ = np.linalg.qr(np.asarray(M, float).T)
    return Q


class Sharp(Design):
    """The exact coupling H♯: redraw only the projection of each x_n onto the row space of M."""

    name = "sharp"
    t = 0.0

    def matrices(self, X, M, rng):
        Q = _row_space_basis(M)
        Z = rng.standard_normal((X.shape[0], Q.shape[1]))
        return X + (Z - X @ Q) @ Q.T, X


class Lindeberg(Design):
    """The interpolation ``X(t) = √t X + √(1−t) X̃`` (weights from X)."""

    name = "lindeberg"

    def __init__(self, t: float = 0.5):
        t = float(t)
        if not (math.isfinite(t) and 0.0 <= t <= 1.0):
            raise ValueError(f"the Lindeberg parameter t must be in [0, 1], got {t!r}")
        self.t = t

    def matrices(self, X, M, rng):
        Xt = rng.standard_normal(X.shape)
        return math.sqrt(self.t) * X + math.sqrt(1.0 - self.t) * Xt, X


#: design name -> design class
DESIGNS: dict[str, type[Design]] = {
    cls.name: cls for cls in (Coupled, Decoupled, Sharp, Lindeberg)
}


def get_design(name: str, *, t: float | None = None) -> Design:
    """Return the design ``name`` (``t`` only for ``"lindeberg"``, default 0.5)."""
    if not isinstance(name, str) or name not in DESIGNS:
        raise ValueError(f"unknown design {name!r}; valid designs: {', '.join(DESIGNS)}")
    if name == "lindeberg":
        return Lindeberg(0.5 if t is None else t)
    if t is not None:
        raise ValueError(f"t applies only to the lindeberg design, not {name!r}")
    return DESIGNS[name]()
