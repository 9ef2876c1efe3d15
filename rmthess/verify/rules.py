r"""Rows of the verification table and the verdict rules that fill them.

Every check of ``rmthess verify`` reduces to rows of one kind: a quantity at given parameters, its
theory (the limit and, where the package knows it, the exact finite-size prediction), the simulated
value with its standard error, a z-score and a verdict. The rules are stated in
theory/verification.md, (VER-1)–(VER-4):

* ``"z"`` (VER-1) — against an exact finite-size prediction ``p``: pass iff ``|x − p| ≤ k·se``.
* ``"z+bias"`` (VER-2) — against the limit ``L`` when a finite-size prediction exists: pass iff
  ``|x − p| ≤ k·se`` *and* ``|x − L| ≤ k·se + |p − L|`` (the limit is reached within the known
  finite-size bias ``p − L``).
* ``"richardson"`` (VER-3) — against the limit when no finite-size prediction exists: two sizes
  ``d`` and ``2d`` give ``x_d``, ``x_2d`` and the extrapolation ``2x_2d − x_d`` removes the
  ``O(1/d)`` bias; pass iff ``|2x_2d − x_d − L| ≤ k·se`` with ``se² = 4se_2d² + se_d²``.
* ``"tol"`` (VER-4) — deterministic theory against theory (two routes to the same number, or an
  exact identity): pass iff ``|x − L| ≤ tol`` for a tolerance stated with the row.
* ``"bound"`` (VER-4) — an inequality that holds on every realization: pass iff ``x ≤ B``.

The threshold ``k`` is 4 for a standard error estimated from many degrees of freedom; with ``ν``
degrees of freedom it is the Student-t quantile with the same two-sided tail probability
``P(|Z| > 4) ≈ 6.3·10⁻⁵``, so that a table of ~100 correct rows raises a false alarm with probability
below 1%.

Examples
--------
>>> from rmthess.verify.rules import against_prediction, z_threshold
>>> row = against_prediction("ratio", {"C": 10}, simulation=1.02, stderr=0.01, prediction=1.0, limit=0.98)
>>> row.passed, round(row.z, 6)
(True, 2.0)
>>> z_threshold(None)
4.0
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

__all__ = [
    "Z_MAX",
    "TAIL_PROBABILITY",
    "CheckRow",
    "z_threshold",
    "against_prediction",
    "against_limit",
    "richardson",
    "within_tolerance",
    "at_most",
]

#: the verdict threshold on |z| for a standard error with many degrees of freedom (VER-1)
Z_MAX = 4.0
#: two-sided Gaussian tail probability of ``|Z| > Z_MAX``
TAIL_PROBABILITY = math.erfc(Z_MAX / math.sqrt(2.0))


@dataclass(frozen=True)
class CheckRow:
    """One row of the verification table.

    Attributes
    ----------
    check : str
        Name of the check that produced the row (filled by the runner).
    quantity : str
        What is compared, e.g. ``"ratio g_ij/g_ii (v)"``.
    parameters : dict
        The parameters of the comparison (case, γ, C, d, reps, …).
    limit, prediction : float or None
        The d → ∞ limit and the exact finite-size prediction (None where not known).
    simulation, stderr : float or None
        Simulated value and its standard error.
    z : float or None
        z-score against the prediction (rules ``z``, ``z+bias``) or the limit (``richardson``).
    threshold : float
        The |z| threshold used (or the tolerance for rule ``tol``).
    passed : bool
        The verdict.
    rule : str
        One of ``"z"``, ``"z+bias"``, ``"richardson"``, ``"tol"``.
    note : str
        Anything a reader needs to interpret the row.
    """

    quantity: str
    parameters: dict
    limit: float | None
    prediction: float | None
    simulation: float | None
    stderr: float | None
    z: float | None
    threshold: float
    passed: bool
    rule: str
    note: str = ""
    check: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        """``"PASS"`` or ``"FAIL"``."""
        return "PASS" if self.passed else "FAIL"

    def with_check(self, name: str) -> "CheckRow":
        """Return a copy with ``check`` set to ``name``."""
        d = asdict(self)
        d["check"] = name
        return CheckRow(**d)

    def as_dict(self) -> dict:
        """A JSON-ready dict (floats, strings, bools; parameters flattened to a string too)."""
        d = asdict(self)
        d["verdict"] = self.verdict
        d["parameters_text"] = format_parameters(self.parameters)
        return d


def format_parameters(params: dict) -> str:
    """``{"gamma": 1.0, "C": 10}`` → ``"gamma=1, C=10"``."""
    parts = []
    for key, val in params.items():
        if isinstance(val, float):
            val = f"{val:g}"
        elif isinstance(val, complex):
            val = f"{val.real:.4g}{val.imag:+.4g}i"
        parts.append(f"{key}={val}")
    return ", ".join(parts)


def z_threshold(dof: float | None) -> float:
    """|z| threshold for a standard error with ``dof`` degrees of freedom (None: known exactly).

    The Student-t quantile with the two-sided tail probability of ``|N(0,1)| > 4``; equals 4 for
    ``dof = None`` or ``dof ≥ 10⁴``.
    """
    if dof is None or dof >= 1e4:
        return Z_MAX
    if dof < 1:
        raise ValueError(f"degrees of freedom must be >= 1, got {dof}")
    from scipy import stats

    return float(stats.t.isf(TAIL_PROBABILITY / 2.0, dof))


def _check_inputs(simulation, stderr):
    if simulation is None or not math.isfinite(simulation):
        raise ValueError(f"simulation must be a finite number, got {simulation!r}")
    if stderr is None or not math.isfinite(stderr) or stderr < 0:
        raise ValueError(f"stderr must be a finite number >= 0, got {stderr!r}")


#: relative round-off allowed when a simulated value has zero spread (it is then deterministic)
EXACT_RTOL = 1e-12


def _z(x, ref, se):
    if se > 0:
        return (x - ref) / se
    if abs(x - ref) <= EXACT_RTOL * max(1.0, abs(ref)):
        return 0.0
    return math.copysign(math.inf, x - ref)


def against_prediction(quantity, parameters, *, simulation, stderr, prediction, limit=None,
                       dof=None, note="", prediction_se=0.0) -> CheckRow:
    """Rule ``z`` (VER-1): pass iff ``|simulation − prediction| ≤ k(dof)·√(se² + se_p²)``.

    ``prediction_se`` is the standard error of the prediction itself (when it is a Monte Carlo
    integral); it is independent of the simulation's.
    """
    _check_inputs(simulation, stderr)
    _check_inputs(prediction, prediction_se)
    se = math.hypot(stderr, prediction_se)
    k = z_threshold(dof)
    z = _z(simulation, prediction, se)
    return CheckRow(quantity, dict(parameters), _f(limit), float(prediction), float(simulation),
                    float(stderr), z, k, bool(abs(z) <= k), "z", note)


def against_limit(quantity, parameters, *, simulation, stderr, prediction, limit, dof=None,
                  note="", prediction_se=0.0, limit_se=0.0) -> CheckRow:
    """Rule ``z+bias`` (VER-2): the prediction within ``k·se`` and the limit within ``k·se + |p − L|``.

    Standard errors of the prediction and of the limit (Monte Carlo integrals) add in quadrature to
    the simulation's.
    """
    _check_inputs(simulation, stderr)
    _check_inputs(prediction, prediction_se)
    _check_inputs(limit, limit_se)
    k = z_threshold(dof)
    se_p = math.hypot(stderr, prediction_se)
    se_l = math.hypot(stderr, limit_se)
    z = _z(simulation, prediction, se_p)
    bias = abs(prediction - limit)
    ok = abs(z) <= k and abs(simulation - limit) <= k * se_l + bias
    return CheckRow(quantity, dict(parameters), float(limit), float(prediction), float(simulation),
                    float(stderr), z, k, bool(ok), "z+bias", note,
                    extra={"bias": float(prediction - limit), "z_limit": _z(simulation, limit, se_l)})


def richardson(quantity, parameters, *, small, small_se, large, large_se, limit, dof=None,
               note="", limit_se=0.0) -> CheckRow:
    """Rule ``richardson`` (VER-3): ``2x_2d − x_d`` against the limit at ``k·se``.

    ``small`` is the estimate at size d, ``large`` at size 2d (independent replicates);
    ``limit_se`` is the standard error of the limit when it is itself a Monte Carlo estimate.
    """
    _check_inputs(small, small_se)
    _check_inputs(large, large_se)
    _check_inputs(limit, limit_se)
    x = 2.0 * large - small
    se = math.sqrt(4.0 * large_se**2 + small_se**2 + limit_se**2)
    k = z_threshold(dof)
    z = _z(x, limit, se)
    return CheckRow(quantity, dict(parameters), float(limit), None, float(x), float(se), z, k,
                    bool(abs(z) <= k), "richardson", note,
                    extra={"small": float(small), "large": float(large)})


def within_tolerance(quantity, parameters, *, value, reference, tol, note="",
                     relative=False, column="limit") -> CheckRow:
    """Rule ``tol`` (VER-4): ``|value − reference| ≤ tol`` (times ``|reference|`` if relative).

    ``column`` says where the reference is shown: ``"limit"`` (a d → ∞ or C → ∞ value) or
    ``"prediction"`` (a finite-size value, e.g. a second implementation on the same matrix).
    """
    if value is None or not math.isfinite(value):
        raise ValueError(f"value must be a finite number, got {value!r}")
    if column not in ("limit", "prediction"):
        raise ValueError(f"column must be 'limit' or 'prediction', got {column!r}")
    bound = tol * abs(reference) if relative else tol
    ok = abs(value - reference) <= bound
    limit, pred = (float(reference), None) if column == "limit" else (None, float(reference))
    return CheckRow(quantity, dict(parameters), limit, pred, float(value), None, None,
                    float(bound), bool(ok), "tol", note, extra={"reference": float(reference)})


def _f(x):
    return None if x is None else float(x)


def at_most(quantity, parameters, *, value, bound, slack=0.0, note="") -> CheckRow:
    """Rule ``bound`` (VER-4): an inequality that must hold exactly, ``value ≤ bound + slack``.

    ``slack`` covers round-off only and is stated with the row.
    """
    if value is None or not math.isfinite(value):
        raise ValueError(f"value must be a finite number, got {value!r}")
    ok = value <= bound + slack
    return CheckRow(quantity, dict(parameters), float(bound), None, float(value), None, None,
                    float(slack), bool(ok), "bound", note)
