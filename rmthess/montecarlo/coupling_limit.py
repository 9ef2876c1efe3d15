r"""The limit ``c(z)`` of the decoupling error ``d·δ_N(z)``, by quadrature where it can be derived.

``c(z) = −∂_z log det S(z) − r s'(z)/s(z)`` with ``S(z) = −zI_r + E[λ(y) y yᵀ/(1 + γλ(y)s(z))]``,
``y ~ N(0, I_r)``, ``λ(y)`` the weight of one block as a function of the rank-r projection, and
``s`` the GMP Stieltjes transform of the law of λ (MC-13). Every expectation is a sum over a *rule*
— nodes ``y_k`` with weights ``ω_k`` — and ``s`` solves ``z = −1/s + Σ ω_k λ_k/(1 + γλ_k s)`` on
the same rule (GMP-2), so the value is exact for the rule's measure (MC-14). The rules:

* a case with a closed-form rule (:meth:`rmthess.cases.Case.exact_weight_rule`): ``linear-mse``,
  λ ≡ 1 (diagonal) or 0 (off-diagonal), one node; ``mlp-mse``, λ = κ_ij 1(y_i > 0) 1(y_j > 0)
  takes two values and the orthant moments of ``y yᵀ`` are closed forms (MC-15): exact.
* a shift-invariant case (``Case.shift_invariant``: ``linear-ce``) with ``C − 1 ≤``
  :data:`MAX_GRID_DIM`: softmax is invariant under ``y → y + c·1``, so
  ``y = ȳ1 + B t`` with ``B`` an orthonormal basis of ``1⊥`` and ``E[f(λ) y yᵀ] = B E[f tᵗ tᵀ] Bᵀ +
  E[f] 11ᵀ/C``: a (C − 1)-dimensional Gaussian integral of an analytic integrand, done by the
  trapezoid rule on a truncated lattice. The error is estimated from two resolutions (step ``h`` and
  ``h√2``) and the step is halved until that estimate is below ``rtol`` (MC-16).
* otherwise (``linear-ce`` at larger C, ``mlp-ce``): randomized quasi-Monte Carlo, independent
  scrambled Sobol' rules, with the replicate spread as standard error (MC-16).

References
----------
Dong, Zhang, Yao, Sun, arXiv:2505.02809 (2025).

Examples
--------
>>> from rmthess.montecarlo.coupling_limit import coupling_constant
>>> c, err = coupling_constant("linear-ce", [0.5 + 1.0j], gamma=1.0, classes=3, return_error=True)
>>> bool(abs(err[0]) < 1e-9 * abs(c[0]))
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rmthess._validate import GAMMA, check_upper_half_plane, seed_sequence, spawn_seeds
from rmthess.cases import Params, get_case

__all__ = ["coupling_constant", "MAX_GRID_DIM", "MAX_GRID_NODES"]

#: the trapezoid lattice is used up to this many dimensions (``C − 1`` for linear CE) …
MAX_GRID_DIM = 3
#: … and this many nodes; beyond either the randomized quasi-Monte Carlo route is taken
MAX_GRID_NODES = 2_500_000
#: half-width of the lattice: the Gaussian mass outside ``[−L, L]`` is ``erfc(L/√2) ≈ 2e-19``
_HALF_WIDTH = 9.0
#: first lattice step; each refinement divides it by √2
_FIRST_STEP = 0.5


@dataclass(frozen=True)
class _Rule:
    r"""Nodes of one expectation: ``E f(λ, y) ≈ Σ_k ω_k f(λ_k, y_k)``.

    ``second(g)`` returns ``Σ_k g_k ω_k y_k y_kᵀ`` (``r×r``) for per-node factors ``g``. It is given
    either by reduced coordinates ``t`` (``K×q``) with ``y yᵀ = B t tᵀ Bᵀ + (1/r)·(ȳ-part)`` — only
    for shift-invariant λ — or by explicit per-node matrices ``mom`` (``K×r×r``, already weighted).
    """

    lam: np.ndarray
    prob: np.ndarray
    r: int
    t: np.ndarray | None = None
    basis: np.ndarray | None = None
    mean_part: bool = False
    mom: np.ndarray | None = None

    def second(self, g: np.ndarray) -> np.ndarray:
        if self.mom is not None:
            return np.einsum("k,kij->ij", g, self.mom)
        gw = g * self.prob
        inner = (self.t * gw[:, None]).T @ self.t
        out = inner if self.basis is None else self.basis @ inner @ self.basis.T
        if self.mean_part:
            out = out + np.sum(gw) / self.r
        return out


def _solve_s(rule: _Rule, z: complex, gamma: float) -> tuple[complex, complex]:
    r"""``(s, s')`` at z on the rule's measure: ``z = −1/s + E[λ/(1 + γλs)]`` (GMP-2), Herglotz
    branch.

    Newton's method along ``z_k = Re z + i(Im z + Y q^k)`` from ``Y`` large, where ``s ≈ −1/z``;
    each solution starts the next, so the branch ``Im s > 0`` is followed continuously (MC-14).
    """
    lam, prob = rule.lam, rule.prob
    scale = 1.0 + abs(z) + float(np.sum(prob * np.abs(lam)))

    def newton(zk, s):
        for _ in range(100):
            den = 1.0 + gamma * lam * s
            F = -1.0 / s + np.sum(prob * lam / den) - zk
            dF = 1.0 / s**2 - gamma * np.sum(prob * lam**2 / den**2)
            step = F / dF
            s_new = s - step
            if s_new.imag <= 0:          # stay on the Herglotz branch
                s_new = complex(s_new.real, 0.5 * s.imag)
            s = s_new
            if abs(step) <= 1e-15 * abs(s):
                return s, 1.0 / dF
        raise ArithmeticError(f"the GMP equation did not converge at z = {zk}")

    extra = 10.0 * scale
    s = -1.0 / complex(z.real, z.imag + extra)
    while extra > 1e-2 * z.imag:
        s, _ = newton(complex(z.real, z.imag + extra), s)
        extra *= 0.25
    return newton(z, s)


def _evaluate(rule: _Rule, zz: np.ndarray, gamma: float) -> np.ndarray:
    r"""``c(z)`` (MC-13) on one rule."""
    lam, r = rule.lam, rule.r
    eye = np.eye(r)
    out = np.empty(zz.shape, complex)
    for k, zk in enumerate(zz):
        s, sp = _solve_s(rule, complex(zk), gamma)
        den = 1.0 + gamma * lam * s
        S = -zk * eye + rule.second(lam / den)
        dS = -eye - gamma * sp * rule.second(lam**2 / den**2)
        out[k] = -np.trace(np.linalg.solve(S, dS)) - r * sp / s
    return out


def _lattice_rule(model, params, block, ij, sigma, C, h):
    """Trapezoid lattice of step h on ``[−L, L]^{C−1}`` in coordinates of ``1⊥`` (MC-16)."""
    n = int(math.floor(_HALF_WIDTH / h))
    x = h * np.arange(-n, n + 1)
    wx = h * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
    q = C - 1
    grids = np.meshgrid(*([x] * q), indexing="ij")
    t = np.stack([g.ravel() for g in grids], axis=1)
    w = np.ones(t.shape[0])
    for g in np.meshgrid(*([wx] * q), indexing="ij"):
        w = w * g.ravel()
    # QR of [1, e_1, …, e_{C−1}]: the first column spans 1, the others an orthonormal basis of 1⊥
    basis = np.linalg.qr(np.concatenate([np.ones((C, 1)), np.eye(C)[:, :q]], axis=1))[0][:, 1:]
    lam = model.weights(params, sigma * (t @ basis.T))[block].block(*ij)
    return _Rule(lam=lam, prob=w, r=C, t=t, basis=basis, mean_part=True)


def _sobol_rule(model, params, block, ij, sigma, r, n_log2, seed):
    """One scrambled Sobol' rule of ``2**n_log2`` points mapped to ``N(0, I_r)`` (MC-16)."""
    from scipy.special import ndtri
    from scipy.stats import qmc

    bits = 30
    u = qmc.Sobol(r, scramble=True, bits=bits, rng=np.random.default_rng(seed)).random_base2(n_log2)
    y = ndtri(u + 2.0 ** (-bits - 1))       # cell midpoints: never 0 or 1
    lam = model.weights(params, sigma * y)[block].block(*ij)
    n = y.shape[0]
    return _Rule(lam=lam, prob=np.full(n, 1.0 / n), r=r, t=y)


def coupling_constant(case, z, *, gamma, classes, m=None, block=None, which="diag", sigma_v=1.0,
                      V=None, rtol=1e-10, samples=2**13, replicates=8, seed=0,
                      return_error=False):
    r"""``c(z) = −∂_z log det S(z) − r s'(z)/s(z)``, the limit of ``d·δ_N(z)`` (MC-13).

    Parameters
    ----------
    case, gamma, classes, m, sigma_v
        Model case and parameters.
    z : array_like
        Points with ``Im z > 0``.
    block, which
        d×d block type (default the first) and ``"diag"`` (block (0, 0)) or ``"offdiag"`` ((0, 1)).
    V : ndarray, optional
        Output weights of an MLP case (the constant is conditional on them; required there).
    rtol : float
        Target relative error of the lattice quadrature (linear CE with ``C − 1 ≤ MAX_GRID_DIM``).
    samples, replicates, seed
        Points per scrambled Sobol' rule, number of independent rules, and their seed, for the cases
        without a deterministic rule (linear CE at larger C, MLP-CE).
    return_error : bool
        Also return the error estimate.

    Returns
    -------
    c : ndarray (shape of z)
    err : ndarray, only with ``return_error``
        Complex: the error of the real part in ``.real``, of the imaginary part in ``.imag``. Zero
        for the exact rules; the two-resolution estimate ``|c_h − c_{h√2}|`` for the lattice (a
        bound on the coarser of the two, so conservative for the returned finer one); the standard
        error of the mean over the Sobol' replicates otherwise.

    Notes
    -----
    (MC-13) … (MC-16) of theory/montecarlo.md. ``S`` and ``s`` are evaluated on the same rule.
    """
    model = get_case(case)
    g = GAMMA.validate(gamma)
    classes, m, sigma_v = model.check(classes, m, sigma_v)
    block = _square_block(model, block)
    ij = _block_index(which)
    zz = check_upper_half_plane(np.atleast_1d(z)).ravel()
    rtol = float(rtol)
    if not (math.isfinite(rtol) and rtol > 0):
        raise ValueError(f"rtol must be a positive finite number, got {rtol!r}")
    r = model.rank(classes, m)
    if model.hidden and V is None:
        raise ValueError("MLP cases: pass the output weights V")
    params = Params(first=np.zeros((r, 1)), second=None if V is None else np.asarray(V, float))
    sigma = model.first_sigma(sigma_v)
    err = np.zeros(zz.shape, complex)
    exact = model.exact_weight_rule(block, ij, params, r)
    if exact is not None:
        lam, prob, mom = exact
        val = _evaluate(_Rule(lam=lam, prob=prob, r=r, mom=mom), zz, g)
    elif model.shift_invariant and _lattice_nodes(r - 1, _FIRST_STEP / 2) <= MAX_GRID_NODES \
            and r - 1 <= MAX_GRID_DIM:
        val, err = _lattice_value(model, params, block, ij, sigma, r, zz, g, rtol)
    else:
        n_log2 = _log2_points(samples)
        children = spawn_seeds(seed_sequence(seed), _check_replicates(replicates))
        vals = np.array([_evaluate(_sobol_rule(model, params, block, ij, sigma, r, n_log2, child),
                                   zz, g) for child in children])
        val = vals.mean(0)
        k = vals.shape[0]
        err = (vals.real.std(0, ddof=1) + 1j * vals.imag.std(0, ddof=1)) / math.sqrt(k)
    val = val.reshape(np.shape(z))
    return (val, err.reshape(np.shape(z))) if return_error else val


def _lattice_nodes(q: int, h: float) -> int:
    return (2 * int(math.floor(_HALF_WIDTH / h)) + 1) ** q


def _lattice_value(model, params, block, ij, sigma, C, zz, gamma, rtol):
    """Halve the step (by √2) until two successive resolutions agree to ``rtol`` (MC-16)."""
    h = _FIRST_STEP
    prev = _evaluate(_lattice_rule(model, params, block, ij, sigma, C, h), zz, gamma)
    while True:
        h /= math.sqrt(2.0)
        cur = _evaluate(_lattice_rule(model, params, block, ij, sigma, C, h), zz, gamma)
        diff = cur - prev
        err = np.abs(diff.real) + 1j * np.abs(diff.imag)
        if np.all(np.abs(diff) <= rtol * np.abs(cur)):
            return cur, err
        if _lattice_nodes(C - 1, h / math.sqrt(2.0)) > MAX_GRID_NODES:
            reached = float(np.max(np.abs(diff) / np.abs(cur)))
            raise ValueError(f"the lattice quadrature of c(z) cannot reach rtol = {rtol:g} within "
                             f"{MAX_GRID_NODES} nodes (reached {reached:.2g}); use a larger rtol "
                             f"or a point farther from the real axis")
        prev = cur


def _log2_points(samples) -> int:
    n = int(samples)
    if n < 2 or n & (n - 1):
        raise ValueError(f"samples must be a power of two >= 2 (Sobol' rules), got {samples!r}")
    return n.bit_length() - 1


def _check_replicates(replicates) -> int:
    k = int(replicates)
    if k < 2 or k != replicates:
        raise ValueError(f"replicates must be an integer >= 2 (for a standard error), "
                         f"got {replicates!r}")
    return k


def _block_index(which: str):
    if which == "diag":
        return 0, 0
    if which == "offdiag":
        return 0, 1
    raise ValueError(f"which must be 'diag' or 'offdiag', got {which!r}")


def _square_block(model, block):
    if block is None:
        block = model.block_types[0]
    if block not in model.block_types or not model.square(block):
        raise ValueError(f"block must be a d×d block type of {model.name!r} "
                         f"({[b for b in model.block_types if model.square(b)]}), got {block!r}")
    return block
