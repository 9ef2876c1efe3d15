r"""Named block layouts of a PyTorch model's parameters (theory/torch.md, TORCH-2).

The parameters a model trains (``requires_grad``), each flattened row-major and concatenated in
``named_parameters()`` order, form the *parameter order*. A layout partitions them into blocks and
lists the blocks group by group — the *block order*, in which
:class:`~rmthess.torch.HessianOperator` acts — through the permutation ``perm``: block-order entry
``i`` is parameter-order entry ``perm[i]``.

``blocks=`` names the partition:

* ``"rows"`` (default) — one block per output unit: a row of a ``Linear`` weight with its bias
  entry (``fan_in (+1)`` parameters: the paper's ``w_i`` and ``v_c``), an output channel of a
  convolution with its bias, and one block per head of an attention layer's query, key, value
  (rows ``h·d_h … (h+1)·d_h − 1`` of each projection, with their biases) and output projection
  (its columns of head ``h``; the output bias is a block of its own);
  every other tensor (normalization, embeddings) is one block;
* ``"parameters"`` — one block per parameter tensor;
* a mapping ``{group: [indices, …]}`` — user-given blocks, each an index array into the parameter
  order; blocks may differ in size; parameters not listed form one block per tensor (group
  ``"rest"``); overlapping blocks are refused.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from rmthess.networks.model import BlockLayout

__all__ = ["ParameterBlocks", "parameter_blocks", "BLOCK_KINDS"]

BLOCK_KINDS = ("rows", "parameters")


class ParameterBlocks(BlockLayout):
    """A :class:`~rmthess.networks.model.BlockLayout` of a PyTorch model, with its permutation.

    Attributes
    ----------
    groups, labels
        As for :class:`~rmthess.networks.model.BlockLayout`; groups are named by the module path,
        labels by the module and the row, channel or head, e.g. ``"0[row 3]"`` (row 3 of the
        first layer's weight with its bias entry) or ``"attn.q[head 1]"``.
    perm : ndarray of intp
        Block order → parameter order.
    descriptions : dict
        Group name → what its blocks are, e.g. ``"Linear 64→16: rows with bias"``.
    """

    def __init__(self, groups, labels, perm, descriptions=None):
        object.__setattr__(self, "groups", tuple(groups))
        object.__setattr__(self, "labels", tuple(labels))
        object.__setattr__(self, "perm", np.asarray(perm, dtype=np.intp))
        object.__setattr__(self, "descriptions", dict(descriptions or {}))
        self.__post_init__()
        if self.perm.size != self.n_params:
            raise ValueError(f"the blocks cover {self.n_params} parameters, the permutation "
                             f"{self.perm.size}")

    def __repr__(self):
        return (f"ParameterBlocks({self.n_blocks} blocks in {len(self.groups)} groups, "
                f"{self.n_params} parameters)")

    def __eq__(self, other):
        return (isinstance(other, ParameterBlocks) and self.groups == other.groups
                and self.labels == other.labels and np.array_equal(self.perm, other.perm))

    __hash__ = None

    def to_blocks(self, x: np.ndarray) -> np.ndarray:
        """Parameter order → block order (along the last axis)."""
        return np.asarray(x)[..., self.perm]

    def to_parameters(self, x: np.ndarray) -> np.ndarray:
        """Block order → parameter order (along the last axis)."""
        x = np.asarray(x)
        out = np.empty_like(x)
        out[..., self.perm] = x
        return out


def _slices(named) -> dict:
    """``name → (start, shape)`` of every parameter in the parameter order."""
    out, start = {}, 0
    for name, shape in named:
        out[name] = (start, tuple(shape))
        start += int(np.prod(shape, dtype=np.int64))
    return out


def _index(slices, name) -> np.ndarray:
    start, shape = slices[name]
    return start + np.arange(int(np.prod(shape, dtype=np.int64))).reshape(shape)


def _row_rule(kind: str, prefix: str, slices: dict, heads: int | None, embed: int | None):
    """One module's blocks under ``"rows"``: [(group, labels, index arrays)], names used."""
    def full(name):
        return f"{prefix}.{name}" if prefix else name

    w = full("weight")
    b = full("bias")
    has_b = b in slices
    if kind in ("linear", "conv") and w in slices:
        W = _index(slices, w).reshape(slices[w][1][0], -1)
        B = _index(slices, b) if has_b else None
        rows = [np.concatenate([W[i], B[i:i + 1]]) if has_b else W[i] for i in range(W.shape[0])]
        unit = "row" if kind == "linear" else "channel"
        name = prefix or kind           # a bare top-level layer: "linear" or "conv"
        labels = [f"{name}[{unit} {i}]" for i in range(W.shape[0])]  # the bias entry included
        return [(name, labels, rows)], {w, b} if has_b else {w}
    if kind == "attention":
        groups, used = [], set()
        packed, bname = full("in_proj_weight"), full("in_proj_bias")
        E = embed
        parts = []  # (name, j, weight rows) of the trained projections
        if packed in slices:
            Wi = _index(slices, packed)
            parts = [(nm, j, Wi[j * E:(j + 1) * E]) for j, nm in enumerate("qkv")]
            used.add(packed)
        else:
            for j, nm in enumerate("qkv"):
                name = full(f"{nm}_proj_weight")
                if name in slices:
                    parts.append((nm, j, _index(slices, name)))
                    used.add(name)
        # the bias joins the heads only when all three projections are trained; otherwise it
        # stays a block of its own
        Bi = _index(slices, bname) if bname in slices and len(parts) == 3 else None
        if Bi is not None:
            used.add(bname)
        dh = E // heads
        for nm, j, Wp in parts:
            blocks = []
            for h in range(heads):
                r = slice(h * dh, (h + 1) * dh)
                idx = Wp[r].ravel()
                blocks.append(idx if Bi is None else
                              np.concatenate([idx, Bi[j * E + h * dh:j * E + (h + 1) * dh]]))
            groups.append((full(nm), [f"{full(nm)}[head {h}]" for h in range(heads)], blocks))
        ow = full("out_proj.weight")
        if ow in slices:
            Wo = _index(slices, ow)
            groups.append((full("out"), [f"{full('out')}[head {h}]" for h in range(heads)],
                           [Wo[:, h * dh:(h + 1) * dh].ravel() for h in range(heads)]))
            used.add(ow)
        return groups, used
    return [], set()


def _module_kinds(model) -> list:
    """``(prefix, kind, heads, embed_dim, description)`` of the modules the ``"rows"`` rule
    splits, outermost first."""
    import torch.nn as nn

    conv = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
    out = []
    for prefix, mod in model.named_modules():
        b = getattr(mod, "bias", None)
        bias = " with bias" if b is not None and b.requires_grad else ""
        if isinstance(mod, nn.MultiheadAttention):
            out.append((prefix, "attention", mod.num_heads, mod.embed_dim,
                        f"MultiheadAttention {mod.embed_dim}, {mod.num_heads} heads"))
        elif isinstance(mod, nn.Linear):
            out.append((prefix, "linear", None, None,
                        f"Linear {mod.in_features}→{mod.out_features}: rows{bias}"))
        elif isinstance(mod, conv):
            out.append((prefix, "conv", None, None, f"{type(mod).__name__} {mod.in_channels}→"
                        f"{mod.out_channels}: output channels{bias}"))
    return out


def parameter_blocks(model, names_shapes, blocks="rows") -> ParameterBlocks:
    """The :class:`ParameterBlocks` of ``model`` for ``blocks=`` (see the module docstring).

    ``names_shapes`` lists ``(name, shape)`` of the trained parameters in parameter order.
    """
    slices = _slices(names_shapes)
    P = sum(int(np.prod(s, dtype=np.int64)) for _, s in names_shapes)
    entries = []  # (group, labels, index arrays) in block order
    described = {}
    covered = np.zeros(P, dtype=bool)
    if isinstance(blocks, Mapping):
        for group, idx_list in blocks.items():
            raw = [np.asarray(ix) for ix in idx_list]
            if any(r.dtype.kind not in "iu" for r in raw if r.size):
                raise ValueError(f"block of group {group!r}: indices must be integers (parameter "
                                 "positions), not floats or a boolean mask")
            arrs = [r.astype(np.intp).ravel() for r in raw]
            for ix in arrs:
                if ix.size == 0 or ix.min() < 0 or ix.max() >= P:
                    raise ValueError(f"block of group {group!r}: indices must be in [0, {P}) and "
                                     "non-empty")
            entries.append((str(group), [f"{group}[{i}]" for i in range(len(arrs))], arrs))
        used = set()
    elif blocks == "parameters":
        used = set()
    elif blocks == "rows":
        used = set()
        claimed = set()
        for prefix, kind, heads, embed, text in _module_kinds(model):
            if any(prefix != c and (c == "" or prefix.startswith(c + ".")) for c in claimed):
                continue  # inside a claimed module: an attention layer's out_proj
            groups, names = _row_rule(kind, prefix, slices, heads, embed)
            if kind == "attention":
                claimed.add(prefix)
                for g, _, _ in groups:
                    part = {"q": "query", "k": "key", "v": "value", "out": "output"}[
                        g.rsplit(".", 1)[-1]]
                    described[g] = f"{text}: {part} projection per head"
            else:
                for g, _, _ in groups:
                    described[g] = text
            entries.extend(groups)
            used |= names
    else:
        raise ValueError(f"blocks must be one of {BLOCK_KINDS} or a mapping of group names to "
                         f"index arrays, got {blocks!r}")
    for _, _, arrs in entries:
        for ix in arrs:
            if np.any(covered[ix]) or np.unique(ix).size != ix.size:
                raise ValueError("blocks overlap: every parameter may belong to one block only")
            covered[ix] = True
    rest = "rest" if isinstance(blocks, Mapping) else None
    for name, _shape in names_shapes:
        if name in used:
            continue
        ix = _index(slices, name).ravel()
        ix = ix[~covered[ix]]
        if ix.size:
            covered[ix] = True
            entries.append((rest or name, [name], [ix]))
    if not covered.all():  # pragma: no cover - every tensor is claimed or listed above
        raise ValueError("the blocks do not cover every parameter")
    merged = []  # consecutive entries of one group name become one group
    for group, labs, arrs in entries:
        if merged and merged[-1][0] == group:
            merged[-1][1].extend(labs)
            merged[-1][2].extend(arrs)
        else:
            merged.append((group, list(labs), list(arrs)))
    groups, labels, perm = [], [], []
    for group, labs, arrs in merged:
        sizes = tuple(int(a.size) for a in arrs)
        groups.append((group, len(arrs), sizes[0] if len(set(sizes)) == 1 else sizes))
        labels.extend(labs)
        perm.extend(arrs)
    for group, count, _ in groups:
        if group not in described:
            described[group] = ("user-given blocks" if isinstance(blocks, Mapping)
                                and group != "rest" else "parameter tensor" if count == 1
                                else "parameter tensors")
    return ParameterBlocks(groups, labels, np.concatenate(perm), described)
