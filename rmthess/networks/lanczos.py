r"""Matrix-free spectra: top eigenvalues by restarted Lanczos, densities by Lanczos quadrature.

Both read the operator through :func:`~rmthess.networks.operators.as_products` (a dense array, a
:class:`~rmthess.networks.model.Network`, a ``LinearOperator`` such as
:func:`rmthess.torch.hessian_operator`, anything with ``@``), the whole of it or one diagonal block
``H_ll = E_lᵀ H E_l`` of a layout (``block=l``).

* :func:`top_eigenvalues` — ``k`` extreme eigenvalues by implicitly restarted Lanczos
  (``scipy.sparse.linalg.eigsh``), each with its residual ``‖H u − λ u‖`` — by Weyl's theorem an
  eigenvalue of ``H`` lies within the residual of ``λ`` (theory/networks.md, NET-16) — and a
  convergence flag.
* :func:`slq_density` — stochastic Lanczos quadrature (NET-17): for each probe ``z`` uniform on the
  unit sphere, ``k`` Lanczos steps give the Gauss quadrature ``Σ_j τ_j² δ(x − θ_j)`` of the weighted
  spectral measure ``Σ_i (zᵀu_i)² δ(x − λ_i)``, exact for polynomials of degree ``2k − 1``; the
  average over probes estimates the spectral measure ``(1/P) Σ_i δ(x − λ_i)``. The result carries
  the a-priori 1-Wasserstein bound of Chen, Trogdon & Ubaru (2021): with probability ``≥ 1 − η``,
  ``W₁ ≤ t (λ_max − λ_min)`` once ``k ≥ 12/t + ½`` and ``n_probes ≥ 4 ln(2P/η) / ((P + 2) t²)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import stats
from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

from rmthess._validate import as_generator
from rmthess.networks.operators import as_products, layout_offsets, operator_size

__all__ = ["TopEigenvalues", "SpectralDensity", "top_eigenvalues", "slq_density",
           "restrict"]

_WHICH = ("LA", "SA", "LM")


def restrict(operator, layout=None, block: int | None = None):
    r"""The products ``Z ↦ Z H_ll`` of diagonal block ``block`` of ``layout`` (``None``: all of H).

    Returns ``(products, size)``: the block's products act on ``(K, n_l)`` stacks through
    full-length products of ``H`` (zero outside the block).
    """
    mv = as_products(operator)
    if block is None:
        return mv, operator_size(operator)
    if layout is None:
        raise ValueError("block= needs the layout")
    off = layout_offsets(layout)
    if int(block) != block or not 0 <= block < off.size - 1:
        raise ValueError(f"block must be an integer in [0, {off.size - 1}), got {block!r}")
    P = int(off[-1])
    if operator_size(operator) != P:
        raise ValueError(f"the layout has {P} parameters, the operator {operator_size(operator)}")
    a, b = int(off[block]), int(off[block + 1])

    def sub(Z):
        Z = np.atleast_2d(Z)
        full = np.zeros((Z.shape[0], P))
        full[:, a:b] = Z
        return mv(full)[:, a:b]
    return sub, b - a


@dataclass(frozen=True)
class TopEigenvalues:
    """Extreme eigenvalues (descending for ``"LA"``/``"LM"``, ascending for ``"SA"``).

    Attributes
    ----------
    values : ndarray
    vectors : ndarray, shape (n, k)
    residuals : ndarray
        ``‖H u − λ u‖`` per Ritz pair (``u`` of unit norm): an eigenvalue of ``H`` lies within it.
    converged : ndarray of bool
        ``residual ≤ 10 · tol · max|λ|`` (ARPACK's tolerance with a factor for the residual's
        own rounding).
    n_products : int
        Products used (including the ``k`` of the residual check).
    """

    values: np.ndarray
    vectors: np.ndarray = field(repr=False)
    residuals: np.ndarray
    converged: np.ndarray
    n_products: int


def top_eigenvalues(operator, k: int = 6, *, layout=None, block: int | None = None,
                    which: str = "LA", tol: float = 1e-10, maxiter: int | None = None,
                    rng=None) -> TopEigenvalues:
    r"""The ``k`` extreme eigenvalues of ``H`` (or of its diagonal block ``block``) by Lanczos.

    Parameters
    ----------
    operator : array_like, Network, LinearOperator, anything with ``@``
        The symmetric operator (:func:`~rmthess.networks.operators.as_products`).
    k : int
        Number of eigenvalues, ``1 ≤ k < n``.
    layout, block
        Restrict to the diagonal block ``block`` of ``layout``.
    which : {"LA", "SA", "LM"}
        Largest algebraic (default), smallest algebraic, largest magnitude.
    tol : float
        Relative accuracy asked of ARPACK; a pair is flagged converged when its residual is at
        most ``tol · max|λ|``.
    maxiter : int, optional
        Restarts allowed (ARPACK's default: ``10 n``); pairs that have not converged by then are
        returned with ``converged=False`` rather than raised.
    rng : seed or Generator
        The starting vector (the result is reproducible from it).

    Examples
    --------
    >>> H = np.diag(np.arange(1.0, 51.0))
    >>> top = top_eigenvalues(H, 3, rng=0)
    >>> top.values, bool(top.converged.all())
    (array([50., 49., 48.]), True)
    """
    if which not in _WHICH:
        raise ValueError(f"which must be one of {_WHICH}, got {which!r}")
    if not (np.isfinite(tol) and 0 < tol < 1):
        raise ValueError(f"tol must be in (0, 1), got {tol!r}")
    mv, n = restrict(operator, layout, block)
    if int(k) != k or not 1 <= k < n:
        raise ValueError(f"k must be an integer in [1, {n - 1}] for an operator of size {n}, "
                         f"got {k!r}")
    count = [0]

    def matvec(x):
        count[0] += 1
        return mv(np.asarray(x, dtype=np.float64).reshape(1, -1))[0]

    def matmat(X):
        count[0] += X.shape[1]
        return mv(np.asarray(X, dtype=np.float64).T).T

    A = LinearOperator((n, n), matvec=matvec, matmat=matmat, rmatvec=matvec, dtype=np.float64)
    v0 = as_generator(rng).standard_normal(n)
    try:
        vals, vecs = eigsh(A, k=int(k), which=which, tol=tol, maxiter=maxiter, v0=v0)
    except ArpackNoConvergence as exc:
        vals, vecs = exc.eigenvalues, exc.eigenvectors
        if vals.size == 0:
            raise ValueError(f"Lanczos found no converged eigenvalue in {maxiter} restarts; raise "
                             "maxiter or tol") from exc
    order = np.argsort(vals) if which == "SA" else np.argsort(-vals if which == "LA"
                                                              else -np.abs(vals))
    vals, vecs = vals[order], vecs[:, order]
    resid = np.linalg.norm(mv(vecs.T).T - vecs * vals, axis=0)
    count[0] += vecs.shape[1]
    scale = max(float(np.max(np.abs(vals))), np.finfo(float).tiny)
    return TopEigenvalues(vals, vecs, resid, resid <= tol * scale * 10, count[0])


@dataclass(frozen=True)
class SpectralDensity:
    r"""Stochastic Lanczos quadrature of a spectral measure (NET-17).

    Attributes
    ----------
    nodes, weights : ndarray, shape (n_probes, steps)
        Gauss quadrature nodes ``θ`` and weights ``τ²`` (each row sums to 1) of every probe.
    grid, density, stderr : ndarray
        The measure smoothed by a Gaussian of width ``sigma`` on ``grid``, and its standard error
        over probes (the error band).
    sigma : float
    w1_bound : float
        A-priori bound on the 1-Wasserstein distance between the quadrature measure and the exact
        spectral measure, holding with probability ``≥ 1 − eta`` (Chen, Trogdon & Ubaru 2021),
        with ``λ_max − λ_min`` taken as the range of the extreme nodes (which converge first).
    eta : float
    w1_estimate : float
        A-posteriori upper estimate of the same distance: the quadrature part bounded by the
        Chebyshev–Markov–Stieltjes inequality (``Σ_j (θ_{j+1} − θ_j) max(τ_j², τ_{j+1}²)``, averaged
        over probes) plus the probes' part, the pointwise 95 % band of their distribution functions
        integrated, ``t_{0.975, K−1} ∫ se(F̂)(x) dx`` (NET-17).
    reorthogonalized : bool
        Whether the Lanczos vectors were fully reorthogonalized.
    n_products : int
    """

    nodes: np.ndarray = field(repr=False)
    weights: np.ndarray = field(repr=False)
    grid: np.ndarray = field(repr=False)
    density: np.ndarray = field(repr=False)
    stderr: np.ndarray = field(repr=False)
    sigma: float
    w1_bound: float
    eta: float
    w1_estimate: float
    reorthogonalized: bool
    n_products: int

    def measure(self) -> tuple:
        """The quadrature measure as ``(points, probabilities)`` (all probes pooled)."""
        w = self.weights / self.weights.shape[0]
        return self.nodes.ravel(), w.ravel()

    def wasserstein(self, eigenvalues) -> float:
        """The 1-Wasserstein distance of the quadrature measure to a list of eigenvalues."""
        from scipy.stats import wasserstein_distance

        x, w = self.measure()
        return float(wasserstein_distance(x, np.asarray(eigenvalues, dtype=np.float64), w))


def _lanczos(mv, Z: np.ndarray, steps: int, reorth: bool):
    """Lanczos on every row of ``Z`` (unit vectors) at once: tridiagonals ``(alpha, beta)`` and
    the number of steps each probe ran (fewer where it met an invariant subspace)."""
    K, n = Z.shape
    alpha = np.zeros((K, steps))
    beta = np.zeros((K, steps))
    Q = np.empty((steps, K, n)) if reorth else None
    q, q_prev = Z.copy(), np.zeros_like(Z)
    b_prev = np.zeros(K)
    done = np.zeros(K, dtype=bool)
    length = np.full(K, steps)
    for j in range(steps):
        if reorth:
            Q[j] = q
        w = mv(q) - b_prev[:, None] * q_prev
        a = np.einsum("kn,kn->k", w, q)
        w -= a[:, None] * q
        if reorth:
            for _ in range(2):  # twice is enough (Parlett's "twice is enough")
                c = np.einsum("jkn,kn->jk", Q[:j + 1], w)
                w -= np.einsum("jk,jkn->kn", c, Q[:j + 1])
        b = np.linalg.norm(w, axis=1)
        alpha[:, j] = np.where(done, 0.0, a)
        beta[:, j] = np.where(done, 0.0, b)
        scale = np.maximum(np.abs(alpha[:, :j + 1]).max(axis=1), 1e-300)
        stop = ~done & (b <= 1e-12 * scale)  # invariant subspace: the quadrature is exact
        length[stop] = j + 1
        done |= stop
        q_prev, q = q, np.where(done[:, None], 0.0, w / np.where(b > 0, b, 1.0)[:, None])
        b_prev = b
    return alpha, beta, length


def slq_density(operator, *, steps: int = 80, n_probes: int = 20, layout=None,
                block: int | None = None, grid=None, sigma: float | None = None,
                eta: float = 0.05, reorthogonalize: bool | None = None,
                rng=None) -> SpectralDensity:
    r"""Spectral density of ``H`` (or of a diagonal block) by stochastic Lanczos quadrature.

    Parameters
    ----------
    operator
        As :func:`top_eigenvalues` takes it.
    steps : int
        Lanczos steps per probe (the quadrature is exact to degree ``2·steps − 1``).
    n_probes : int
        Probes, uniform on the unit sphere; each costs ``steps`` products (made together, one
        ``(n_probes, n)`` stack per step).
    layout, block
        Restrict to a diagonal block.
    grid : array_like, optional
        Where to evaluate the smoothed density (default: 400 points over the nodes' range ± 4σ).
    sigma : float, optional
        Gaussian smoothing width (default: 1 % of the nodes' range).
    eta : float
        Failure probability of the stated W₁ bound.
    reorthogonalize : bool, optional
        Full reorthogonalization (memory ``steps · n_probes · n`` doubles); default when that is
        at most 512 MB.
    rng : seed or Generator

    Examples
    --------
    >>> H = np.diag(np.linspace(0.0, 1.0, 200))
    >>> sd = slq_density(H, steps=30, n_probes=10, rng=0)
    >>> bool(sd.wasserstein(np.linspace(0.0, 1.0, 200)) <= sd.w1_bound)
    True
    """
    if int(steps) != steps or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    if int(n_probes) != n_probes or n_probes < 1:
        raise ValueError(f"n_probes must be a positive integer, got {n_probes!r}")
    if not 0 < eta < 1:
        raise ValueError(f"eta must be in (0, 1), got {eta!r}")
    if sigma is not None and not (np.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma must be positive, got {sigma!r}")
    mv, n = restrict(operator, layout, block)
    steps = int(min(steps, n))
    K = int(n_probes)
    if reorthogonalize is None:
        reorthogonalize = steps * K * n * 8 <= 512 * 2**20
    Z = as_generator(rng).standard_normal((K, n))
    Z /= np.linalg.norm(Z, axis=1, keepdims=True)
    alpha, beta, length = _lanczos(mv, Z, steps, reorthogonalize)
    nodes = np.empty((K, steps))
    weights = np.zeros((K, steps))
    for i in range(K):
        L = int(length[i])  # a probe that met an invariant subspace stops early: exact there
        T = np.diag(alpha[i, :L]) + np.diag(beta[i, :L - 1], 1) + np.diag(beta[i, :L - 1], -1)
        theta, S = np.linalg.eigh(T)
        nodes[i, :L], weights[i, :L] = theta, S[0] ** 2
        nodes[i, L:] = theta[-1]  # unused steps: weight 0 at an existing node
    lo, hi = float(nodes.min()), float(nodes.max())
    width = max(hi - lo, np.finfo(float).eps * max(abs(lo), abs(hi), 1.0))
    sig = float(sigma) if sigma is not None else 0.01 * width
    x = (np.linspace(lo - 4 * sig, hi + 4 * sig, 400) if grid is None
         else np.asarray(grid, dtype=np.float64))
    kern = np.exp(-0.5 * ((x[None, None, :] - nodes[:, :, None]) / sig) ** 2)
    per_probe = np.einsum("ks,ksx->kx", weights, kern) / (sig * np.sqrt(2 * np.pi))
    dens = per_probe.mean(axis=0)
    se = per_probe.std(axis=0, ddof=1) / np.sqrt(K) if K > 1 else np.full_like(dens, np.nan)
    t = max(12.0 / (steps - 0.5), np.sqrt(4.0 * np.log(2.0 * n / eta) / ((n + 2.0) * K)))
    return SpectralDensity(nodes, weights, x, dens, se, sig, float(t * width), float(eta),
                           _w1_estimate(nodes, weights), bool(reorthogonalize), steps * K)


def _w1_estimate(nodes: np.ndarray, weights: np.ndarray) -> float:
    """Quadrature part (CMS inequality) plus probe part of the W₁ error (NET-17)."""
    K = nodes.shape[0]
    quad = float(np.mean(np.sum(np.diff(nodes, axis=1)
                                * np.maximum(weights[:, :-1], weights[:, 1:]), axis=1)))
    if K < 2:
        return float("inf")
    xs = np.linspace(nodes.min(), nodes.max(), 2001)
    F = np.stack([np.concatenate([[0.0], np.cumsum(w)])[np.searchsorted(th, xs, side="right")]
                  for th, w in zip(nodes, weights, strict=True)])
    se = F.std(axis=0, ddof=1) / np.sqrt(K)
    return quad + float(stats.t.isf(0.025, K - 1) * np.trapezoid(se, xs))
