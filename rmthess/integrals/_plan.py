"""Bookkeeping shared by the float64 and mpmath evaluations of Gaussian-softmax moments.

A mixed moment ``E[p_1^{k_1} ⋯ p_q^{k_q} (1 − p_1 − ⋯ − p_q)^b]`` is written
(theory/softmax_moments.md, (SM-4)) as a sum over the integer partitions of ``b`` of one-dimensional
integrals in ``u = log t``:

    (1/Γ(K)) Σ_π c_π (n)_ℓ e^{Σ k²σ²/2} ∫ e^{K u} Π_k φ(e^{u + k σ²}) · φ(e^u)^{n − ℓ} du,

``K = Σ k_i + b``, ``n = C − q``, ``ℓ`` the number of parts of π. This module lists the terms and
chooses the lattice (step, ranges) from the requested precision; it does no arithmetic on the
integrands.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

__all__: list[str] = []


@dataclass(frozen=True)
class _Term:
    coef: Fraction          # combinatorial coefficient c_π / Γ(K) without the falling factorial
    parts: int              # ℓ, the number of parts (the falling factorial is (n)_ℓ)
    shifts: tuple[int, ...]  # the k of every tilted factor φ(e^{u + kσ²}), with multiplicity
    log_tilt_units: int     # Σ k² (the prefactor is exp(σ² Σk²/2))


@dataclass(frozen=True)
class _Spec:
    powers: tuple[int, ...]
    rest_power: int
    K: int
    terms: tuple[_Term, ...]


def _partitions(b: int, largest: int | None = None):
    """Integer partitions of ``b`` as non-increasing tuples."""
    if b == 0:
        yield ()
        return
    largest = b if largest is None else largest
    for first in range(min(b, largest), 0, -1):
        for rest in _partitions(b - first, first):
            yield (first,) + rest


def _spec(powers, rest_power: int) -> _Spec:
    powers = tuple(int(k) for k in powers)
    if not powers or any(k < 1 for k in powers):
        raise ValueError(f"powers must be a non-empty sequence of integers >= 1, got {powers!r}")
    rest_power = int(rest_power)
    if rest_power < 0:
        raise ValueError(f"rest_power must be an integer >= 0, got {rest_power!r}")
    K = sum(powers) + rest_power
    terms = []
    for part in _partitions(rest_power):
        mult: dict[int, int] = {}
        for j in part:
            mult[j] = mult.get(j, 0) + 1
        c = Fraction(math.factorial(rest_power))
        for j in part:
            c /= math.factorial(j)
        for m in mult.values():
            c /= math.factorial(m)
        c /= math.factorial(K - 1)
        shifts = powers + part
        terms.append(_Term(c, len(part), shifts, sum(k * k for k in shifts)))
    return _Spec(powers, rest_power, K, tuple(terms))


def _moment_specs(classes: int) -> list[_Spec]:
    """The specs of ``M_1``, ``M_2``, ``Q``, ``A1``, ``A2``, ``P12`` and (for C >= 3) ``T``.

    No spec tilts by more than ``2σ²`` (the Gaussian weight of the tilted factors stays in float64
    range up to the σ_v limit of :data:`rmthess._validate.SOFTMAX_SIGMA_V`); :func:`_moment_fields`
    puts the values in :class:`SoftmaxMoments` order.
    """
    specs = [_spec([1], 0), _spec([2], 0), _spec([2, 2], 0),
             _spec([1], 1), _spec([2], 2), _spec([1, 1], 0)]
    if classes >= 3:
        specs.append(_spec([2, 1, 1], 0))
    return specs


def _moment_fields(values, zero):
    """``(M1, M2, Q, T, A1, A2, P12)`` from the values of :func:`_moment_specs`."""
    M1, M2, Q, A1, A2, P12 = values[:6]
    T = values[6] if len(values) > 6 else zero
    return M1, M2, Q, T, A1, A2, P12


def _falling(n: int, ell: int) -> int:
    out = 1
    for i in range(ell):
        out *= n - i
    return out


@dataclass(frozen=True)
class _Lattice:
    h: float          # lattice step in u (and σ·step in z)
    half_width: int   # J_lo: the Gaussian kernel runs over j = -J_lo..J_hi, z_j = j h / σ
    upper_width: int  # J_hi
    u_lo: float
    u_hi: float


def _budget(digits: float) -> float:
    """Target: errors below exp(-A) relative, A = ln(10)·digits + guard."""
    return math.log(10.0) * digits + 4.0


def _lattice(sigma: float, classes: int, specs, digits: float) -> _Lattice:
    """Step and ranges for a relative error ~10^-digits (see (SM-6) for the error bounds)."""
    A = _budget(digits)
    kmax = max(s.K for s in specs)
    # strip of half-width π/2 in u: trapezoid error ~ exp(-π²/h); the factor (cos y)^-K is paid
    # with a few extra units of A.  Gaussian kernel in z: error ~ exp(-2π²σ²/h²).
    h = min(math.pi ** 2 / (A + 2.0 + 0.5 * kmax), math.pi * sigma * math.sqrt(2.0 / A))
    s2 = sigma * sigma
    if s2 >= h:  # make σ² a multiple of h, so every tilted factor lies on one lattice
        h = s2 / math.ceil(s2 / h - 1e-12)
    # Gaussian kernel range: the tilted factors φ(e^{u + kσ²}) draw their mass from z ≈ −kσ,
    # 1 − φ(t) ≈ t E e^{σZ} from z ≈ +σ
    L = math.sqrt(2.0 * A)
    J = math.ceil((L + kmax * sigma) * sigma / h)
    J_hi = math.ceil((L + sigma) * sigma / h)
    Kmin = min(s.K for s in specs)
    uc = -math.log(classes) - 0.5 * s2
    u_lo = min(uc, 0.0) - A / Kmin - 2.0
    u_hi = max(uc, 0.0) + math.sqrt(2.0 * A) * sigma + 6.0
    return _Lattice(h, J, J_hi, u_lo, u_hi)


def _check_classes(classes: int, specs) -> None:
    need = max(len(s.powers) for s in specs)
    if classes < need:
        raise ValueError(f"a moment of {need} distinct coordinates needs classes >= {need}, "
                         f"got classes={classes}")
