"""Model cases: one class per case, one file per case (theory/cases.md; arXiv:2505.02809, thms 1–2).

A case (:class:`Case`) owns everything the package knows about one loss and architecture:

* its parameters and their validation (:meth:`Case.check`, one message per mistake);
* its d → ∞ block limits ``g_ii``, ``g_ij`` and ratios, in float64 (:meth:`Case.limits`) and
  mpmath (:meth:`Case.limits_mp`), the spectral law of its d×d blocks (:meth:`Case.block_law`) and
  its C → ∞ behaviour (:meth:`Case.asymptote`);
* for the Monte Carlo (:mod:`rmthess.montecarlo`): how it draws its parameters
  (:meth:`Case.draw`, :meth:`Case.with_init`), how data become per-sample block weights
  (:meth:`Case.weights`, :meth:`Case.rank`, :meth:`Case.features`, :meth:`Case.first_sigma`) and
  the hooks of the finite-size predictions (:meth:`Case.exchangeable`, :meth:`Case.conditional`,
  :meth:`Case.exact_moments`).

Block types are registered names (:data:`BLOCK_TYPES`: ``"v"``, ``"hidden"``, ``"output"``).

Adding a case
-------------
Write ``rmthess/cases/<name>.py`` — the case ``"<name>"`` with hyphens for underscores — holding
one subclass of :class:`Case` (or of an architecture in ``_architectures.py``) decorated with
:func:`register`, and its tests in ``tests/cases/``. The registry finds the module by its file
name; nothing else changes. Private modules (a leading underscore) hold the numerics cases share.

The registry is lazy: :data:`CASES` lists the names without importing any case, and
:func:`get_case` imports only the module of the case asked for (``get_case("linear-ce")`` loads
neither numba nor the hidden-layer cases).

>>> from rmthess.cases import CASES, get_case
>>> sorted(CASES)
['linear-ce', 'linear-mse', 'mlp-ce', 'mlp-mse']
>>> get_case("mlp-ce").block_types
('hidden', 'output')
"""

from __future__ import annotations

import importlib

from rmthess.cases._base import BlockLimit, Case, CaseLimits, Params
from rmthess.cases._blocks import (
    BLOCK_HIDDEN,
    BLOCK_OUTPUT,
    BLOCK_TYPES,
    BLOCK_V,
    BlockType,
    block_type,
)
from rmthess.cases._registry import CASES, get_case, register

#: public names defined in a case module or a private helper, loaded on first access
_LAZY = {
    "LinearMSE": "rmthess.cases.linear_mse",
    "LinearCE": "rmthess.cases.linear_ce",
    "linear_ce_r0": "rmthess.cases.linear_ce",
    "MlpMSE": "rmthess.cases.mlp_mse",
    "MlpCE": "rmthess.cases.mlp_ce",
    "hidden_constant": "rmthess.cases._mlp_ce_constants",
    "output_constant": "rmthess.cases._mlp_ce_constants",
}

__all__ = [
    "CASES",
    "Case",
    "Params",
    "BlockLimit",
    "CaseLimits",
    "BlockType",
    "BLOCK_TYPES",
    "BLOCK_V",
    "BLOCK_HIDDEN",
    "BLOCK_OUTPUT",
    "block_type",
    "get_case",
    "register",
    *_LAZY,
]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'rmthess.cases' has no attribute {name!r}")
