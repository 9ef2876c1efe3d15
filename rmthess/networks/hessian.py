r"""Dense Hessians and Gauss–Newton matrices of the linear model and the 1-hidden-layer ReLU net.

The Hessian of the average loss splits as ``H = G + E`` (eq. NET-3 of ``theory/networks.md``):

* Gauss–Newton part ``G = (1/N) Σ_n J_nᵀ Q_n J_n`` with ``Q_n = I`` (MSE) or ``diag p_n − p_n p_nᵀ``
  (CE). Blockwise, with ``D = 1(U > 0)``, ``A_n = D_n Vᵀ Q_n V D_n`` and ``E_n = Q_n V``:

      G_{w_i w_j} = (1/N) Σ_n A_n,ij x_n x_nᵀ                          (d × d)
      G_{v_c v_c'} = (1/N) Σ_n Q_n,cc' s_n s_nᵀ                         (m × m)
      G_{w_i v_c} = (1/N) Σ_n D_ni E_n,ci x_n s_nᵀ                      (d × m)

* residual part ``E = (1/N) Σ_n Σ_c r_nc ∇²f_nc``: relu'' = 0 almost everywhere and f is linear in
  V, so only the hidden–output blocks survive, ``E_{w_i v_c} = (1/N) Σ_n r_nc D_ni x_n e_iᵀ``
  (column i). It vanishes for the linear model.

Every block is a sum of ``N`` Kronecker-structured terms, formed by matrix products written
straight into the output array (no accumulation when the temporaries fit ``_CHUNK_FLOATS``).
The diagonal groups are symmetric weighted Gram matrices ``Fᵀ diag(w) F``: each is two symmetric
products (BLAS ``syrk``) over the samples where ``w`` is positive and negative, half the operations
of a general product, and samples where ``w = 0`` — a ReLU unit inactive — are skipped; the
hidden–output rectangle is one product ``d × C`` per pair of hidden units over the samples where
both are active. No Jacobian and no ``N × C × C`` tensor is ever stored. The extra memory is
bounded by ``_CHUNK_FLOATS`` plus one block, so the peak stays close to the Hessian itself.

The construction is a list of independent tasks — one per block row, feature row or hidden unit —
that write disjoint parts of the output. Where the package's thread policy (``rmthess._threads``)
grants several threads, they run on that many Python threads, each with a one-thread BLAS (numpy
releases the GIL in the products), else in order; the matrix is the same bit for bit.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from rmthess._cost import check_cost
from rmthess._softmax import kappa
from rmthess._threads import blas_limit, blas_threads, policy_threads
from rmthess.networks.model import Network

__all__ = ["hessian", "gauss_newton", "dense_hessian"]

# largest temporary of the blockwise products, in floats (8 bytes each): 4·10⁶ floats = 32 MB
_CHUNK_FLOATS = 4_000_000
# ... but at most an eighth of the Hessian (small Hessians keep a small overhead), and at least:
_MIN_CHUNK_FLOATS = 65_536


def _row_chunks(n: int, width: int, budget: int):
    """Slices of ``range(n)`` such that a ``chunk × width`` temporary stays under ``budget``."""
    step = max(1, min(n, budget // max(width, 1)))
    return [slice(s, min(n, s + step)) for s in range(0, n, step)]


def _explicit_kron(A: np.ndarray, F: np.ndarray, out: np.ndarray, budget: int) -> list:
    """Tasks that fill ``out[(i,a),(j,b)] = (1/N) Σ_n A[n,i,j] F[n,a] F[n,b]`` for symmetric
    ``A[n]``: one per block row (the blocks on and above the diagonal, and their mirrors below it
    in the same block column), so the tasks write disjoint parts of ``out``. Each task returns the
    sum of the entries it computed (finite exactly when they all are)."""
    n, k, _ = A.shape
    q = F.shape[1]
    if k <= q:
        # one symmetric product per block (i, j ≥ i): Fᵀ diag(A_{:,i,j}/N) F, written in place
        def row(i):
            total = 0.0
            for j in range(i, k):
                blk = out[i * q:(i + 1) * q, j * q:(j + 1) * q]
                _weighted_gram(F, A[:, i, j] / n, blk, budget)
                total += blk.sum()
                if j != i:
                    out[j * q:(j + 1) * q, i * q:(i + 1) * q] = blk.T
            return total
        return [partial(row, i) for i in range(k)]

    def feature(a):
        total = 0.0
        for b in range(a, q):
            blk = np.tensordot(F[:, a] * F[:, b], A, axes=(0, 0)) / n
            if b == a:
                blk = 0.5 * (blk + blk.T)
            total += _put_interleaved(out, blk, a, b, q)
        return total
    return [partial(feature, a) for a in range(q)]


def _put_interleaved(out: np.ndarray, blk: np.ndarray, a: int, b: int, q: int) -> float:
    """Write ``blk`` to the strided slice ``out[a::q, b::q]`` and its transpose to
    ``out[b::q, a::q]``; return its sum."""
    out[a::q, b::q] = blk
    if b != a:
        out[b::q, a::q] = blk.T
    return blk.sum()


def _weighted_gram(F: np.ndarray, w: np.ndarray, out: np.ndarray, budget: int) -> None:
    r"""``out = Fᵀ diag(w) F``, exactly symmetric, in half the operations of a general product
    (NET-15 of ``theory/networks.md``).

    With ``Y_± = √|w| ⊙ F`` over the rows where ``w`` is positive (negative),
    ``Fᵀ diag(w) F = Y_+ᵀ Y_+ − Y_−ᵀ Y_−``: each term is a symmetric product (BLAS ``syrk``, which
    numpy calls for ``Yᵀ @ Y``) of ``n_± q²`` multiply-adds, ``n q²`` in all against ``2 n q²``.
    """
    q = F.shape[1]
    out[...] = 0.0
    for rows in _row_chunks(F.shape[0], q, budget):
        wr = w[rows]
        for sign in (1.0, -1.0):
            take = np.flatnonzero(sign * wr > 0)
            if take.size:
                Y = F[rows][take] * np.sqrt(sign * wr[take])[:, None]
                out += sign * (Y.T @ Y)


def _softmax_kron(P: np.ndarray, F: np.ndarray, out: np.ndarray, budget: int) -> list:
    """Tasks that fill ``out = (1/N) Σ_n (diag p_n − p_n p_nᵀ) ⊗ f_n f_nᵀ`` (index
    ``(c, a) ↦ c·q + a``), one per feature (class) row of blocks, writing disjoint parts; each
    returns the sum of the entries it computed."""
    n, k = P.shape
    q = F.shape[1]
    if q <= k:  # one symmetric product per pair of features a ≤ b: Pᵀ diag(w_ab) P, w = F_a F_b
        def feature(a):
            total = 0.0
            for b in range(a, q):
                w = F[:, a] * F[:, b]
                blk = np.empty((k, k))
                _weighted_gram(P, w, blk, budget)
                blk *= -1.0
                blk[np.diag_indices(k)] += w @ P
                blk /= n
                total += _put_interleaved(out, blk, a, b, q)
            return total
        return [partial(feature, a) for a in range(q)]

    def cls(c):  # pairs of classes, q × q products
        total = 0.0
        for c2 in range(c, k):
            w = -P[:, c] * P[:, c2]
            if c2 == c:
                w = w + P[:, c]
            blk = (F * w[:, None]).T @ F
            blk /= n
            if c2 == c:
                blk = 0.5 * (blk + blk.T)
            total += blk.sum()
            out[c * q:(c + 1) * q, c2 * q:(c2 + 1) * q] = blk
            if c2 != c:
                out[c2 * q:(c2 + 1) * q, c * q:(c + 1) * q] = blk.T
        return total
    return [partial(cls, c) for c in range(k)]


def _identity_kron(F: np.ndarray, classes: int, out: np.ndarray) -> None:
    """``out = I_C ⊗ (1/N) FᵀF``."""
    q = F.shape[1]
    out[...] = 0.0
    blk = F.T @ F / F.shape[0]
    blk = 0.5 * (blk + blk.T)
    for c in range(classes):
        out[c * q:(c + 1) * q, c * q:(c + 1) * q] = blk


def _hidden_weights(net: Network) -> np.ndarray:
    """``A_n = D_n Vᵀ Q_n V D_n``, shape (N, m, m)."""
    V, D = net.V, net.D
    if net.loss == "mse":
        A = np.broadcast_to(V.T @ V, (net.n_samples,) + (net.width,) * 2)
    else:
        A = kappa(V, net.P)
    return A * D[:, :, None] * D[:, None, :]


def _fill_cross(net: Network, out: np.ndarray, *, gn: bool, residual: bool, budget: int,
                mirror: np.ndarray | None = None) -> list:
    """Tasks that fill the hidden–output rectangle ``out`` (md × Cm) with the GN and/or residual
    terms, one per hidden unit (its d rows), and its transpose into ``mirror`` (Cm × md) if
    given; each returns the sum of its rows."""
    X, S, D, V = net.X, net.S, net.D, net.V
    n, d, m, C = net.n_samples, net.dim, net.width, net.classes
    mu = net.P @ V if net.loss == "ce" and gn else None

    def unit(i):
        rows = slice(i * d, (i + 1) * d)
        out[rows] = 0.0
        fill(i, rows)
        if mirror is not None:
            mirror[:, rows] = out[rows].T
        return out[rows].sum()

    def fill(i, rows):
        if gn and net.loss == "ce":
            # over the samples where unit i is active (D_ni = 1; the others contribute nothing),
            # with E[n, c] = (Q_n V)_ci: column (c, b) of the rectangle is Σ_n x_n s_nb E_nc / N,
            # so for each unit b one product (X ⊙ s_:b / N)ᵀ E (d × C) over the samples where b
            # is active too, added to the columns c·m + b (a strided view); the residual adds
            # (X_act / N)ᵀ R_act to the columns c·m + i
            act = np.flatnonzero(D[:, i])
            blk = out[rows].reshape(d, C, m)       # a view: the split axis is contiguous
            tmp = np.empty((d, C))
            for sl in _row_chunks(act.size, max(d, C), budget):
                idx = act[sl]
                XD = X[idx] / n
                E = net.P[idx] * (V[:, i] - mu[idx, i, None])
                for b in range(m):
                    on = np.flatnonzero(S[idx, b])          # s_nb = 0 where unit b is off
                    if on.size == 0:
                        continue
                    if on.size == idx.size:
                        np.matmul((XD * S[idx, b, None]).T, E, out=tmp)
                    else:
                        np.matmul((XD[on] * S[idx[on], b, None]).T, E[on], out=tmp)
                    blk[:, :, b] += tmp
                if residual:
                    blk[:, :, i] += XD.T @ net.R[idx]
            return
        if gn:
            # Q = I: rank one in (x, c): (1/N) Σ_n D_ni s_nb x_n ⊗ V_{:, i}
            XS = (X * D[:, i, None]).T @ S / n  # (d, m)
            for b in range(m):
                out[rows, b::m] = np.outer(XS[:, b], V[:, i])
        if residual:
            out[rows, i::m] += (X * D[:, i, None]).T @ net.R / n
    return [partial(unit, i) for i in range(m)]


def _run(tasks: list, workers: int) -> list:
    """Run ``tasks`` (each writes its own part of the Hessian) and return their results: in order
    when ``workers ≤ 1``, else on ``workers`` threads (the caller holds BLAS to one thread).

    The products of a dense Hessian are many and mid-sized (d × N × C at the paper's sizes): a
    threaded BLAS splits each one and waits for both halves, while whole tasks per thread keep
    both cores busy. numpy releases the GIL in the products and in the elementwise work, so the
    threads run in parallel, and every entry is computed by the same operations in either case:
    the result does not depend on ``workers``. Measured at N = 2000, P = 3200 on 2 idle cores
    (``python benchmarks/run_all.py --quick --only networks``: ``seconds`` against
    ``one_worker_threaded_blas_s``): 0.155 s against 0.248 s with the two threads given to BLAS.
    """
    if workers <= 1 or len(tasks) <= 1:
        return [task() for task in tasks]
    import contextvars
    from concurrent.futures import ThreadPoolExecutor

    # each task in a copy of the caller's context, so the caller's np.errstate holds in the threads
    with ThreadPoolExecutor(workers) as pool:
        futures = [pool.submit(contextvars.copy_context().run, task) for task in tasks]
        return [future.result() for future in futures]


def dense_hessian(net: Network, part: str = "full") -> np.ndarray:
    r"""Dense Hessian of a :class:`Network`: ``part`` is ``"full"``, ``"gn"`` or ``"residual"``.

    Parameters
    ----------
    net : Network
        Model, data and loss.
    part : {"full", "gn", "residual"}
        The whole Hessian ``H``, its Gauss–Newton part ``G`` or the residual part ``E = H − G``
        (eq. NET-3).

    Returns
    -------
    ndarray, shape (P, P)
        Symmetric, in the block order of :class:`~rmthess.networks.model.BlockLayout`.
    """
    if part not in ("full", "gn", "residual"):
        raise ValueError(f"part must be 'full', 'gn' or 'residual', got {part!r}")
    flops = 2.0 * net.n_samples * net.n_params**2  # the products below, about N P² multiply-adds
    workers = policy_threads(flops)
    # several workers: each with a one-thread BLAS, for the whole computation (a BLAS pool started
    # with more threads spins on a core while idle, taking it from the workers)
    threads = blas_limit(1) if workers > 1 else blas_threads(flops=flops)
    with np.errstate(over="ignore", invalid="ignore"), threads:
        return _finite(*_dense_hessian(net, part, workers))  # an overflow is reported by _finite


def _dense_hessian(net: Network, part: str, workers: int = 1) -> tuple[np.ndarray, float | None]:
    """``(H, total)``: the Hessian part and the sum of all its entries computed by the tasks
    (finite exactly when they all are), or None where a part was formed outside the tasks (the
    identity blocks of MSE)."""
    p = net.n_params
    check_cost(f"a dense {p}x{p} Hessian", nbytes=8.0 * p * p * (2 if part == "full" else 1),
               hint="use the block norms or Hessian-vector products (rmthess.networks.products)")
    budget = max(_MIN_CHUNK_FLOATS, min(_CHUNK_FLOATS, p * p // 8))
    H = np.zeros((p, p)) if part == "residual" else np.empty((p, p))
    gn = part in ("full", "gn")
    residual = part in ("full", "residual")
    tasks = []
    covered = True
    if net.is_linear:
        if gn:
            if net.loss == "ce":
                tasks = _softmax_kron(net.P, net.X, H, budget)
            else:
                _identity_kron(net.X, net.classes, H)
                covered = False
        total = sum(_run(tasks, workers))
        return H, (total if covered else None)
    md = net.width * net.dim
    if gn:
        tasks += _explicit_kron(_hidden_weights(net), net.X, H[:md, :md], budget)
        if net.loss == "ce":
            tasks += _softmax_kron(net.P, net.S, H[md:, md:], budget)
        else:
            _identity_kron(net.S, net.classes, H[md:, md:])
            covered = False
    cross = H[:md, md:]
    # the units' rectangles first: they are the longest tasks (balance over the threads)
    tasks = _fill_cross(net, cross, gn=gn, residual=residual, budget=budget,
                        mirror=H[md:, :md]) + tasks
    total = sum(_run(tasks, workers))
    return H, (total if covered else None)


def _finite(H: np.ndarray, total: float | None) -> np.ndarray:
    """``H``, or a ``ValueError`` when an entry overflowed float64 (inputs scaled too far).
    ``total``: the sum of the entries from the tasks that computed them (no further pass over H
    when it is finite), or None."""
    if (total is None or not np.isfinite(total)) and not np.all(np.isfinite(H)):
        raise ValueError("the Hessian overflows float64 (its entries scale like |x|²|V|²|W|²); "
                         "rescale X, V or W")
    return H


def _network(X, y, layers, V, W, loss, where: str) -> Network:
    """The :class:`Network` of ``where(X, y, *layers)`` with the layers in forward order (input
    layer first), or given as ``V=``/``W=`` keywords; the former order (output layer first) is
    recognised by the shapes and refused with the call to write instead."""
    if any(isinstance(a, str) for a in layers):
        raise ValueError(f"{where}: pass the loss as loss=..., after the layers")
    if layers and (V is not None or W is not None):
        raise ValueError(f"{where}: give the layers either in order or as V=/W= keywords, "
                         f"not both")
    if len(layers) > 2:
        raise ValueError(f"{where} takes one layer (linear model: V) or two (network: W, V), "
                         f"got {len(layers)}")
    if len(layers) == 1:
        V = layers[0]
    elif len(layers) == 2:
        first, second = (np.asarray(a) for a in layers)
        d = np.asarray(X).shape[-1]
        if first.ndim == second.ndim == 2 and first.shape[-1] != d and second.shape[-1] == d:
            raise ValueError(f"{where}: the layers go in forward order, input layer first: "
                             f"{where}(X, y, W, V) with W of shape (m, d) and V of shape (C, m); "
                             f"got shapes {first.shape}, {second.shape} (output layer first, the "
                             f"former order)")
        W, V = layers
    if V is None:
        raise ValueError(f"{where} needs the output layer V")
    return Network(X, y, V, W, loss)


def hessian(X, y, *layers, V=None, W=None, loss: str = "ce") -> np.ndarray:
    r"""Dense Hessian of the average loss of the linear model or the 1-hidden-layer ReLU network.

    Parameters
    ----------
    X : array_like, shape (N, d)
        Samples as rows.
    y : array_like of int, shape (N,)
        Labels in ``[0, C)``.
    *layers : array_like
        The weights in forward order, input layer first: ``V`` of shape (C, d) for the linear model,
        ``W, V`` of shapes (m, d), (C, m) for the ReLU network (no bias). Or pass them as the
        keywords ``V=``, ``W=``. The former order ``(V, W)`` is refused with a ``ValueError``.
    loss : {"ce", "mse"}
        Cross-entropy, or ``½‖f − e_y‖²`` against the one-hot target (any letter case).

    Returns
    -------
    ndarray, shape (P, P)
        ``P = m·d + C·m`` (ReLU) or ``C·d`` (linear), parameters ordered as the rows ``w_1 … w_m``
        of ``W`` then the rows ``v_1 … v_C`` of ``V``.

    Raises
    ------
    ValueError
        On shape mismatch, labels out of range, non-finite inputs or an unknown loss.

    Notes
    -----
    Analytic and vectorised: Gauss–Newton blocks plus the residual hidden–output term, eq. (NET-3)
    of ``theory/networks.md``; for the cases of the paper the diagonal blocks equal the closed forms
    (NET-4)–(NET-6). The 1-hidden-layer Hessian at a point where some ``u_ni = 0`` exactly is taken
    with ``relu'(0) = 0``.

    References
    ----------
    .. [1] Dong, Zhang, Yao, Sun, "Towards Quantifying the Hessian Structure of Neural Networks",
       arXiv:2505.02809 (2025).

    Examples
    --------
    Linear model with squared error: every diagonal block is ``XᵀX/N`` (samples as rows).

    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((20, 3)); y = rng.integers(0, 2, 20)
    >>> H = hessian(X, y, V=rng.standard_normal((2, 3)), loss="mse")
    >>> H.shape
    (6, 6)
    >>> bool(np.allclose(H[:3, :3], X.T @ X / 20) and np.allclose(H[:3, 3:], 0))
    True
    """
    return dense_hessian(_network(X, y, layers, V, W, loss, "hessian"), "full")


def gauss_newton(X, y, *layers, V=None, W=None, loss: str = "ce") -> np.ndarray:
    r"""Dense Gauss–Newton matrix ``(1/N) Σ_n J_nᵀ Q_n J_n`` (same arguments as :func:`hessian`:
    layers in forward order).

    Notes
    -----
    Eq. (NET-3) of ``theory/networks.md``. It equals the Hessian except in the hidden–output blocks.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> X = rng.standard_normal((10, 4)); y = rng.integers(0, 3, 10)
    >>> V, W = rng.standard_normal((3, 2)), rng.standard_normal((2, 4))
    >>> G, H = gauss_newton(X, y, W, V), hessian(X, y, W, V)
    >>> bool(np.allclose(G[:8, :8], H[:8, :8]) and np.allclose(G[8:, 8:], H[8:, 8:]))
    True
    """
    return dense_hessian(_network(X, y, layers, V, W, loss, "gauss_newton"), "gn")
