r"""Softmax moments of Gaussian logits with class offsets (theory/softmax_moments.md, SMO-1–4).

``p = softmax(z + b)``, ``z ~ N(0, σ² I_C)``: the classes are no longer identical, and the
one-dimensional representation (SM-2) becomes an integral of a product of per-class Laplace
transforms ``φ(e^{u + b_c})``. Every sum over classes of a smooth function of ``u + b_c`` is
evaluated through the offsets' measure projected onto a lattice by local Lagrange weights (SMO-3),
so the cost is ``O(C p + n·M)`` (``n`` lattice points in ``u``, ``M`` in the range of the offsets),
not ``O(C n)`` and never ``O(C²)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from rmthess._validate import SIGMA_V
from rmthess.integrals._plan import _budget
from rmthess.integrals.softmax import _phi_tables

__all__ = ["OffsetMoments", "offset_softmax_moments"]

#: Lagrange interpolation order of the offset projection (SMO-3): with the step δ ≤ 0.1 and the
#: strip of analyticity |Im w| < π/2, the local error is ~ (2δ/π)^P ≈ 1e-19
_P = 14
#: classes with π_c ≥ this are summed one by one, so that "all classes but c" never cancels (SMO-3)
_HEAVY = 0.05


@dataclass(frozen=True)
class OffsetMoments:
    """Per-class moments of ``a_c = p_c(1 − p_c)`` and pair sums of ``b_cc' = −p_c p_c'``.

    ``mean_a[c] = E a_c``, ``mean_a2[c] = E a_c²``; ``pair_b[k] = E p_c p_c'`` and
    ``pair_b2[k] = E p_c² p_c'²`` for the requested pairs; ``sum_b_sq = Σ_{c≠c'} (E p_c p_c')²``
    and ``sum_b2 = Σ_{c≠c'} E p_c² p_c'²`` over ordered pairs (SMO-4).
    """

    sigma_v: float
    mean_a: np.ndarray
    mean_a2: np.ndarray
    pairs: tuple
    pair_b: np.ndarray
    pair_b2: np.ndarray
    sum_b_sq: float
    sum_b2: float

    @property
    def classes(self) -> int:
        return len(self.mean_a)

    def g_diag(self, gamma) -> np.ndarray:
        """``g_ii(c) = (E a_c)² + γ E a_c²`` for every class (SMO-1)."""
        return self.mean_a ** 2 + gamma * self.mean_a2

    def g_pairs(self, gamma) -> np.ndarray:
        """``g_ij(c, c′) = (E p_c p_c′)² + γ E p_c² p_c′²`` for the requested pairs."""
        return self.pair_b ** 2 + gamma * self.pair_b2

    def g_offdiag_mean(self, gamma) -> float:
        """``g_ij`` averaged over the ``C(C − 1)`` ordered pairs of distinct classes (SMO-4)."""
        C = self.classes
        return (self.sum_b_sq + gamma * self.sum_b2) / (C * (C - 1))


def _lagrange(x, p):
    """Nodes ``k0 + r`` (r < p) and weights of the Lagrange interpolant at the points ``x``."""
    k0 = np.floor(x).astype(np.int64) - (p // 2 - 1)
    t = x - k0                                   # in [p/2 − 1, p/2)
    diff = t[:, None] - np.arange(p)[None, :]
    # ℓ_k(t) = λ_k Π_{r<k}(t − r) Π_{r>k}(t − r), λ_k = 1/Π_{r≠k}(k − r): prefix and suffix products
    ones = np.ones((len(x), 1))
    pre = np.hstack([ones, np.cumprod(diff[:, :-1], axis=1)])
    suf = np.hstack([np.cumprod(diff[:, :0:-1], axis=1)[:, ::-1], ones])
    lam = np.array([(-1.0) ** (p - 1 - k) / (math.factorial(k) * math.factorial(p - 1 - k))
                    for k in range(p)])
    w = pre * suf * lam
    return k0, w


def offset_softmax_moments(offsets, sigma_v=1.0, pairs=(), digits=15.0) -> OffsetMoments:
    r"""Moments of ``p = softmax(z + b)``, ``z ~ N(0, σ_v² I_C)``, per class and per pair.

    Parameters
    ----------
    offsets : array_like
        The class offsets ``b`` (finite; shifting all of them by one constant changes nothing).
    sigma_v : float, optional
        Logit standard deviation, in ``[0.05, 5]``.
    pairs : sequence of (int, int), optional
        Pairs ``(c, c′)`` of distinct classes (0-based) whose ``E p_c p_c′`` and ``E p_c² p_c′²``
        are wanted.

    Returns
    -------
    OffsetMoments

    Notes
    -----
    (SMO-2): with ``t = e^u``, ``L(u) = Σ_c log φ(e^{u + b_c})`` and
    ``H_k(w) = e^{kw + k²σ²/2} φ(e^{w + kσ²})/φ(e^w)``, ``h_{k,c} = H_k(u + b_c)``,
    ``A_k = Σ_c h_{k,c}``, ``B = Σ_c h_{1,c}²``:
    ``E a_c = ∫ e^L h_{1,c}(A_1 − h_{1,c}) du``,
    ``E a_c² = ⅙∫ e^L h_{2,c}[(A_2 − h_{2,c}) + (A_1 − h_{1,c})² − (B − h_{1,c}²)] du``,
    ``E p_c p_c′ = ∫ e^L h_{1,c}h_{1,c′} du``, ``E p_c²p_c′² = ⅙∫ e^L h_{2,c}h_{2,c′} du``.
    """
    b = np.asarray(offsets, dtype=float)
    if b.ndim != 1 or len(b) < 2:
        raise ValueError(f"offsets must be a 1-d array of at least 2 classes, got shape {b.shape}")
    if not np.all(np.isfinite(b)):
        raise ValueError("offsets must be finite")
    sigma = SIGMA_V.validate(sigma_v)
    if not 0.05 <= sigma <= 5.0:
        raise ValueError(f"sigma_v={sigma_v!r} is outside [0.05, 5], the range of the offset "
                         "moments")
    C = len(b)
    pairs = tuple((int(c), int(d)) for c, d in pairs)
    for c, d in pairs:
        if not (0 <= c < C and 0 <= d < C and c != d):
            raise ValueError(f"pair ({c}, {d}) must name two distinct classes in [0, {C})")
    bmax = b.max()
    b = b - (bmax + math.log(np.exp(b - bmax).sum()))        # Σ e^{b_c} = 1 (shift invariance)
    s2 = sigma * sigma
    A = _budget(digits)
    # step: trapezoid (SM-6) at K = 4 halved, so that the offset projection is accurate (SMO-3)
    h = 0.5 * min(math.pi ** 2 / (A + 4.0), math.pi * sigma * math.sqrt(2.0 / A))
    if s2 >= h:
        h = s2 / math.ceil(s2 / h - 1e-12)
    J = math.ceil((math.sqrt(2.0 * A) + 2.0 * sigma) * sigma / h)
    J_hi = math.ceil((math.sqrt(2.0 * A) + sigma) * sigma / h)
    uc = -0.5 * s2                               # where Π φ turns off (Σ e^{b_c} = 1)
    u_lo = uc - A / 2.0 - 2.0
    u_hi = max(uc, 0.0) + math.sqrt(2.0 * A) * sigma + 6.0
    n = int(math.ceil((u_hi - u_lo) / h)) + 1
    # offsets on the lattice β_m = β0 + m h, nodes of every class inside [0, M)
    beta0 = b.min() - (_P // 2 + 1) * h
    x = (b - beta0) / h
    k0, lw = _lagrange(x, _P)
    M = int(k0.max()) + _P + 1
    heavy = np.flatnonzero(b >= math.log(_HEAVY))   # treated one by one (SMO-3)
    light = np.ones(C, dtype=bool)
    light[heavy] = False
    omega = np.zeros(M)                          # the projected measure of the light classes
    for r in range(_P):
        omega += np.bincount(k0[light] + r, weights=lw[light, r], minlength=M)
    # w-lattice w_l = u_lo + β0 + l h, so that u_i + β_m = w_{i+m}
    nw = n + M
    logphi = _phi_tables(h, J, J_hi, sigma, u_lo + beta0, nw, [0, 1, 2])
    G0 = logphi[0]
    # the u-range ends before log φ(e^w) at the top node leaves [-700, 0] (e^L < e^{-300} there)
    ok = np.isfinite(G0) & (G0 >= -700.0) & np.isfinite(logphi[1]) & np.isfinite(logphi[2])
    last = int(np.argmin(ok)) - 1 if not ok.all() else nw - 1
    n = min(n, last - M + 2)
    nw = n + M - 1
    w = u_lo + beta0 + h * np.arange(nw)
    G0 = G0[:nw]
    H1 = np.exp(w + 0.5 * s2 + logphi[1][:nw] - G0)
    H2 = np.exp(2.0 * w + 2.0 * s2 + logphi[2][:nw] - G0)

    def total(F, weights=omega):                 # Σ_c F(u_i + b_c) by the projected measure
        return sliding_window_view(F, M)[:n] @ weights

    def at_class(F, c):                          # F(u_i + b_c) on the u-lattice
        idx = k0[c] + np.arange(_P)
        return sliding_window_view(F, n)[idx].T @ lw[c]

    hv1 = {c: at_class(H1, c) for c in heavy}
    hv2 = {c: at_class(H2, c) for c in heavy}
    L = total(G0) + sum(at_class(G0, c) for c in heavy)
    if L[-1] > -A - 10.0:
        raise ValueError(f"offset moments: the integrand does not decay inside float64 range at "
                         f"sigma_v={sigma_v!r} (log-tail {L[-1]:.3g})")
    A1l, A2l, Bl = total(H1), total(H2), total(H1 * H1)
    A1 = A1l + sum(hv1.values())
    A2 = A2l + sum(hv2.values())
    B = Bl + sum(v * v for v in hv1.values())
    eL = np.exp(L)

    def per_class(f, Q):                         # ∫ f(u) Q(u + b_c) du for every class c
        K = h * (sliding_window_view(Q, n)[:M] @ f)
        return np.einsum("cr,cr->c", lw, K[k0[:, None] + np.arange(_P)])

    # light classes: A_k − h_{k,c} loses at most a factor 1/(1 − π_c) ≤ 1/(1 − _HEAVY)
    mean_a = per_class(eL * A1, H1) - per_class(eL, H1 * H1)
    mean_a2 = (per_class(eL * (A2 + A1 * A1 - B), H2) - per_class(eL, H2 * H2)
               - 2.0 * per_class(eL * A1, H1 * H2) + 2.0 * per_class(eL, H1 * H1 * H2)) / 6.0
    # heavy classes: the sums over the other classes formed without the class itself
    for c in heavy:
        o1 = A1l + sum(v for d, v in hv1.items() if d != c)
        o2 = A2l + sum(v for d, v in hv2.items() if d != c)
        oB = Bl + sum(v * v for d, v in hv1.items() if d != c)
        mean_a[c] = h * np.sum(eL * hv1[c] * o1)
        mean_a2[c] = h * np.sum(eL * hv2[c] * (o2 + o1 * o1 - oB)) / 6.0

    pb = np.array([h * np.sum(eL * at_class(H1, c) * at_class(H1, d)) for c, d in pairs])
    pb2 = np.array([h * np.sum(eL * at_class(H2, c) * at_class(H2, d)) / 6.0 for c, d in pairs])
    hpairs = [(c, d) for c in heavy for d in heavy if c < d]
    # Σ_{c≠c'} E p_c² p_c'² = ⅙∫ e^L (A_2² − Σ_c h_{2,c}²) du, the heavy pairs one by one
    cross2 = A2l * A2l - total(H2 * H2) + 2.0 * A2l * (A2 - A2l)
    cross2 = cross2 + sum(2.0 * hv2[c] * hv2[d] for c, d in hpairs)
    sum_b2 = h * np.sum(eL * cross2) / 6.0
    # Σ_{c≠c'} (E p_c p_c')² = h² Σ_{ii'} e^{L_i + L_i'} [K_{ii'}² − K2_{ii'}], with
    # K_{ii'} = Σ_c h_{1,c}(u_i) h_{1,c}(u_i') and K2_{ii'} = Σ_c h_{1,c}²(u_i) h_{1,c}²(u_i')
    W1 = sliding_window_view(H1, M)[:n]
    Kl = (W1 * omega) @ W1.T
    W11 = W1 * W1
    cross = Kl * Kl - (W11 * omega) @ W11.T
    if len(heavy):
        Kh = sum(np.outer(v, v) for v in hv1.values())
        cross += 2.0 * Kl * Kh
        for c, d in hpairs:
            cross += 2.0 * np.outer(hv1[c] * hv1[d], hv1[c] * hv1[d])
    sum_b_sq = h * h * float(eL @ cross @ eL)
    return OffsetMoments(sigma, mean_a, mean_a2, pairs, pb, pb2, sum_b_sq, float(sum_b2))
