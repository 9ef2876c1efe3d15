r"""Hessian and Gauss–Newton operators of a PyTorch model, as ``scipy`` ``LinearOperator`` s.

For a model ``f_θ``, a loss ``ℓ`` and data ``{(x_n, y_n)}`` the operator is the Hessian of the
loss *as the model is trained*: the data's loss with the loss function's own reduction,

    L(θ) = Σ_b w_b ℓ_b(f_θ(x_b), y_b),   w_b = n_b / N  (``reduction="mean"``),  1  (``"sum"``),

so a mean-reduced loss split into batches is the mean over the whole data set (theory/torch.md,
TORCH-1). The products are exact (no finite differences): ``H v`` is the reverse-mode derivative
of the gradient, ``torch.func.vjp(grad(L), θ)`` applied to ``v``, and the Gauss–Newton product is
``Jᵀ ∇²ℓ J v`` from one ``jvp`` of the model, one ``vjp`` of the loss's gradient in the outputs
and one ``vjp`` of the model (TORCH-3); a stack of probes is one ``torch.func.vmap`` call per
batch of data.

The operator acts in the *block order* of its layout (:mod:`rmthess.torch._layout`): every block
is a contiguous range, so ``op.layout`` is a :class:`~rmthess.networks.model.BlockLayout` that every
structure tool in :mod:`rmthess.networks` takes with the operator.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping

import numpy as np
from scipy.sparse.linalg import LinearOperator

from rmthess.torch._layout import ParameterBlocks, parameter_blocks

__all__ = ["HessianOperator", "hessian_operator", "gauss_newton_operator", "KINDS", "REDUCTIONS"]

#: what the operator multiplies by: the Hessian, its Gauss–Newton part, or their difference
KINDS = ("hessian", "gauss-newton", "residual")
#: loss reductions the data weighting understands
REDUCTIONS = ("mean", "sum")
_DTYPES = ("float64", "float32")


def _torch():
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("rmthess.torch needs PyTorch: pip install 'rmthess[torch]'") from exc
    return torch


def _first_line(exc) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _check_mode(model) -> None:
    """Refuse training-mode dropout and batch norm: their products are random or not defined."""
    import torch.nn as nn
    from torch.nn.modules.batchnorm import _BatchNorm
    from torch.nn.modules.dropout import _DropoutNd

    for name, mod in model.named_modules():
        if mod.training and isinstance(mod, (_DropoutNd, _BatchNorm, nn.AlphaDropout)):
            raise ValueError(f"module {name or type(mod).__name__!r} ({type(mod).__name__}) is in "
                             "training mode: dropout would make the operator random and batch "
                             "norm updates its statistics in place; call model.eval() first")


def _batches(data) -> list:
    """``data`` as a list of ``(inputs, targets)`` pairs (one pair, or what an iterable yields)."""
    if isinstance(data, tuple | list) and len(data) == 2 and not isinstance(data[0], tuple | list):
        return [tuple(data)]
    if isinstance(data, Iterable) and not isinstance(data, str | bytes | Mapping):
        out = []
        for item in data:
            if not isinstance(item, tuple | list) or len(item) != 2:
                raise ValueError("each batch of data must be an (inputs, targets) pair")
            out.append(tuple(item))
        if not out:
            raise ValueError("data yielded no batches")
        return out
    raise ValueError("data must be an (inputs, targets) pair of tensors or arrays, or an iterable "
                     f"of such pairs (e.g. a DataLoader); got {type(data).__name__}")


class HessianOperator(LinearOperator):
    r"""The Hessian (or Gauss–Newton part) of a PyTorch model's loss as a ``LinearOperator``.

    Build it with :func:`hessian_operator` or :func:`gauss_newton_operator`. Vectors are float64
    numpy arrays in the block order of :attr:`layout`; ``op @ v``, ``op @ V`` (a ``(P, K)`` stack
    of probes, one batched ``vmap`` call per data batch), ``op.matmat`` and every ``scipy``
    routine (``eigsh``, ``cg``) work on it. The operator is symmetric.

    Attributes
    ----------
    layout : ParameterBlocks
        The named blocks and the permutation between block order and parameter order.
    kind : str
        ``"hessian"``, ``"gauss-newton"`` or ``"residual"`` (their difference).
    n_samples : int
        Number of samples N in the data.
    loss : float
        The loss L(θ) at the model's parameters.
    reduction : str
        ``"mean"`` or ``"sum"``.
    n_products : int
        Operator-vector products computed so far (a stack of K probes counts K).

    Notes
    -----
    With ``keep_graphs=True`` (default) each data batch's derivative graph is built at its first
    product and kept: every later product is one backward pass through it (TORCH-3). The graphs
    hold the batch's activations twice over; ``keep_graphs=False`` rebuilds them per call
    (data sets whose graphs do not fit in memory).
    """

    def __init__(self, model, loss_fn, data, *, blocks="rows", kind: str = "hessian",
                 dtype: str = "float64", device=None, reduction: str | None = None,
                 probe_batch: int = 8, keep_graphs: bool = True):
        torch = _torch()
        if not isinstance(model, torch.nn.Module):
            raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        if dtype not in _DTYPES:
            raise ValueError(f"dtype must be one of {_DTYPES}, got {dtype!r}")
        if not callable(loss_fn):
            raise ValueError("loss_fn must be callable: loss_fn(outputs, targets) -> scalar")
        if int(probe_batch) != probe_batch or probe_batch < 1:
            raise ValueError(f"probe_batch must be a positive integer, got {probe_batch!r}")
        reduction = reduction if reduction is not None else getattr(loss_fn, "reduction", "mean")
        if reduction not in REDUCTIONS:
            raise ValueError(f"reduction must be one of {REDUCTIONS} (the loss function's own "
                             f"reduction, as torch's losses name it), got {reduction!r}")
        tdtype = getattr(torch, dtype)
        if device is None:
            first = next(iter(model.parameters()), None)
            device = first.device if first is not None else torch.device("cpu")
        try:
            device = torch.device(device)
            self._model = copy.deepcopy(model).to(device=device, dtype=tdtype)
        except (RuntimeError, AssertionError, TypeError) as exc:  # TypeError: MPS has no float64
            raise ValueError(f"device {str(device)!r} is not usable here: {_first_line(exc)}"
                             ) from None
        _check_mode(self._model)
        self._torch = torch
        named = [(n, p) for n, p in self._model.named_parameters() if p.requires_grad]
        if not named:
            raise ValueError("the model has no parameters with requires_grad=True")
        self._names = [n for n, _ in named]
        self._params = tuple(p.detach() for _, p in named)
        self._frozen = {n: p.detach() for n, p in self._model.named_parameters()
                        if not p.requires_grad}
        self._buffers = {n: b for n, b in self._model.named_buffers()}
        self._shapes = [tuple(p.shape) for p in self._params]
        self._numels = [int(p.numel()) for p in self._params]
        self.layout: ParameterBlocks = parameter_blocks(
            self._model, list(zip(self._names, self._shapes, strict=True)), blocks)
        self.kind, self.reduction, self.device, self.dtype_name = kind, reduction, device, dtype
        # a loss module's own tensors (class weights) follow the model's device and dtype
        self._loss_fn = (copy.deepcopy(loss_fn).to(device=device, dtype=tdtype)
                         if isinstance(loss_fn, torch.nn.Module) else loss_fn)
        self._probe_batch = int(probe_batch)
        self._keep = bool(keep_graphs)
        self._graphs = {}
        self._data = []
        for x, y in _batches(data):
            x = torch.as_tensor(x, device=device)
            y = torch.as_tensor(y, device=device)
            if x.is_floating_point():
                x = x.to(tdtype)
            if y.is_floating_point():
                y = y.to(tdtype)
            if x.ndim == 0 or x.shape[0] == 0 or (y.ndim > 0 and y.shape[0] != x.shape[0]):
                raise ValueError("every batch needs inputs and targets with the same, non-zero "
                                 f"number of samples; got {tuple(x.shape)} and {tuple(y.shape)}")
            self._data.append((x, y))
        self.n_samples = int(sum(x.shape[0] for x, _ in self._data))
        if reduction == "mean":  # each batch by the count its mean divides by (TORCH-1)
            counts = [_mean_count(self._loss_fn, x, y) for x, y in self._data]
            total = sum(counts)
            if not total > 0:
                raise ValueError("every target is ignored (ignore_index) or has weight 0: the "
                                 "mean loss is undefined")
            # a batch whose targets are all ignored is 0/0 in torch and adds nothing to the mean
            self._data = [b for b, c in zip(self._data, counts, strict=True) if c > 0]
            self._weights = [c / total for c in counts if c > 0]
        else:
            self._weights = [1.0] * len(self._data)
        self.loss = self._loss_value()
        self.n_products = 0
        P = sum(self._numels)
        super().__init__(dtype=np.float64, shape=(P, P))

    # -- the loss and its derivatives (torch.func) ---------------------------------------------

    def _call(self, params, x):
        from torch.func import functional_call

        state = dict(zip(self._names, params, strict=True))
        state.update(self._frozen)
        state.update(self._buffers)
        return functional_call(self._model, state, (x,))

    def _twice_differentiable(self):
        """Attention through its plain ("math") kernel: fused kernels have no second derivative."""
        from torch.nn.attention import SDPBackend, sdpa_kernel

        return sdpa_kernel([SDPBackend.MATH])

    def _loss_value(self) -> float:
        total = 0.0
        with self._torch.no_grad(), self._twice_differentiable():
            for (x, y), w in zip(self._data, self._weights, strict=True):
                try:
                    val = self._loss_fn(self._call(self._params, x), y)
                except Exception as exc:  # the user's model, loss or data: say which call failed
                    raise ValueError("loss_fn(model(inputs), targets) failed on the data: "
                                     f"{type(exc).__name__}: {_first_line(exc)}") from None
                if not isinstance(val, self._torch.Tensor) or val.numel() != 1:
                    raise ValueError("loss_fn must return a scalar tensor (a reduced loss: "
                                     "reduction='mean' or 'sum')")
                total += w * float(val)
        if not np.isfinite(total):
            raise ValueError(f"the loss is not finite at these parameters ({total})")
        return total

    def _pullbacks(self, x, y):
        """The product ``v ↦ H v`` (or ``G v``, ``(H − G) v``) of one data batch, for ``vmap``.

        Reverse over reverse: the ``vjp`` of the gradient is built once per batch and applied to
        every probe (TORCH-3); forward-over-reverse fails on piecewise-linear models with the
        squared error (torch's immutable zero tangents of ReLU's second derivative).
        """
        from torch.func import grad, jvp, vjp

        params = self._params

        def loss(p):
            return self._loss_fn(self._call(p, x), y)

        def model_out(p):
            return self._call(p, x)

        if self.kind != "gauss-newton":
            _, hess = vjp(grad(loss), params)
            if self.kind == "hessian":
                return lambda v: hess(v)[0]
        out, pull = vjp(model_out, params)
        _, out_hess = vjp(grad(lambda o: self._loss_fn(o, y)), out)

        def gn(v):
            jv = jvp(model_out, (params,), (v,))[1]
            return pull(out_hess(jv)[0])[0]

        if self.kind == "gauss-newton":
            return gn
        return lambda v: tuple(a - b for a, b in zip(hess(v)[0], gn(v), strict=True))

    def _matmat(self, X):
        from torch.func import vmap

        torch = self._torch
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 1:
            X = X[:, None]
        K = X.shape[1]
        Zp = self.layout.to_parameters(X.T)  # (K, P), parameter order
        tdtype = self._params[0].dtype
        chunks = []
        for s in range(0, K, self._probe_batch):
            blk = torch.as_tensor(Zp[s:s + self._probe_batch], dtype=tdtype, device=self.device)
            chunks.append(tuple(t.reshape((blk.shape[0],) + shape) for t, shape in
                                zip(torch.split(blk, self._numels, dim=1), self._shapes,
                                    strict=True)))
        acc = [None] * len(chunks)
        with self._twice_differentiable():
            for b, ((x, y), w) in enumerate(zip(self._data, self._weights, strict=True)):
                single = self._graphs.get(b)
                if single is None:
                    single = self._pullbacks(x, y)
                    if self._keep:
                        self._graphs[b] = single
                for i, T in enumerate(chunks):
                    if T[0].shape[0] == 1:  # one probe: no vmap, a plain backward pass
                        res = [r[None] for r in single(tuple(t[0] for t in T))]
                    else:
                        res = vmap(single)(T)
                    flat = torch.cat([r.reshape(r.shape[0], -1) for r in res], dim=1)
                    acc[i] = w * flat if acc[i] is None else acc[i] + w * flat
        out = torch.cat(acc).detach().to("cpu", torch.float64).numpy()
        self.n_products += K
        if not np.all(np.isfinite(out)):
            raise ValueError("the operator returned non-finite values (NaN or inf)")
        return self.layout.to_blocks(out).T

    def _matvec(self, x):
        return self._matmat(np.asarray(x).reshape(-1, 1))[:, 0]

    def _rmatvec(self, x):
        return self._matvec(x)

    def _adjoint(self):
        return self

    # -- helpers -----------------------------------------------------------------------------

    def parameter_vector(self) -> np.ndarray:
        """The model's trained parameters θ as one float64 vector in block order."""
        flat = np.concatenate([p.detach().to("cpu", self._torch.float64).numpy().ravel()
                               for p in self._params])
        return self.layout.to_blocks(flat)

    def dense(self, *, batch: int = 256) -> np.ndarray:
        """The whole ``P × P`` matrix in block order, from ``P`` products (small models)."""
        P = self.shape[0]
        H = np.empty((P, P))
        for s in range(0, P, batch):
            e = min(P, s + batch)
            E = np.zeros((P, e - s))
            E[np.arange(s, e), np.arange(e - s)] = 1.0
            H[:, s:e] = self._matmat(E)
        return 0.5 * (H + H.T)

    def __repr__(self):
        return (f"HessianOperator(kind={self.kind!r}, P={self.shape[0]}, N={self.n_samples}, "
                f"blocks={self.layout.n_blocks}, dtype={self.dtype_name}, "
                f"device={str(self.device)!r})")


def _mean_count(loss_fn, x, y) -> float:
    """What a mean-reduced ``loss_fn`` divides a batch's summed loss by (TORCH-1): for
    ``CrossEntropyLoss``/``NLLLoss`` with class-index targets the targets not equal to
    ``ignore_index``, each counted with its class weight; else the batch's samples."""
    import torch

    if (isinstance(loss_fn, (torch.nn.CrossEntropyLoss, torch.nn.NLLLoss))
            and not y.is_floating_point()):
        keep = y != loss_fn.ignore_index
        if loss_fn.weight is not None:
            return float(loss_fn.weight[y[keep]].sum())
        return float(keep.sum())
    return float(x.shape[0])


def hessian_operator(model, loss_fn, data, *, blocks="rows", dtype: str = "float64", device=None,
                     reduction: str | None = None, probe_batch: int = 8,
                     keep_graphs: bool = True) -> HessianOperator:
    r"""The Hessian of ``loss_fn(model(x), y)`` over ``data`` as a ``LinearOperator`` (TORCH-1).

    Parameters
    ----------
    model : torch.nn.Module
        Its parameters with ``requires_grad`` are differentiated (a float64 copy by default; the
        model itself is not changed). Dropout and batch norm must be in evaluation mode
        (``model.eval()``): a ``ValueError`` says so otherwise.
    loss_fn : callable
        ``loss_fn(outputs, targets) -> scalar tensor``, e.g. ``torch.nn.CrossEntropyLoss()``.
    data : (inputs, targets) or iterable of (inputs, targets)
        Tensors or arrays, or a ``DataLoader``; the batches are read once and kept on ``device``.
    blocks : "rows", "parameters" or mapping
        The block layout (:mod:`rmthess.torch._layout`): one block per output row/neuron (bias
        included), convolution output channel, attention head; or per parameter tensor; or
        user-given index groups.
    dtype : {"float64", "float32"}
    device : torch.device or str, optional
        Default: the model's.
    reduction : {"mean", "sum"}, optional
        How batch losses combine (default: ``loss_fn.reduction``, else ``"mean"``).
    probe_batch : int
        Probes per ``vmap`` call. Larger batches multiply the activations held at once; 8 probes
        a call beat single products per product on two CPU cores
        (``benchmarks/bench_torch.py``, HVP rows).
    keep_graphs : bool
        Keep each batch's derivative graph between calls (faster; see :class:`HessianOperator`).

    Examples
    --------
    >>> import torch
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    >>> X, y = torch.randn(20, 4), torch.randint(0, 2, (20,))
    >>> H = hessian_operator(model, torch.nn.CrossEntropyLoss(), (X, y))
    >>> H.shape, H.layout.groups
    ((23, 23), (('0', 3, 5), ('2', 2, 4)))
    """
    return HessianOperator(model, loss_fn, data, blocks=blocks, kind="hessian", dtype=dtype,
                           device=device, reduction=reduction, probe_batch=probe_batch,
                           keep_graphs=keep_graphs)


def gauss_newton_operator(model, loss_fn, data, *, blocks="rows", dtype: str = "float64",
                          device=None, reduction: str | None = None,
                          probe_batch: int = 8, keep_graphs: bool = True) -> HessianOperator:
    r"""The generalized Gauss–Newton matrix ``Σ_b w_b J_bᵀ ∇²ℓ_b J_b`` as an operator (TORCH-3).

    Parameters as :func:`hessian_operator`. ``hessian_operator(...) − gauss_newton_operator(...)``
    is the residual part (NET-3); ``HessianOperator(..., kind="residual")`` gives it in one product.
    """
    return HessianOperator(model, loss_fn, data, blocks=blocks, kind="gauss-newton", dtype=dtype,
                           device=device, reduction=reduction, probe_batch=probe_batch,
                           keep_graphs=keep_graphs)
