r"""Named initializations of ``f(x) = V relu(W x)`` and what the theory takes from them (CASE-20,
CASE-24).

A layer with fan-in ``n_in`` and fan-out ``n_out`` gets iid entries ``σ ε/√n_in``: a scale ``σ`` and
a symmetric unit-variance entry law ``ε`` (:class:`~rmthess.laws.entry.EntryLaw`). The presets are
those of ``torch.nn.init`` (weights only; the theory has no biases):

==================  =========================================  ==========  =========================
preset              PyTorch definition                         entry law   ``σ²`` (= n_in · Var)
==================  =========================================  ==========  =========================
``lecun-normal``    ``N(0, 1/n_in)`` (LeCun et al. 1998)       gaussian    1
``torch-default``   ``nn.Linear``: ``kaiming_uniform_(a=√5)``, uniform     1/3
                    ``U(±1/√n_in)``
``kaiming-normal``  ``kaiming_normal_`` (a=0, fan_in,          gaussian    2
                    leaky_relu gain √2): ``N(0, 2/n_in)``
``xavier-uniform``  ``xavier_uniform_`` (gain 1):              uniform     ``2 n_in/(n_in + n_out)``
                    ``U(±√(6/(n_in + n_out)))``
==================  =========================================  ==========  =========================

The theory (CASE-20): ReLU is positively homogeneous, so ``V relu(W x) = (σ_w V) relu(W x/σ_w)`` and
a network with hidden scale ``σ_w`` and output scale ``σ_v`` has exactly the Hessian blocks of the
network with unit hidden scale and output scale ``σ_w σ_v``, the hidden blocks divided by ``σ_w²``
and the output blocks multiplied by ``σ_w²``. Ratios depend on ``(σ_w σ_v, law of V)`` only; the
hidden entry law does not enter the d → ∞ limits (``W x`` is Gaussian given W, with covariance →
``σ_w² I``).

Examples
--------
>>> from rmthess.laws.init import network_init
>>> ini = network_init("torch-default", classes=10, width=8)
>>> ini.v_law.name, round(ini.sigma_w ** 2, 12), round(ini.theory()["sigma_v"], 12)
('uniform', 0.333333333333, 0.333333333333)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rmthess._validate import CLASSES, DIM, WIDTH, Domain
from rmthess.laws.entry import GAUSSIAN, UNIFORM, EntryLaw, entry_law

__all__ = ["INITS", "SIGMA_W", "LayerInit", "NetworkInit", "layer_init", "network_init",
           "resolve_init"]

SIGMA_W = Domain("sigma_w", False, 0.0, low_open=True, typical=(0.1, 3.0),
                 meaning="standard deviation of the hidden weights times sqrt(fan-in)")
_SIGMA = Domain("sigma_v", False, 0.0, low_open=True, typical=(0.1, 3.0),
                meaning="standard deviation of the output weights times sqrt(fan-in)")

_FAN = Domain("fan", True, 1, meaning="number of inputs or outputs of a layer")

#: preset name -> (entry law, σ² as a function of (fan_in, fan_out)); fan_in may be inf (d → ∞)
_RULES = {
    "lecun-normal": (GAUSSIAN, lambda n_in, n_out: 1.0),
    "torch-default": (UNIFORM, lambda n_in, n_out: 1.0 / 3.0),
    "kaiming-normal": (GAUSSIAN, lambda n_in, n_out: 2.0),
    "xavier-uniform": (UNIFORM, lambda n_in, n_out: (2.0 if math.isinf(n_in)
                                                     else 2.0 * n_in / (n_in + n_out))),
}
#: the named initializations
INITS = tuple(_RULES)


@dataclass(frozen=True)
class LayerInit:
    """Entries ``scale · ε/√fan_in`` with ``ε`` of law ``law`` (unit variance)."""

    law: EntryLaw
    scale: float

    def __post_init__(self):
        object.__setattr__(self, "law", entry_law(self.law))
        object.__setattr__(self, "scale", _SIGMA.validate(self.scale))


def layer_init(name: str, fan_in, fan_out) -> LayerInit:
    r"""The :class:`LayerInit` of preset ``name`` for a layer ``fan_in → fan_out``.

    ``fan_in = math.inf`` gives the d → ∞ limit (only ``xavier-uniform`` depends on it).

    Examples
    --------
    >>> round(layer_init("xavier-uniform", 8, 10).scale ** 2 * 9 / 8, 12)   # σ² = 2·8/(8 + 10)
    1.0
    """
    if name not in _RULES:
        raise ValueError(f"unknown initialization {name!r}; valid: {', '.join(INITS)}")
    fan_in = math.inf if fan_in == math.inf else _FAN.validate(fan_in)
    fan_out = _FAN.validate(fan_out)
    law, var = _RULES[name]
    return LayerInit(law, math.sqrt(var(fan_in, fan_out)))


@dataclass(frozen=True)
class NetworkInit:
    r"""Initialization of ``V relu(W x)`` (``hidden=None``: the linear model ``V x``).

    Attributes
    ----------
    name : str
        Preset name or ``"custom"``.
    output : LayerInit
        Law and scale ``σ_v`` of ``V`` (entries ``σ_v ε/√m``; ``σ_v ε/√d`` for the linear model).
    hidden : LayerInit or None
        Law and scale ``σ_w`` of ``W`` (entries ``σ_w ε/√d``).
    """

    name: str
    output: LayerInit
    hidden: LayerInit | None = None

    @property
    def sigma_v(self) -> float:
        return self.output.scale

    @property
    def v_law(self) -> EntryLaw:
        return self.output.law

    @property
    def sigma_w(self) -> float:
        return 1.0 if self.hidden is None else self.hidden.scale

    @property
    def w_law(self) -> EntryLaw:
        return GAUSSIAN if self.hidden is None else self.hidden.law

    def theory(self) -> dict:
        r"""Keyword arguments of ``Case.limits`` and the C → ∞ constants (CASE-24).

        Returns ``{"sigma_v": σ_w σ_v, "v_law": law of V}`` for the ReLU network (``v_law`` only
        when it is not Gaussian, the default of every case): the block ratios of the network equal
        those of the unit-hidden-scale theory at these values (CASE-20). For the linear model
        ``{"sigma_v": σ_v}``: its logits ``V x`` are Gaussian as d → ∞ whatever the law.
        """
        if self.hidden is None:
            return {"sigma_v": self.sigma_v}
        out = {"sigma_v": self.sigma_w * self.sigma_v}
        if self.v_law != GAUSSIAN:
            out["v_law"] = self.v_law
        return out

    def norm_factors(self) -> dict:
        r"""Factors turning the theory's ``g`` at :meth:`theory` into this network's (CASE-20).

        ``{"hidden": σ_w⁻⁴, "output": σ_w⁴}`` (``{"v": 1}`` for the linear model).
        """
        if self.hidden is None:
            return {"v": 1.0}
        return {"hidden": self.sigma_w ** -4, "output": self.sigma_w ** 4}


def network_init(name: str, *, classes: int, width: int | None = None,
                 dim: int | None = None) -> NetworkInit:
    r"""The :class:`NetworkInit` of preset ``name`` for ``d → m → C`` (``width=None``: ``d → C``).

    Parameters
    ----------
    name : {"lecun-normal", "torch-default", "kaiming-normal", "xavier-uniform"}
    classes : int
        Number of classes C (the output fan-out).
    width : int, optional
        Hidden width m.
    dim : int, optional
        Input dimension d; None for the d → ∞ limit.

    Examples
    --------
    >>> ini = network_init("kaiming-normal", classes=10, width=16)
    >>> round(ini.theory()["sigma_v"], 12), round(ini.norm_factors()["output"], 12)
    (2.0, 4.0)
    """
    C = CLASSES.validate(classes)
    d = math.inf if dim is None else DIM.validate(dim)
    if width is None:
        return NetworkInit(name, layer_init(name, d, C))
    m = WIDTH.validate(width)
    return NetworkInit(name, layer_init(name, m, C), layer_init(name, d, m))


def resolve_init(init=None, *, classes: int, width: int | None = None, dim: int | None = None,
                 sigma_v=None, v_law=None, sigma_w=None, w_law=None) -> NetworkInit:
    r"""One :class:`NetworkInit` from a preset name or from laws and scales (not both).

    ``init`` (a name of :data:`INITS`, or a :class:`NetworkInit`) sets everything; otherwise the
    scales default to 1 and the laws to Gaussian (the paper's LeCun setting). ``ValueError`` when a
    preset is combined with explicit laws or scales, or a value is invalid. A linear model
    (``width=None``) takes no ``sigma_w`` or ``w_law`` other than the defaults (1, Gaussian).

    Examples
    --------
    >>> resolve_init("torch-default", classes=10, width=8).theory()["v_law"].name
    'uniform'
    >>> resolve_init(classes=10, width=8, sigma_v=2.0).theory()
    {'sigma_v': 2.0}
    """
    if init is not None:
        if any(x is not None for x in (sigma_v, v_law, sigma_w, w_law)):
            raise ValueError("init sets sigma_v, v_law, sigma_w and w_law; "
                             "do not pass them with it")
        if isinstance(init, NetworkInit):
            return init
        return network_init(init, classes=classes, width=width, dim=dim)
    output = LayerInit(v_law, 1.0 if sigma_v is None else sigma_v)
    if width is None:
        if sigma_w not in (None, 1.0) or entry_law(w_law) != GAUSSIAN:
            raise ValueError("the linear model has no hidden layer; leave sigma_w and w_law unset")
        return NetworkInit("custom", output)
    return NetworkInit("custom", output,
                       LayerInit(w_law, 1.0 if sigma_w is None else SIGMA_W.validate(sigma_w)))
