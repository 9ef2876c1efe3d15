r"""Hessian-block structure of PyTorch models (optional: ``pip install 'rmthess[torch]'``).

:func:`hessian_operator` turns ``(model, loss_fn, data)`` into a ``scipy.sparse.linalg
.LinearOperator`` with a named block layout (rows/neurons with their biases, convolution channels,
attention heads, parameter tensors or user groups); every structure tool of
:mod:`rmthess.networks` — block-norm maps, block ratios, block spectra, block-wise Hutchinson,
Lanczos top eigenvalues, spectral densities — takes it with ``op.layout``. Equations:
``theory/torch.md``.

Examples
--------
>>> import torch
>>> from rmthess import networks
>>> from rmthess.torch import hessian_operator
>>> _ = torch.manual_seed(0)
>>> model = torch.nn.Sequential(torch.nn.Linear(5, 4, bias=False), torch.nn.ReLU(),
...                             torch.nn.Linear(4, 3, bias=False))
>>> X, y = torch.randn(40, 5), torch.randint(0, 3, (40,))
>>> H = hessian_operator(model, torch.nn.CrossEntropyLoss(), (X, y))
>>> M = networks.block_norm_map(H, H.layout)       # 7 × 7, from P = 32 products
>>> M.shape, H.layout.block_types
((7, 7), ('0', '2'))
"""

from rmthess.torch._layout import BLOCK_KINDS, ParameterBlocks, parameter_blocks
from rmthess.torch.operator import (
    KINDS,
    REDUCTIONS,
    HessianOperator,
    gauss_newton_operator,
    hessian_operator,
)

__all__ = ["BLOCK_KINDS", "KINDS", "REDUCTIONS", "ParameterBlocks", "parameter_blocks",
           "HessianOperator", "hessian_operator", "gauss_newton_operator"]
