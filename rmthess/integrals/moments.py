"""The container of the Gaussian-softmax moments that the linear cross-entropy case needs."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SoftmaxMoments"]


@dataclass(frozen=True)
class SoftmaxMoments:
    r"""Moments of ``p = softmax(z)``, ``z ~ N(0, σ_v² I_C)`` (theory/softmax_moments.md, (SM-1)).

    Attributes
    ----------
    classes : int
        The number of classes C.
    sigma_v : float
        The standard deviation σ_v of the logits.
    M1, M2 : float or mpmath.mpf
        ``M_k = E p_1^k`` (``M1`` is computed, not set to 1/C: it checks the quadrature).
    Q : float or mpmath.mpf
        ``E p_1² p_2²``.
    T : float or mpmath.mpf
        ``E p_1² p_2 p_3`` (0 when C = 2, where there is no third class).
    A1 : float or mpmath.mpf
        ``E a = E p_1(1 − p_1)``, integrated directly (SM-4 with ``b = 1``).
    A2 : float or mpmath.mpf
        ``E a² = E p_1²(1 − p_1)²``, integrated directly (SM-4 with ``b = 2``).
    P12 : float or mpmath.mpf
        ``E p_1 p_2``.

    Notes
    -----
    With ``a = p_1(1 − p_1)`` (diagonal weight) and ``b = −p_1 p_2`` (off-diagonal weight) of the
    linear cross-entropy Hessian (theory/cases.md, (CASE-2)): ``E a = 1/C − M_2``,
    ``E a² = M_2 − 2M_3 + M_4`` (``M_k = E p_1^k``),
    ``E b = −(1/C − M_2)/(C − 1)``, ``E b² = Q``; and ``E a² = (C−1) Q + (C−1)(C−2) T`` (SM-3).
    The block norms use the direct integrals ``A1``, ``A2``, ``P12``, whose integrands are sums of
    positive terms (SM-4): the differences ``1/C − M_2`` and ``M_2 − 2M_3 + M_4`` cancel
    catastrophically at large σ_v (at σ_v = 10, C = 3, ``M_2 − 2M_3 + M_4`` has the wrong sign;
    theory/softmax_moments.md, (SM-7)). The arithmetic is done in the type of the fields, so mpmath
    values stay exact to their precision.
    """

    classes: int
    sigma_v: float
    M1: object
    M2: object
    Q: object
    T: object
    A1: object
    A2: object
    P12: object

    @property
    def mean_a(self):
        """``E a = E p_1(1 − p_1)`` (``= 1/C − M_2``)."""
        return self.A1

    @property
    def mean_a2(self):
        """``E a² = E p_1²(1 − p_1)²``."""
        return self.A2

    @property
    def mean_b(self):
        """``E b = −E p_1 p_2`` (``= −(1/C − M_2)/(C − 1)``)."""
        return -self.P12

    @property
    def mean_b2(self):
        """``E b² = Q``."""
        return self.Q

    def g_diag(self, gamma):
        """``g_ii = (E a)² + γ E a²`` (CASE-2)."""
        return self.mean_a ** 2 + gamma * self.mean_a2

    def g_offdiag(self, gamma):
        """``g_ij = (E b)² + γ E b²`` (CASE-2)."""
        return self.mean_b ** 2 + gamma * self.mean_b2
