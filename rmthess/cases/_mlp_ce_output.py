r"""The ζ-expectation of the mlp-ce output draws (theory/cases.md, (CASE-32)).

Given ``(u, u')`` the logit pairs ``(x_c, y_c) = (v_c·s, v_c·s')`` of identical classes are iid
bivariate normal with standard deviations ``σ1 = √τ|s|``, ``σ2 = √τ|s'|`` and correlation
``ρ = ŝ·ŝ'``. With ``φ(t, t') = E exp(−t e^x − t' e^y)`` and
``ψ_jk = E[e^{jx+ky} exp(−t e^x − t' e^y)]``:

    O = E[p_1 p_2 p'_1 p'_2] = ∫∫ t t' ψ_11² φ^{C−2} dt dt',
    T = E[p_1 p_2 p'_1 p'_3] = ∫∫ t t' ψ_11 ψ_10 ψ_01 φ^{C−3} dt dt',
    D = E[p_1(1 − p_1) p'_1(1 − p'_1)] = (C − 1) O + (C − 1)(C − 2) T.

In the variables ``u = log t``, ``v = log t'`` and ``x = σ1 ξ``, ``y = βξ + γη`` (``β = σ2ρ``,
``γ = σ2√(1 − ρ²)``, ξ, η iid N(0, 1)), ``ψ_jk(u, v) = Σ_ξ A_j[u, ξ] B_k[ξ, v]`` with
``A_j = w_ξ e^{jσ1ξ} exp(−e^{u + σ1ξ})`` and ``B_k = e^{kβξ} F_k(v + βξ)``,
``F_k(z) = E_η[e^{kγη} exp(−e^{z + γη})]`` — a 1-D function, tabulated on a lattice in z and
interpolated (8-point Lagrange). ``1 − φ`` is summed directly from ``1 − e^{−a−b} = (1 − e^{−a})
+ e^{−a}(1 − e^{−b})`` and the power is ``exp(n log1p(−(1 − φ)))``. Every step is the trapezoid rule
on grids scaled to the widths of the integrands; :func:`output_expectations` evaluates many points
in parallel at a resolution ``res`` (steps divided by it, ranges widened), and
:func:`output_check` compares two resolutions.
"""

from __future__ import annotations

import math

import numpy as np

from rmthess._jit import interpreted, jit, parallel_jit, prange

__all__ = ["output_expectations", "output_check", "SIGMA_MAX", "OutputDomainError"]

#: nats of the tails left out of every range at resolution 1 (≈ 9.5 digits)
_NATS = 22.0
#: largest logit scale σ1, σ2 accepted: the tilted factors reach e^{2σ²} (float64 range)
SIGMA_MAX = 12.0
#: points per unit of the Lagrange lattice of F_k (per step of the v grid)
_LATTICE = 4
_LAGRANGE = 8
#: exponents below this are flushed to 0 (a product of two stays a normal float64)
_FLUSH = -300.0
_TINY = math.exp(_FLUSH)


class OutputDomainError(ValueError):
    """A point outside the domain where the quadrature is certified."""


@jit
def _decay(w):
    """``(exp(−e^w), 1 − exp(−e^w))``, the second without cancellation."""
    if w > 700.0:
        return 0.0, 1.0
    e = math.exp(w)
    return math.exp(-e), -math.expm1(-e)


@jit
def _tilted(lw, x, kmax):
    """``e^{lw + j x}`` for the tilts j = 0..kmax at every node (0 where the exponent is below
    −700: the products with ``exp(−e^w) ≤ 1`` are flushed anyway)."""
    out = np.zeros((kmax + 1, lw.size))
    for j in range(kmax + 1):
        for k in range(lw.size):
            a = lw[k] + j * x[k]
            if a > -700.0:
                out[j, k] = math.exp(a)
    return out


@jit
def _monomials(z, c0, c1, mono):
    """``(z − c0)^{mono[a, 0]} (z − c1)^{mono[a, 1]}`` at every node z, shape
    ``(len(mono), z.size)``."""
    out = np.empty((mono.shape[0], z.size))
    for a in range(mono.shape[0]):
        for k in range(z.size):
            out[a, k] = _centred_power(z[k], c0, mono[a, 0]) * _centred_power(z[k], c1, mono[a, 1])
    return out


@jit
def _grid(lo, hi, step):
    n = int(math.ceil((hi - lo) / step)) + 1
    return lo + step * np.arange(n)


@jit
def _flush(x):
    """``x``, or 0 when ``|x| < e^{−300}`` (interpolated tails)."""
    return x if abs(x) > _TINY else 0.0


@jit
def _flushed_exp(a):
    out = np.zeros(a.size)
    for i in range(a.size):
        if a[i] > _FLUSH:
            out[i] = math.exp(a[i])
    return out


@jit
def _log_gauss_weights(z):
    """Logarithms of the trapezoid weights of N(0, 1) on the grid z, normalized to sum 1."""
    lw = -0.5 * z * z
    return lw - math.log(np.exp(lw).sum())


@jit
def _log_range(sig, classes, nats, kmax, decay):
    """Range of u = log t: below, the integrand falls like e^{decay·u} (the prefactor t^{K−1}
    dt with K ≥ decay, after ψ's of tilt ≤ kmax saturate), above, ψ and φ^{C−q} cut it off
    (CASE-32, CASE-33)."""
    ell = math.sqrt(2.0 * nats)
    t0 = max(1.0, math.sqrt(2.0 * math.log(classes)))
    uc = -math.log(classes) - min(0.5 * sig * sig, sig * t0)
    lo = (min(uc, 0.0) - min(kmax * sig * sig + sig * ell, 2.0 * sig * ell) - nats / decay
          - 2.0)
    hi = max(uc, 0.0) + sig * ell + 6.0
    return lo, hi


@jit
def range_nats(res):
    """Nats of the tails left out of the ranges at resolution ``res`` (8 more per unit of res)."""
    return _NATS + 8.0 * (res - 1.0)


@jit
def u_step(res):
    """The step of the u, v grids at resolution ``res``: ``π²/(A + 3)/res`` (CASE-32), A the
    nats of the ranges."""
    return math.pi ** 2 / (range_nats(res) + 3.0) / res


@jit
def _centred_power(x, centre, n):
    return (x - centre) ** n if n > 0 else 1.0


@jit
def weighted_tables(s1, s2, rho, classes, res, kmax, decay, xmono, ymono, extra, ucap, vcap):
    """The factor tables of ``ψ_{k,k′,f}(u, v) = Σ_ξ A[k, a, u, ξ] B[k′, b, ξ, v]`` (CASE-32;
    polynomial weights, CASE-33) at resolution ``res``: ``x = σ1ξ``, ``y = βξ + γη``,

        A[k, a] = w_ξ e^{kσ1ξ} exp(−e^{u+σ1ξ}) (ξ − σ1)^{a0} (ξ − β)^{a1},
        B[k′, b] = e^{k′βξ} F_{k′,b}(v + βξ),
        F_{k′,b}(z) = E_η[η^{b0} (η − γ)^{b1} e^{k′γη} exp(−e^{z+γη})]

    for the exponent rows ``a = xmono[·]``, ``b = ymono[·]`` and the tilts ``0..kmax``; F on a
    lattice of step ``h_v/4``, 8-point Lagrange interpolation. ``decay``: the smallest power
    K of ``t^{K−1}dt`` (sets the lower ends); ``extra``: nats added to the ξ, η ranges for the
    polynomial weights; ``ucap``, ``vcap``: upper ends of u, v where the caller has bounded
    ``φ^{C−q}`` (+inf: none). Returns ``(u, v, h, A, B, cx, Bc)`` with
    ``cx[u] + Σ_ξ A[0, 0] Bc = 1 − φ`` (``xmono[0]`` and ``ymono[0]``: the constant weight)."""
    C = float(classes)
    nats = range_nats(res)
    ell = math.sqrt(2.0 * (nats + extra))
    rho = min(max(rho, 0.0), 1.0)
    beta = s2 * rho
    gam = s2 * math.sqrt(max(0.0, 1.0 - rho * rho))
    # ξ grid (x = σ1 ξ): features of width 1/σ1 in A, 1/β in B; tilts move the mass to kσ1 + k′β
    smax = max(s1, beta, 1e-300)
    hx = min(0.5, 0.45 / smax) / res
    xi = _grid(-ell, kmax * (s1 + beta) + ell, hx)
    lwx = _log_gauss_weights(xi)
    wx = _flushed_exp(lwx)
    he = (min(0.5, 0.45 / gam) if gam > 0.0 else 0.5) / res
    eta = _grid(-ell, kmax * gam + ell, he)
    lwe = _log_gauss_weights(eta)
    we = _flushed_exp(lwe)
    hu = u_step(res)
    ulo, uhi = _log_range(s1, C, nats, kmax, decay)
    vlo, vhi = _log_range(s2, C, nats, kmax, decay)
    uhi = max(min(uhi, ucap), ulo + hu)
    vhi = max(min(vhi, vcap), vlo + hu)
    u = _grid(ulo, uhi, hu)
    v = _grid(vlo, vhi, hu)
    nu, nv, nx, ne = u.size, v.size, xi.size, eta.size
    na, nb = xmono.shape[0], ymono.shape[0]
    # exp(lw + jσξ − e^w) = e^{lw + jσξ} · exp(−e^w): the first factor per node, the second per
    # (u, ξ), shared by the tilts and by 1 − exp(−e^w) (three exponentials a point, not 2k + 4)
    tx = _tilted(lwx, s1 * xi, kmax)
    mx = _monomials(xi, s1, beta, xmono)
    A = np.empty((kmax + 1, na, nu, nx))
    cx = np.zeros(nu)
    for i in range(nu):
        for k in range(nx):
            em, hc = _decay(u[i] + s1 * xi[k])
            cx[i] += wx[k] * hc
            for j in range(kmax + 1):
                h = _flush(tx[j, k] * em)
                for a in range(na):
                    A[j, a, i, k] = h * mx[a, k]
    delta = hu / _LATTICE
    half = _LAGRANGE // 2
    zlo = vlo + beta * xi[0] - half * delta
    nz = int(math.ceil((vhi + beta * xi[nx - 1] - zlo) / delta)) + _LAGRANGE + 1
    te = _tilted(lwe, gam * eta, kmax)
    me = _monomials(eta, 0.0, gam, ymono)
    F = np.zeros((kmax + 1, nb, nz))
    Fc = np.zeros(nz)
    for r in range(nz):
        z = zlo + r * delta
        for k in range(ne):
            em, hc = _decay(z + gam * eta[k])
            Fc[r] += we[k] * hc
            for j in range(kmax + 1):
                h = _flush(te[j, k] * em)
                for b in range(nb):
                    F[j, b, r] += h * me[b, k]
    B = np.empty((kmax + 1, nb, nx, nv))
    Bc = np.empty((nx, nv))
    basis = np.empty(_LAGRANGE)
    for k in range(nx):
        pos = (vlo + beta * xi[k] - zlo) / delta
        i0 = int(math.floor(pos)) - half + 1
        t = pos - i0
        for a in range(_LAGRANGE):
            val = 1.0
            for b in range(_LAGRANGE):
                if b != a:
                    val *= (t - b) / (a - b)
            basis[a] = val
        for j in range(nv):
            fc = 0.0
            for a in range(_LAGRANGE):
                fc += basis[a] * Fc[i0 + a + j * _LATTICE]
            Bc[k, j] = _flush(fc)
        for jt in range(kmax + 1):
            eb = math.exp(jt * beta * xi[k])
            for b in range(nb):
                for j in range(nv):
                    f = 0.0
                    for a in range(_LAGRANGE):
                        f += basis[a] * F[jt, b, i0 + a + j * _LATTICE]
                    B[jt, b, k, j] = _flush(eb * f)
    return u, v, hu, A, B, cx, Bc


@jit
def _log_phi(cx, A0, B0, Bc):
    """``log φ`` on the (u, v) grid from the tables: ``1 − φ`` summed directly where it is below
    ½ (``φ^n = exp(n log1p(−(1 − φ)))``), else ``log φ``; −inf where φ underflows."""
    nu, nx = A0.shape
    nv = B0.shape[1]
    P00 = np.zeros((nu, nv))
    Pc = np.zeros((nu, nv))
    for i in range(nu):
        for k in range(nx):
            a0 = A0[i, k]
            if a0 == 0.0:
                continue
            for j in range(nv):
                P00[i, j] += a0 * B0[k, j]
                Pc[i, j] += a0 * Bc[k, j]
    out = np.empty((nu, nv))
    for i in range(nu):
        for j in range(nv):
            c = cx[i] + Pc[i, j]
            if c < 0.5:
                out[i, j] = math.log1p(-c)
            elif P00[i, j] > 0.0:
                out[i, j] = math.log(P00[i, j])
            else:
                out[i, j] = -math.inf
    return out


_CONSTANT = np.zeros((1, 2), dtype=np.int64)


@jit
def _point(s1, s2, rho, classes, res):
    """(D, O) of (CASE-32) at one point, resolution ``res``."""
    C = float(classes)
    u, v, hu, A, B, cx, Bc = weighted_tables(s1, s2, rho, classes, res, 1, 2.0, _CONSTANT,
                                             _CONSTANT, 0.0, math.inf, math.inf)
    A0, A1, B0, B1 = A[0, 0], A[1, 0], B[0, 0], B[1, 0]
    lphi = _log_phi(cx, A0, B0, Bc)
    nu, nv, nx = u.size, v.size, A0.shape[1]
    P11 = np.zeros((nu, nv))
    P10 = np.zeros((nu, nv))
    P01 = np.zeros((nu, nv))
    for i in range(nu):                 # ψ_jk = A_j B_k (no BLAS: one fused pass)
        for k in range(nx):
            a0 = A0[i, k]
            a1 = A1[i, k]
            if a0 == 0.0 and a1 == 0.0:
                continue
            for j in range(nv):
                b0 = B0[k, j]
                b1 = B1[k, j]
                P11[i, j] += a1 * b1
                P10[i, j] += a1 * b0
                P01[i, j] += a0 * b1
    so = 0.0
    st = 0.0
    for i in range(nu):
        for j in range(nv):
            if P11[i, j] <= 0.0 or lphi[i, j] == -math.inf:
                continue
            base = 2.0 * (u[i] + v[j]) + math.log(P11[i, j])
            so += math.exp(base + math.log(P11[i, j]) + (C - 2.0) * lphi[i, j])
            if classes > 2 and P10[i, j] > 0.0 and P01[i, j] > 0.0:
                st += math.exp(base + math.log(P10[i, j]) + math.log(P01[i, j])
                               + (C - 3.0) * lphi[i, j])
    so *= hu * hu
    st *= hu * hu
    return (C - 1.0) * so + (C - 1.0) * (C - 2.0) * st, so


@parallel_jit
def _points(s1, s2, rho, classes, res, out):  # twin: _points.py_func
    for n in prange(s1.size):
        if s1[n] > 0.0 and s2[n] > 0.0:
            d, o = _point(s1[n], s2[n], rho[n], classes, res)
        else:
            d, o = 0.0, 0.0
        out[n, 0] = d
        out[n, 1] = o


def quadrature_points(s1, s2, rho, classes, what):
    """The points ``(σ1, σ2, ρ)`` of a quadrature over ζ as contiguous float64 arrays of one length,
    validated: ``classes`` ≥ 2 and every scale within :data:`SIGMA_MAX` (else
    ``OutputDomainError``, naming ``what``)."""
    s1 = np.ascontiguousarray(s1, dtype=np.float64).reshape(-1)
    s2 = np.ascontiguousarray(s2, dtype=np.float64).reshape(-1)
    rho = np.ascontiguousarray(rho, dtype=np.float64).reshape(-1)
    if not (s1.size == s2.size == rho.size):
        raise ValueError("s1, s2 and rho must have one length")
    big = max(float(s1.max(initial=0.0)), float(s2.max(initial=0.0)))
    if not big <= SIGMA_MAX:
        raise OutputDomainError(f"logit scale {big:.3g} above {SIGMA_MAX:g}: {what} is not "
                                f"certified there")
    if int(classes) < 2:
        raise ValueError(f"classes must be >= 2, got {classes!r}")
    return s1, s2, rho


def output_expectations(s1, s2, rho, classes, *, res=1.0, compiled=True):
    """``(n, 2)`` array of ``(D, O)`` of (CASE-32) at the points ``(σ1, σ2, ρ)`` (arrays of one
    length; a point with σ1 = 0 or σ2 = 0 gives zeros — its output draw carries ``(s·s')² = 0``).

    ``OutputDomainError`` (a ``ValueError``) for a scale above :data:`SIGMA_MAX`."""
    s1, s2, rho = quadrature_points(s1, s2, rho, classes, "the output quadrature of (CASE-32)")
    out = np.empty((s1.size, 2))
    (_points if compiled else interpreted(_points))(s1, s2, rho, int(classes), float(res), out)
    return out


def output_check(s1, s2, rho, classes):
    """Largest relative difference of ``(D, O)`` between resolutions 1 and 2 over the points."""
    a = output_expectations(s1, s2, rho, classes)
    b = output_expectations(s1, s2, rho, classes, res=2.0)
    scale = np.maximum(np.abs(b), 1e-300)
    mask = b > 0
    return float(np.max(np.abs(a - b)[mask] / scale[mask], initial=0.0))
