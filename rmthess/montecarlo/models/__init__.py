"""Model cases of the Monte Carlo engine, behind a registry keyed by case name.

A new case is a new module with a :class:`Model` subclass and one line in :data:`MODELS`.

>>> from rmthess.montecarlo.models import get_model
>>> get_model("mlp-ce").block_types
('hidden', 'output')
"""

from __future__ import annotations

from rmthess.montecarlo.models._base import Model, Params
from rmthess.montecarlo.models.linear import LinearCE, LinearMSE
from rmthess.montecarlo.models.mlp import MlpCE, MlpMSE

__all__ = ["MODELS", "Model", "Params", "get_model"]

#: case name -> model strategy class
MODELS: dict[str, type[Model]] = {
    cls.name: cls for cls in (LinearMSE, LinearCE, MlpMSE, MlpCE)
}


def get_model(name: str) -> Model:
    """Return the model strategy of case ``name``; ``ValueError`` listing valid names otherwise."""
    try:
        return MODELS[name]()
    except (KeyError, TypeError):
        raise ValueError(f"unknown case {name!r}; valid cases: {', '.join(sorted(MODELS))}") from None
