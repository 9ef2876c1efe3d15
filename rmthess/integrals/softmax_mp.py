r"""Gaussian-softmax moments to any number of digits with mpmath — the package's oracle.

The same representation as :mod:`rmthess.integrals.softmax` ((SM-2), (SM-4)), evaluated with mpmath
numbers inside ``mpmath.workdps``: the lattice step and ranges are chosen from the requested digits
by the error bounds of (SM-6), and the integrand is checked to be negligible at both ends of the
range (the range is extended otherwise).
"""

from __future__ import annotations

import math

import mpmath

from rmthess._cost import check_cost
from rmthess._validate import CLASSES, DIGITS, SIGMA_V
from rmthess.integrals._plan import (
    _check_classes,
    _falling,
    _lattice,
    _moment_fields,
    _moment_specs,
    _spec,
)
from rmthess.integrals.moments import SoftmaxMoments

__all__ = ["softmax_moments_mp", "softmax_mixed_moment_mp"]

_GUARD = 6          # extra decimal digits carried inside the evaluation
_MAX_EXTEND = 12


def _phi_tables(h, J, J_hi, sigma, u_lo, n, ks):
    j = range(-J, J_hi + 1)
    c = h / sigma / mpmath.sqrt(2 * mpmath.pi)
    g = [c * mpmath.exp(-(jj * h / sigma) ** 2 / 2) for jj in j]
    s2 = sigma * sigma
    groups: dict[int, list[tuple[int, int]]] = {}
    for k in ks:
        q = int(mpmath.floor(k * s2 / h + mpmath.mpf(10) ** (-9)))
        r = k * s2 - q * h
        key = int(mpmath.nint(r / h * mpmath.mpf(10) ** (mpmath.mp.dps - 4)))
        groups.setdefault(key, []).append((k, q, r))
    out = {}
    for members in groups.values():
        r = members[0][2]
        qmax = max(m[1] for m in members)
        m = n + qmax + J + J_hi
        E, Ec = [], []
        for node in range(m):
            ew = mpmath.exp(u_lo + r + (node - J) * h)
            E.append(mpmath.exp(-ew))
            Ec.append(-mpmath.expm1(-ew))
        logphi = []
        half = mpmath.mpf(1) / 2
        for i in range(n + qmax):
            omp = mpmath.fdot(g, Ec[i:i + J + J_hi + 1])
            if omp < half:
                logphi.append(mpmath.log1p(-omp))
            else:
                logphi.append(mpmath.log(mpmath.fdot(g, E[i:i + J + J_hi + 1])))
        for k, q, _ in members:
            out[k] = logphi[q:q + n]
    return out


#: seconds per kernel term of the φ tables at 30 digits (measured: 2e-5 s on one core, pure-Python
#: mpmath backend), growing slowly with the digits
_SECONDS_PER_TERM = 2e-5


def _check_mp_cost(specs, classes: int, sigma: float, dps: int) -> None:
    """Refuse an evaluation estimated to exceed the time guard (:func:`rmthess._cost.check_cost`).

    The cost is the number of kernel terms, ``Σ_groups (n + q_max)(J_lo + J_hi + 1)``, of the φ
    tables (SM-5): it grows like ``digits^{5/2}`` and like σ_v² at large σ_v, and like ``1/σ_v`` at
    small σ_v.
    """
    lat = _lattice(sigma, classes, specs, dps + 2)
    n = math.ceil((lat.u_hi - lat.u_lo) / lat.h) + 1
    kmax = max(k for s in specs for t in s.terms for k in t.shifts)
    groups = 1 if sigma * sigma >= lat.h else kmax + 1
    rows = n + math.floor(kmax * sigma * sigma / lat.h)
    terms = groups * rows * (lat.half_width + lat.upper_width + 1)
    check_cost(f"the mpmath softmax moments at {dps} digits (sigma_v={sigma:g})",
               nbytes=groups * 4 * (rows + lat.half_width + lat.upper_width) * (120 + 0.42 * dps),
               seconds=terms * _SECONDS_PER_TERM * (1.0 + dps / 300.0),
               hint="use fewer digits")


def _evaluate(specs, classes: int, sigma, digits: int):
    lat = _lattice(float(sigma), classes, specs, digits)
    h = mpmath.mpf(lat.h)
    s2f = float(sigma) ** 2
    if s2f >= lat.h:  # keep σ² an exact multiple of h at the working precision
        h = sigma * sigma / int(round(s2f / lat.h))
    J, J_hi = lat.half_width, lat.upper_width
    u_lo, u_hi = mpmath.mpf(lat.u_lo), mpmath.mpf(lat.u_hi)
    tol = mpmath.mpf(10) ** (-digits)
    ks = sorted({0} | {k for s in specs for t in s.terms for k in t.shifts})
    for _ in range(_MAX_EXTEND):
        n = int(mpmath.ceil((u_hi - u_lo) / h)) + 1
        logphi = _phi_tables(h, J, J_hi, sigma, u_lo, n, ks)
        values, extend_lo, extend_hi = [], 0.0, 0.0
        for spec in specs:
            nrest = classes - len(spec.powers)
            f = [mpmath.mpf(0)] * n
            for term in spec.terms:
                ff = _falling(nrest, term.parts)
                if ff == 0:
                    continue
                pre = (mpmath.log(mpmath.mpf(term.coef.numerator) / term.coef.denominator * ff)
                       + sigma * sigma * term.log_tilt_units / 2)
                for i in range(n):
                    lf = pre + spec.K * (u_lo + i * h)
                    for k in term.shifts:
                        lf += logphi[k][i]
                    if nrest - term.parts:
                        lf += (nrest - term.parts) * logphi[0][i]
                    f[i] += mpmath.exp(lf)
            total = h * mpmath.fsum(f)
            if f[0] / spec.K > tol * total:
                extend_lo = max(extend_lo,
                                float(mpmath.log(f[0] / (spec.K * tol * total))) / spec.K + 2.0)
            if f[-1] > tol * total * mpmath.mpf(10) ** -3:
                extend_hi = 10.0
            values.append(total)
        if extend_lo == 0.0 and extend_hi == 0.0:
            return values
        u_lo -= extend_lo
        u_hi += extend_hi
    raise RuntimeError(  # pragma: no cover
        "softmax moment quadrature did not localise its integrand")


def _validated(classes, sigma_v, dps):
    return CLASSES.validate(classes), sigma_v, DIGITS.validate(dps)


def _sigma_mp(sigma_v):
    if isinstance(sigma_v, (mpmath.mpf, str)):
        s = mpmath.mpf(sigma_v)
        SIGMA_V.validate(float(s))
        return s
    return mpmath.mpf(SIGMA_V.validate(sigma_v))


def softmax_mixed_moment_mp(powers, rest_power=0, classes=2, sigma_v=1.0, dps=30):
    r"""Mixed moment ``E[p_1^{k_1} ⋯ p_q^{k_q} (1 − p_1 − ⋯ − p_q)^b]`` to ``dps`` digits (mpmath).

    Parameters
    ----------
    powers, rest_power, classes, sigma_v
        As in :func:`rmthess.integrals.softmax_mixed_moment`; ``sigma_v`` may be an ``mpf`` or a
        decimal string to be taken exactly.
    dps : int
        Decimal digits of the result.

    Returns
    -------
    mpmath.mpf
        The moment, rounded to ``dps`` digits (relative error about ``10^{-dps}``, (SM-6)).

    Notes
    -----
    Evaluated inside ``mpmath.workdps(dps + 6)``; the global precision is left untouched.

    Examples
    --------
    >>> import mpmath
    >>> from rmthess.integrals import softmax_mixed_moment_mp
    >>> mpmath.nstr(softmax_mixed_moment_mp([1], classes=3, dps=20), 20)   # E p_1 = 1/3
    '0.33333333333333333333'
    """
    classes, _, dps = _validated(classes, sigma_v, dps)
    spec = _spec(powers, rest_power)
    _check_classes(classes, [spec])
    _check_mp_cost([spec], classes, float(_sigma_mp(sigma_v)), dps)
    with mpmath.workdps(dps + _GUARD):
        sigma = _sigma_mp(sigma_v)
        val = _evaluate([spec], classes, sigma, dps + 2)[0]
    with mpmath.workdps(dps):
        return +val


def softmax_moments_mp(classes, sigma_v=1.0, dps=30) -> SoftmaxMoments:
    r"""The moments of :func:`rmthess.integrals.softmax_moments` as mpmath numbers to ``dps``
    digits.

    Parameters
    ----------
    classes : int
        Number of classes ``C >= 2``.
    sigma_v : float, str or mpmath.mpf, optional
        Logit standard deviation ``σ_v > 0``.
    dps : int, optional
        Decimal digits.

    Returns
    -------
    SoftmaxMoments
        Fields are ``mpf`` values; derived quantities (``mean_a``…) keep their precision when
        computed inside ``mpmath.workdps(dps)``.

    Notes
    -----
    theory/softmax_moments.md, (SM-2) and (SM-6). The cost grows roughly like ``dps²`` and does not
    depend on C.

    Examples
    --------
    >>> import mpmath
    >>> from rmthess.integrals import softmax_moments_mp
    >>> m = softmax_moments_mp(2, dps=20)
    >>> mpmath.nstr(m.M1, 20)
    '0.5'
    """
    classes, _, dps = _validated(classes, sigma_v, dps)
    specs = _moment_specs(classes)
    _check_mp_cost(specs, classes, float(_sigma_mp(sigma_v)), dps)
    with mpmath.workdps(dps + _GUARD):
        sigma = _sigma_mp(sigma_v)
        vals = _evaluate(specs, classes, sigma, dps + 2)
    with mpmath.workdps(dps):
        fields = [+v for v in _moment_fields(vals, mpmath.mpf(0))]
    return SoftmaxMoments(classes, float(sigma), *fields)
