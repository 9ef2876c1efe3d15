r"""Gaussian-softmax moments in float64 by the one-dimensional integral representation.

For ``p = softmax(z)``, ``z ~ N(0, σ² I_C)``, ``X_i = e^{σ z_i}``, ``S = Σ X_i``, every mixed moment
``E[p_1^{k_1} ⋯ p_q^{k_q} (1 − p_1 − ⋯ − p_q)^b]`` is a finite sum of integrals over ``u = log t``
of products of ``φ(t) = E exp(−t e^{σZ})`` (theory/softmax_moments.md, (SM-2), (SM-4)). C enters
only as an exponent, so the cost does not depend on C. ``φ`` is evaluated on one lattice in
``w = u + σz`` by a discrete convolution with a Gaussian kernel (SM-5); ``1 − φ`` is computed
directly, and ``φ^{n} = exp(n log1p(−(1 − φ)))``.
"""

from __future__ import annotations

import math

import numpy as np

from rmthess._validate import CLASSES, SIGMA_V, SOFTMAX_SIGMA_V
from rmthess.integrals._plan import (
    _check_classes,
    _falling,
    _lattice,
    _moment_fields,
    _moment_specs,
    _spec,
)
from rmthess.integrals.moments import SoftmaxMoments

__all__ = ["softmax_moments", "softmax_mixed_moment"]

_DIGITS = 15.5          # target relative error ~3e-16 per integral before rounding
_MAX_EXTEND = 12
#: largest tilt k·σ_v of a factor φ(e^{u + kσ²}): its Gaussian weight e^{-(kσ + L)²/2} must stay
#: inside float64 (measured: the k = 2 moments agree with the mpmath oracle to 1e-12 up to kσ = 34
#: and break down at kσ = 36; theory/softmax_moments.md, (SM-7))
_MAX_TILT = 30.0


def _phi_tables(h, J, J_hi, sigma, u_lo, n, ks):
    """``log φ(e^{u_i + kσ²})`` on ``u_i = u_lo + i h`` for every k in ``ks`` (SM-5)."""
    j = np.arange(-J, J_hi + 1)
    zj = j * (h / sigma)
    g = (h / sigma) * np.exp(-0.5 * zj * zj) / math.sqrt(2.0 * math.pi)
    s2 = sigma * sigma
    groups: dict[float, list[tuple[int, int, float]]] = {}
    for k in ks:
        q = math.floor(k * s2 / h + 1e-9)
        r = k * s2 - q * h
        groups.setdefault(round(r / h, 9), []).append((k, q, r))
    out = {}
    for members in groups.values():
        r = members[0][2]
        qmax = max(m[1] for m in members)
        w = u_lo + r + (np.arange(n + qmax + J + J_hi) - J) * h
        ew = np.exp(np.minimum(w, 700.0))
        E = np.exp(-ew)
        Ec = -np.expm1(-ew)
        phi = np.convolve(E, g[::-1], mode="valid")
        omp = np.convolve(Ec, g[::-1], mode="valid")
        with np.errstate(divide="ignore"):
            logphi = np.where(omp < 0.5, np.log1p(-np.minimum(omp, 0.5)), np.log(phi))
        for k, q, _ in members:
            out[k] = logphi[q:q + n]
    return out


def _evaluate(specs, classes: int, sigma: float, digits: float = _DIGITS):
    lat = _lattice(sigma, classes, specs, digits)
    tol = math.exp(-math.log(10.0) * digits)
    h, J, J_hi, u_lo, u_hi = lat.h, lat.half_width, lat.upper_width, lat.u_lo, lat.u_hi
    ks = sorted({0} | {k for s in specs for t in s.terms for k in t.shifts})
    s2 = sigma * sigma
    for _ in range(_MAX_EXTEND):
        n = int(math.ceil((u_hi - u_lo) / h)) + 1
        u = u_lo + h * np.arange(n)
        logphi = _phi_tables(h, J, J_hi, sigma, u_lo, n, ks)
        values, extend_lo, extend_hi = [], 0.0, 0.0
        for spec in specs:
            nrest = classes - len(spec.powers)
            f = np.zeros(n)
            for term in spec.terms:
                ff = _falling(nrest, term.parts)
                if ff == 0:
                    continue
                logf = spec.K * u + 0.5 * s2 * term.log_tilt_units
                logf = logf + math.log(float(term.coef)) + math.log(float(ff))
                for k in term.shifts:
                    logf = logf + logphi[k]
                if nrest - term.parts:
                    logf = logf + (nrest - term.parts) * logphi[0]
                f += np.exp(logf)
            total = h * f.sum()
            if not total > 0.0:
                raise ValueError("the moment underflows float64; use the mpmath version")
            if f[0] / spec.K > tol * total:
                extend_lo = max(extend_lo, math.log(f[0] / (spec.K * tol * total)) / spec.K + 2.0)
            if f[-1] > tol * total * 1e-3:
                extend_hi = 10.0
            values.append(total)
        if extend_lo == 0.0 and extend_hi == 0.0:
            return values
        u_lo -= extend_lo
        u_hi += extend_hi
    raise RuntimeError(  # pragma: no cover
        "softmax moment quadrature did not localise its integrand")


def _validated(classes, sigma_v, specs=()):
    classes, sigma = CLASSES.validate(classes), SIGMA_V.validate(sigma_v)
    try:
        SOFTMAX_SIGMA_V.validate(sigma)
    except ValueError:
        raise ValueError(f"sigma_v={sigma_v!r} is outside [{SOFTMAX_SIGMA_V.low:g}, "
                         f"{SOFTMAX_SIGMA_V.high:g}], where the float64 softmax moments are "
                         "accurate to 1e-12; the mpmath evaluation (softmax_moments_mp, or "
                         "--digits on the command line) has no such limit") from None
    kmax = max((k for s in specs for t in s.terms for k in t.shifts), default=0)
    if kmax * sigma > _MAX_TILT:
        raise ValueError(f"a moment with power {kmax} needs {kmax}·sigma_v <= {_MAX_TILT:g} in "
                         f"float64 (got sigma_v={sigma_v!r}); use softmax_mixed_moment_mp")
    return classes, sigma


def softmax_mixed_moment(powers, rest_power=0, classes=2, sigma_v=1.0) -> float:
    r"""Mixed moment ``E[p_1^{k_1} ⋯ p_q^{k_q} (1 − p_1 − ⋯ − p_q)^b]`` in float64.

    Parameters
    ----------
    powers : sequence of int
        ``(k_1, …, k_q)``, each ``>= 1``; the classes ``1..q`` are distinct, so ``q <= classes``.
    rest_power : int, optional
        ``b >= 0``, the power of the total probability of the other classes.
    classes : int
        Number of classes ``C >= 2``.
    sigma_v : float
        Logit standard deviation, in ``[1e-3, 15]`` and with ``max(k_i, b)·σ_v <= 30`` (the range
        where float64 holds the stated accuracy; :func:`softmax_mixed_moment_mp` has no limit).

    Returns
    -------
    float
        The moment (theory/softmax_moments.md, (SM-6)); within a relative 1e-12 of
        :func:`rmthess.integrals.softmax_mixed_moment_mp` (``tests/integrals/test_softmax.py``).

    Notes
    -----
    ``p = softmax(z)``, ``z ~ N(0, σ² I_C)``. Representation (SM-4): with
    ``ψ_k(t) = E[X^k e^{−tX}] = e^{k²σ²/2} φ(e^{kσ²} t)`` and ``R`` the sum of the other
    ``n = C − q`` exponentials,
    ``E[Π X_i^{k_i} R^b S^{−K}] = Γ(K)^{−1} ∫ t^{K−1} Π ψ_{k_i}(t) E[R^b e^{−tR}] dt``, and
    ``E[R^b e^{−tR}]`` is a positive sum over the partitions of b (no cancellation).

    References
    ----------
    Dong et al., *Towards Quantifying the Hessian Structure of Neural Networks*, arXiv:2505.02809.

    Examples
    --------
    >>> from rmthess.integrals import softmax_mixed_moment
    >>> round(softmax_mixed_moment([1], classes=7), 12)   # E p_1 = 1/C
    0.142857142857
    """
    spec = _spec(powers, rest_power)
    classes, sigma = _validated(classes, sigma_v, [spec])
    _check_classes(classes, [spec])
    return float(_evaluate([spec], classes, sigma)[0])


def softmax_moments(classes, sigma_v=1.0) -> SoftmaxMoments:
    r"""``E p_1^k`` (k = 1, 2), ``E a``, ``E a²``, ``E p_1p_2``, ``Q = E p_1²p_2²``,
    ``T = E p_1²p_2p_3``.

    Parameters
    ----------
    classes : int
        Number of classes ``C >= 2`` (any size: the cost does not depend on C).
    sigma_v : float, optional
        Logit standard deviation ``σ_v`` in ``[1e-3, 15]`` (LeCun initialisation: 1); outside, a
        ``ValueError`` points to :func:`rmthess.integrals.softmax_moments_mp`.

    Returns
    -------
    SoftmaxMoments
        Relative error ≤ 1e-12 for C in [2, 10^6] and σ_v in [1e-3, 15] (tested against the mpmath
        oracle :func:`rmthess.integrals.softmax_moments_mp`).

    Notes
    -----
    theory/softmax_moments.md, (SM-2):
    ``M_k = e^{k²σ²/2}/Γ(k) ∫ t^{k−1} φ(e^{kσ²}t) φ(t)^{C−1} dt``,
    ``Q = e^{4σ²}/6 ∫ t³ φ(e^{2σ²}t)² φ(t)^{C−2} dt``,
    ``T = e^{3σ²}/6 ∫ t³ φ(e^{2σ²}t) φ(e^{σ²}t)² φ(t)^{C−3} dt``; ``E a``, ``E a²`` and ``E p_1p_2``
    are integrated directly by (SM-4), without the cancelling differences of (SM-7).

    References
    ----------
    Dong et al., arXiv:2505.02809, theorem 1.

    Examples
    --------
    >>> from rmthess.integrals import softmax_moments
    >>> m = softmax_moments(2)
    >>> abs(m.M1 - 0.5) < 1e-14                    # symmetry
    True
    >>> abs(m.mean_a2 - m.Q) < 1e-14               # C = 2: p_1(1 - p_1) = p_1 p_2
    True
    """
    specs = _moment_specs(2)
    classes, sigma = _validated(classes, sigma_v, specs)
    specs = _moment_specs(classes)
    vals = _evaluate(specs, classes, sigma)
    return SoftmaxMoments(classes, sigma, *[float(v) for v in _moment_fields(vals, 0.0)])
