r"""The result schema of :func:`rmthess.montecarlo.simulate`: frozen dataclasses and their JSON
form.

:class:`SimulationSpec` holds the validated parameters of a simulation (the identity of a sweep
cell); :class:`SimulationResult` adds the replicate count, the seed and one :class:`BlockResult` per
block type. ``to_dict``/``from_dict`` convert to and from the JSON-ready dicts that the sweeps store
(non-finite floats as ``null``, entry laws by name); a stored result reads back equal.

Examples
--------
>>> from rmthess.montecarlo.result import BlockResult
>>> b = BlockResult("v", 0.3, float("nan"), None, 0.0, None, 0.0, None, None, 1.0, 0.1, 0.3,
...                 0.05, None, None, 3)
>>> b.to_dict()["stderr"] is None
True
>>> BlockResult.from_dict(b.to_dict()).ratio
0.3
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from rmthess.laws.entry import GAUSSIAN, EntryLaw, entry_law

__all__ = ["BlockResult", "SimulationSpec", "SimulationResult", "FEW_REPLICATES", "entropy_of"]


@dataclass(frozen=True)
class BlockResult:
    r"""Simulated off/diag ratio of one block type, with prediction, limit and z-scores.

    ``diag``/``offdiag`` are the mean squared Frobenius norms over all diagonal / off-diagonal
    blocks (divided by d for d×d blocks), averaged over replicates. ``stderr`` is the delta-method
    standard error of ``ratio`` (``nan`` with a single replicate). ``z_prediction`` compares with
    the finite-size prediction (for MLP cases conditional on each replicate's V, MC-11); ``z_limit``
    with the d → ∞ limit (including the limit's own Monte Carlo error when it is an estimate).
    ``prediction_residual_stderr`` is the standard error of ``ratio − prediction`` against the
    per-replicate predictions (MLP cases; None otherwise).
    """

    block: str
    ratio: float
    stderr: float
    prediction: float | None
    prediction_stderr: float
    limit: float | None
    limit_stderr: float
    z_prediction: float | None
    z_limit: float | None
    diag: float
    diag_stderr: float
    offdiag: float
    offdiag_stderr: float
    diag_prediction: float | None
    offdiag_prediction: float | None
    n_blocks: int
    #: standard error of ``ratio − prediction`` from the residuals against the per-replicate
    #: predictions (MLP cases, MC-11; their own errors inside it); None where there are none
    prediction_residual_stderr: float | None = None

    def to_dict(self) -> dict:
        return {k: _plain(v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict) -> BlockResult:
        """Inverse of :meth:`to_dict` (JSON ``null`` of a float field is ``nan``)."""
        kw = {k: data.get(k) for k in cls.__dataclass_fields__}
        for k in _FLOAT_FIELDS:
            if kw[k] is None:
                kw[k] = math.nan
        return cls(**kw)


#: below this many replicates the printed table warns that the standard errors are unreliable
FEW_REPLICATES = 10

_FLOAT_FIELDS = ("ratio", "stderr", "prediction_stderr", "limit_stderr", "diag", "diag_stderr",
                 "offdiag", "offdiag_stderr")


@dataclass(frozen=True)
class SimulationSpec:
    """Validated parameters of a simulation (the identity of a sweep cell)."""

    case: str
    d: int
    n_samples: int
    gamma: float
    classes: int
    m: int | None
    sigma_v: float
    design: str
    t: float | None
    #: the initialization (theory/cases.md, CASE-20): entry laws of V and W, hidden scale, preset
    #: name
    v_law: EntryLaw = field(default=GAUSSIAN, kw_only=True)
    w_law: EntryLaw = field(default=GAUSSIAN, kw_only=True)
    sigma_w: float = field(default=1.0, kw_only=True)
    init: str | None = field(default=None, kw_only=True)
    #: (theory/anisotropic.md, ANI-10, ANI-14): the spectrum law H of the data covariance
    #: (None: Σ = I) and the class prior of the logit offsets (a tuple of C probabilities, or None)
    covariance: object = field(default=None, kw_only=True)
    prior: tuple | None = field(default=None, kw_only=True)


#: scalar keys of :meth:`SimulationResult.to_dict`, in the order of the stored JSON
_RESULT_KEYS = ("case", "d", "n_samples", "gamma", "classes", "m", "sigma_v", "reps", "design", "t",
                "seed_entropy")
#: keys of the initialization, absent from results stored before it was a parameter
_INIT_KEYS = {"v_law": "gaussian", "w_law": "gaussian", "sigma_w": 1.0, "init": None}


@dataclass(frozen=True)
class SimulationResult(SimulationSpec):
    """Result of :func:`rmthess.montecarlo.simulate`: the specification (inherited fields), the
    number of replicates, the seed and one :class:`BlockResult` per block."""

    reps: int
    seed_entropy: int | tuple
    seed_spawn_key: tuple
    blocks: dict = field(default_factory=dict)
    replicates: dict = field(default_factory=dict, repr=False)
    #: with a class prior: per block type a dict of arrays over the classes (the prior's order):
    #: ``mean``, ``stderr`` of the per-class diagonal norms ``‖B_cc‖²_F/d`` (m×m output blocks of
    #: mlp-ce: ``‖B_cc‖²_F``) over the replicates,
    #: their finite-size ``prediction`` and ``prediction_stderr`` (ANI-11; None when not attached)
    #: and the ``limit`` g_ii(c) of (CASE-30) (None when not attached)
    class_diag: dict = field(default_factory=dict, repr=False)

    @property
    def spec(self) -> SimulationSpec:
        """The :class:`SimulationSpec` of this result."""
        return SimulationSpec(**{f.name: getattr(self, f.name) for f in fields(SimulationSpec)})

    def to_dict(self) -> dict:
        """A JSON-ready dict (``replicates`` as lists of ``[diag, offdiag]`` pairs)."""
        out = {k: _plain(getattr(self, k)) for k in _RESULT_KEYS + tuple(_INIT_KEYS)}
        out["seed_spawn_key"] = list(self.seed_spawn_key)
        out["blocks"] = {b: r.to_dict() for b, r in self.blocks.items()}
        out["replicates"] = {b: np.asarray(v).tolist() for b, v in self.replicates.items()}
        if self.covariance is not None:
            cov = self.covariance
            out["covariance"] = {"law": repr(cov), "s1": float(cov.moment(1)),
                                 "s2": float(cov.moment(2))}
        if self.prior is not None:
            out["prior"] = list(self.prior)
            out["per_class"] = {b: {key: _list(v.get(name)) for key, name in _PER_CLASS.items()}
                                for b, v in self.class_diag.items()}
        return out

    @classmethod
    def from_dict(cls, data: dict) -> SimulationResult:
        """Inverse of :meth:`to_dict` (as stored by the sweeps)."""
        if data.get("covariance") is not None:
            raise ValueError("a stored result with a data covariance keeps only the spectrum's "
                             "moments and cannot be read back as a SimulationResult")
        kw = {k: data[k] for k in _RESULT_KEYS}
        if data.get("prior") is not None:
            kw["prior"] = tuple(float(x) for x in data["prior"])
            kw["class_diag"] = {b: {name: _array(v.get(key)) for key, name in _PER_CLASS.items()}
                                for b, v in data.get("per_class", {}).items()}
        kw["seed_entropy"] = entropy_of(kw["seed_entropy"])
        kw.update({k: data.get(k, v) for k, v in _INIT_KEYS.items()})
        kw["v_law"], kw["w_law"] = entry_law(kw["v_law"]), entry_law(kw["w_law"])
        kw["seed_spawn_key"] = tuple(data.get("seed_spawn_key", ()))
        kw["blocks"] = {b: BlockResult.from_dict(v) for b, v in data["blocks"].items()}
        kw["replicates"] = {b: np.asarray(v, float) for b, v in data.get("replicates", {}).items()}
        return cls(**kw)

    def __str__(self) -> str:
        head = (f"{self.case}  d={self.d} N={self.n_samples} gamma={self.gamma:g} C={self.classes}"
                + (f" m={self.m}" if self.m is not None else "")
                + f"  design={self.design}" + (f"(t={self.t:g})" if self.t is not None else "")
                + f"  reps={self.reps}" + self._init_text())
        lines = [head, f"{'block':8s} {'ratio':>12s} {'stderr':>10s} {'prediction':>12s} "
                       f"{'z(pred)':>8s} {'limit':>12s} {'z(limit)':>8s}"]
        for b, r in self.blocks.items():
            lines.append(f"{b:8s} {r.ratio:12.6g} {r.stderr:10.3g} {_fmt(r.prediction):>12s} "
                         f"{_fmt(r.z_prediction, '8.2f'):>8s} {_fmt(r.limit):>12s} "
                         f"{_fmt(r.z_limit, '8.2f'):>8s}")
        if self.reps < FEW_REPLICATES:
            lines.append(f"note: the standard errors come from {self.reps} replicates, so they are "
                         f"themselves uncertain (Student t with {self.reps - 1} degrees of "
                         "freedom); "
                         f"use reps >= {FEW_REPLICATES} to read z-scores as standard normal")
        return "\n".join(lines)

    def _init_text(self) -> str:
        if self.init is None and self.v_law == GAUSSIAN and self.w_law == GAUSSIAN \
                and self.sigma_w == 1.0 and self.sigma_v == 1.0:
            return ""
        text = (f"\ninit={self.init or 'custom'}: V entries {self.v_law.name} "
                f"sigma_v={self.sigma_v:.6g}")
        if self.m is not None:
            text += f", W entries {self.w_law.name} sigma_w={self.sigma_w:.6g}"
        return text


def _fmt(x, spec="12.6g"):
    return "n/a" if x is None else format(x, spec)


def _plain(v):
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None if math.isnan(v) else v
    if isinstance(v, tuple):
        return list(v)
    if isinstance(v, EntryLaw):
        return v.name
    return v



#: JSON key of ``per_class`` -> key of :attr:`SimulationResult.class_diag`
_PER_CLASS = {"g_ii": "mean", "stderr": "stderr", "prediction": "prediction",
              "prediction_stderr": "prediction_stderr", "limit": "limit"}


def _list(values):
    """An array as a JSON list (non-finite entries ``null``), or None."""
    return None if values is None else [_plain(float(x)) for x in values]


def _array(values):
    """Inverse of :func:`_list`."""
    return None if values is None else np.asarray([math.nan if x is None else x for x in values],
                                                  float)


def entropy_of(entropy):
    """A seed's entropy as an int, or a tuple of ints when it was given as a sequence."""
    if isinstance(entropy, (list, tuple, np.ndarray)):
        return tuple(int(e) for e in entropy)
    return int(entropy)
